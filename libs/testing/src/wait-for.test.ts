import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from './wait-for';

/** Asserts that `waiting` fails as waitFor's timeout does: an AssertionError whose message matches `message`. */
async function assertTimesOut(waiting: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(waiting, (error: unknown) => {
    assert.ok(error instanceof assert.AssertionError, `an AssertionError, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('waitFor on a condition', () => {
  test('returns the first truthy value, from a sync or an async check', async () => {
    let calls = 0;
    assert.equal(await waitFor(() => (++calls >= 3 ? 'done' : undefined), { intervalMs: 1 }), 'done');
    assert.equal(calls, 3);
    let asyncCalls = 0;
    assert.deepEqual(await waitFor(async () => (++asyncCalls >= 2 ? { ready: true } : null), { intervalMs: 1 }), { ready: true });
  });

  test('with until, returns the observation it accepted, even a falsy one', async () => {
    let remaining = 3;
    assert.equal(await waitFor(() => --remaining, { until: (left) => left === 0, intervalMs: 1 }), 0);
  });

  test('a check that throws counts as not yet', async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls += 1;
        assert.ok(calls >= 3, 'not yet');
        return calls;
      },
      { intervalMs: 1 },
    );
    assert.equal(value, 3);
  });

  test('on timeout it fails with an AssertionError naming what it waited for and the last value observed', async () => {
    const statuses = ['sent'];
    await assertTimesOut(
      waitFor(() => statuses, { until: (seen) => seen.includes('read'), timeoutMs: 30, intervalMs: 5, what: 'the read status' }),
      /^timed out after 30 ms waiting for the read status; last observed: \[ 'sent' \]$/,
    );
    await assertTimesOut(
      waitFor(() => 0, { timeoutMs: 20, intervalMs: 5, what: 'a count' }),
      /waiting for a count; last observed: 0$/,
    );
  });

  test('on timeout it reports the last error the check threw', async () => {
    await assertTimesOut(
      waitFor(
        () => {
          throw new Error('connection refused');
        },
        { timeoutMs: 20, intervalMs: 5, what: 'the server' },
      ),
      /waiting for the server; last error: connection refused$/,
    );
  });

  test('without a what, the message quotes the check itself', async () => {
    const received: string[] = [];
    await assertTimesOut(
      waitFor(() => received.length === 2, { timeoutMs: 20, intervalMs: 5 }),
      /waiting for \(\)\s*=>\s*received\.length\s*===\s*2; last observed: false$/,
    );
  });

  test('a large observed value is shown bounded', async () => {
    const many = Array.from({ length: 1_000 }, (_, i) => i);
    await assertTimesOut(
      waitFor(() => many, { until: () => false, timeoutMs: 10, intervalMs: 5, what: 'nothing' }),
      /last observed: \[ 0, 1, 2, .*19, \.\.\. 980 more items \]$/,
    );
  });
});

describe('waitFor on a promise', () => {
  test('returns its value, and passes a rejection on', async () => {
    assert.equal(await waitFor(Promise.resolve(42), { what: 'the answer' }), 42);
    await assert.rejects(waitFor(Promise.reject(new Error('boom')), { what: 'a failure' }), /^Error: boom$/);
  });

  test('fails with an AssertionError when it is still pending at the timeout', async () => {
    const never = new Promise<void>(() => undefined);
    await assertTimesOut(
      waitFor(never, { timeoutMs: 20, what: 'stop() to return' }),
      /^timed out after 20 ms waiting for stop\(\) to return; still pending$/,
    );
  });
});
