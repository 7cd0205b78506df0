import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { status as grpcStatus } from '@grpc/grpc-js';
import { badRequestViolations } from '@waygate/grpc';
import { OUTBOUND_CONSUMERS, connectJetStream, publishEvent, regionStreams, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import { ContentType, MessageAccepted, MessageStatus, TenantEventType, type TenantEvent } from '@waygate/proto';
import { parseTenants } from '@waygate/tenancy';
import { createTempDir, startNatsServer, tenantsYaml, waitFor, type NatsServerHandle } from '@waygate/testing';
import { FEED_CONSUMER, feedSqliteFile } from './start-tenant-feed';
import { publishInbound, publishStatus, startFeedInstance, T0, watch, type FeedInstance } from './testing/feed-harness';

// Each test works with its own tenant, so every log starts at sequence 1.
const TENANT_IDS = ['acme', 'umbrella', 'initech', 'hooli', 'stark', 'wayne', 'cyberdyne', 'tyrell'] as const;
const key = (tenantId: string) => `key-${tenantId}`;
const tenants = parseTenants(
  tenantsYaml([
    ...TENANT_IDS.map((id, index) => ({ id, homeRegion: 'eu' as const, apiKey: key(id), phoneNumberIds: [String(200 + index)] })),
    { id: 'globex', homeRegion: 'us', apiKey: key('globex'), phoneNumberIds: ['300'] },
  ]),
);

const ALICE = '+4915112345678';
const BOB = '+4915187654321';

let nats: NatsServerHandle;
let dir: ReturnType<typeof createTempDir>;
let sqliteFile: string;
let publisher: JetStreamConnection;
let receipt: FeedInstance;

before(async () => {
  nats = await startNatsServer();
  dir = createTempDir();
  sqliteFile = feedSqliteFile(path.join(dir.path, 'eu', 'receipt.sqlite'));
  publisher = await connectJetStream(nats.url, 'feed-test-publisher');
  receipt = await startFeedInstance({ natsUrl: nats.url, tenants, sqliteFile });
});

after(async () => {
  await receipt?.stop();
  await publisher?.nc.close();
  await nats?.stop();
  dir?.remove();
});

const sent = (tenantId: string, messageId: string, recipient = ALICE) =>
  publishStatus(publisher.js, {
    eventId: `delivery:${tenantId}:${messageId}:sent`,
    tenantId,
    messageId,
    status: 'SENT',
    source: 'delivery',
    waMessageId: `wamid.${messageId}`,
    recipient,
    occurredAtMs: T0,
  });

const webhook = (tenantId: string, messageId: string, status: 'SENT' | 'DELIVERED' | 'READ' | 'FAILED', seconds: number, msgId?: string) =>
  publishStatus(
    publisher.js,
    {
      eventId: `wa:wamid.${tenantId}.${messageId}:${status.toLowerCase()}`,
      tenantId,
      messageId,
      status,
      source: 'webhook',
      waMessageId: `wamid.${messageId}`,
      occurredAtMs: T0 + seconds * 1000,
      ...(status === 'FAILED' ? { errorCode: 131026, errorTitle: 'Message undeliverable' } : {}),
    },
    msgId,
  );

/** A compact view of status events: `<message>:<status>[-><message status>]`, inbound as `in:<wamid>`. */
function describe(event: TenantEvent): string {
  if (event.payload?.$case === 'inbound') return `in:${event.payload.value.waMessageId}`;
  const status = event.payload?.value;
  if (!status) return '?';
  const name = (s: MessageStatus) => MessageStatus[s].replace('MESSAGE_STATUS_', '');
  return `${status.messageId}:${name(status.status)}${status.status === status.messageStatus ? '' : `->${name(status.messageStatus)}`}`;
}

test('WatchEvents sends the backlog, then live events, each with its sequence; attempt reports are not tenant events', async () => {
  await sent('acme', 'm1');
  await publishStatus(publisher.js, {
    eventId: 'delivery:m2:attempt:1',
    tenantId: 'acme',
    messageId: 'm2',
    status: 'ACCEPTED',
    source: 'delivery',
    attempt: 1,
    nextAttemptAtMs: T0 + 60_000,
    recipient: BOB,
  });
  await webhook('acme', 'm1', 'DELIVERED', 5);
  await publishInbound(publisher.js, {
    tenantId: 'acme',
    waMessageId: 'wamid.in1',
    from: BOB,
    text: 'hello there',
    occurredAtMs: T0 + 7_000,
  });

  const stream = watch(receipt.address, key('acme'), { afterSequence: '0' });
  const backlog = await stream.until(3, 'the backlog');
  assert.deepEqual(backlog.map(describe), ['m1:SENT', 'm1:DELIVERED', 'in:wamid.in1']);
  assert.deepEqual(stream.sequences(), [1, 2, 3]);
  const [first, second, third] = backlog;
  assert.equal(first.tenantId, 'acme');
  assert.equal(first.type, TenantEventType.TENANT_EVENT_TYPE_STATUS);
  assert.equal(first.eventId, 'status.m1.sent');
  assert.deepEqual(first.payload?.$case === 'status' && first.payload.value, {
    messageId: 'm1',
    waMessageId: 'wamid.m1',
    recipient: ALICE,
    status: MessageStatus.MESSAGE_STATUS_SENT,
    messageStatus: MessageStatus.MESSAGE_STATUS_SENT,
    errorCode: 0,
    errorTitle: '',
    implied: false,
    // No MessageAccepted for m1 was published: its type is not known.
    contentType: ContentType.CONTENT_TYPE_UNSPECIFIED,
    contentSummary: '',
  });
  assert.equal(
    second.payload?.$case === 'status' && second.payload.value.recipient,
    ALICE,
    'webhook statuses carry the recipient learned from SENT',
  );
  assert.deepEqual(second.occurredAt, new Date(T0 + 5_000), "Meta's timestamp");
  assert.equal(third.type, TenantEventType.TENANT_EVENT_TYPE_INBOUND);
  assert.deepEqual(third.payload?.$case === 'inbound' && [third.payload.value.from, third.payload.value.text, third.payload.value.type], [
    BOB,
    'hello there',
    'text',
  ]);

  await webhook('acme', 'm1', 'READ', 9);
  const live = await stream.until(4, 'the live event');
  assert.equal(describe(live[3]), 'm1:READ');
  assert.deepEqual(stream.sequences(), [1, 2, 3, 4]);
  stream.close();
});

test('a client that reconnects with the last sequence it saw continues with no gap and no duplicate', async () => {
  for (let i = 1; i <= 6; i++) await sent('initech', `m${i}`);
  const first = watch(receipt.address, key('initech'));
  await first.until(3);
  first.close();
  const seen = [...first.events];
  for (let i = 7; i <= 12; i++) await sent('initech', `m${i}`);
  const lastSeen = seen.at(-1)?.sequence ?? '0';
  const second = watch(receipt.address, key('initech'), { afterSequence: lastSeen });
  await second.until(12 - Number(lastSeen));
  second.close();
  const all = [...seen, ...second.events];
  assert.deepEqual(
    all.map((e) => Number(e.sequence)),
    Array.from({ length: 12 }, (_, i) => i + 1),
  );
  assert.deepEqual(
    all.map(describe),
    Array.from({ length: 12 }, (_, i) => `m${i + 1}:SENT`),
  );
});

test('filters by message ids, recipients and event types, for the backlog and live events', async () => {
  await sent('hooli', 'm1', ALICE);
  await sent('hooli', 'm2', BOB);
  await publishInbound(publisher.js, { tenantId: 'hooli', waMessageId: 'wamid.hooli-in', from: ALICE, text: 'hi' });
  const everything = watch(receipt.address, key('hooli'));
  await everything.until(3, 'all three events recorded');
  everything.close();

  const byMessage = watch(receipt.address, key('hooli'), { messageIds: ['m2'] });
  const byRecipient = watch(receipt.address, key('hooli'), { recipients: [ALICE] });
  const inboundOnly = watch(receipt.address, key('hooli'), { eventTypes: [TenantEventType.TENANT_EVENT_TYPE_INBOUND] });
  const combined = watch(receipt.address, key('hooli'), { recipients: [ALICE], eventTypes: [TenantEventType.TENANT_EVENT_TYPE_STATUS] });
  assert.deepEqual((await byMessage.until(1)).map(describe), ['m2:SENT']);
  assert.deepEqual((await byRecipient.until(2)).map(describe), ['m1:SENT', 'in:wamid.hooli-in']);
  assert.deepEqual((await inboundOnly.until(1)).map(describe), ['in:wamid.hooli-in']);
  assert.deepEqual((await combined.until(1)).map(describe), ['m1:SENT']);

  // Live: m2's delivery reaches the m2 watch; m1's reaches the ALICE watches. Each then has exactly what it matches.
  await webhook('hooli', 'm2', 'DELIVERED', 3);
  await webhook('hooli', 'm1', 'DELIVERED', 4);
  assert.deepEqual((await byMessage.until(2)).map(describe), ['m2:SENT', 'm2:DELIVERED']);
  assert.deepEqual((await combined.until(2)).map(describe), ['m1:SENT', 'm1:DELIVERED']);
  assert.deepEqual((await byRecipient.until(3)).map(describe), ['m1:SENT', 'in:wamid.hooli-in', 'm1:DELIVERED']);
  assert.deepEqual(byMessage.sequences(), [2, 4]);
  assert.equal(inboundOnly.events.length, 1);
  for (const stream of [byMessage, byRecipient, inboundOnly, combined]) stream.close();
});

test('invalid requests fail with INVALID_ARGUMENT naming each bad field (never echoing phone numbers)', async () => {
  const bad = watch(receipt.address, key('hooli'), {
    messageIds: ['m1', ''],
    recipients: ['004915112345678'],
    eventTypes: [TenantEventType.TENANT_EVENT_TYPE_UNSPECIFIED],
  });
  await bad.ended();
  assert.equal(bad.error?.code, grpcStatus.INVALID_ARGUMENT);
  assert.deepEqual(
    badRequestViolations(bad.error ?? {}).map((v) => v.field),
    ['message_ids[1]', 'recipients[0]', 'event_types[0]'],
  );
  assert.doesNotMatch(bad.error?.details ?? '', /4915112345678/);

  const huge = watch(receipt.address, key('hooli'), { messageIds: [`msg_${'6'.repeat(10_000)}`] });
  await huge.ended();
  assert.equal(huge.error?.code, grpcStatus.INVALID_ARGUMENT);
  assert.deepEqual(
    badRequestViolations(huge.error ?? {}).map((v) => [v.field, v.reason]),
    [['message_ids[0]', 'TOO_LONG']],
  );
  assert.doesNotMatch(huge.error?.details ?? '', /6666/, 'a 10 KB id is not echoed');

  const ahead = watch(receipt.address, key('hooli'), { afterSequence: '1000' });
  await ahead.ended();
  assert.equal(ahead.error?.code, grpcStatus.INVALID_ARGUMENT);
  assert.deepEqual(
    badRequestViolations(ahead.error ?? {}).map((v) => [v.field, v.reason]),
    [['after_sequence', 'OUT_OF_RANGE']],
  );
});

test('tenants only ever see their own events; calls without a valid key or for another region are refused', async () => {
  await sent('umbrella', 'm1', BOB); // Same message id as acme's m1.
  await sent('umbrella', 'umbrella-only', BOB);
  const own = watch(receipt.address, key('umbrella'));
  assert.deepEqual((await own.until(2)).map(describe), ['m1:SENT', 'umbrella-only:SENT']);
  own.close();
  assert.ok(own.events.every((e) => e.tenantId === 'umbrella'));

  // acme asking for umbrella's message gets nothing, even live.
  const snooping = watch(receipt.address, key('acme'), { messageIds: ['umbrella-only'] });
  const acmeAll = watch(receipt.address, key('acme'));
  await webhook('umbrella', 'umbrella-only', 'DELIVERED', 1);
  await webhook('acme', 'm1', 'FAILED', 30); // acme's m1 is READ: the failure is surfaced.
  await acmeAll.until(5);
  assert.equal(snooping.events.length, 0);
  assert.ok(acmeAll.events.every((e) => e.tenantId === 'acme'));
  assert.equal(describe(acmeAll.events[4]), 'm1:FAILED->READ');
  snooping.close();
  acmeAll.close();

  for (const [apiKey, code] of [
    [undefined, grpcStatus.UNAUTHENTICATED],
    ['not-a-key', grpcStatus.UNAUTHENTICATED],
    [key('globex'), grpcStatus.FAILED_PRECONDITION],
  ] as const) {
    const refused = watch(receipt.address, apiKey);
    await refused.ended();
    assert.equal(refused.error?.code, code, String(apiKey));
    assert.equal(refused.events.length, 0);
  }
});

test('duplicated and out-of-order inputs: one entry per fact, statuses only forward, failures surfaced, terminal ends', async () => {
  // m1: read before delivered, a late delivered, duplicates of read and failed, a failure after read.
  await sent('stark', 'm1');
  await webhook('stark', 'm1', 'READ', 20);
  await webhook('stark', 'm1', 'DELIVERED', 10);
  await webhook('stark', 'm1', 'READ', 20, 'redelivered-read'); // the same input again (past JetStream's dedupe)
  await webhook('stark', 'm1', 'FAILED', 25);
  await webhook('stark', 'm1', 'FAILED', 25, 'redelivered-failed');
  // m2: failed after sent ends it; later statuses change nothing.
  await sent('stark', 'm2');
  await webhook('stark', 'm2', 'FAILED', 3);
  await webhook('stark', 'm2', 'DELIVERED', 4);
  await webhook('stark', 'm2', 'READ', 5);
  // m3: an attempt report, then expiry.
  await publishStatus(publisher.js, {
    eventId: 'd:m3:attempt',
    tenantId: 'stark',
    messageId: 'm3',
    status: 'ACCEPTED',
    source: 'delivery',
    attempt: 1,
  });
  await publishStatus(publisher.js, { eventId: 'd:m3:expired', tenantId: 'stark', messageId: 'm3', status: 'EXPIRED', source: 'delivery' });
  // The sentinel arrives last: once it is in the log, everything before it was processed.
  await publishInbound(publisher.js, { tenantId: 'stark', waMessageId: 'wamid.sentinel', from: ALICE, text: 'done' });

  const stream = watch(receipt.address, key('stark'));
  await waitFor(() => stream.events.some((e) => e.eventId === 'inbound.wamid.sentinel'), { what: 'the sentinel' });
  stream.close();
  assert.deepEqual(stream.events.map(describe), [
    'm1:SENT',
    'm1:DELIVERED',
    'm1:READ',
    'm1:FAILED->READ',
    'm2:SENT',
    'm2:FAILED',
    'm3:EXPIRED',
    'in:wamid.sentinel',
  ]);
  assert.deepEqual(stream.sequences(), [1, 2, 3, 4, 5, 6, 7, 8]);
  const [, implied, read, failure] = stream.events;
  assert.ok(implied.payload?.$case === 'status' && implied.payload.value.implied, 'the DELIVERED was implied by READ');
  assert.deepEqual(implied.occurredAt, new Date(T0 + 20_000), 'at the time of the read');
  assert.deepEqual(read.occurredAt, new Date(T0 + 20_000));
  assert.deepEqual(failure.payload?.$case === 'status' && [failure.payload.value.errorCode, failure.payload.value.errorTitle], [
    131026,
    'Message undeliverable',
  ]);
});

test('a feed stopped mid-way ends its streams cleanly and, restarted, loses nothing and doubles nothing', async () => {
  const live = watch(receipt.address, key('wayne'));
  await Promise.all(Array.from({ length: 200 }, (_, i) => sent('wayne', `m${i + 1}`)));
  await live.until(5, 'the feed to be under way');
  await receipt.stop();
  await live.ended();
  assert.equal(live.error, undefined);
  assert.equal(live.status?.code, grpcStatus.OK, 'the stream ended with OK');
  const seenBeforeStop = [...live.events];

  for (let i = 201; i <= 210; i++) await sent('wayne', `m${i}`);
  receipt = await startFeedInstance({ natsUrl: nats.url, tenants, sqliteFile });
  const resumed = watch(receipt.address, key('wayne'), { afterSequence: seenBeforeStop.at(-1)?.sequence ?? '0' });
  await resumed.until(210 - seenBeforeStop.length);
  resumed.close();
  const all = [...seenBeforeStop, ...resumed.events];
  assert.deepEqual(
    all.map((e) => Number(e.sequence)),
    Array.from({ length: 210 }, (_, i) => i + 1),
  );
  assert.equal(new Set(all.map(describe)).size, 210);
  await waitFor(
    async () => {
      const info = await publisher.jsm.consumers.info('WAYGATE_EU_EVENTS', FEED_CONSUMER);
      return info.num_ack_pending + info.num_pending === 0;
    },
    { what: 'every input acknowledged' },
  );
});

test('two replicas share one log: a stream on either sees every event, in order, without gaps', async () => {
  // The second replica re-checks rarely: its stream learns of the first replica's appends from NATS wake-ups.
  const second = await startFeedInstance({ natsUrl: nats.url, tenants, sqliteFile, env: { WAYGATE_FEED_RECHECK_MS: '60000' } });
  try {
    const onSecond = watch(second.address, key('cyberdyne'));
    const onFirst = watch(receipt.address, key('cyberdyne'));
    for (let i = 1; i <= 20; i++) await sent('cyberdyne', `m${i}`);
    await onSecond.until(20);
    await onFirst.until(20);
    for (const stream of [onSecond, onFirst]) {
      assert.deepEqual(
        stream.sequences(),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      // Two replicas process different messages side by side, so the log interleaves them in any order.
      assert.deepEqual(stream.events.map(describe).sort(), Array.from({ length: 20 }, (_, i) => `m${i + 1}:SENT`).sort());
      stream.close();
    }
  } finally {
    await second.stop();
  }
});

test("a message's status events show its content type and summary, from its MessageAccepted", async () => {
  const accepted = MessageAccepted.encode(
    MessageAccepted.fromPartial({
      tenantId: 'tyrell',
      messageId: 'm1',
      to: ALICE,
      phoneNumberId: '207',
      content: { $case: 'location', value: { latitude: 1, longitude: 2, name: 'Pickup point', address: '' } },
      contentType: ContentType.CONTENT_TYPE_LOCATION,
      contentSummary: 'location "Pickup point"',
      acceptedAt: new Date(T0),
      expiresAt: new Date(T0 + 86_400_000),
    }),
  ).finish();
  await publishEvent(publisher.js, regionSubjects('eu').outboundAccepted, accepted, 'accepted:tyrell:m1');
  await waitFor(
    async () => {
      const info = await publisher.jsm.consumers.info(regionStreams('eu').outbound.name, OUTBOUND_CONSUMERS.feed);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    { what: "the feed's accepted consumer to take the message" },
  );
  await sent('tyrell', 'm1');
  const stream = watch(receipt.address, key('tyrell'), { afterSequence: '0' });
  const [event] = await stream.until(1, 'the SENT event');
  stream.close();
  assert.deepEqual(event?.payload?.$case === 'status' && [event.payload.value.contentType, event.payload.value.contentSummary], [
    ContentType.CONTENT_TYPE_LOCATION,
    'location "Pickup point"',
  ]);
});
