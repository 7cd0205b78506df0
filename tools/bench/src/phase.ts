import { CompletionTracker } from './completion-tracker';
import type { LatencySummary } from './latency';
import { runClosedLoop, runOpenLoop, type GeneratorStats } from './load-generator';
import type { CpuMeter, ProcessCpu } from './process-stats';

/** How a phase offers load. */
export type LoadSpec =
  | { readonly kind: 'open-loop'; readonly ratePerSec: number; readonly maxOutstanding: number }
  | { readonly kind: 'closed-loop'; readonly concurrency: number };

export interface PhaseSpec {
  readonly id: string;
  readonly label: string;
  readonly load: LoadSpec;
  readonly durationMs: number;
  /** Items each send carries (statuses per webhook POST); default 1. Open-loop rates count sends. */
  readonly itemsPerSend?: number;
  /** After the last send, how long outstanding items may take before they count as not completed. */
  readonly drainTimeoutMs: number;
}

/** How the runs of one phase spread, next to the median run's figures (`--runs N`, N > 1). */
export interface PhaseSpread {
  /** Runs that measured this phase (a run that failed early may lack it). */
  readonly runs: number;
  /** The run whose figures the phase shows: the median by throughput (the lower median for an even count). */
  readonly medianRun: number;
  readonly throughputPerSec: { readonly min: number; readonly max: number };
  readonly p99Ms: { readonly min: number; readonly max: number };
  /** Load average before the median run. */
  readonly loadAverage1mBefore: number;
}

/** What one phase measured; every latency is from the item's scheduled start (see CompletionTracker). */
export interface PhaseResult {
  readonly id: string;
  readonly label: string;
  readonly load: LoadSpec;
  readonly durationMs: number;
  readonly itemsPerSend: number;
  /** Items per second the open loop offered (send rate x items per send). */
  readonly offeredItemsPerSec?: number;
  readonly generator: GeneratorStats;
  readonly items: {
    readonly expected: number;
    readonly completed: number;
    readonly failed: number;
    readonly notCompletedWithinDrain: number;
    readonly unexpected: number;
  };
  /** Completed items per second from the first scheduled start to the last completion. */
  readonly throughputPerSec: number;
  /** Scheduled start -> observed end. */
  readonly latencyMs: LatencySummary;
  /** Scheduled start -> answer of the call that started the item. */
  readonly requestLatencyMs: LatencySummary;
  /** Calls (publish, SendMessage, POST) answered per second: what the entry point took in, apart from processing. */
  readonly answeredCallsPerSec: number;
  readonly errors: { reason: string; count: number }[];
  readonly counters: Record<string, number>;
  /**
   * CPU time of each process the phase involves from its first send to the end of its drain, and per completed item
   * (plus a `total` row); absent when the benchmark measures no processes.
   */
  readonly cpu?: readonly ProcessCpu[];
  /** `--runs N` (N > 1): these are the median run's figures; how the runs spread. */
  readonly spread?: PhaseSpread;
}

/** What a benchmark's sender may do with the items of one send. */
export interface SendContext {
  /** Follow this item until the benchmark observes its end. Call before the request goes out. */
  follow(key: string): void;
  readonly tracker: CompletionTracker;
}

/**
 * Starts send number `index` (one request carrying one or more items), scheduled at `scheduledAt`; resolves when the
 * request was answered. It must record failures on `context.tracker` and never reject.
 */
export type Sender = (index: number, scheduledAt: number, context: SendContext) => Promise<void>;

/** Open-loop sends outstanding at most; only a memory bound for this process (see runOpenLoop). */
export const MAX_OUTSTANDING_SENDS = 2000;

/**
 * Runs one phase: offers the load, then waits for outstanding items up to the drain timeout. `observe` receives the
 * phase's tracker before the first send so that the benchmark's observer (consumer, simulator event) can complete
 * items, and `undefined` afterwards.
 */
export async function runPhase(
  spec: PhaseSpec,
  send: Sender,
  observe: (tracker: CompletionTracker | undefined) => void,
  cpuMeter?: CpuMeter,
): Promise<PhaseResult> {
  const tracker = new CompletionTracker();
  observe(tracker);
  const cpuSample = cpuMeter?.start();
  let generator: GeneratorStats;
  try {
    if (spec.load.kind === 'open-loop') {
      generator = await runOpenLoop({
        ratePerSec: spec.load.ratePerSec,
        durationMs: spec.durationMs,
        maxOutstanding: spec.load.maxOutstanding,
        send: (index, scheduledAt) => send(index, scheduledAt, { tracker, follow: (key) => void tracker.expect(key, scheduledAt) }),
      });
    } else {
      generator = await runClosedLoop({
        concurrency: spec.load.concurrency,
        durationMs: spec.durationMs,
        run: async (index, startedAt) => {
          const completions: Promise<void>[] = [];
          const follow = (key: string) => {
            const completion = tracker.expect(key, startedAt, { wait: true, timeoutMs: spec.drainTimeoutMs });
            if (completion) completions.push(completion);
          };
          await send(index, startedAt, { tracker, follow });
          await Promise.all(completions);
        },
      });
    }
    await tracker.drain(spec.drainTimeoutMs);
  } finally {
    observe(undefined);
  }
  const cpu = cpuSample?.stop(tracker.completed);
  return {
    id: spec.id,
    label: spec.label,
    load: spec.load,
    durationMs: spec.durationMs,
    itemsPerSend: spec.itemsPerSend ?? 1,
    ...(spec.load.kind === 'open-loop' ? { offeredItemsPerSec: spec.load.ratePerSec * (spec.itemsPerSend ?? 1) } : {}),
    generator,
    items: {
      expected: tracker.expected,
      completed: tracker.completed,
      failed: tracker.failed,
      notCompletedWithinDrain: tracker.notCompleted,
      unexpected: tracker.unexpected,
    },
    throughputPerSec: round(tracker.throughputPerSec(), 1),
    latencyMs: tracker.latency.summary(),
    requestLatencyMs: tracker.requestLatency.summary(),
    answeredCallsPerSec: round(tracker.answeredCallsPerSec(), 1),
    errors: tracker.errorSamples(),
    counters: Object.fromEntries(tracker.counters),
    ...(cpu ? { cpu } : {}),
  };
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** The phases every benchmark runs: each offered rate (open loop), then the closed loop. */
export function standardPhases(options: {
  rates: readonly number[];
  durationMs: number;
  drainTimeoutMs: number;
  closedLoopConcurrency: number;
  idPrefix?: string;
  labelSuffix?: string;
}): PhaseSpec[] {
  const prefix = options.idPrefix ?? '';
  const suffix = options.labelSuffix ?? '';
  return [
    ...options.rates.map((rate): PhaseSpec => ({
      id: `${prefix}rate-${rate}`,
      label: `${rate}/s${suffix}`,
      load: { kind: 'open-loop', ratePerSec: rate, maxOutstanding: MAX_OUTSTANDING_SENDS },
      durationMs: options.durationMs,
      drainTimeoutMs: options.drainTimeoutMs,
    })),
    {
      id: `${prefix}max`,
      label: `max (${options.closedLoopConcurrency} in flight)${suffix}`,
      load: { kind: 'closed-loop', concurrency: options.closedLoopConcurrency },
      durationMs: options.durationMs,
      drainTimeoutMs: options.drainTimeoutMs,
    },
  ];
}
