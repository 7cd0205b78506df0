import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations } from '@waygate/grpc';
import { publishEvent, regionSubjects } from '@waygate/nats';
import {
  ContentType,
  MessageStatus,
  StatusSource,
  type ArchivedEvent as ArchivedEventMessage,
  type ListMessageEventsResponse,
} from '@waygate/proto';
import { tenantLogRef } from '@waygate/tenancy';
import { waitFor } from '@waygate/testing';
import { SqliteArchiveStore } from './adapters/sqlite-archive-store';
import { startArchiveHarness, type ArchiveHarness } from './testing/archive-harness';

const KEYS = { acme: 'key-acme', umbrella: 'key-umbrella', globex: 'key-globex' };
// Two tenants homed in eu (to show tenant scoping) and one in us (to show region scoping).
const TENANTS = [
  { id: 'acme', homeRegion: 'eu', apiKey: KEYS.acme, phoneNumberIds: ['200'] },
  { id: 'umbrella', homeRegion: 'eu', apiKey: KEYS.umbrella, phoneNumberIds: ['202'] },
  { id: 'globex', homeRegion: 'us', apiKey: KEYS.globex, phoneNumberIds: ['201'] },
] as const;

const T0 = Date.UTC(2025, 0, 1);
/** Personal data that must reach the store but never a log line. */
const RECIPIENT = '+4915112345678';
const TEXT_BODY = 'confidential body 7f3a';
const subjects = regionSubjects('eu');

let harness: ArchiveHarness;

before(async () => {
  harness = await startArchiveHarness({ tenants: TENANTS });
});

after(() => harness?.stop());

async function listEvents(apiKey: string, messageId: string): Promise<ArchivedEventMessage[]> {
  return (await harness.unary<ListMessageEventsResponse>('listMessageEvents', { messageId }, apiKey)).events;
}

/** Waits until acme's message has `count` archived events and returns them. */
function waitForEvents(messageId: string, count: number, what: string): Promise<ArchivedEventMessage[]> {
  return waitFor(
    async () => {
      const listed = await listEvents(KEYS.acme, messageId);
      return listed.length === count ? listed : undefined;
    },
    { what },
  );
}

async function publishAccepted(tenantId: string, messageId: string, acceptedAt: number): Promise<void> {
  await harness.publishAccepted({
    tenantId,
    messageId,
    to: RECIPIENT,
    phoneNumberId: '200',
    content: { $case: 'text', value: { body: TEXT_BODY, previewUrl: false } },
    contentType: ContentType.CONTENT_TYPE_TEXT,
    contentSummary: 'text "summary"',
    acceptedAt: new Date(acceptedAt),
  });
}

interface StatusEventFields {
  eventId: string;
  tenantId: string;
  messageId: string;
  status: MessageStatus;
  occurredAt: number;
  source?: StatusSource;
  errorCode?: number;
  errorTitle?: string;
}

async function publishStatus(fields: StatusEventFields, msgId = fields.eventId): Promise<void> {
  await harness.publishStatus({ ...fields, occurredAt: new Date(fields.occurredAt) }, msgId);
}

const INBOUND_TEXT = 'inbound secret 9c1e';

async function publishInbound(tenantId: string, waMessageId: string, occurredAt: number): Promise<void> {
  await harness.publishInbound({ tenantId, waMessageId, from: RECIPIENT, occurredAt: new Date(occurredAt), text: INBOUND_TEXT });
}

function grpcCode(error: unknown): number | undefined {
  return (error as ServiceError).code;
}

test('archives accepted and status events once each and lists them oldest first over gRPC', async () => {
  // Published out of order: the list is ordered by when things happened, not by arrival.
  await publishStatus({
    eventId: 'evt_a_delivered',
    tenantId: 'acme',
    messageId: 'msg_a',
    status: MessageStatus.MESSAGE_STATUS_DELIVERED,
    occurredAt: T0 + 2000,
  });
  const sentEvent = {
    eventId: 'evt_a_sent',
    tenantId: 'acme',
    messageId: 'msg_a',
    status: MessageStatus.MESSAGE_STATUS_SENT,
    occurredAt: T0 + 1000,
    source: StatusSource.STATUS_SOURCE_DELIVERY,
  };
  await publishStatus(sentEvent);
  await publishAccepted('acme', 'msg_a', T0);
  // The same event under another Nats-Msg-Id passes JetStream's de-duplication; the store must absorb it.
  await publishStatus(sentEvent, 'evt_a_sent-redelivered');

  await waitForEvents('msg_a', 3, 'three archived events for msg_a');
  await harness.waitUntilCaughtUp();
  const events = await listEvents(KEYS.acme, 'msg_a');
  assert.deepEqual(
    events.map((e) => [e.eventId, e.kind, e.status, e.occurredAt?.getTime(), e.textBody]),
    [
      ['accepted:msg_a', 'accepted', MessageStatus.MESSAGE_STATUS_ACCEPTED, T0, TEXT_BODY],
      ['evt_a_sent', 'status', MessageStatus.MESSAGE_STATUS_SENT, T0 + 1000, ''],
      ['evt_a_delivered', 'status', MessageStatus.MESSAGE_STATUS_DELIVERED, T0 + 2000, ''],
    ],
  );
  assert.deepEqual(
    events.map((e) => [e.contentType, e.contentSummary]),
    [
      [ContentType.CONTENT_TYPE_TEXT, 'text "summary"'],
      [ContentType.CONTENT_TYPE_UNSPECIFIED, ''],
      [ContentType.CONTENT_TYPE_UNSPECIFIED, ''],
    ],
    'an accepted event shows the content type and summary',
  );
  for (const event of events) {
    assert.equal(event.messageId, 'msg_a');
    assert.ok(event.recordedAt && event.recordedAt.getTime() > T0, "recordedAt is the archive's own time");
  }
});

test('authenticates callers and scopes the list to the calling tenant', async () => {
  await assert.rejects(listEvents('wrong-key', 'msg_a'), (error: unknown) => grpcCode(error) === grpcStatus.UNAUTHENTICATED);
  assert.deepEqual(await listEvents(KEYS.umbrella, 'msg_a'), [], "another tenant sees nothing of acme's message");
  assert.deepEqual(await listEvents(KEYS.acme, 'msg_unknown'), []);
  await assert.rejects(
    listEvents(KEYS.globex, 'msg_a'),
    (error: unknown) => grpcCode(error) === grpcStatus.FAILED_PRECONDITION,
    'a us tenant is sent to its own region',
  );
  await assert.rejects(listEvents(KEYS.acme, ''), (error: unknown) => {
    assert.equal(grpcCode(error), grpcStatus.INVALID_ARGUMENT);
    assert.deepEqual(
      badRequestViolations(error as ServiceError).map((v) => v.field),
      ['message_id'],
    );
    return true;
  });
});

test('events of tenants homed in another region, or unknown, are acknowledged but not stored', async () => {
  await publishAccepted('globex', 'msg_us', T0);
  await publishStatus({
    eventId: 'evt_us_sent',
    tenantId: 'globex',
    messageId: 'msg_us',
    status: MessageStatus.MESSAGE_STATUS_SENT,
    occurredAt: T0 + 1000,
  });
  await publishStatus({
    eventId: 'evt_nobody',
    tenantId: 'nobody',
    messageId: 'msg_nobody',
    status: MessageStatus.MESSAGE_STATUS_SENT,
    occurredAt: T0 + 1000,
  });
  await harness.waitUntilCaughtUp();

  if (harness.config.storage.kind !== 'sqlite') throw new Error('test expects sqlite storage');
  // Read the store directly: over gRPC a us tenant is refused before anything is looked up.
  const store = new SqliteArchiveStore(harness.config.storage.file);
  try {
    assert.deepEqual(await store.listByMessage('globex', 'msg_us'), []);
    assert.deepEqual(await store.listByMessage('nobody', 'msg_nobody'), []);
  } finally {
    await store.close();
  }
  const warnings = harness.logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.level === 'warn');
  // Tenants are named by tenantLogRef (a hash), never in clear: the log may not carry another region's tenant ids.
  assert.ok(warnings.some((w) => w.tenant === tenantLogRef('globex') && w.message_id === 'msg_us' && /another region/.test(String(w.msg))));
  assert.ok(
    warnings.some((w) => w.tenant === tenantLogRef('nobody') && w.message_id === 'msg_nobody' && /unknown tenant/.test(String(w.msg))),
  );
  assert.ok(!warnings.some((w) => JSON.stringify(w).includes('globex')), 'no tenant id in clear');
});

test('undecodable or invalid events are rejected without blocking later ones', async () => {
  await publishEvent(harness.events.js, subjects.receiptEvents, new Uint8Array([0xff, 0xff, 0xff]), 'garbage-1');
  await publishStatus({
    eventId: 'evt_b_unspecified',
    tenantId: 'acme',
    messageId: 'msg_b',
    status: MessageStatus.MESSAGE_STATUS_UNSPECIFIED,
    occurredAt: T0,
  });
  await publishEvent(harness.events.js, subjects.outboundAccepted, new Uint8Array([0xff, 0xff, 0xff]), 'garbage-2');
  await publishStatus({
    eventId: 'evt_b_read',
    tenantId: 'acme',
    messageId: 'msg_b',
    status: MessageStatus.MESSAGE_STATUS_READ,
    occurredAt: T0 + 3000,
  });
  await publishAccepted('acme', 'msg_b', T0);

  const events = await waitForEvents('msg_b', 2, 'the valid events after the garbage');
  assert.deepEqual(
    events.map((e) => e.eventId),
    ['accepted:msg_b', 'evt_b_read'],
  );
  await harness.waitUntilCaughtUp();
  const rejected = harness.logLines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.msg === 'message moved to the dead-letter stream' && entry.reason_kind === 'rejected');
  assert.equal(rejected.length, 3, 'each bad event is dead-lettered once (one line each), not retried');
});

test("a customer's inbound message is archived under its wamid, with no ERROR logged", async () => {
  const linesBefore = harness.logLines.length;
  await publishInbound('acme', 'wamid.inbound1', T0 + 5000);
  await publishInbound('acme', 'wamid.inbound1', T0 + 5000); // re-published with the same id: one record
  const events = await waitForEvents('wamid.inbound1', 1, 'the archived inbound message');
  await harness.waitUntilCaughtUp();
  assert.deepEqual(
    events.map((e) => [e.eventId, e.messageId, e.kind, e.status, e.occurredAt?.getTime(), e.textBody]),
    [['wa:in:wamid.inbound1', 'wamid.inbound1', 'inbound', MessageStatus.MESSAGE_STATUS_UNSPECIFIED, T0 + 5000, INBOUND_TEXT]],
  );
  assert.deepEqual(await listEvents(KEYS.umbrella, 'wamid.inbound1'), [], "another tenant does not see acme's inbound message");
  const lines = harness.logLines.slice(linesBefore).map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(
    lines.filter((entry) => entry.level === 'error' || entry.level === 'fatal'),
    [],
    'an inbound message is not an error',
  );
  assert.ok(
    lines.some((e) => e.msg === 'event archived' && e.kind === 'inbound' && e.message_id === 'wamid.inbound1' && e.outcome === 'recorded'),
  );
});

test('a 10 KB message id is INVALID_ARGUMENT naming message_id, and the error does not echo it', async () => {
  const huge = `msg_${'9'.repeat(10_000)}`;
  await assert.rejects(listEvents(KEYS.acme, huge), (error: unknown) => {
    assert.equal(grpcCode(error), grpcStatus.INVALID_ARGUMENT);
    assert.deepEqual(
      badRequestViolations(error as ServiceError).map((v) => [v.field, v.reason]),
      [['message_id', 'TOO_LONG']],
    );
    assert.ok(!(error as ServiceError).details.includes('9999'), 'the id is not echoed');
    return true;
  });
});

test('events published while the archive was down are recorded after it restarts on the same data', async () => {
  await harness.restart(async () => {
    await publishAccepted('acme', 'msg_c', T0);
    await publishStatus({
      eventId: 'evt_c_failed',
      tenantId: 'acme',
      messageId: 'msg_c',
      status: MessageStatus.MESSAGE_STATUS_FAILED,
      occurredAt: T0 + 1000,
      errorCode: 131026,
      errorTitle: 'Message undeliverable',
    });
  });
  const events = await waitForEvents('msg_c', 2, 'events published while the archive was down');
  assert.deepEqual(
    events.map((e) => [e.eventId, e.status]),
    [
      ['accepted:msg_c', MessageStatus.MESSAGE_STATUS_ACCEPTED],
      ['evt_c_failed', MessageStatus.MESSAGE_STATUS_FAILED],
    ],
  );
  assert.equal((await listEvents(KEYS.acme, 'msg_a')).length, 3, 'earlier events survived the restart');
});

test('logs carry ids, kinds and statuses, never text bodies or phone numbers', () => {
  const text = harness.logLines.join('');
  assert.ok(!text.includes(TEXT_BODY), 'no text body in logs');
  assert.ok(!text.includes(INBOUND_TEXT), 'no inbound text in logs');
  assert.ok(!text.includes(RECIPIENT) && !text.includes(RECIPIENT.slice(1)), 'no recipient number in logs');
  const archived = harness.logLines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.msg === 'event archived');
  assert.ok(
    archived.some(
      (e) =>
        e.tenant_id === 'acme' && e.message_id === 'msg_a' && e.kind === 'accepted' && e.status === 'ACCEPTED' && e.outcome === 'recorded',
    ),
  );
  assert.ok(archived.some((e) => e.message_id === 'msg_a' && e.kind === 'status' && e.status === 'SENT' && e.outcome === 'duplicate'));
});
