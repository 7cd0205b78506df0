import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createTempDir, freePort } from '@waygate/testing';
import { startSimulator, type WhatsAppSimulator } from '@waygate/whatsapp-simulator';
import { createCloudApiClient } from '@waygate/whatsapp-cloud-api';
import { createCloudApiWhatsAppClient } from '../adapters/cloud-api-whatsapp-client';
import { SqliteDeliveryStore } from '../adapters/sqlite-delivery-store';
import type { Delivery, DeliveryEvent } from './delivery';
import { DeliveryAttempt } from './delivery-attempt';
import type { DeliveryMetrics } from './delivery-ports';
import { DeliveryRecorder } from './delivery-recorder';
import type { StoredDelivery } from './delivery-store';
import { numberLimiterKey, pairLimiterKey } from './limiter-state';
import { SendPacer } from './send-pacer';
import { DEFAULT_GOVERNOR_SETTINGS, type GovernorSettings } from './throughput-governor';
import { createCustomerSealer, createInMemoryKeyring } from '@waygate/keyring';

/** Content is sealed at rest under customer keys (a process's own keyring is not this one: there content reads as erased). */
const sealer = createCustomerSealer(createInMemoryKeyring());

// One attempt on one claimed delivery, alone: a real SQLite store and the WhatsApp simulator, no scheduler.

const phoneNumber = { id: '1000001', displayPhoneNumber: '+15550001111', accessToken: 'token-acme', wabaId: '900', throughputMps: 1000 };
const DAY = 24 * 3_600_000;
const RECIPIENT = '+4915112345678';

let simulator: WhatsAppSimulator;
let dir: ReturnType<typeof createTempDir>;
let store: SqliteDeliveryStore;
let published: DeliveryEvent[];
let counted: string[];
let nowMs: number;
let seq = 0;

const spans = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

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

beforeEach(async () => {
  dir = createTempDir();
  store = new SqliteDeliveryStore(path.join(dir.path, 'delivery.sqlite'), sealer);
  published = [];
  counted = [];
  nowMs = Date.now();
  await simulator.reset();
  simulator.clearSendFailures();
});
afterEach(async () => {
  await store.close();
  dir.remove();
});

const metrics: DeliveryMetrics = {
  attempt: (outcome, code) => counted.push(`attempt:${outcome}:${code ?? ''}`),
  retry: (reason) => counted.push(`retry:${reason}`),
  expired: () => counted.push('expired'),
  throttled: (_number, by) => counted.push(`throttled:${by}`),
  interruptedCall: () => counted.push('interrupted'),
};

function makeAttempt(
  options: { configured?: boolean; baseUrl?: string; timeoutMs?: number; governor?: GovernorSettings; publishFails?: boolean } = {},
): DeliveryAttempt {
  const clock = { now: () => new Date(nowMs) };
  return new DeliveryAttempt({
    store,
    recorder: new DeliveryRecorder(store, {
      publish: async (event) => {
        if (options.publishFails) throw new Error('NATS unavailable');
        published.push(event);
      },
    }),
    pacer: new SendPacer(store, options.governor ?? DEFAULT_GOVERNOR_SETTINGS, () => nowMs),
    client: createCloudApiWhatsAppClient(
      createCloudApiClient({ baseUrl: options.baseUrl ?? simulator.url, version: 'v23.0', timeoutMs: options.timeoutMs ?? 2000 }),
    ),
    phoneNumber: (tenantId, id) =>
      options.configured !== false && tenantId === 'acme' && id === phoneNumber.id
        ? { accessToken: phoneNumber.accessToken, throughputMps: 1000 }
        : undefined,
    clock,
    metrics,
    settings: { retry: { baseMs: 1000, maxMs: 60_000 }, reconcileGraceMs: 120_000 },
    random: () => 1,
    // Waiting for a send slot moves the test clock instead of sleeping.
    waitUntil: async (atMs) => {
      nowMs = Math.max(nowMs, atMs);
    },
  });
}

/** Stores a PENDING delivery and claims it, as the scheduler would. */
async function claimed(overrides: Partial<Delivery> = {}): Promise<StoredDelivery> {
  seq++;
  const delivery: Delivery = {
    tenantId: 'acme',
    messageId: `msg_${seq}`,
    phoneNumberId: phoneNumber.id,
    to: RECIPIENT,
    laneSeq: seq,
    content: { kind: 'text', body: `hello ${seq}`, previewUrl: false },
    state: 'PENDING',
    attempts: 0,
    nextAttemptAt: new Date(nowMs),
    acceptedAt: new Date(nowMs),
    expiresAt: new Date(nowMs + DAY),
    updatedAt: new Date(nowMs),
    ...overrides,
  };
  await store.insertIfAbsent(delivery);
  return reclaim(delivery.messageId);
}

/** Claims a delivery again (after an earlier attempt put it back). */
async function reclaim(messageId: string): Promise<StoredDelivery> {
  const claims = await store.claimDue({ now: new Date(nowMs), limit: 100, owner: 'test', leaseMs: 30_000, excludePhoneNumberIds: [] });
  const found = claims.find((c) => c.delivery.messageId === messageId);
  assert.ok(found, `${messageId} is due and first in its lane`);
  return found;
}

const delivery = async (messageId: string) => (await store.get('acme', messageId))?.delivery;

test('an accepted call is recorded SENT with its wamid and announced; the send names the message in its callback data', async () => {
  const stored = await claimed({ traceContext: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  assert.equal(await makeAttempt().run(stored), 'sent');
  const sent = simulator.sentMessages();
  assert.equal(sent.length, 1);
  assert.equal(sent[0].body.biz_opaque_callback_data, `waygate:${stored.delivery.messageId}`);
  const after = await store.get('acme', stored.delivery.messageId);
  assert.deepEqual([after?.delivery.state, after?.delivery.waMessageId, after?.delivery.attempts], ['SENT', sent[0].wamid, 1]);
  assert.equal(after?.callStartedAt, undefined, 'recording the outcome clears the call-started mark');
  assert.ok(after?.delivery.content, 'content kept until delivered: a later async failure may need another send');
  assert.deepEqual(
    published.map((e) => [e.eventId, e.status, e.waMessageId, e.attempt, e.traceContext]),
    [[`${stored.delivery.messageId}:delivery:sent:1`, 'SENT', sent[0].wamid, 1, stored.delivery.traceContext]],
  );
  assert.deepEqual(counted, ['attempt:sent:']);
});

test('a reaction ends at SENT: announced SENT, settled in the same write (content deleted, nothing left to expire)', async () => {
  const stored = await claimed({ content: { kind: 'reaction', messageId: 'wamid.reacted-to', emoji: '👍' } });
  assert.equal(await makeAttempt().run(stored), 'sent');
  const [sent] = simulator.sentMessages();
  assert.deepEqual(sent?.body.reaction, { message_id: 'wamid.reacted-to', emoji: '👍' });
  const after = await delivery(stored.delivery.messageId);
  assert.deepEqual([after?.state, after?.waMessageId, after?.content], ['DELIVERED', sent?.wamid, undefined]);
  assert.deepEqual(
    published.map((e) => [e.eventId, e.status, e.waMessageId]),
    [[`${stored.delivery.messageId}:delivery:sent:1`, 'SENT', sent?.wamid]],
  );
  nowMs += 2 * DAY;
  assert.deepEqual(await store.listExpired(new Date(nowMs), 10), [], 'nothing left to expire');
});

test('every content kind is sent as built, a reply with its context; media by media-store id fail (not uploadable yet)', async () => {
  const reply = await claimed({
    content: { kind: 'location', latitude: 1.5, longitude: 2.5, name: '', address: '', contextWaMessageId: 'wamid.quoted' },
  });
  assert.equal(await makeAttempt().run(reply), 'sent');
  assert.deepEqual(simulator.sentMessages()[0]?.body.context, { message_id: 'wamid.quoted' });
  assert.deepEqual(simulator.sentMessages()[0]?.body.location, { latitude: 1.5, longitude: 2.5 });
  const byId = await claimed({ content: { kind: 'image', source: { mediaId: 'med_1' }, caption: '', filename: '', voice: false } });
  assert.equal(await makeAttempt().run(byId), 'failed');
  assert.equal((await delivery(byId.delivery.messageId))?.lastErrorCode, 131053);
  assert.equal(simulator.sentMessages().length, 1, 'no call for it');
});

test("the SENT event carries the wa_id Meta answered, which can differ from the number (Brazil's ninth digit), also from the outbox", async () => {
  const stored = await claimed({ to: '+5511987654321' });
  assert.equal(await makeAttempt().run(stored), 'sent');
  assert.deepEqual(
    published.map((e) => [e.status, e.recipient, e.recipientWaId]),
    [['SENT', '+5511987654321', '551187654321']],
  );
  // Publishing fails: the outbox keeps the event as recorded, wa_id included, for the sweep.
  const unannounced = await claimed({ to: '+525512345678' });
  assert.equal(await makeAttempt({ publishFails: true }).run(unannounced), 'sent');
  const pending = await store.claimAnnouncements({ now: new Date(nowMs + 60_000), limit: 10, leaseMs: 30_000 });
  assert.deepEqual(
    pending.flatMap((p) => p.events.map((e) => [e.status, e.recipient, e.recipientWaId])),
    [['SENT', '+525512345678', '5215512345678']],
  );
});

test("a permanent Meta error fails the message with Meta's code and deletes its content", async () => {
  simulator.injectSendFailures({ count: 1, httpStatus: 400, code: 131047, message: 'Re-engagement message' });
  const stored = await claimed();
  assert.equal(await makeAttempt().run(stored), 'failed');
  const after = await delivery(stored.delivery.messageId);
  assert.deepEqual([after?.state, after?.lastErrorCode, after?.content], ['FAILED', 131047, undefined]);
  assert.deepEqual(
    published.map((e) => [e.eventId, e.status, e.errorCode]),
    [[`${stored.delivery.messageId}:delivery:failed`, 'FAILED', 131047]],
  );
});

test('a retryable error is announced as an attempt (ACCEPTED) with its error and when the next one is due', async () => {
  simulator.injectSendFailures({ count: 1, httpStatus: 500, code: 131000, message: 'Something went wrong' });
  const stored = await claimed();
  assert.equal(await makeAttempt().run(stored), 'retry');
  assert.deepEqual(
    published.map((e) => [e.status, e.attempt, e.errorCode, e.nextAttemptAt?.getTime()]),
    [['ACCEPTED', 1, 131000, nowMs + 1000]],
  );
  assert.deepEqual(counted, ['attempt:retry:131000', 'retry:transient']);
});

test('131056 backs off only that recipient, 4^X seconds growing with each hit; a send resets it', async () => {
  const attempt = makeAttempt();
  simulator.injectSendFailures({ count: 1, httpStatus: 400, code: 131056, message: 'pair rate' });
  const throttled = await claimed();
  await attempt.run(throttled);
  const pair = async () => (await store.listLimiters('pair:')).find((l) => l.key === pairLimiterKey(phoneNumber.id, RECIPIENT))?.state;
  assert.equal((await delivery(throttled.delivery.messageId))?.nextAttemptAt?.getTime(), nowMs + 4000);
  assert.equal((await pair())?.pairBackoffExponent, 1);
  assert.equal(await attempt.run(await claimed({ to: '+4915100000002' })), 'sent', 'another recipient is unaffected');
  nowMs += 4000;
  simulator.injectSendFailures({ count: 1, httpStatus: 400, code: 131056, message: 'pair rate' });
  await attempt.run(await reclaim(throttled.delivery.messageId));
  assert.equal((await delivery(throttled.delivery.messageId))?.nextAttemptAt?.getTime(), nowMs + 16_000, 'second hit: 4^2 s');
  nowMs += 16_000;
  assert.equal(await attempt.run(await reclaim(throttled.delivery.messageId)), 'sent');
  assert.equal((await pair())?.pairBackoffExponent, 0);
});

test("the pair rate is respected proactively: a recipient's burst is used up, then the delivery is postponed without a call", async () => {
  const attempt = makeAttempt({ governor: { ...DEFAULT_GOVERNOR_SETTINGS, pairBurst: 3, pairIntervalMs: 6000 } });
  const outcomes: string[] = [];
  const start = nowMs;
  for (let i = 0; i < 4; i++) outcomes.push(await attempt.run(await claimed()));
  assert.deepEqual(outcomes, ['sent', 'sent', 'sent', 'postponed']);
  assert.equal(simulator.sentMessages().length, 3);
  assert.ok(counted.includes('throttled:pair'));
  const postponed = await store.get('acme', `msg_${seq}`);
  assert.deepEqual([postponed?.delivery.state, postponed?.delivery.attempts, postponed?.leaseOwner], ['PENDING', 0, undefined]);
  assert.equal(postponed?.delivery.nextAttemptAt?.getTime(), start + 6000 + 50, 'the pair interval after the first send, plus jitter');
});

test('130429 slows the number down for a while', async () => {
  simulator.injectSendFailures({ count: 1, httpStatus: 429, code: 130429, message: 'Rate limit hit' });
  await makeAttempt().run(await claimed());
  const state = (await store.listLimiters('number:')).find((l) => l.key === numberLimiterKey(phoneNumber.id))?.state;
  assert.deepEqual([state?.slowFactor, state?.slowUntilMs], [0.5, nowMs + DEFAULT_GOVERNOR_SETTINGS.throttleSlowdownMs]);
  assert.deepEqual(
    counted.filter((c) => c.startsWith('retry')),
    ['retry:throughput'],
  );
});

test('a number whose circuit is open is not called: the delivery is postponed', async () => {
  simulator.injectSendFailures({ httpStatus: 503, code: 2, message: 'Service temporarily unavailable' });
  const attempt = makeAttempt();
  for (let i = 0; i < DEFAULT_GOVERNOR_SETTINGS.breakerFailureThreshold; i++) {
    assert.equal(await attempt.run(await claimed({ to: `+49151000001${i}` })), 'retry');
  }
  assert.equal(await attempt.run(await claimed({ to: '+4915100000199' })), 'postponed');
  assert.equal(counted.filter((c) => c.startsWith('attempt')).length, DEFAULT_GOVERNOR_SETTINGS.breakerFailureThreshold);
  assert.ok(counted.includes('throttled:circuit'));
});

test('a number without a configured token waits the longest interval, without a call', async () => {
  const stored = await claimed();
  assert.equal(await makeAttempt({ configured: false }).run(stored), 'retry');
  const after = await delivery(stored.delivery.messageId);
  assert.deepEqual([after?.state, after?.lastErrorCode, after?.nextAttemptAt?.getTime()], ['PENDING', 190, nowMs + 60_000]);
  assert.equal(simulator.sentMessages().length, 0);
});

test('a delivery past its deadline is expired without a call, announced with its last error', async () => {
  const stored = await claimed({ expiresAt: new Date(nowMs + 10), lastErrorCode: 2 });
  nowMs += 10;
  assert.equal(await makeAttempt().run(stored), 'expired');
  const after = await delivery(stored.delivery.messageId);
  assert.deepEqual([after?.state, after?.content], ['EXPIRED', undefined]);
  assert.deepEqual(
    published.map((e) => [e.status, e.errorCode]),
    [['EXPIRED', 2]],
  );
  assert.deepEqual(counted, ['expired']);
  assert.equal(simulator.sentMessages().length, 0);
});

test('a call interrupted by a crash waits the reconciliation grace for its webhook instead of a second call', async () => {
  const stored = await claimed();
  assert.equal(await store.markCallStarted('acme', stored.delivery.messageId, stored.version, new Date(nowMs)), true);
  nowMs += 31_000; // the dead holder's lease ran out
  assert.equal(await makeAttempt().run(await reclaim(stored.delivery.messageId)), 'awaiting-reconciliation');
  const after = await store.get('acme', stored.delivery.messageId);
  assert.equal(after?.delivery.nextAttemptAt?.getTime(), nowMs - 31_000 + 120_000 + 50);
  assert.equal(after?.callStartedAt, undefined, 'once the grace is over it is sent again unless a webhook settled it');
  assert.deepEqual(counted, ['interrupted']);
  assert.equal(simulator.sentMessages().length, 0);
});

test('an attempt whose claim moved on (another writer) makes no call', async () => {
  const stored = await claimed();
  assert.equal(await makeAttempt().run({ ...stored, version: stored.version - 1 }), 'superseded');
  assert.equal(simulator.sentMessages().length, 0);
  assert.deepEqual(published, []);
});

test('a call that got no answer may have reached Meta: it waits the reconciliation grace; a refused connection does not', async () => {
  simulator.injectSendFailures({ count: 1, mode: 'timeout' });
  const timedOut = await claimed();
  await makeAttempt({ timeoutMs: 200 }).run(timedOut);
  assert.equal((await delivery(timedOut.delivery.messageId))?.nextAttemptAt?.getTime(), nowMs + 120_000);

  // A port nothing listens on: the connection is refused.
  const refused = await claimed({ to: '+4915100000009' });
  await makeAttempt({ baseUrl: `http://127.0.0.1:${await freePort()}`, timeoutMs: 200 }).run(refused);
  assert.equal(
    (await delivery(refused.delivery.messageId))?.nextAttemptAt?.getTime(),
    nowMs + 1000,
    'refused: the request never left, plain backoff',
  );
});

test('each attempt is a span in the message trace, with its number, outcome and Meta error code; the call is its child', async () => {
  spans.reset();
  simulator.injectSendFailures({ count: 1, httpStatus: 500, code: 131000, message: 'Something went wrong' });
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const attempt = makeAttempt();
  const stored = await claimed({ traceContext: `00-${traceId}-b7ad6b7169203331-01` });
  await attempt.run(stored);
  nowMs += 1000;
  await attempt.run(await reclaim(stored.delivery.messageId));
  const attempts = spans
    .getFinishedSpans()
    .filter((span) => span.name === 'delivery attempt' && span.attributes['waygate.message_id'] === stored.delivery.messageId);
  assert.deepEqual(
    attempts.map((span) => [
      span.spanContext().traceId,
      span.attributes['waygate.attempt'],
      span.attributes['waygate.outcome'],
      span.attributes['waygate.meta_error_code'],
      span.attributes['waygate.retry_reason'],
    ]),
    [
      [traceId, 1, 'retry', 131000, 'transient'],
      [traceId, 2, 'sent', undefined, undefined],
    ],
  );
  const calls = spans.getFinishedSpans().filter((span) => span.name === 'POST whatsapp /messages');
  assert.ok(
    calls.some((call) => call.parentSpanContext?.spanId === attempts[0].spanContext().spanId),
    'the Cloud API call is a child of its attempt',
  );
});

test('store trouble during an attempt is thrown to the scheduler and marks the span as failed', async () => {
  spans.reset();
  const stored = await claimed();
  const attempt = makeAttempt();
  await store.close();
  await assert.rejects(attempt.run(stored));
  const span = spans.getFinishedSpans().find((s) => s.attributes['waygate.message_id'] === stored.delivery.messageId);
  assert.equal(span?.status.code, 2 /* ERROR */);
  store = new SqliteDeliveryStore(path.join(dir.path, 'delivery.sqlite'), sealer);
});
