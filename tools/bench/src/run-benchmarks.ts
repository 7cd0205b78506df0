import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { BENCHMARK_NAMES, type BenchmarkName, type BenchOptions, type BenchProfile } from './bench-options';
import type { BenchmarkResult, BenchmarkRun, Comparison, ProgressLog } from './benchmark-result';
import { runArchiveSearch } from './benchmarks/archive-search';
import { runDeliveryPath } from './benchmarks/delivery-path';
import { runFullLoop, soakOptions } from './benchmarks/full-loop';
import { runVerificationPath } from './benchmarks/verification-path';
import { runJetStreamBaseline } from './benchmarks/jetstream-baseline';
import { runMediaTransfer } from './benchmarks/media-transfer';
import { runWebhookIngest } from './benchmarks/webhook-ingest';
import { machineInfo, type MachineInfo } from './machine-info';
import { round, type PhaseResult } from './phase';
import { combineRuns } from './runs';

/** The JSON report `npm run bench` writes. */
export interface BenchReport {
  readonly schemaVersion: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly elapsedMs: number;
  readonly profile: BenchProfile;
  readonly only: readonly BenchmarkName[];
  readonly serviceEnv: Readonly<Record<string, string>>;
  readonly machine: MachineInfo;
  /** 1-minute load average right before each benchmark (its own processes idle): others' load shows here. */
  readonly loadAverage1mBefore: Readonly<Partial<Record<BenchmarkName | 'soak', number>>>;
  /** `--runs N`: how often each selected benchmark ran (each run's load average is in `benchmarks[].runs`). */
  readonly runs: number;
  readonly benchmarks: readonly BenchmarkResult[];
}

/** The baseline phase under the same load: the same offered items/s (open loop), or the closed loop. */
export function baselinePhaseFor(phase: PhaseResult, baseline: BenchmarkResult | undefined): PhaseResult | undefined {
  return baseline?.phases.find((candidate) =>
    phase.load.kind === 'closed-loop'
      ? candidate.load.kind === 'closed-loop'
      : candidate.load.kind === 'open-loop' && candidate.offeredItemsPerSec === phase.offeredItemsPerSec,
  );
}

/**
 * Puts each platform phase next to the baseline phase of the same load (same offered items/s, or the closed loop);
 * phases without one (e.g. the full loop's 500/s) are left out.
 */
export function compareWithBaseline(platform: BenchmarkResult, baseline: BenchmarkResult | undefined): Comparison[] {
  return platform.phases.flatMap((phase) => {
    const base = baselinePhaseFor(phase, baseline);
    if (!base || base.throughputPerSec === 0 || base.latencyMs.p50 === 0 || base.latencyMs.p99 === 0) return [];
    return [
      {
        phaseId: phase.id,
        baselinePhaseId: base.id,
        throughputRatio: round(phase.throughputPerSec / base.throughputPerSec, 3),
        p50LatencyRatio: round(phase.latencyMs.p50 / base.latencyMs.p50, 1),
        p99LatencyRatio: round(phase.latencyMs.p99 / base.latencyMs.p99, 1),
      },
    ];
  });
}

/** The benchmarks whose phases are put next to the baseline's. */
const COMPARED_WITH_BASELINE: readonly BenchmarkName[] = ['delivery', 'webhook-ingest', 'full-loop'];

async function runOne(name: BenchmarkName, options: BenchOptions, log: ProgressLog): Promise<BenchmarkResult> {
  const serviceOptions = { serviceEnv: options.serviceEnv };
  switch (name) {
    case 'baseline':
      return runJetStreamBaseline(options.profile, log);
    case 'delivery':
      return runDeliveryPath(options.profile, serviceOptions, log);
    case 'webhook-ingest':
      return runWebhookIngest(options.profile, serviceOptions, log);
    case 'full-loop':
      return runFullLoop(options.profile, serviceOptions, log);
    case 'media':
      return runMediaTransfer(options.profile, serviceOptions, log);
    case 'verification':
      return runVerificationPath(options.profile, serviceOptions, log);
    case 'archive':
      return runArchiveSearch(options.profile, serviceOptions, log);
  }
}

/**
 * Runs the selected benchmarks one after another (each with its own nats-server and services, so one cannot slow
 * another down) and collects the report. A benchmark that fails is reported with its error; the others still run.
 */
export async function runBenchmarks(options: BenchOptions, log: ProgressLog): Promise<BenchReport> {
  const startedAt = new Date();
  const started = performance.now();
  const machine = machineInfo();
  // The soak runs alone: it is long, and its RSS figures mean nothing with other benchmarks' processes around.
  const selected =
    options.soakMs !== undefined ? [] : BENCHMARK_NAMES.filter((name) => options.only.length === 0 || options.only.includes(name));
  const loadAverage1mBefore: Partial<Record<BenchmarkName | 'soak', number>> = {};
  const results: BenchmarkResult[] = [];
  if (options.soakMs !== undefined) {
    loadAverage1mBefore.soak = round(os.loadavg()[0], 2);
    const soak = await runFullLoop(
      options.profile,
      { serviceEnv: options.serviceEnv, soak: soakOptions(options.soakMs, options.soakRatePerSec) },
      log,
    );
    if (soak.error) log(`${soak.title}: FAILED: ${soak.error}`);
    results.push(soak);
  }
  // --runs N: N rounds of the whole selection, so that each round's baseline ran close to the phases compared with it.
  const runCount = options.soakMs !== undefined ? 1 : (options.runs ?? 1);
  const runsOf = new Map<BenchmarkName, BenchmarkRun[]>(selected.map((name) => [name, []]));
  for (let run = 1; run <= runCount; run++) {
    if (runCount > 1) log(`--- run ${run} of ${runCount}`);
    for (const name of selected) {
      const loadAverage = round(os.loadavg()[0], 2);
      if (run === 1) loadAverage1mBefore[name] = loadAverage;
      const result = await runOne(name, options, log);
      if (result.error) log(`${result.title}${runCount > 1 ? ` (run ${run})` : ''}: FAILED: ${result.error}`);
      runsOf.get(name)?.push({ run, loadAverage1mBefore: loadAverage, result });
    }
  }
  const combined = selected.map((name) => combineRuns(runsOf.get(name) ?? []));
  const baseline = combined.find((result) => result.name === 'baseline');
  for (const result of combined) {
    const comparisons = COMPARED_WITH_BASELINE.includes(result.name as BenchmarkName) ? compareWithBaseline(result, baseline) : [];
    results.push(comparisons.length > 0 ? { ...result, comparisons } : result);
  }
  return {
    schemaVersion: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    elapsedMs: Math.round(performance.now() - started),
    profile: options.profile,
    only: selected,
    serviceEnv: options.serviceEnv,
    machine,
    loadAverage1mBefore,
    runs: runCount,
    benchmarks: results,
  };
}
