import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createTempDir, waitFor } from '@waygate/testing';
import { SqliteDeliveryStore } from '../adapters/sqlite-delivery-store';
import type { DeliveryEvent } from './delivery';
import type { AcceptedMessage } from './delivery-ports';
import { DeliveryRecorder } from './delivery-recorder';
import { DeliveryScheduler, type SchedulerDeps } from './delivery-scheduler';
import type { StoredDelivery } from './delivery-store';
import { createCustomerSealer, createInMemoryKeyring } from '@waygate/keyring';

/** Content is sealed at rest under customer keys (a process's own keyring is not this one: there content reads as erased). */
const sealer = createCustomerSealer(createInMemoryKeyring());

// The scheduler loop alone: a real SQLite store, and a fake attempt that records what it was handed (and can be held
// or made to fail), so claiming, leases, concurrency, housekeeping and waking are tested without the Cloud API.

const DAY = 24 * 3_600_000;

let dir: ReturnType<typeof createTempDir>;
let store: SqliteDeliveryStore;
let published: DeliveryEvent[];
let counted: string[];
let nowMs: number;
let seq = 0;
let scheduler: DeliveryScheduler | undefined;

beforeEach(() => {
  dir = createTempDir();
  store = new SqliteDeliveryStore(path.join(dir.path, 'delivery.sqlite'), sealer);
  published = [];
  counted = [];
  nowMs = Date.now();
});
afterEach(async () => {
  await scheduler?.stop();
  scheduler = undefined;
  await store.close();
  dir.remove();
});

/** A fake attempt: records the claimed deliveries; `hold` keeps each one in flight until released. */
function fakeAttempt(behaviour: { hold?: boolean; fail?: (stored: StoredDelivery) => boolean } = {}) {
  const started: StoredDelivery[] = [];
  const releases: (() => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    started,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    releaseAll: () => releases.splice(0).forEach((release) => release()),
    releaseOne: () => releases.shift()?.(),
    async run(stored: StoredDelivery): Promise<void> {
      started.push(stored);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (behaviour.hold) await new Promise<void>((resolve) => releases.push(resolve));
        if (behaviour.fail?.(stored)) throw new Error('attempt failed');
        // What a real attempt does with a claim: record an outcome (here SENT, without a call), which ends the lease.
        await store.update(stored.delivery.tenantId, stored.delivery.messageId, stored.version, {
          state: 'SENT',
          attempts: stored.delivery.attempts + 1,
          updatedAt: new Date(nowMs),
        });
      } finally {
        inFlight--;
      }
    },
  };
}

function makeScheduler(
  attempt: SchedulerDeps['attempt'],
  overrides: {
    concurrency?: number;
    pollIntervalMs?: number;
    openCircuits?: SchedulerDeps['openCircuits'];
    failPublish?: () => boolean;
  } = {},
  events: string[] = [],
): DeliveryScheduler {
  scheduler = new DeliveryScheduler({
    store,
    recorder: new DeliveryRecorder(store, {
      publish: async (event) => {
        if (overrides.failPublish?.()) throw new Error('nats down');
        published.push(event);
      },
    }),
    attempt,
    openCircuits: overrides.openCircuits ?? (async () => []),
    clock: { now: () => new Date(nowMs) },
    metrics: { expired: () => counted.push('expired') },
    events: {
      attemptCrashed: (delivery, error) => events.push(`crashed ${delivery.messageId}: ${(error as Error).message}`),
      passFailed: (error) => events.push(`pass failed: ${(error as Error).message}`),
    },
    settings: {
      owner: 'replica-a',
      concurrency: overrides.concurrency ?? 16,
      pollIntervalMs: overrides.pollIntervalMs ?? 50,
      leaseMs: 30_000,
    },
  });
  return scheduler;
}

function accepted(overrides: Partial<AcceptedMessage> = {}): AcceptedMessage {
  seq++;
  return {
    tenantId: 'acme',
    messageId: `msg_${seq}`,
    to: '+4915112345678',
    phoneNumberId: '200',
    content: { kind: 'text', body: `hello ${seq}`, previewUrl: false },
    acceptedAt: new Date(nowMs),
    expiresAt: new Date(nowMs + DAY),
    laneSeq: seq,
    ...overrides,
  };
}

const ids = (claims: readonly StoredDelivery[]) => claims.map((c) => c.delivery.messageId);

test('intake stores a PENDING delivery once; a redelivered MessageAccepted keeps what is stored', async () => {
  const s = makeScheduler(fakeAttempt());
  const message = accepted();
  const first = await s.intake(message);
  assert.deepEqual([first.state, first.attempts, first.nextAttemptAt?.getTime(), first.content], ['PENDING', 0, nowMs, message.content]);
  const again = await s.intake({ ...message, content: { kind: 'text', body: 'changed', previewUrl: false } });
  assert.deepEqual(again.content, message.content);
});

test('a pass claims due deliveries that are first in their lane, most overdue first, and leases them to this replica', async () => {
  const attempt = fakeAttempt();
  const s = makeScheduler(attempt);
  const head = await s.intake(accepted({ acceptedAt: new Date(nowMs - 2000) }));
  await s.intake(accepted()); // behind `head` in the same lane
  const other = await s.intake(accepted({ to: '+4915100000001', acceptedAt: new Date(nowMs - 5000) }));
  await s.intake(accepted({ to: '+4915100000002', acceptedAt: new Date(nowMs + 60_000) })); // not due yet
  assert.deepEqual(await s.runOnce(), { attempted: 2, expired: 0, announced: 0 });
  assert.deepEqual(ids(attempt.started), [other.messageId, head.messageId]);
  assert.deepEqual(
    attempt.started.map((c) => [c.leaseOwner, c.leaseUntil?.getTime()]),
    [
      ['replica-a', nowMs + 30_000],
      ['replica-a', nowMs + 30_000],
    ],
  );
  assert.equal((await s.runOnce()).attempted, 1, 'the head is no longer PENDING: the next of its lane is due');
});

test('a leased delivery is not claimed again until its lease runs out (another replica holds it)', async () => {
  const attempt = fakeAttempt();
  const s = makeScheduler(attempt);
  const message = await s.intake(accepted());
  await store.claimDue({ now: new Date(nowMs), limit: 10, owner: 'replica-b', leaseMs: 1000, excludePhoneNumberIds: [] });
  assert.equal((await s.runOnce()).attempted, 0);
  nowMs += 1000;
  assert.equal((await s.runOnce()).attempted, 1, 'the crashed holder left it: taken over');
  assert.deepEqual(ids(attempt.started), [message.messageId]);
});

test('deliveries of a number whose circuit is open are not claimed', async () => {
  const attempt = fakeAttempt();
  const s = makeScheduler(attempt, { openCircuits: async () => ['200'] });
  await s.intake(accepted());
  const elsewhere = await s.intake(accepted({ phoneNumberId: '300' }));
  await s.runOnce();
  assert.deepEqual(ids(attempt.started), [elsewhere.messageId]);
});

test('each pass expires deliveries past their deadline (announced) and sweeps the outbox', async () => {
  let failing = true;
  const s = makeScheduler(fakeAttempt(), { failPublish: () => failing });
  const overdue = await s.intake(accepted({ expiresAt: new Date(nowMs + 100), acceptedAt: new Date(nowMs + 50) }));
  nowMs += 100;
  await assert.rejects(s.runOnce(), /nats down/, 'the expiry is recorded, its announcement fails');
  assert.equal((await store.get('acme', overdue.messageId))?.delivery.state, 'EXPIRED');
  assert.deepEqual(counted, ['expired']);
  assert.equal((await store.backlog()).unannounced, 1);
  failing = false;
  nowMs += 31_000; // the failed sweep's outbox lease runs out
  assert.deepEqual(await s.runOnce(), { attempted: 0, expired: 0, announced: 1 });
  assert.deepEqual(
    published.map((e) => [e.messageId, e.status]),
    [[overdue.messageId, 'EXPIRED']],
  );
});

test('the loop keeps at most `concurrency` attempts in flight and takes the next as soon as one ends', async () => {
  const attempt = fakeAttempt({ hold: true });
  const s = makeScheduler(attempt, { concurrency: 2, pollIntervalMs: 60_000 });
  for (let i = 0; i < 5; i++) await s.intake(accepted({ to: `+49151000002${i}` }));
  s.start();
  await waitFor(() => attempt.started.length === 2, { what: 'two attempts in flight' });
  attempt.releaseOne();
  // A poll interval of a minute: only the wake from the finished attempt can bring the third this fast.
  await waitFor(() => attempt.started.length === 3, { timeoutMs: 5000, what: 'the third attempt' });
  attempt.releaseAll();
  await waitFor(() => attempt.started.length === 5, { timeoutMs: 5000, what: 'all attempts' });
  attempt.releaseAll();
  await s.stop();
  assert.equal(attempt.maxInFlight, 2);
});

test('intake wakes an idle loop at once', async () => {
  const attempt = fakeAttempt();
  let passes = 0;
  const s = makeScheduler(attempt, { pollIntervalMs: 60_000, openCircuits: async () => (passes++, []) });
  s.start();
  await waitFor(() => passes > 0, { what: 'a first, empty pass' });
  const message = await s.intake(accepted());
  await waitFor(() => attempt.started.length > 0, { timeoutMs: 5000, what: 'the new message' });
  assert.deepEqual(ids(attempt.started), [message.messageId]);
});

test('an attempt that throws is reported, its lease keeps it, and the loop goes on with other work', async () => {
  const events: string[] = [];
  const attempt = fakeAttempt({ fail: (stored) => stored.delivery.messageId === 'msg_crash' });
  const s = makeScheduler(attempt, {}, events);
  s.start();
  await s.intake(accepted({ messageId: 'msg_crash', to: '+4915100000031' }));
  await waitFor(() => events.length > 0, { what: 'the crash report' });
  const next = await s.intake(accepted({ to: '+4915100000032' }));
  await waitFor(async () => (await store.get('acme', next.messageId))?.delivery.state === 'SENT', { what: 'the next delivery' });
  assert.deepEqual(events, ['crashed msg_crash: attempt failed']);
  const crashed = await store.get('acme', 'msg_crash');
  assert.deepEqual([crashed?.delivery.state, crashed?.leaseOwner], ['PENDING', 'replica-a']);
  assert.deepEqual(
    attempt.started.map((c) => c.delivery.messageId).filter((id) => id === 'msg_crash'),
    ['msg_crash'],
    'not retried while leased',
  );
});

test('a pass that fails as a whole (store trouble) is reported and the loop tries again', async () => {
  const events: string[] = [];
  let failures = 1;
  const attempt = fakeAttempt();
  const s = makeScheduler(
    attempt,
    {
      openCircuits: async () => {
        if (failures-- > 0) throw new Error('store unavailable');
        return [];
      },
    },
    events,
  );
  await s.intake(accepted());
  s.start();
  await waitFor(() => attempt.started.length === 1, { what: 'the attempt after the failed pass' });
  assert.deepEqual(events, ['pass failed: store unavailable']);
});

test('stop waits for the attempts in flight', async () => {
  const order: string[] = [];
  const attempt = fakeAttempt({ hold: true });
  const s = makeScheduler({ run: (stored) => attempt.run(stored).finally(() => order.push('attempt ended')) });
  await s.intake(accepted());
  s.start();
  await waitFor(() => attempt.started.length === 1, { what: 'the attempt' });
  const stopped = s.stop().then(() => order.push('stopped'));
  setImmediate(() => attempt.releaseAll());
  await stopped;
  assert.deepEqual(order, ['attempt ended', 'stopped']);
});
