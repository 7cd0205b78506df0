import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseEnv } from '@waygate/config';
import { feedEnvShape, loadFeedConfig, toFeedConfig } from './config';

test('defaults: 30-day retention, 5 s timeout, 3-day retry period, breaker after 5 failures', () => {
  assert.deepEqual(loadFeedConfig({}), {
    retentionMs: 30 * 86_400_000,
    ackWaitMs: 30_000,
    recheckMs: 2_000,
    callbacks: {
      timeoutMs: 5_000,
      backoffBaseMs: 1_000,
      backoffCapMs: 3_600_000,
      retryForMs: 3 * 86_400_000,
      breakerFailures: 5,
      breakerCooldownMs: 60_000,
      concurrency: 4,
      leaseMs: 30_000,
    },
  });
});

test('merges into a larger env shape and names inconsistent variables', () => {
  const parsed = parseEnv({ ...feedEnvShape }, { WAYGATE_FEED_CALLBACK_RETRY_FOR_MS: '60000', WAYGATE_FEED_CALLBACK_CONCURRENCY: '8' });
  assert.equal(toFeedConfig(parsed).callbacks.retryForMs, 60_000);
  assert.equal(toFeedConfig(parsed).callbacks.concurrency, 8);
  assert.throws(
    () =>
      loadFeedConfig({
        WAYGATE_FEED_CALLBACK_LEASE_MS: '5000',
        WAYGATE_FEED_CALLBACK_BACKOFF_BASE_MS: '10000',
        WAYGATE_FEED_CALLBACK_BACKOFF_CAP_MS: '1000',
        WAYGATE_FEED_RETENTION_MS: '1000',
      }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(
        error.problems.map((p) => p.split(':')[0]),
        ['WAYGATE_FEED_CALLBACK_LEASE_MS', 'WAYGATE_FEED_CALLBACK_BACKOFF_CAP_MS', 'WAYGATE_FEED_RETENTION_MS'],
      );
      return true;
    },
  );
  assert.throws(() => loadFeedConfig({ WAYGATE_FEED_CALLBACK_CONCURRENCY: '0' }), /WAYGATE_FEED_CALLBACK_CONCURRENCY/);
});
