import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createCustomerSealer, createInMemoryKeyring } from '@waygate/keyring';
import { createTempDir } from '@waygate/testing';
import { SqliteDeliveryStore } from '../adapters/sqlite-delivery-store';
import type { Delivery } from './delivery';
import { numberLimiterKey, pairLimiterKey } from './limiter-state';
import { SendPacer } from './send-pacer';
import { DEFAULT_GOVERNOR_SETTINGS } from './throughput-governor';

// The pacer alone on a real SQLite store: acquire and learn are one limiter transaction each (issue 15).

const sealer = createCustomerSealer(createInMemoryKeyring());
const PHONE_NUMBER_ID = '1000001';
const governor = { ...DEFAULT_GOVERNOR_SETTINGS, reservationHorizonMs: 0, throughputSafetyFactor: 1 };

let dir: ReturnType<typeof createTempDir>;
let store: SqliteDeliveryStore;
let nowMs: number;

beforeEach(() => {
  dir = createTempDir();
  store = new SqliteDeliveryStore(path.join(dir.path, 'delivery.sqlite'), sealer);
  nowMs = 1_800_000_000_000;
});
afterEach(async () => {
  await store.close();
  dir.remove();
});

const delivery = (to: string): Delivery => ({
  tenantId: 'acme',
  messageId: `msg-${to}`,
  phoneNumberId: PHONE_NUMBER_ID,
  to,
  laneSeq: 1,
  state: 'PENDING',
  attempts: 0,
  acceptedAt: new Date(nowMs),
  expiresAt: new Date(nowMs + 60_000),
  updatedAt: new Date(nowMs),
});

const limiter = async (key: string) => (await store.listLimiters(key)).find((entry) => entry.key === key)?.state;

test("a slot the number refuses gives the pair's slot back, in the same transaction", async () => {
  const pacer = new SendPacer(store, governor, () => nowMs);
  // 1 message per second with no horizon: the first send takes the number's only slot.
  assert.deepEqual(await pacer.acquire(delivery('+491'), 1), { granted: true, atMs: nowMs });
  const pairBefore = await limiter(pairLimiterKey(PHONE_NUMBER_ID, '+492'));
  const refused = await pacer.acquire(delivery('+492'), 1);
  assert.deepEqual(refused, { granted: false, retryAtMs: nowMs + 1000, by: 'number' });
  const pairAfter = await limiter(pairLimiterKey(PHONE_NUMBER_ID, '+492'));
  assert.equal(pairBefore, undefined);
  assert.equal(pairAfter?.tatMs, nowMs, 'reserved (now + interval) and refunded (- interval): nothing used');
});

test('an open circuit refuses before any pair slot is taken', async () => {
  const pacer = new SendPacer(store, governor, () => nowMs);
  for (let i = 0; i < governor.breakerFailureThreshold; i++) await pacer.learn(delivery('+491'), { kind: 'retry', reason: 'upstream' });
  const refused = await pacer.acquire(delivery('+493'), 80);
  assert.deepEqual(refused, { granted: false, retryAtMs: nowMs + governor.breakerCooldownMs, by: 'circuit' });
  assert.equal((await limiter(pairLimiterKey(PHONE_NUMBER_ID, '+493')))?.tatMs ?? 0, 0, 'no pair slot taken');
});

test("open circuits: this replica's own change is seen at once, another replica's within 100 ms, the cooldown's end at once", async () => {
  const pacer = new SendPacer(store, governor, () => nowMs);
  assert.deepEqual(await pacer.openCircuits(), []);
  for (let i = 0; i < governor.breakerFailureThreshold; i++) await pacer.learn(delivery('+491'), { kind: 'retry', reason: 'upstream' });
  assert.deepEqual(await pacer.openCircuits(), [PHONE_NUMBER_ID], 'opened here: seen by the next claim');
  await pacer.learn(delivery('+491'), { kind: 'sent' });
  assert.deepEqual(await pacer.openCircuits(), [], 'closed here: seen by the next claim');

  // Another replica opens the circuit of a second number through the shared store.
  await store.changeLimiters([
    { key: numberLimiterKey('2000002'), change: () => ({ next: { tatMs: 0, openUntilMs: nowMs + 5000 }, result: 0 }) },
  ]);
  nowMs += 50;
  assert.deepEqual(await pacer.openCircuits(), [], 'the view read 50 ms ago is still used');
  nowMs += 50;
  assert.deepEqual(await pacer.openCircuits(), ['2000002'], 'read again after 100 ms');
  nowMs += 5000;
  assert.deepEqual(await pacer.openCircuits(), [], 'its cooldown ended: half-open, claimable');
});
