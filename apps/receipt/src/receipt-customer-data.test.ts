import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { createCustomerSealer, createKeyring, JetStreamWrappedKeyStore, toKeyEncryptionKey, type Keyring } from '@waygate/keyring';
import { createTempDir, startNatsServer, type NatsServerHandle } from '@waygate/testing';
import { SealedFeedStore } from './feed/adapters/sealed-feed-store';
import { SqliteFeedStore } from './feed/adapters/sqlite-feed-store';
import type { NewTenantEvent } from './feed/domain/tenant-event';
import { createReceiptCustomerDataParticipant } from './receipt-customer-data';
import { SealedInboundStore } from './webhooks/adapters/sealed-inbound-store';
import { SqliteInboundStore } from './webhooks/adapters/sqlite-inbound-store';
import { SqliteReceiptStore } from './webhooks/adapters/sqlite-receipt-store';
import type { WebhookStatus } from './webhooks/domain/webhook-payload';
import { ERASED_CONTENT, type InboundMessageRecord } from './webhooks/domain/inbound-store';

let nats: NatsServerHandle;
let nc: NatsConnection;
let keyring: Keyring;
before(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  const store = await JetStreamWrappedKeyStore.open(nc.jetstream(), 'test');
  keyring = createKeyring({ store, keks: { active: toKeyEncryptionKey(randomBytes(32)), retired: [] }, clock: { now: () => new Date() } });
});
after(async () => {
  await nc.close();
  await nats.stop();
});

const T0 = Date.UTC(2026, 0, 5, 9);
const ALICE = '+4915111111111';
const BOB = '+4915122222222';
const ALICE_TEXT = 'alicezqxreceiptmarker';
const ALICE_NAME = 'Alicezqxprofilename';
const ALICE_SUMMARY = 'alicezqxsummarymarker';
const BOB_TEXT = 'bobzqxreceiptmarker';

function inboundRecord(waMessageId: string, customer: string, body: string, profileName: string): InboundMessageRecord {
  return {
    tenantId: 'acme',
    phoneNumberId: '200',
    customer,
    waMessageId,
    occurredAt: new Date(T0),
    type: 'text',
    content: { kind: 'text', body },
    profileName,
    receivedAt: new Date(T0 + 1000),
  };
}

function inboundEvent(waMessageId: string, from: string, text: string): NewTenantEvent {
  return {
    type: 'inbound',
    tenantId: 'acme',
    eventId: `inbound.${waMessageId}`,
    occurredAt: new Date(T0),
    recordedAt: new Date(T0 + 1000),
    inbound: { waMessageId, phoneNumberId: '200', from, type: 'text', text, contentJson: JSON.stringify({ body: text }) },
  };
}

/** Which of `needles` occur in any file under `dir` (the SQLite files, their -wal and -shm). */
function foundInFiles(dir: string, needles: readonly string[]): string[] {
  const contents = readdirSync(dir).map((name) => readFileSync(path.join(dir, name)));
  return needles.filter((needle) => contents.some((bytes) => bytes.includes(Buffer.from(needle, 'utf8'))));
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

test("erasure: receipt's inbound messages and feed are sealed at rest, then emptied and pseudonymised; no file holds the customer's texts; others still served; idempotent", async () => {
  const dir = createTempDir();
  const plainInbound = new SqliteInboundStore(path.join(dir.path, 'receipt-inbound.sqlite'));
  const plainFeed = new SqliteFeedStore(path.join(dir.path, 'receipt-feed.sqlite'));
  const receiptStore = new SqliteReceiptStore(path.join(dir.path, 'receipt.sqlite'));
  try {
    // The wamid mappings name the recipient (as E.164 and as WhatsApp's digits), and a held status names it too.
    await receiptStore.recordSentMessage({ tenantId: 'acme', waMessageId: 'wamid.out.a', messageId: 'msg_a2', recipient: ALICE });
    await receiptStore.recordSentMessage({ tenantId: 'acme', waMessageId: 'wamid.out.a3', messageId: 'msg_a3', recipient: ALICE.slice(1) });
    await receiptStore.recordSentMessage({ tenantId: 'acme', waMessageId: 'wamid.out.b', messageId: 'msg_b2', recipient: BOB });
    const held = (waMessageId: string, recipientId: string): WebhookStatus =>
      ({ phoneNumberId: '200', waMessageId, status: 'DELIVERED', occurredAt: new Date(T0), recipientId }) as WebhookStatus;
    await receiptStore.holdStatus('acme', held('wamid.race.a', ALICE.slice(1)));
    await receiptStore.holdStatus('acme', held('wamid.race.b', BOB.slice(1)));
    const cipher = createCustomerSealer(keyring);
    const inboundStore = new SealedInboundStore(plainInbound, cipher);
    const feed = new SealedFeedStore(plainFeed, cipher);
    const recorded = await inboundStore.recordInboundMessage(inboundRecord('wamid.a1', ALICE, ALICE_TEXT, ALICE_NAME));
    assert.deepEqual([recorded.content, recorded.profileName], [{ kind: 'text', body: ALICE_TEXT }, ALICE_NAME], 'read back opened');
    await inboundStore.recordInboundMessage(inboundRecord('wamid.b1', BOB, BOB_TEXT, 'Bob'));
    await inboundStore.extendServiceWindow({ tenantId: 'acme', phoneNumberId: '200', customer: ALICE }, new Date(T0));
    const appended = await feed.appendEvent(inboundEvent('wamid.a1', ALICE, ALICE_TEXT));
    assert.ok(appended?.type === 'inbound' && appended.inbound.text === ALICE_TEXT, 'the appender gets the plaintext back');
    await feed.appendEvent({
      type: 'status',
      tenantId: 'acme',
      eventId: 'status.msg_a2.sent',
      occurredAt: new Date(T0 + 2000),
      recordedAt: new Date(T0 + 2000),
      status: {
        messageId: 'msg_a2',
        recipient: ALICE,
        status: 'SENT',
        messageStatus: 'SENT',
        contentType: 'text',
        contentSummary: ALICE_SUMMARY,
      },
    });
    await feed.appendEvent(inboundEvent('wamid.b1', BOB, BOB_TEXT));
    // A callback body (stored as it will be posted) holding Alice's text, and one of Bob's.
    await feed.initEndpoint('acme', 'ep1');
    await feed.enqueueDeliveries(
      'acme',
      'ep1',
      [
        {
          eventId: 'inbound.wamid.a1',
          sequence: 1,
          messageKey: 'inbound:wamid.a1',
          body: JSON.stringify({ text: ALICE_TEXT }),
          queuedAt: new Date(T0),
        },
        {
          eventId: 'inbound.wamid.b1',
          sequence: 3,
          messageKey: 'inbound:wamid.b1',
          body: JSON.stringify({ text: BOB_TEXT }),
          queuedAt: new Date(T0),
        },
      ],
      3,
    );
    // At rest: the inbound store and the feed's inbound events hold no plaintext (the callback outbox does, until erased).
    const raw = readFileSync(path.join(dir.path, 'receipt-inbound.sqlite'));
    assert.ok(!raw.includes(ALICE_TEXT) && !raw.includes(ALICE_NAME));

    const customerRef = await keyring.customerRef('acme', ALICE);
    const subject = { tenantId: 'acme', customer: ALICE, customerRef };
    let waitedFor: Date | undefined;
    const participant = createReceiptCustomerDataParticipant({
      intake: {
        inboundStore,
        receiptStore,
        flush: async () => {
          await plainInbound.checkpointWal();
          await receiptStore.checkpointWal();
        },
      },
      feed: { store: feed, flush: () => plainFeed.checkpointWal() },
      waitUntilWebhookBodiesShredded: async (before) => {
        waitedFor = before;
      },
      clock: { now: () => new Date(T0 + 10_000) },
    });
    const exported = await collect(participant.exportCustomer(subject));
    assert.deepEqual(
      exported.map((item) => item.section),
      ['inbound.jsonl', 'feed-events.jsonl', 'feed-events.jsonl'],
    );
    assert.deepEqual(exported[0]?.record['content'], { kind: 'text', body: ALICE_TEXT });

    assert.ok(foundInFiles(dir.path, [ALICE_TEXT, ALICE_SUMMARY]).length > 0, 'before erasure the files hold some of it');
    await keyring.destroyKey({ tenantId: 'acme', customerRef });
    const counts = await participant.erase(subject, 'er_1');
    assert.deepEqual(counts, {
      inbound_messages: 1,
      service_windows: 1,
      feed_events: 2,
      callback_deliveries: 1,
      sent_message_recipients: 2,
      held_statuses: 1,
    });
    assert.equal(waitedFor?.getTime(), T0 + 10_000, 'waited for the webhook bodies queued before the erasure');
    assert.deepEqual(
      foundInFiles(dir.path, [ALICE_TEXT, ALICE_NAME, ALICE_SUMMARY, ALICE.slice(1)]),
      [],
      "no file holds the customer's texts or number",
    );

    // Pseudonymised metadata stays; the other customer is still served.
    const erased = await inboundStore.findInboundMessage('acme', 'wamid.a1');
    assert.deepEqual([erased?.customer, erased?.content, erased?.profileName], [customerRef, ERASED_CONTENT, undefined]);
    const events = await feed.readEvents('acme', { after: 0, limit: 10 });
    assert.deepEqual(
      events.map((event) =>
        event.type === 'inbound'
          ? [event.sequence, event.inbound.from, event.inbound.text]
          : [event.sequence, event.status.recipient, event.status.contentSummary],
      ),
      [
        [1, customerRef, undefined],
        [2, customerRef, undefined],
        [3, BOB, BOB_TEXT],
      ],
    );
    assert.equal((await inboundStore.findInboundMessage('acme', 'wamid.b1'))?.content.kind, 'text');
    assert.ok(await feed.getDelivery('acme', 'ep1', 'inbound.wamid.b1'));
    assert.equal(await feed.getDelivery('acme', 'ep1', 'inbound.wamid.a1'), undefined);
    assert.equal((await receiptStore.findSentMessage('acme', 'wamid.out.a'))?.recipient, customerRef, 'the mapping stays, pseudonymised');
    assert.equal((await receiptStore.findSentMessage('acme', 'wamid.out.b'))?.recipient, BOB);
    assert.equal((await receiptStore.listHeldStatuses('acme', 'wamid.race.a')).length, 0);
    assert.equal((await receiptStore.listHeldStatuses('acme', 'wamid.race.b')).length, 1);
    assert.deepEqual(await collect(participant.exportCustomer(subject)), [], 'nothing is left under the number');

    // Idempotent.
    assert.deepEqual(await participant.erase(subject, 'er_1'), {
      inbound_messages: 0,
      service_windows: 0,
      feed_events: 0,
      callback_deliveries: 0,
      sent_message_recipients: 0,
      held_statuses: 0,
    });
  } finally {
    await receiptStore.close();
    await plainInbound.close();
    await plainFeed.close();
    dir.remove();
  }
});
