import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '@waygate/testing';
import { Scheduler } from './scheduler';
import { SimulatedClock } from './simulated-clock';

const DAY_MS = 24 * 60 * 60 * 1000;

function frozenScheduler(): { clock: SimulatedClock; scheduler: Scheduler } {
  const clock = new SimulatedClock({ startMs: 0, scale: 0 });
  return { clock, scheduler: new Scheduler(clock) };
}

describe('Scheduler', () => {
  it('advance runs due tasks in order, each at its own due time', async () => {
    const { clock, scheduler } = frozenScheduler();
    const ran: string[] = [];
    scheduler.schedule(() => void ran.push(`b@${clock.nowMs()}`), 2_000);
    scheduler.schedule(() => void ran.push(`a@${clock.nowMs()}`), 1_000);
    scheduler.schedule(() => void ran.push(`c@${clock.nowMs()}`), 2_000);
    scheduler.schedule(() => void ran.push('late'), 10_000);
    await scheduler.advance(5_000);
    assert.deepEqual(ran, ['a@1000', 'b@2000', 'c@2000']);
    assert.equal(clock.nowMs(), 5_000);
    assert.equal(scheduler.pendingCount, 1);
    await scheduler.stop();
  });

  it('runs follow-ups that async tasks schedule within the same advance (a retry chain over 7 days)', async () => {
    const { clock, scheduler } = frozenScheduler();
    const attempts: number[] = [];
    const attempt = async (delayMs: number): Promise<void> => {
      await new Promise((resolve) => setImmediate(resolve)); // like awaiting an HTTP POST
      attempts.push(clock.nowMs());
      if (clock.nowMs() < 7 * DAY_MS) scheduler.schedule(() => attempt(delayMs * 2), delayMs * 2);
    };
    scheduler.schedule(() => attempt(60_000), 0);
    await scheduler.advance(8 * DAY_MS);
    // Delays 120 s, 240 s, ... : attempt k runs at 120 s * (2^k - 1) while that is within the 8 days advanced.
    const expected = Array.from({ length: 13 }, (_, k) => 120_000 * (2 ** k - 1));
    assert.deepEqual(attempts, expected);
    assert.equal(scheduler.pendingCount, 1, 'the next retry is scheduled beyond the target');
    assert.equal(clock.nowMs(), 8 * DAY_MS);
    await scheduler.stop();
  });

  it('cancels a task', async () => {
    const { scheduler } = frozenScheduler();
    let ran = false;
    const cancel = scheduler.schedule(() => void (ran = true), 10);
    cancel();
    await scheduler.advance(100);
    assert.equal(ran, false);
  });

  it('runs tasks by itself in real time at the clock scale', async () => {
    const clock = new SimulatedClock({ scale: 1_000 });
    const scheduler = new Scheduler(clock);
    const startMs = clock.nowMs();
    const ran = new Promise<number>((resolve) => scheduler.schedule(() => resolve(clock.nowMs()), 60_000));
    // 60 simulated seconds are 60 real ms at this scale.
    const ranAt = await waitFor(ran, { timeoutMs: 5_000, what: 'the task to run by itself' });
    assert.ok(ranAt - startMs >= 60_000, 'not before it was due');
    await scheduler.stop();
  });

  it('re-arms when the scale changes from frozen to running', async () => {
    const { clock, scheduler } = frozenScheduler();
    const ran = new Promise<number>((resolve) => scheduler.schedule(() => resolve(clock.nowMs()), 1_000));
    clock.setScale(100_000);
    scheduler.rescheduled();
    // A frozen scheduler arms no timer: only the re-arm can run the task (1 simulated second is 0.01 real ms now).
    const ranAt = await waitFor(ran, { timeoutMs: 5_000, what: 'the task to run once time moves' });
    assert.ok(ranAt >= 1_000, `ran at ${ranAt}, not before it was due`);
    await scheduler.stop();
  });

  it('stop() drops pending tasks and refuses new ones', async () => {
    const { scheduler } = frozenScheduler();
    let ran = 0;
    scheduler.schedule(() => void ran++, 10);
    await scheduler.stop();
    scheduler.schedule(() => void ran++, 10);
    await scheduler.advance(100);
    assert.equal(ran, 0);
  });
});
