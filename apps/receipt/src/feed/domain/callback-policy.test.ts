import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterFailure, breakerVerdict, retryDelayMs, type CallbackPolicy } from './callback-policy';

const HOUR = 3_600_000;
const policy: CallbackPolicy = {
  backoffBaseMs: 1_000,
  backoffCapMs: HOUR,
  retryForMs: 72 * HOUR,
  breakerFailures: 5,
  breakerCooldownMs: 60_000,
};

test('retry delays double from the base up to the cap, jittered within their upper half', () => {
  assert.equal(retryDelayMs(policy, 1, 0), 500);
  assert.equal(retryDelayMs(policy, 1, 0.999_999), 1_000);
  assert.equal(retryDelayMs(policy, 4, 0), 4_000);
  assert.equal(retryDelayMs(policy, 4, 0.5), 6_000);
  assert.equal(retryDelayMs(policy, 30, 0.5), (HOUR * 3) / 4);
  assert.equal(retryDelayMs(policy, 10_000, 0), HOUR / 2, 'huge attempt counts do not overflow');
});

test('failures are retried until the retry period ends; the last attempt falls on its end, then the delivery is dead', () => {
  const queuedAt = new Date(0);
  assert.deepEqual(afterFailure(policy, { queuedAt, attempts: 0 }, new Date(10), 0), { kind: 'retry', nextAttemptAt: new Date(510) });
  const nearEnd = new Date(72 * HOUR - 1_000);
  assert.deepEqual(afterFailure(policy, { queuedAt, attempts: 50 }, nearEnd, 0.9), { kind: 'retry', nextAttemptAt: new Date(72 * HOUR) });
  assert.deepEqual(afterFailure(policy, { queuedAt, attempts: 51 }, new Date(72 * HOUR), 0.9), { kind: 'dead' });
});

test('breaker verdict: closed without openUntil, open before it, one probe from it on', () => {
  assert.deepEqual(breakerVerdict({}, new Date(5)), { kind: 'closed' });
  assert.deepEqual(breakerVerdict({ openUntil: new Date(10) }, new Date(5)), { kind: 'open', until: new Date(10) });
  assert.deepEqual(breakerVerdict({ openUntil: new Date(10) }, new Date(10)), { kind: 'probe' });
});
