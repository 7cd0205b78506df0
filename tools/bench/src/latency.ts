import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Latency percentiles in milliseconds (microsecond resolution). */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/**
 * Records latencies in an HDR histogram (node's `perf_hooks.createHistogram`), so percentiles over hundreds of
 * thousands of samples cost constant memory. Values are kept in microseconds.
 */
export class LatencyRecorder {
  private readonly histogram: RecordableHistogram = createHistogram();

  /** Records one latency in milliseconds; negative values (clock noise) count as the smallest recordable one. */
  record(ms: number): void {
    this.histogram.record(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.histogram.count;
  }

  summary(): LatencySummary {
    const h = this.histogram;
    if (h.count === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      count: h.count,
      p50: ms(h.percentile(50)),
      p95: ms(h.percentile(95)),
      p99: ms(h.percentile(99)),
      max: ms(h.max),
      mean: ms(h.mean),
    };
  }
}
