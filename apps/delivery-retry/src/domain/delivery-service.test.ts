import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Clock } from '@waygate/domain';
import { createTempDir } from '@waygate/testing';
import { startSimulator, type WhatsAppSimulator } from '@waygate/whatsapp-simulator';
import { createCloudApiClient } from '../adapters/cloud-api-client';
import { SqliteDeliveryStore } from '../adapters/sqlite-delivery-store';
import { classifyOutcome, retryDelayMs } from './outcome-classification';
import {
  createDeliveryService,
  type AcceptedMessage,
  type DeliveryDecision,
  type DeliveryService,
  type DeliveryStatusEvent,
} from './delivery-service';

const phoneNumber = { id: '1000001', displayPhoneNumber: '+15550001111', accessToken: 'token-acme', wabaId: '900' };
let simulator: WhatsAppSimulator;
let dir: ReturnType<typeof createTempDir>;
let store: SqliteDeliveryStore;
let published: DeliveryStatusEvent[];
let service: DeliveryService;
let now: Date;
const clock: Clock = { now: () => now };

before(async () => {
  simulator = await startSimulator({ appSecret: 'secret', phoneNumbers: [phoneNumber], seed: 1 });
});
after(() => simulator.stop());

beforeEach(() => {
  dir = createTempDir();
  store = new SqliteDeliveryStore(path.join(dir.path, 'delivery.sqlite'));
  published = [];
  now = new Date();
  service = createDeliveryService({
    store,
    client: createCloudApiClient({ baseUrl: simulator.url, version: 'v23.0', timeoutMs: 2000 }),
    publisher: { publish: async (event) => void published.push(event) },
    accessToken: (tenantId, phoneNumberId) =>
      tenantId === 'acme' && phoneNumberId === phoneNumber.id ? phoneNumber.accessToken : undefined,
    clock,
    retry: { baseDelayMs: 1000, maxDelayMs: 60_000 },
    random: () => 1,
  });
});
afterEach(async () => {
  await store.close();
  dir.remove();
});

/** Delivers and returns the decision, checking that the delivery it reports is exactly what the store holds. */
async function deliverAndCheck(message: AcceptedMessage): Promise<DeliveryDecision> {
  const decision = await service.deliver(message);
  assert.deepEqual(decision.delivery, await store.get(message.tenantId, message.messageId), 'reported delivery = stored delivery');
  return decision;
}

let counter = 0;
function accepted(overrides: Partial<AcceptedMessage> = {}): AcceptedMessage {
  counter++;
  return {
    tenantId: 'acme',
    messageId: `msg_${counter}`,
    to: '+4915112345678',
    phoneNumberId: phoneNumber.id,
    content: { kind: 'text', body: 'hello', previewUrl: false },
    expiresAt: new Date(Date.now() + 86_400_000),
    ...overrides,
  };
}

test('a message the Cloud API accepts is recorded SENT with its wamid, then announced', async () => {
  const message = accepted();
  assert.equal((await deliverAndCheck(message)).kind, 'done');
  const sent = simulator.sentMessages().at(-1);
  assert.equal(sent?.to, message.to);
  const delivery = await service.get('acme', message.messageId);
  assert.equal(delivery?.state, 'SENT');
  assert.equal(delivery?.waMessageId, sent?.wamid);
  assert.deepEqual(
    published.map((e) => [e.status, e.waMessageId]),
    [['SENT', sent?.wamid]],
  );
});

test('redelivery of a sent message announces it again but never sends it twice', async () => {
  const message = accepted();
  await deliverAndCheck(message);
  const sentBefore = simulator.sentMessages().length;
  await deliverAndCheck(message);
  assert.equal(simulator.sentMessages().length, sentBefore);
  assert.equal(published.length, 2);
  assert.equal(published[0].eventId, published[1].eventId, 'same event id, so downstream de-duplicates');
});

test('a transient Meta error is retried later with backoff, then succeeds', async () => {
  simulator.injectSendFailures({ count: 1, httpStatus: 500, code: 131000, message: 'Something went wrong' });
  const message = accepted();
  const first = await deliverAndCheck(message);
  assert.equal(first.kind, 'retry-later');
  assert.equal(first.kind === 'retry-later' && first.delayMs, 1000);
  const pending = await service.get('acme', message.messageId);
  assert.deepEqual([pending?.state, pending?.attempts, pending?.lastErrorCode], ['PENDING', 1, 131000]);
  assert.equal(published.length, 0, 'nothing announced while pending');
  assert.equal((await deliverAndCheck(message)).kind, 'done');
  assert.deepEqual([(await service.get('acme', message.messageId))?.state, published[0]?.status], ['SENT', 'SENT']);
});

test("a permanent Meta error fails the message with Meta's code", async () => {
  simulator.injectSendFailures({ count: 1, httpStatus: 400, code: 131047, message: 'Re-engagement message' });
  const message = accepted();
  assert.equal((await deliverAndCheck(message)).kind, 'done');
  assert.deepEqual(
    published.map((e) => [e.status, e.errorCode]),
    [['FAILED', 131047]],
  );
});

test('a bad token waits the longest interval; no configured token is treated the same', async () => {
  const wrongToken = await deliverAndCheck(accepted({ phoneNumberId: '999' }));
  assert.deepEqual(wrongToken.kind === 'retry-later' && [wrongToken.delayMs, wrongToken.reason], [60_000, 'meta error 190']);
});

test('retries never wait past the deadline, and a message past it expires without a send', async () => {
  simulator.injectSendFailures({ count: 1, httpStatus: 503, code: 2, message: 'Service temporarily unavailable' });
  const message = accepted({ expiresAt: new Date(now.getTime() + 300) });
  const first = await deliverAndCheck(message);
  assert.ok(first.kind === 'retry-later' && first.delayMs <= 300, JSON.stringify(first));
  const sentBefore = simulator.sentMessages().length;
  now = new Date(now.getTime() + 301);
  assert.equal((await deliverAndCheck(message)).kind, 'done');
  assert.equal(simulator.sentMessages().length, sentBefore);
  assert.equal((await service.get('acme', message.messageId))?.state, 'EXPIRED');
  assert.deepEqual(
    published.map((e) => [e.status, e.errorCode]),
    [['EXPIRED', 2]],
  );
});

test('no answer (connection refused) is retried', async () => {
  const unreachable = createDeliveryService({
    store,
    client: createCloudApiClient({ baseUrl: 'http://127.0.0.1:1', version: 'v23.0', timeoutMs: 500 }),
    publisher: { publish: async () => undefined },
    accessToken: () => 'token',
    clock,
    retry: { baseDelayMs: 1000, maxDelayMs: 60_000 },
  });
  const decision = await unreachable.deliver(accepted());
  assert.equal(decision.kind, 'retry-later');
});

test('outcome classification and backoff', () => {
  assert.equal(classifyOutcome({ kind: 'error', httpStatus: 400, code: 131026, title: '' }), 'permanent');
  assert.equal(classifyOutcome({ kind: 'error', httpStatus: 429, code: 130429, title: '' }), 'retry');
  assert.equal(classifyOutcome({ kind: 'error', httpStatus: 400, code: 131056, title: '' }), 'retry');
  assert.equal(classifyOutcome({ kind: 'error', httpStatus: 401, code: 190, title: '' }), 'needs-configuration');
  assert.equal(classifyOutcome({ kind: 'error', httpStatus: 503, code: 0, title: '' }), 'retry');
  assert.deepEqual(
    [1, 2, 3, 10].map((n) => retryDelayMs(n, { baseMs: 1000, maxMs: 5000 }, () => 1)),
    [1000, 2000, 4000, 5000],
  );
  assert.equal(
    retryDelayMs(3, { baseMs: 1000, maxMs: 5000 }, () => 0),
    1000,
    'never below the base',
  );
});
