import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { BENCHMARK_NAMES, type BenchmarkName, type BenchOptions, type BenchProfile } from './bench-options';
import type { BenchmarkResult, Comparison, ProgressLog } from './benchmark-result';
import { runArchiveSearch } from './benchmarks/archive-search';
import { runDeliveryPath } from './benchmarks/delivery-path';
import { runFullLoop, soakOptions } from './benchmarks/full-loop';
import { runVerificationPath } from './benchmarks/verification-path';
import { runJetStreamBaseline } from './benchmarks/jetstream-baseline';
import { runMediaTransfer } from './benchmarks/media-transfer';
import { runWebhookIngest } from './benchmarks/webhook-ingest';
import { machineInfo, type MachineInfo } from './machine-info';
import { round } from './phase';

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
  readonly benchmarks: readonly BenchmarkResult[];
}

/** Puts each platform phase next to the baseline phase with the same id (offered rate or closed loop). */
export function compareWithBaseline(platform: BenchmarkResult, baseline: BenchmarkResult | undefined): Comparison[] {
  if (!baseline) return [];
  return platform.phases.flatMap((phase) => {
    const base = baseline.phases.find((candidate) => candidate.id === phase.id);
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
    const soak = await runFullLoop(options.profile, { serviceEnv: options.serviceEnv, soak: soakOptions(options.soakMs) }, log);
    if (soak.error) log(`${soak.title}: FAILED: ${soak.error}`);
    results.push(soak);
  }
  for (const name of selected) {
    loadAverage1mBefore[name] = round(os.loadavg()[0], 2);
    let result: BenchmarkResult;
    switch (name) {
      case 'baseline':
        result = await runJetStreamBaseline(options.profile, log);
        break;
      case 'delivery': {
        const delivery = await runDeliveryPath(options.profile, { serviceEnv: options.serviceEnv }, log);
        const comparisons = compareWithBaseline(
          delivery,
          results.find((r) => r.name === 'baseline'),
        );
        result = comparisons.length > 0 ? { ...delivery, comparisons } : delivery;
        break;
      }
      case 'webhook-ingest':
        result = await runWebhookIngest(options.profile, { serviceEnv: options.serviceEnv }, log);
        break;
      case 'full-loop':
        result = await runFullLoop(options.profile, { serviceEnv: options.serviceEnv }, log);
        break;
      case 'media':
        result = await runMediaTransfer(options.profile, { serviceEnv: options.serviceEnv }, log);
        break;
      case 'verification':
        result = await runVerificationPath(options.profile, { serviceEnv: options.serviceEnv }, log);
        break;
      case 'archive':
        result = await runArchiveSearch(options.profile, { serviceEnv: options.serviceEnv }, log);
        break;
    }
    if (result.error) log(`${result.title}: FAILED: ${result.error}`);
    results.push(result);
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
    benchmarks: results,
  };
}
