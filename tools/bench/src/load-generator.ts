import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** What the generator itself managed, to tell a slow system from a slow generator. */
export interface GeneratorStats {
  /** Send calls started. */
  readonly issued: number;
  /** From the first scheduled send until the last send call was started. */
  readonly issueWindowMs: number;
  /** Largest delay between a send's scheduled time and the moment it was started (generator or back-pressure lag). */
  readonly maxIssueLagMs: number;
}

export interface OpenLoopOptions {
  readonly ratePerSec: number;
  readonly durationMs: number;
  /**
   * Send calls outstanding at most (a bound on this process's memory, not a pacing rule): beyond it the generator
   * waits for one to return, and the wait shows up as latency because items keep their scheduled time.
   */
  readonly maxOutstanding: number;
  /**
   * Starts send number `index`, scheduled for `scheduledAt` (`performance.now()` ms), and resolves when the send
   * call itself returns (e.g. the gRPC answer). It must record its own failures and never reject.
   */
  readonly send: (index: number, scheduledAt: number) => Promise<void>;
}

/** How many sends an open loop of `ratePerSec` for `durationMs` starts (at least one). */
export function openLoopSendCount(ratePerSec: number, durationMs: number): number {
  return Math.max(1, Math.round((ratePerSec * durationMs) / 1000));
}

/**
 * Open loop: send number i is scheduled at start + i / rate regardless of how earlier sends are doing, so a slow
 * system cannot slow the offered load down (which would hide its latency). Sends due at the same timer tick go out
 * together. Resolves once every send call has returned.
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<GeneratorStats> {
  const intervalMs = 1000 / options.ratePerSec;
  const total = openLoopSendCount(options.ratePerSec, options.durationMs);
  const outstanding = new Set<Promise<void>>();
  const startedAt = performance.now();
  let maxIssueLagMs = 0;
  let lastIssuedAt = startedAt;
  for (let index = 0; index < total; index++) {
    const scheduledAt = startedAt + index * intervalMs;
    const aheadMs = scheduledAt - performance.now();
    if (aheadMs >= 1) await sleep(aheadMs);
    while (outstanding.size >= options.maxOutstanding) await Promise.race(outstanding);
    lastIssuedAt = performance.now();
    maxIssueLagMs = Math.max(maxIssueLagMs, lastIssuedAt - scheduledAt);
    // Timers have millisecond granularity, so a send may start up to 1 ms early; it then counts from when it started.
    const call: Promise<void> = options
      .send(index, Math.min(scheduledAt, lastIssuedAt))
      .catch(() => undefined)
      .finally(() => outstanding.delete(call));
    outstanding.add(call);
  }
  await Promise.all(outstanding);
  return { issued: total, issueWindowMs: lastIssuedAt - startedAt, maxIssueLagMs };
}

export interface ClosedLoopOptions {
  /** Items in flight at once, end to end. */
  readonly concurrency: number;
  readonly durationMs: number;
  /** Runs item `index` started at `startedAt` and resolves when it has completed end to end (or failed). */
  readonly run: (index: number, startedAt: number) => Promise<void>;
}

/**
 * Closed loop ("as fast as it goes"): `concurrency` workers each start an item, wait until it has completed end to
 * end, and start the next, until the duration is over. Throughput is then what the system sustains with that many
 * items in flight; latency is measured from each item's own start.
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<GeneratorStats> {
  const startedAt = performance.now();
  const endAt = startedAt + options.durationMs;
  let next = 0;
  let lastIssuedAt = startedAt;
  const worker = async () => {
    while (performance.now() < endAt) {
      const index = next++;
      lastIssuedAt = performance.now();
      await options.run(index, lastIssuedAt).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { issued: next, issueWindowMs: lastIssuedAt - startedAt, maxIssueLagMs: 0 };
}
