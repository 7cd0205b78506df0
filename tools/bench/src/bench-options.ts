/** The benchmarks `npm run bench` knows, in the order they run. */
export const BENCHMARK_NAMES = ['baseline', 'delivery', 'webhook-ingest', 'full-loop', 'media', 'verification', 'archive'] as const;
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];

/** Durations, rates and limits of one run. */
export interface BenchProfile {
  readonly name: 'full' | 'quick' | 'custom';
  /** Each benchmark first runs this long at `warmupRatePerSec`; its results are reported apart and not compared. */
  readonly warmupMs: number;
  readonly warmupRatePerSec: number;
  /** Length of each measured phase of the baseline and delivery benchmarks. */
  readonly phaseMs: number;
  /** Offered rates (messages/s) of the full-loop benchmark, before its closed loop. */
  readonly fullLoopRates: readonly number[];
  /** Length of each measured phase of the full-loop benchmark; `--full-loop-phase` sets it. */
  readonly fullLoopPhaseMs: number;
  /** Length of each measured phase of the webhook benchmark. */
  readonly webhookPhaseMs: number;
  /** After a phase's last send, how long outstanding items may take before they count as not completed. */
  readonly drainTimeoutMs: number;
  /** Offered rates (items/s) of the baseline and delivery benchmarks. */
  readonly rates: readonly number[];
  /** Items in flight end to end in the closed-loop ("as fast as it goes") phase. */
  readonly closedLoopConcurrency: number;
  /** Offered statuses/s of the webhook benchmark. */
  readonly webhookRates: readonly number[];
  /** Statuses per webhook POST: one, and a batch like Meta's (the simulator batches up to 25). */
  readonly webhookBatchSizes: readonly number[];
  /** Archive: messages archived (all tenants) before search is measured; `--archive-messages` sets it (1000000 for the figure). */
  readonly archiveMessages: number;
  /** Archive: events through the record path one durable commit at a time, and through the running archive's consumers. */
  readonly archiveIngestEvents: number;
  /** Archive: how often each search query is run. */
  readonly archiveQueryRepeats: number;
}

const COMMON = {
  warmupRatePerSec: 200,
  rates: [100, 1000],
  closedLoopConcurrency: 128,
  webhookRates: [1000, 3000],
  webhookBatchSizes: [1, 25],
  fullLoopRates: [100, 500],
} as const;

/**
 * The full run's archive corpus: 100,000 messages seed in about two and a half minutes on 2 busy cores (the archive
 * store's projections and the search index, ~700 events/s); a million takes about 25 minutes, so it is a flag.
 */
export const DEFAULT_ARCHIVE_MESSAGES = 100_000;

/** `npm run bench`: long enough for stable percentiles, about four minutes in all on 2 cores. */
export const FULL_PROFILE: BenchProfile = {
  ...COMMON,
  name: 'full',
  warmupMs: 3000,
  phaseMs: 10_000,
  fullLoopPhaseMs: 15_000,
  webhookPhaseMs: 6000,
  drainTimeoutMs: 60_000,
  archiveMessages: DEFAULT_ARCHIVE_MESSAGES,
  archiveIngestEvents: 2000,
  archiveQueryRepeats: 30,
};

/** `npm run bench -- --quick`: a smoke run of every phase, well under a minute. */
export const QUICK_PROFILE: BenchProfile = {
  ...COMMON,
  name: 'quick',
  warmupMs: 500,
  phaseMs: 1000,
  fullLoopPhaseMs: 1500,
  webhookPhaseMs: 1000,
  drainTimeoutMs: 15_000,
  archiveMessages: 5000,
  archiveIngestEvents: 300,
  archiveQueryRepeats: 5,
};

export interface BenchOptions {
  readonly profile: BenchProfile;
  readonly only: readonly BenchmarkName[];
  /** Extra environment for the services (e.g. WAYGATE_DELIVERY_CONCURRENCY=64), reported with the results. */
  readonly serviceEnv: Readonly<Record<string, string>>;
  /** `--soak <duration>`: run only the soak, this long (ms). */
  readonly soakMs?: number;
  /** `--soak-rate <n>`: the soak's rate in msg/s (default 300, issue 15's figure). */
  readonly soakRatePerSec?: number;
  /** `--cpu-prof <dir>`: every service runs with node's `--cpu-prof`, its profiles in `<dir>/<service>/`. */
  readonly cpuProfDir?: string;
  /**
   * `--runs N` (default 1): every selected benchmark runs N times, in N rounds of the whole selection (so a baseline
   * and the platform phases compared with it ran close together); each phase reports its median run by throughput.
   */
  readonly runs?: number;
}

export function isBenchmarkName(value: string): value is BenchmarkName {
  return (BENCHMARK_NAMES as readonly string[]).includes(value);
}
