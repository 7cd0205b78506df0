import { performance } from 'node:perf_hooks';
import { LatencyRecorder } from './latency';

interface Pending {
  readonly scheduledAt: number;
  resolve?: () => void;
  timer?: NodeJS.Timeout;
}

/** How many distinct error reasons a phase keeps as examples. */
const MAX_ERROR_SAMPLES = 5;

/**
 * Follows the items of one benchmark phase from their scheduled start to their observed end (a consumed JetStream
 * message, a Cloud API request at the simulator, a status event from receipt). Latency is measured from the
 * *scheduled* start, so a generator that falls behind, or requests that queue, show up as latency instead of
 * silently lowering the offered load (no coordinated omission). All times are `performance.now()` of this process.
 */
export class CompletionTracker {
  /** From scheduled start to the observed end (end to end). */
  readonly latency = new LatencyRecorder();
  /** From scheduled start to the answer of the call that started the item (gRPC, HTTP, PubAck). */
  readonly requestLatency = new LatencyRecorder();
  /** Benchmark-specific counts (e.g. simulator rejections, HTTP requests). */
  readonly counters = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();
  private readonly errorReasons = new Map<string, number>();
  expected = 0;
  completed = 0;
  failed = 0;
  /** Completions for keys that were not (or no longer) pending: duplicates or strays. */
  unexpected = 0;
  /** Items neither completed nor failed when the drain timeout ran out. */
  notCompleted = 0;
  firstScheduledAt = Number.POSITIVE_INFINITY;
  lastCompletedAt = 0;
  /** Calls (publish, SendMessage, POST) answered successfully, and when the last one was. */
  answeredCalls = 0;
  lastAnsweredAt = 0;
  private drainWaiter: (() => void) | undefined;

  /** Starts following `key`. Resolves when it completes or fails (or after `timeoutMs`, counted as failed). */
  expect(key: string, scheduledAt: number, options: { wait?: boolean; timeoutMs?: number } = {}): Promise<void> | undefined {
    if (this.pending.has(key)) throw new Error(`benchmark bug: ${key} is already being followed`);
    const entry: Pending = { scheduledAt };
    this.pending.set(key, entry);
    this.expected++;
    if (scheduledAt < this.firstScheduledAt) this.firstScheduledAt = scheduledAt;
    if (!options.wait) return undefined;
    return new Promise<void>((resolve) => {
      entry.resolve = resolve;
      if (options.timeoutMs !== undefined) entry.timer = setTimeout(() => this.fail(key, 'not completed in time'), options.timeoutMs);
    });
  }

  /** The item's end was observed now (or at `at`). */
  complete(key: string, at = performance.now()): void {
    const entry = this.pending.get(key);
    if (!entry) {
      this.unexpected++;
      return;
    }
    this.settle(key, entry);
    this.completed++;
    this.latency.record(at - entry.scheduledAt);
    if (at > this.lastCompletedAt) this.lastCompletedAt = at;
  }

  /** The item will not complete (its request failed); `reason` is kept as an example. */
  fail(key: string, reason: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    this.settle(key, entry);
    this.failed++;
    this.errorReasons.set(reason, (this.errorReasons.get(reason) ?? 0) + 1);
  }

  /** The call that started items scheduled at `scheduledAt` was answered successfully now. */
  answered(scheduledAt: number, at = performance.now()): void {
    this.requestLatency.record(at - scheduledAt);
    this.answeredCalls++;
    if (at > this.lastAnsweredAt) this.lastAnsweredAt = at;
  }

  count(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  scheduledAt(key: string): number | undefined {
    return this.pending.get(key)?.scheduledAt;
  }

  get outstanding(): number {
    return this.pending.size;
  }

  /** The most frequent error reasons with their counts. */
  errorSamples(): { reason: string; count: number }[] {
    return [...this.errorReasons]
      .sort((a, b) => b[1] - a[1])
      .slice(0, MAX_ERROR_SAMPLES)
      .map(([reason, count]) => ({ reason, count }));
  }

  /** Waits until nothing is outstanding or `timeoutMs` passed; whatever is still outstanding then is `notCompleted`. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.pending.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.drainWaiter = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
      this.drainWaiter = undefined;
    }
    this.notCompleted = this.pending.size;
    for (const [key, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.resolve?.();
      this.pending.delete(key);
    }
  }

  /**
   * Items completed per second, from the first scheduled start to the last observed end. When the system keeps up
   * this is the offered rate; when it does not, the backlog drains at capacity and this is the sustained capacity.
   */
  throughputPerSec(): number {
    const spanMs = this.lastCompletedAt - this.firstScheduledAt;
    return this.completed > 0 && spanMs > 0 ? (this.completed * 1000) / spanMs : 0;
  }

  /** Calls answered per second from the first scheduled start to the last answer: what the entry point took in. */
  answeredCallsPerSec(): number {
    const spanMs = this.lastAnsweredAt - this.firstScheduledAt;
    return this.answeredCalls > 0 && spanMs > 0 ? (this.answeredCalls * 1000) / spanMs : 0;
  }

  private settle(key: string, entry: Pending): void {
    this.pending.delete(key);
    clearTimeout(entry.timer);
    entry.resolve?.();
    if (this.pending.size === 0) this.drainWaiter?.();
  }
}
