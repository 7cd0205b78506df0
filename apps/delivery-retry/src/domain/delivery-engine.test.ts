import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createTempDir, waitFor } from '@waygate/testing';
import { startSimulator, type WhatsAppSimulator } from '@waygate/whatsapp-simulator';
import { createCloudApiClient } from '@waygate/whatsapp-cloud-api';
import { createCloudApiWhatsAppClient } from '../adapters/cloud-api-whatsapp-client';
import { SqliteDeliveryStore } from '../adapters/sqlite-delivery-store';
import type { DeliveryEvent } from './delivery';
import {
  createDeliveryEngine,
  type AcceptedMessage,
  type DeliveryEngine,
  type DeliveryMetrics,
  type EngineSettings,
} from './delivery-engine';
import { createDeliveryCustomerData } from './delivery-customer-data';
import { DEFAULT_GOVERNOR_SETTINGS } from './throughput-governor';
import { createCustomerSealer, createInMemoryKeyring } from '@waygate/keyring';

/** Content is sealed at rest under customer keys (a process's own keyring is not this one: there content reads as erased). */
const keyring = createInMemoryKeyring();
const sealer = createCustomerSealer(keyring);

const phoneNumber = { id: '1000001', displayPhoneNumber: '+15550001111', accessToken: 'token-acme', wabaId: '900', throughputMps: 1000 };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let simulator: WhatsAppSimulator;
let dir: ReturnType<typeof createTempDir>;
let store: SqliteDeliveryStore;
let published: DeliveryEvent[];
let counted: string[];
let nowMs: number;
let engine: DeliveryEngine;
let laneSeq = 0;

// The engine as a whole: the scheduler, attempts, webhook reconciliation and cancellation working together through a
// real SQLite store and the WhatsApp simulator. Each part is also tested alone: delivery-scheduler.test.ts,
// delivery-attempt.test.ts, webhook-reconciliation.test.ts.

before(async () => {
  simulator = await startSimulator({
    appSecret: 'secret',
    phoneNumbers: [phoneNumber],
    seed: 1,
    enforceCustomerServiceWindow: false,
    pairRateLimit: false,
  });
});
after(() => simulator.stop());

const metrics: DeliveryMetrics = {
  attempt: (outcome, code) => counted.push(`attempt:${outcome}:${code ?? ''}`),
  retry: (reason) => counted.push(`retry:${reason}`),
  expired: () => counted.push('expired'),
  throttled: (_number, by) => counted.push(`throttled:${by}`),
  interruptedCall: () => counted.push('interrupted'),
};

function makeEngine(overrides: Partial<EngineSettings> = {}): DeliveryEngine {
  return createDeliveryEngine({
    store,
    client: createCloudApiWhatsAppClient(createCloudApiClient({ baseUrl: simulator.url, version: 'v23.0', timeoutMs: 2000 })),
    publisher: { publish: async (event) => void published.push(event) },
    phoneNumber: (tenantId, id) =>
      tenantId === 'acme' && id === phoneNumber.id ? { accessToken: phoneNumber.accessToken, throughputMps: 1000 } : undefined,
    clock: { now: () => new Date(nowMs) },
    settings: {
      owner: 'test',
      concurrency: 16,
      pollIntervalMs: 50,
      leaseMs: 30_000,
      retry: { baseMs: 1000, maxMs: 60_000 },
      governor: DEFAULT_GOVERNOR_SETTINGS,
      reconcileGraceMs: 120_000,
      ...overrides,
    },
    metrics,
    random: () => 1,
    // Waiting for a send slot moves the test clock instead of sleeping.
    waitUntil: async (atMs) => {
      nowMs = Math.max(nowMs, atMs);
    },
  });
}

beforeEach(async () => {
  dir = createTempDir();
  store = new SqliteDeliveryStore(path.join(dir.path, 'delivery.sqlite'), sealer);
  published = [];
  counted = [];
  nowMs = Date.now();
  await simulator.reset();
  simulator.clearSendFailures();
  engine = makeEngine();
});
afterEach(async () => {
  await store.close();
  dir.remove();
});

let counter = 0;
function accepted(overrides: Partial<AcceptedMessage> = {}): AcceptedMessage {
  counter++;
  return {
    tenantId: 'acme',
    messageId: `msg_${counter}`,
    to: '+4915112345678',
    phoneNumberId: phoneNumber.id,
    content: { kind: 'text', body: `hello ${counter}`, previewUrl: false },
    acceptedAt: new Date(nowMs),
    expiresAt: new Date(nowMs + DAY),
    laneSeq: ++laneSeq,
    ...overrides,
  };
}

const sentBodies = () => simulator.sentMessages().map((m) => (m.body.text as { body: string }).body);
const statuses = (messageId: string) => published.filter((e) => e.messageId === messageId).map((e) => e.status);

test('a message the Cloud API accepts is recorded SENT with its wamid, then announced with attempt and recipient', async () => {
  const message = await engine.intake(accepted({ traceContext: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }));
  assert.equal((await engine.runOnce()).attempted, 1);
  const sent = simulator.sentMessages().at(-1);
  const delivery = await engine.get('acme', message.messageId);
  assert.deepEqual([delivery?.state, delivery?.waMessageId, delivery?.attempts], ['SENT', sent?.wamid, 1]);
  assert.ok(delivery?.content, 'content kept until delivered: a later async failure may need another send');
  assert.deepEqual(
    published.map((e) => [e.eventId, e.status, e.waMessageId, e.attempt, e.recipient, e.traceContext]),
    [[`${message.messageId}:delivery:sent:1`, 'SENT', sent?.wamid, 1, message.to, message.traceContext]],
  );
  assert.equal((await engine.runOnce()).attempted, 0, 'a SENT message is never sent again');
  assert.deepEqual(counted, ['attempt:sent:']);
});

test('intake is idempotent: a redelivered MessageAccepted neither duplicates nor re-sends', async () => {
  const message = accepted();
  await engine.intake(message);
  await engine.runOnce();
  await engine.intake(message);
  await engine.runOnce();
  assert.equal(simulator.sentMessages().length, 1);
});

test('messages from one number to one recipient go out in acceptance order; a retrying head holds only its own lane', async () => {
  simulator.injectSendFailures({ count: 1, httpStatus: 500, code: 131000, message: 'Something went wrong' });
  const first = await engine.intake(accepted({ content: { kind: 'text', body: 'first', previewUrl: false } }));
  await engine.intake(accepted({ content: { kind: 'text', body: 'second', previewUrl: false } }));
  await engine.intake(accepted({ to: '+4915100000001', content: { kind: 'text', body: 'other recipient', previewUrl: false } }));
  await engine.runOnce();
  assert.deepEqual(sentBodies(), ['other recipient'], 'the failed head blocks only its lane');
  assert.deepEqual(statuses(first.messageId), ['ACCEPTED']);
  const pendingHead = published.find((e) => e.messageId === first.messageId);
  assert.deepEqual([pendingHead?.attempt, pendingHead?.errorCode, pendingHead?.nextAttemptAt?.getTime()], [1, 131000, nowMs + 1000]);
  nowMs += 1000;
  await engine.runOnce();
  nowMs += 1;
  await engine.runOnce();
  assert.deepEqual(sentBodies(), ['other recipient', 'first', 'second']);
  assert.deepEqual(
    counted.filter((c) => c.startsWith('retry')),
    ['retry:transient'],
  );
});

test('an outage opens the number circuit: no hot loop, one probe after the cooldown, then recovery', async () => {
  simulator.injectSendFailures({ httpStatus: 503, code: 2, message: 'Service temporarily unavailable' });
  for (let i = 0; i < 20; i++) await engine.intake(accepted({ to: `+49151000001${String(i).padStart(2, '0')}` }));
  const attemptsSeen = () => counted.filter((c) => c.startsWith('attempt')).length;
  engine = makeEngine({ concurrency: 1 });
  for (let i = 0; i < 10; i++) await engine.runOnce();
  assert.equal(attemptsSeen(), DEFAULT_GOVERNOR_SETTINGS.breakerFailureThreshold, 'calls stop once the circuit opens');
  nowMs += DEFAULT_GOVERNOR_SETTINGS.breakerCooldownMs + 100;
  for (let i = 0; i < 5; i++) await engine.runOnce();
  assert.equal(attemptsSeen(), DEFAULT_GOVERNOR_SETTINGS.breakerFailureThreshold + 1, 'one probe when half-open, it fails: open again');
  simulator.clearSendFailures();
  nowMs += 2 * DEFAULT_GOVERNOR_SETTINGS.breakerCooldownMs + 100;
  engine = makeEngine({ concurrency: 32 });
  await engine.runOnce();
  assert.equal(simulator.sentMessages().length, 1, 'the probe goes alone');
  nowMs += 1100;
  for (let i = 0; i < 3; i++) await engine.runOnce();
  assert.equal(simulator.sentMessages().length, 20, 'all delivered after recovery');
});

test('a message past its validity expires without a send, and its content is deleted', async () => {
  simulator.injectSendFailures({ count: 1, httpStatus: 503, code: 2, message: 'unavailable' });
  const message = await engine.intake(accepted({ expiresAt: new Date(nowMs + 300) }));
  await engine.runOnce();
  assert.equal(
    (await engine.get('acme', message.messageId))?.nextAttemptAt?.getTime(),
    nowMs + 300,
    'retries never wait past the deadline',
  );
  nowMs += 301;
  await engine.runOnce();
  const delivery = await engine.get('acme', message.messageId);
  assert.deepEqual([delivery?.state, delivery?.content, delivery?.lastErrorCode], ['EXPIRED', undefined, 2]);
  assert.equal(simulator.sentMessages().length, 0);
  assert.deepEqual(statuses(message.messageId), ['ACCEPTED', 'EXPIRED']);
  assert.ok(counted.includes('expired'));
});

test('30 days: a SENT message not delivered by its deadline expires; a delivered one does not', async () => {
  const undelivered = await engine.intake(accepted({ expiresAt: new Date(nowMs + 30 * DAY) }));
  const delivered = await engine.intake(accepted({ to: '+4915100000004', expiresAt: new Date(nowMs + 30 * DAY) }));
  await engine.runOnce();
  const wamid = (await engine.get('acme', delivered.messageId))?.waMessageId;
  assert.equal(
    await engine.applyWebhookStatus({
      tenantId: 'acme',
      messageId: delivered.messageId,
      status: 'DELIVERED',
      waMessageId: wamid,
      occurredAt: new Date(nowMs),
    }),
    'applied',
  );
  assert.equal((await engine.get('acme', delivered.messageId))?.content, undefined, 'delivered: content no longer needed');
  nowMs = undelivered.expiresAt.getTime() - 1;
  await engine.runOnce();
  assert.equal((await engine.get('acme', undelivered.messageId))?.state, 'SENT');
  nowMs += 1;
  await engine.runOnce();
  assert.deepEqual(
    [(await engine.get('acme', undelivered.messageId))?.state, (await engine.get('acme', undelivered.messageId))?.content],
    ['EXPIRED', undefined],
  );
  assert.equal((await engine.get('acme', delivered.messageId))?.state, 'DELIVERED');
  assert.deepEqual(statuses(undelivered.messageId), ['SENT', 'EXPIRED']);
});

test('131049 reported by webhook after SENT sends the message again, not before 24 hours', async () => {
  const message = await engine.intake(accepted({ expiresAt: new Date(nowMs + 7 * DAY) }));
  await engine.runOnce();
  const firstWamid = (await engine.get('acme', message.messageId))?.waMessageId;
  const report = {
    tenantId: 'acme',
    messageId: message.messageId,
    status: 'FAILED' as const,
    waMessageId: firstWamid,
    errorCode: 131049,
    occurredAt: new Date(nowMs),
  };
  assert.equal(await engine.applyWebhookStatus(report), 'applied');
  assert.equal((await engine.get('acme', message.messageId))?.nextAttemptAt?.getTime(), nowMs + DAY);
  assert.equal(await engine.applyWebhookStatus(report), 'ignored', 'the same report again has no effect');
  nowMs += DAY - 1;
  await engine.runOnce();
  assert.equal(simulator.sentMessages().length, 1);
  nowMs += 1;
  await engine.runOnce();
  const resent = await engine.get('acme', message.messageId);
  assert.equal(simulator.sentMessages().length, 2);
  assert.notEqual(resent?.waMessageId, firstWamid);
  assert.deepEqual(statuses(message.messageId), ['SENT', 'ACCEPTED', 'SENT']);
  assert.deepEqual(
    published.filter((e) => e.status === 'SENT').map((e) => e.eventId),
    [`${message.messageId}:delivery:sent:1`, `${message.messageId}:delivery:sent:2`],
  );
});

test('a final failure reported by webhook ends the delivery without a second announcement', async () => {
  const message = await engine.intake(accepted());
  await engine.runOnce();
  const wamid = (await engine.get('acme', message.messageId))?.waMessageId;
  await engine.applyWebhookStatus({
    tenantId: 'acme',
    messageId: message.messageId,
    status: 'FAILED',
    waMessageId: wamid,
    errorCode: 131026,
    occurredAt: new Date(nowMs),
  });
  const delivery = await engine.get('acme', message.messageId);
  assert.deepEqual([delivery?.state, delivery?.lastErrorCode, delivery?.content], ['FAILED', 131026, undefined]);
  assert.deepEqual(statuses(message.messageId), ['SENT']);
});

test('a failure delivery-retry would retry, reported after the validity ended, expires the message and announces it', async () => {
  // Ingress and the tenant feed treat a webhook failure with a retried code (131049) as not terminal: they wait for
  // delivery-retry's next outcome. With the validity over there is no next send, so delivery-retry must announce the end.
  const message = await engine.intake(accepted({ expiresAt: new Date(nowMs + HOUR) }));
  await engine.runOnce();
  const wamid = (await engine.get('acme', message.messageId))?.waMessageId;
  nowMs += HOUR;
  const report = {
    tenantId: 'acme',
    messageId: message.messageId,
    status: 'FAILED' as const,
    waMessageId: wamid,
    errorCode: 131049,
    errorTitle: 'held back',
    occurredAt: new Date(nowMs),
  };
  assert.equal(await engine.applyWebhookStatus(report), 'applied');
  const delivery = await engine.get('acme', message.messageId);
  assert.deepEqual([delivery?.state, delivery?.lastErrorCode, delivery?.content], ['EXPIRED', 131049, undefined]);
  assert.deepEqual(
    published.filter((e) => e.messageId === message.messageId).map((e) => [e.eventId, e.status, e.errorCode, e.errorTitle]),
    [
      [`${message.messageId}:delivery:sent:1`, 'SENT', undefined, undefined],
      [`${message.messageId}:delivery:expired`, 'EXPIRED', 131049, 'held back'],
    ],
  );
  assert.ok(counted.includes('expired'));
  assert.equal(await engine.applyWebhookStatus(report), 'ignored', 'the same report again changes nothing');
  await engine.runOnce();
  assert.equal(simulator.sentMessages().length, 1, 'never sent again');
});

test('a late webhook about an earlier send (its wamid) neither records a send nor settles a rescheduled message', async () => {
  const message = await engine.intake(accepted({ expiresAt: new Date(nowMs + 7 * DAY) }));
  await engine.runOnce();
  const firstWamid = (await engine.get('acme', message.messageId))?.waMessageId;
  const report = { tenantId: 'acme', messageId: message.messageId, waMessageId: firstWamid, occurredAt: new Date(nowMs) };
  await engine.applyWebhookStatus({ ...report, status: 'FAILED', errorCode: 131049 });
  assert.equal((await engine.get('acme', message.messageId))?.state, 'PENDING');
  // Webhooks arrive out of order: the first send's `sent` and `delivered` after its failure.
  assert.equal(await engine.applyWebhookStatus({ ...report, status: 'SENT' }), 'ignored');
  assert.equal(await engine.applyWebhookStatus({ ...report, status: 'DELIVERED' }), 'ignored');
  const delivery = await engine.get('acme', message.messageId);
  assert.deepEqual([delivery?.state, delivery?.attempts, delivery?.nextAttemptAt?.getTime()], ['PENDING', 1, nowMs + DAY]);
  assert.deepEqual(statuses(message.messageId), ['SENT', 'ACCEPTED']);
});

test('a failure reported for a send whose answer was lost is recorded: retried later, or final', async () => {
  const retried = await engine.intake(accepted());
  const failed = await engine.intake(accepted({ to: '+4915100000010' }));
  const report = { tenantId: 'acme', status: 'FAILED' as const, occurredAt: new Date(nowMs) };
  assert.equal(
    await engine.applyWebhookStatus({ ...report, messageId: retried.messageId, waMessageId: 'wamid.lost1', errorCode: 131049 }),
    'applied',
  );
  assert.equal(
    await engine.applyWebhookStatus({ ...report, messageId: failed.messageId, waMessageId: 'wamid.lost2', errorCode: 131026 }),
    'applied',
  );
  const r = await engine.get('acme', retried.messageId);
  assert.deepEqual(
    [r?.state, r?.attempts, r?.waMessageId, r?.lastErrorCode, r?.nextAttemptAt?.getTime()],
    ['PENDING', 1, 'wamid.lost1', 131049, nowMs + DAY],
  );
  const f = await engine.get('acme', failed.messageId);
  assert.deepEqual([f?.state, f?.attempts, f?.waMessageId, f?.lastErrorCode, f?.content], ['FAILED', 1, 'wamid.lost2', 131026, undefined]);
  assert.deepEqual(statuses(retried.messageId), ['ACCEPTED'], 'the retry is announced as an attempt');
  assert.deepEqual(statuses(failed.messageId), [], "receipt's webhook announced the final failure");
  await engine.runOnce();
  assert.equal(simulator.sentMessages().length, 0, 'neither is sent again now');
});

test('cancel: a pending message becomes CANCELED with its content deleted; a sent one cannot be; an unseen one is tombstoned', async () => {
  simulator.injectSendFailures({ count: 1, httpStatus: 503, code: 2, message: 'unavailable' });
  const pending = await engine.intake(accepted());
  await engine.runOnce();
  const canceled = await engine.cancel('acme', pending.messageId);
  assert.equal(canceled.kind, 'canceled');
  assert.deepEqual([canceled.delivery.state, canceled.delivery.content], ['CANCELED', undefined]);
  assert.equal((await engine.cancel('acme', pending.messageId)).kind, 'canceled', 'idempotent');
  nowMs += 2000;
  await engine.runOnce();
  assert.equal(simulator.sentMessages().length, 0, 'a canceled message is never sent');
  assert.deepEqual(statuses(pending.messageId), ['ACCEPTED', 'CANCELED']);

  const sent = await engine.intake(accepted());
  await engine.runOnce();
  assert.deepEqual(
    [(await engine.cancel('acme', sent.messageId)).kind, (await engine.get('acme', sent.messageId))?.state],
    ['settled', 'SENT'],
  );

  const unseen = accepted();
  assert.equal((await engine.cancel('acme', unseen.messageId)).kind, 'canceled');
  await engine.runOnce();
  assert.deepEqual(statuses(unseen.messageId), [], 'not announced before ingress forwarded the message');
  await engine.intake(unseen);
  await engine.runOnce();
  assert.equal((await engine.get('acme', unseen.messageId))?.state, 'CANCELED');
  assert.equal(simulator.sentMessages().length, 1, 'only the message not canceled was sent');
  assert.deepEqual(statuses(unseen.messageId), ['CANCELED'], 'announced once its MessageAccepted met the tombstone');
  assert.equal(published.find((e) => e.messageId === unseen.messageId)?.recipient, unseen.to, 'with the recipient it names');
});

test('a cancel for an id ingress never forwarded leaves an unannounced placeholder: no tenant hears of it', async () => {
  assert.equal((await engine.cancel('acme', 'msg_typo_of_an_operator')).kind, 'canceled');
  await engine.runOnce();
  assert.deepEqual(statuses('msg_typo_of_an_operator'), []);
  assert.equal(simulator.sentMessages().length, 0);
});

test('cancel while a send is in flight is refused as in-flight', async () => {
  const message = await engine.intake(accepted());
  const [claimed] = await store.claimDue({ now: new Date(nowMs), limit: 1, owner: 'other', leaseMs: 30_000, excludePhoneNumberIds: [] });
  assert.equal(claimed.delivery.messageId, message.messageId);
  assert.equal((await engine.cancel('acme', message.messageId)).kind, 'in-flight');
});

test('events whose publication failed are published by the outbox sweep', async () => {
  let failing = true;
  engine = createDeliveryEngine({
    store,
    client: createCloudApiWhatsAppClient(createCloudApiClient({ baseUrl: simulator.url, version: 'v23.0', timeoutMs: 2000 })),
    publisher: {
      publish: async (event) => {
        if (failing) throw new Error('nats down');
        published.push(event);
      },
    },
    phoneNumber: () => ({ accessToken: phoneNumber.accessToken, throughputMps: 1000 }),
    clock: { now: () => new Date(nowMs) },
    settings: {
      owner: 't',
      concurrency: 4,
      pollIntervalMs: 50,
      leaseMs: 30_000,
      retry: { baseMs: 1000, maxMs: 60_000 },
      governor: DEFAULT_GOVERNOR_SETTINGS,
      reconcileGraceMs: 120_000,
    },
    metrics,
    waitUntil: async () => undefined,
  });
  const message = await engine.intake(accepted());
  await assert.rejects(engine.runOnce());
  assert.equal((await engine.get('acme', message.messageId))?.state, 'SENT', 'the outcome is durable even though announcing failed');
  assert.equal((await store.backlog()).unannounced, 1);
  failing = false;
  nowMs += 31_000;
  await engine.runOnce();
  assert.deepEqual(statuses(message.messageId), ['SENT']);
  assert.equal((await store.backlog()).unannounced, 0);
});

test('the continuous loop delivers new work as it arrives and stops cleanly', async () => {
  engine = makeEngine();
  engine.start();
  try {
    for (let i = 0; i < 10; i++) await engine.intake(accepted({ to: `+49151000002${i}` }));
    await waitFor(() => simulator.sentMessages().length, { until: (sent) => sent >= 10, what: 'the loop to send all 10 messages' });
    assert.equal(simulator.sentMessages().length, 10);
  } finally {
    await engine.stop();
  }
});

test('a call interrupted by a crash is not repeated while its webhook can still settle it; the webhook records the send', async () => {
  const message = await engine.intake(accepted());
  // A replica claimed it, marked the call as started, and died before recording Meta's answer.
  const [claimed] = await store.claimDue({ now: new Date(nowMs), limit: 1, owner: 'dead', leaseMs: 1000, excludePhoneNumberIds: [] });
  assert.equal(await store.markCallStarted('acme', message.messageId, claimed.version, new Date(nowMs)), true);
  nowMs += 1001;
  await engine.runOnce();
  assert.equal(simulator.sentMessages().length, 0, 'not sent again at once');
  assert.deepEqual(counted, ['interrupted']);
  assert.equal((await engine.get('acme', message.messageId))?.nextAttemptAt?.getTime(), nowMs - 1001 + 120_000 + 50);
  // Meta had it: its `sent` webhook, resolved by biz_opaque_callback_data, records the send.
  assert.equal(
    await engine.applyWebhookStatus({
      tenantId: 'acme',
      messageId: message.messageId,
      status: 'SENT',
      waMessageId: 'wamid.lost',
      occurredAt: new Date(nowMs),
    }),
    'applied',
  );
  const delivery = await engine.get('acme', message.messageId);
  assert.deepEqual([delivery?.state, delivery?.waMessageId, delivery?.attempts], ['SENT', 'wamid.lost', 1]);
  assert.deepEqual(statuses(message.messageId), ['SENT']);
  nowMs += 200_000;
  await engine.runOnce();
  assert.equal(simulator.sentMessages().length, 0, 'never sent twice');
});

test('an interrupted call with no webhook within the grace is sent again, with the message id as callback data', async () => {
  const message = await engine.intake(accepted());
  const [claimed] = await store.claimDue({ now: new Date(nowMs), limit: 1, owner: 'dead', leaseMs: 1000, excludePhoneNumberIds: [] });
  await store.markCallStarted('acme', message.messageId, claimed.version, new Date(nowMs));
  nowMs += 1001;
  await engine.runOnce();
  nowMs += 120_000;
  await engine.runOnce();
  const sent = simulator.sentMessages();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].body.biz_opaque_callback_data, `waygate:${message.messageId}`);
  assert.equal((await engine.get('acme', message.messageId))?.state, 'SENT');
});

test('a delivered webhook for a still-PENDING message (the answer was lost) settles it as DELIVERED', async () => {
  const message = await engine.intake(accepted());
  await engine.applyWebhookStatus({
    tenantId: 'acme',
    messageId: message.messageId,
    status: 'DELIVERED',
    waMessageId: 'wamid.x',
    occurredAt: new Date(nowMs),
  });
  const delivery = await engine.get('acme', message.messageId);
  assert.deepEqual([delivery?.state, delivery?.waMessageId, delivery?.content], ['DELIVERED', 'wamid.x', undefined]);
  assert.deepEqual(statuses(message.messageId), ['SENT']);
});

/** Every file under `dir` (the database, -wal, -shm) that contains `needle`. */
function filesContaining(root: string, needle: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => readFileSync(file).includes(needle));
}

test('erasure: pending deliveries to the customer end CANCELED and are never sent; no file keeps the customer; another customer is delivered', async () => {
  const erasedTo = '+4915100000777';
  const keptTo = '+4915100000888';
  const marker = 'dr-erase-marker-5e0c2f';
  const sentFirst = await engine.intake(accepted({ to: erasedTo, content: { kind: 'text', body: `${marker} sent`, previewUrl: false } }));
  await engine.runOnce();
  assert.equal((await engine.get('acme', sentFirst.messageId))?.state, 'SENT');
  const pendingOnes = [
    await engine.intake(accepted({ to: erasedTo, content: { kind: 'text', body: `${marker} one`, previewUrl: false } })),
    await engine.intake(accepted({ to: erasedTo, content: { kind: 'text', body: `${marker} two`, previewUrl: false } })),
  ];
  const kept = await engine.intake(accepted({ to: keptTo, content: { kind: 'text', body: 'kept-marker-91ab', previewUrl: false } }));

  await store.flushDeleted();
  assert.deepEqual(filesContaining(dir.path, marker), [], 'content is sealed at rest');
  assert.ok(filesContaining(dir.path, erasedTo.slice(1)).length > 0, 'the number is on disk before erasure');

  const participant = createDeliveryCustomerData({ store, cancel: (tenantId, messageId) => engine.cancel(tenantId, messageId) });
  const customerRef = await sealer.customerRef('acme', erasedTo);
  const subject = { tenantId: 'acme', customer: erasedTo, customerRef };
  const exported: unknown[] = [];
  for await (const item of participant.exportCustomer(subject)) exported.push(item);
  assert.equal(exported.length, 3);
  assert.ok(JSON.stringify(exported).includes(`${marker} one`), 'the export opens the content');

  await keyring.destroyKey({ tenantId: 'acme', customerRef });
  const counts = await participant.erase(subject, 'er_1');
  assert.equal(counts.deliveries_stopped, 2);
  assert.ok((counts.delivery_rows_erased ?? 0) >= 3);
  for (const message of pendingOnes) {
    const delivery = await engine.get('acme', message.messageId);
    assert.equal(delivery?.state, 'CANCELED');
    assert.equal(delivery?.to, customerRef);
    assert.equal(delivery?.content, undefined);
    assert.deepEqual(statuses(message.messageId), ['CANCELED']);
  }
  assert.equal((await engine.get('acme', sentFirst.messageId))?.to, customerRef);

  for (let i = 0; i < 3; i++) await engine.runOnce();
  assert.deepEqual(
    sentBodies().filter((body) => body.startsWith(marker)),
    [`${marker} sent`],
    'nothing is sent to the erased customer after erasure',
  );
  assert.ok(sentBodies().includes('kept-marker-91ab'), 'another customer is still delivered');
  assert.equal((await engine.get('acme', kept.messageId))?.to, keptTo);

  assert.deepEqual(filesContaining(dir.path, erasedTo.slice(1)), [], 'no file holds the number');
  assert.deepEqual(filesContaining(dir.path, marker), []);
  assert.deepEqual(await participant.erase(subject, 'er_1'), { deliveries_stopped: 0, delivery_rows_erased: 0 }, 'idempotent');
});
