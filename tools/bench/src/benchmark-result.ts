import type { BenchmarkName } from './bench-options';
import type { PhaseResult } from './phase';

/** The warmup a benchmark ran before measuring; reported so it is visible, never compared. */
export interface WarmupResult {
  readonly durationMs: number;
  readonly ratePerSec: number;
  readonly completed: number;
  readonly failed: number;
  readonly notCompletedWithinDrain: number;
}

/** A platform phase next to the baseline phase with the same id (same offered rate or same closed loop). */
export interface Comparison {
  readonly phaseId: string;
  readonly baselinePhaseId: string;
  /** platform / baseline; below 1 means the platform moves fewer items per second. */
  readonly throughputRatio: number;
  /** platform / baseline; how many times slower the platform path is. */
  readonly p50LatencyRatio: number;
  readonly p99LatencyRatio: number;
}

/** One size of the media benchmark: media-store's rates next to raw node:fs on the same bytes (MiB per second). */
export interface TransferResult {
  readonly id: string;
  readonly sizeBytes: number;
  readonly count: number;
  readonly uploadMBps: number;
  readonly downloadMBps: number;
  readonly rawWriteMBps: number;
  readonly rawReadMBps: number;
}

/** One search query of the archive benchmark: SearchMessages (in process and over gRPC), the index alone, a bare FTS5 MATCH. */
export interface ArchiveQueryResult {
  readonly label: string;
  readonly query: string;
  /** Hits on the first page (20 at most) for the bench tenant. */
  readonly hits: number;
  /** SearchMessages' use case in the archive's process: validation, index, the store read of each hit, snippets. */
  readonly searchP50Ms: number;
  readonly searchP99Ms: number;
  /** The search index alone (FTS5 match, tenant and filters, bm25, snippets; no store read). */
  readonly indexP50Ms: number;
  readonly indexP99Ms: number;
  /** SearchMessages over gRPC to the running archive (one call at a time). */
  readonly grpcP50Ms: number;
  readonly grpcP99Ms: number;
  /** A bare FTS5 MATCH of the same terms (plain table, every tenant, ORDER BY rank LIMIT 20); absent when FTS5 alone cannot answer it. */
  readonly bareP50Ms?: number;
  readonly bareP99Ms?: number;
}

/** The archive benchmark's figures. */
export interface ArchiveFigures {
  readonly corpus: { readonly messages: number; readonly benchTenantMessages: number; readonly tenants: number; readonly fileMb: number };
  /** Events per second through ArchiveService.record + the search feed, one durable commit each, in one process. */
  readonly recordPath: { readonly events: number; readonly eventsPerSec: number; readonly p50Ms: number; readonly p99Ms: number };
  /** Events per second published to JetStream and archived by the running archive's consumers (acknowledged). */
  readonly consumers: { readonly events: number; readonly eventsPerSec: number };
  /** Seeding: the same record path, 1,000 events per transaction. */
  readonly seed: { readonly events: number; readonly eventsPerSec: number };
  readonly queries: readonly ArchiveQueryResult[];
  /** Over every run of the queries that have a bare equivalent; the ratios are SearchMessages / bare. */
  readonly overall: {
    readonly searchP50Ms: number;
    readonly searchP99Ms: number;
    readonly indexP50Ms: number;
    readonly indexP99Ms: number;
    readonly grpcP50Ms: number;
    readonly grpcP99Ms: number;
    readonly bareP50Ms: number;
    readonly bareP99Ms: number;
    readonly grpcToBareP50: number;
    readonly grpcToBareP99: number;
  };
}

/** One soak sample: RSS of every process, event-loop delay of every service (ms, window of up to 10 s). */
export interface SoakSample {
  /** Since the soak phase started. */
  readonly atMs: number;
  readonly rssMiB: Readonly<Record<string, number>>;
  readonly eventLoopP99Ms: Readonly<Record<string, number>>;
  readonly eventLoopMaxMs: Readonly<Record<string, number>>;
}

/** One process over the soak. */
export interface SoakProcessFigures {
  readonly process: string;
  /** Median of the first 3 samples after the soak's warmup. */
  readonly rssMiBAfterWarmup?: number;
  /** Median of the last 3 samples. */
  readonly rssMiBEnd?: number;
  readonly rssMiBMax?: number;
  /** (end - after warmup) / after warmup, in %. */
  readonly rssGrowthPct?: number;
  readonly eventLoopP99MsMedian?: number;
  readonly eventLoopP99MsMax?: number;
  readonly eventLoopMaxMs?: number;
}

/** The soak's figures (`--soak <duration>`). */
export interface SoakFigures {
  readonly durationMs: number;
  readonly ratePerSec: number;
  /** The first part of the soak, left out of the RSS growth. */
  readonly warmupMs: number;
  readonly sampleEveryMs: number;
  readonly rssGrowthBoundPct: number;
  /** Messages that failed or never reached READ. */
  readonly lost: number;
  /** Every service's RSS grew by at most the bound after warmup. */
  readonly servicesWithinRssBound: boolean;
  readonly metricsScrapeFailures: number;
  readonly processes: readonly SoakProcessFigures[];
  readonly samples: readonly SoakSample[];
}

/** One of the `--runs N` runs of a benchmark, kept whole in the JSON report. */
export interface BenchmarkRun {
  /** 1-based. */
  readonly run: number;
  /** 1-minute load average right before this run started (its own processes not yet started). */
  readonly loadAverage1mBefore: number;
  readonly result: BenchmarkResult;
}

export interface BenchmarkResult {
  /** A benchmark of the selection, or the soak (`--soak`, run alone). */
  readonly name: BenchmarkName | 'soak';
  readonly title: string;
  /** How it was measured, in sentences: processes, what an item is, where its end is observed. */
  readonly method: readonly string[];
  /** Settings that shape the figures (stream, services, concurrency, batch sizes). */
  readonly setup: Readonly<Record<string, string | number | boolean>>;
  readonly warmup?: WarmupResult;
  /** Figures of preparation steps that are not phases (e.g. seeding receipt with known wamids). */
  readonly preparation?: Readonly<Record<string, number>>;
  readonly phases: readonly PhaseResult[];
  readonly comparisons?: readonly Comparison[];
  /** Byte-rate benchmarks (media) report transfers instead of phases. */
  readonly transfers?: readonly TransferResult[];
  /** The archive benchmark reports its own figures instead of phases. */
  readonly archive?: ArchiveFigures;
  /** The soak reports RSS and event-loop figures next to its one phase. */
  readonly soak?: SoakFigures;
  /** `--runs N` (N > 1): every run whole; `phases` then holds each phase's median run (see runs.ts). */
  readonly runs?: readonly BenchmarkRun[];
  /** Set when the benchmark could not complete; the phases run so far are kept. */
  readonly error?: string;
  readonly elapsedMs: number;
}

/** Progress lines for the terminal (the smoke test passes a no-op). */
export type ProgressLog = (line: string) => void;

export function warmupOf(phase: PhaseResult, ratePerSec: number): WarmupResult {
  return {
    durationMs: phase.durationMs,
    ratePerSec,
    completed: phase.items.completed,
    failed: phase.items.failed,
    notCompletedWithinDrain: phase.items.notCompletedWithinDrain,
  };
}

/** One line per finished phase, for progress output. */
export function describePhase(phase: PhaseResult): string {
  const { items, latencyMs } = phase;
  const problems = items.failed + items.notCompletedWithinDrain;
  return (
    `  ${phase.label}: ${items.completed}/${items.expected} done, ${phase.throughputPerSec}/s, ` +
    `p50 ${latencyMs.p50} ms, p99 ${latencyMs.p99} ms${problems > 0 ? `, ${problems} failed or not completed` : ''}`
  );
}
