import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SimulatedClock, toUnixSeconds } from './simulated-clock';

function realTime(startMs = 1_000): { now: () => number; pass(ms: number): void } {
  let nowMs = startMs;
  return { now: () => nowMs, pass: (ms) => (nowMs += ms) };
}

describe('SimulatedClock', () => {
  it('runs at its scale from the start time', () => {
    const real = realTime();
    const clock = new SimulatedClock({ startMs: 5_000_000, scale: 3_600, realNowMs: real.now });
    assert.equal(clock.nowMs(), 5_000_000);
    real.pass(1_000);
    assert.equal(clock.nowMs(), 5_000_000 + 3_600_000, 'one real second is one simulated hour');
  });

  it('keeps time already passed when the scale changes, and stands still at scale 0', () => {
    const real = realTime();
    const clock = new SimulatedClock({ startMs: 0, scale: 10, realNowMs: real.now });
    real.pass(100);
    clock.setScale(0);
    assert.equal(clock.nowMs(), 1_000);
    real.pass(60_000);
    assert.equal(clock.nowMs(), 1_000, 'frozen');
    clock.setScale(1);
    real.pass(5);
    assert.equal(clock.nowMs(), 1_005);
  });

  it('jumps forward but never back', () => {
    const real = realTime();
    const clock = new SimulatedClock({ startMs: 10_000, scale: 0, realNowMs: real.now });
    clock.jumpTo(50_000);
    assert.equal(clock.nowMs(), 50_000);
    clock.jumpTo(20_000);
    assert.equal(clock.nowMs(), 50_000);
  });

  it('rejects scales it cannot honour', () => {
    assert.throws(() => new SimulatedClock({ scale: -1 }), RangeError);
    assert.throws(() => new SimulatedClock({ scale: Number.NaN }), RangeError);
    assert.throws(() => new SimulatedClock().setScale(10_000_000), RangeError);
  });

  it('converts to the unix seconds Meta puts in webhooks', () => {
    assert.equal(toUnixSeconds(1_750_857_384_999), 1_750_857_384);
  });
});
