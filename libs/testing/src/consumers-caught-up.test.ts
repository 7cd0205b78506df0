import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForConsumersCaughtUp, type ConsumerInfoReader } from './consumers-caught-up';

/** A consumer whose backlog shrinks by one on each look, per durable. */
function shrinkingBacklog(backlogs: Record<string, number>): ConsumerInfoReader & { looks: string[] } {
  const looks: string[] = [];
  return {
    looks,
    consumers: {
      info: (stream, durable) => {
        looks.push(`${stream}/${durable}`);
        const left = backlogs[durable] ?? 0;
        backlogs[durable] = Math.max(0, left - 1);
        return Promise.resolve({ num_pending: left > 1 ? 1 : 0, num_ack_pending: left > 0 ? 1 : 0 });
      },
    },
  };
}

test('waits for each consumer in turn until nothing is pending or awaiting an ack', async () => {
  const jsm = shrinkingBacklog({ a: 3, b: 1 });
  await waitForConsumersCaughtUp(jsm, [
    ['S1', 'a'],
    ['S2', 'b'],
  ]);
  assert.deepEqual(jsm.looks, ['S1/a', 'S1/a', 'S1/a', 'S1/a', 'S2/b', 'S2/b']);
});

test('a consumer that never catches up fails the wait, naming it', async () => {
  const jsm: ConsumerInfoReader = { consumers: { info: () => Promise.resolve({ num_pending: 0, num_ack_pending: 1 }) } };
  await assert.rejects(waitForConsumersCaughtUp(jsm, [['S1', 'stuck']], { timeoutMs: 100 }), /stuck to catch up/);
});
