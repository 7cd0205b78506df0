import type { BenchmarkResult, BenchmarkRun } from './benchmark-result';
import type { PhaseResult } from './phase';

/**
 * Of the runs that measured `phaseId`, the one with the median throughput (the lower median for an even count, so
 * the figure shown is always one that was measured, never an average), with the spread of throughput and p99.
 */
export function medianPhase(runs: readonly BenchmarkRun[], phaseId: string): PhaseResult | undefined {
  const measured = runs.flatMap((run) => {
    const phase = run.result.phases.find((candidate) => candidate.id === phaseId);
    return phase ? [{ run, phase }] : [];
  });
  if (measured.length === 0) return undefined;
  const byThroughput = [...measured].sort((a, b) => a.phase.throughputPerSec - b.phase.throughputPerSec || a.run.run - b.run.run);
  const median = byThroughput[Math.floor((byThroughput.length - 1) / 2)];
  const throughputs = measured.map(({ phase }) => phase.throughputPerSec);
  const p99s = measured.map(({ phase }) => phase.latencyMs.p99);
  return {
    ...median.phase,
    spread: {
      runs: measured.length,
      medianRun: median.run.run,
      throughputPerSec: { min: Math.min(...throughputs), max: Math.max(...throughputs) },
      p99Ms: { min: Math.min(...p99s), max: Math.max(...p99s) },
      loadAverage1mBefore: median.run.loadAverage1mBefore,
    },
  };
}

/**
 * The result of a benchmark run N times: per phase the median run's figures (by throughput) with the spread, every
 * run kept in `runs`. Figures that are not phases (warmup, preparation, media transfers, archive figures) are the
 * first run's; every run's are in `runs`. A run that failed makes the whole result failed (its error is kept).
 * One run is returned as it is.
 */
export function combineRuns(runs: readonly BenchmarkRun[]): BenchmarkResult {
  if (runs.length === 0) throw new Error('combineRuns needs at least one run');
  if (runs.length === 1) return runs[0].result;
  const first = runs[0].result;
  const phaseIds = [...new Set(runs.flatMap((run) => run.result.phases.map((phase) => phase.id)))];
  const phases = phaseIds.flatMap((id) => medianPhase(runs, id) ?? []);
  const errors = runs.flatMap((run) => (run.result.error ? [`run ${run.run}: ${run.result.error}`] : []));
  const { comparisons: _comparisons, error: _error, ...rest } = first;
  return {
    ...rest,
    phases,
    elapsedMs: runs.reduce((sum, run) => sum + run.result.elapsedMs, 0),
    runs,
    ...(errors.length > 0 ? { error: errors.join('\n') } : {}),
  };
}
