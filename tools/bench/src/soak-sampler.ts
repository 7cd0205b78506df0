import { performance } from 'node:perf_hooks';
import type { SoakFigures, SoakProcessFigures, SoakSample } from './benchmark-result';
import { rssMiB, type MeasuredProcess } from './process-stats';

/** A gauge's value from a Prometheus text exposition (first sample of the family, any unit suffix), in ms. */
function gaugeMs(exposition: string, family: string): number | undefined {
  const match = new RegExp(`^${family}(?:_seconds)?(?:\\{[^}]*\\})?\\s+(\\S+)`, 'm').exec(exposition);
  const value = match ? Number(match[1]) : Number.NaN;
  return Number.isFinite(value) ? Math.round(value * 1e6) / 1e3 : undefined;
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/**
 * Samples, every `everyMs`, the RSS of every process and the event-loop delay of every service (from its `/metrics`:
 * `nodejs_eventloop_delay_p99_seconds`, `nodejs_eventloop_delay_max_seconds`), for the soak's report.
 */
export class SoakSampler {
  private readonly samples: SoakSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private inFlight: Promise<void> | undefined;
  private scrapeFailures = 0;

  constructor(
    private readonly processes: readonly MeasuredProcess[],
    /** Service name -> its metrics URL. */
    private readonly metricsUrls: Readonly<Record<string, string>>,
    private readonly everyMs: number,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.startedAt = performance.now();
    void this.sample();
    this.timer = setInterval(() => {
      if (!this.inFlight) void this.sample();
    }, this.everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private sample(): Promise<void> {
    this.inFlight = (async () => {
      const atMs = Math.round(performance.now() - this.startedAt);
      const rss: Record<string, number> = {};
      for (const process of this.processes) {
        const value = rssMiB(process.pid());
        if (value !== undefined) rss[process.name] = round1(value);
      }
      const lagP99: Record<string, number> = {};
      const lagMax: Record<string, number> = {};
      await Promise.all(
        Object.entries(this.metricsUrls).map(async ([name, url]) => {
          try {
            const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
            const text = await response.text();
            const p99 = gaugeMs(text, 'nodejs_eventloop_delay_p99');
            const max = gaugeMs(text, 'nodejs_eventloop_delay_max');
            if (p99 !== undefined) lagP99[name] = p99;
            if (max !== undefined) lagMax[name] = max;
          } catch {
            this.scrapeFailures++;
          }
        }),
      );
      this.samples.push({ atMs, rssMiB: rss, eventLoopP99Ms: lagP99, eventLoopMaxMs: lagMax });
      const worst = Object.entries(lagP99).sort((a, b) => b[1] - a[1])[0];
      this.log(
        `  soak ${Math.round(atMs / 1000)} s: RSS ${Object.entries(rss)
          .map(([name, value]) => `${name} ${Math.round(value)}`)
          .join(', ')} MiB${worst ? `; worst event-loop p99 ${worst[0]} ${worst[1]} ms` : ''}`,
      );
    })().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** The soak's figures: per process the RSS growth after `warmupMs` (median of the last 3 samples against the first 3 after warmup) and the event-loop delay. */
  figures(run: { durationMs: number; ratePerSec: number; warmupMs: number; rssGrowthBoundPct: number; lost: number }): SoakFigures {
    const afterWarmup = this.samples.filter((sample) => sample.atMs >= run.warmupMs);
    const processes: SoakProcessFigures[] = this.processes.map(({ name }) => {
      const rss = (samples: readonly SoakSample[]) =>
        samples.flatMap((sample) => (sample.rssMiB[name] === undefined ? [] : [sample.rssMiB[name]]));
      const start = median(rss(afterWarmup.slice(0, 3)));
      const end = median(rss(afterWarmup.slice(-3)));
      const all = rss(this.samples);
      const lag = this.samples.flatMap((sample) => (sample.eventLoopP99Ms[name] === undefined ? [] : [sample.eventLoopP99Ms[name]]));
      const lagMax = this.samples.flatMap((sample) => (sample.eventLoopMaxMs[name] === undefined ? [] : [sample.eventLoopMaxMs[name]]));
      return {
        process: name,
        ...(start !== undefined ? { rssMiBAfterWarmup: round1(start) } : {}),
        ...(end !== undefined ? { rssMiBEnd: round1(end) } : {}),
        ...(all.length > 0 ? { rssMiBMax: Math.max(...all) } : {}),
        ...(start !== undefined && end !== undefined && start > 0 ? { rssGrowthPct: round1(((end - start) / start) * 100) } : {}),
        ...(lag.length > 0 ? { eventLoopP99MsMedian: median(lag) as number, eventLoopP99MsMax: Math.max(...lag) } : {}),
        ...(lagMax.length > 0 ? { eventLoopMaxMs: Math.max(...lagMax) } : {}),
      };
    });
    const growths = processes
      .filter((p) => p.process in this.metricsUrls)
      .flatMap((p) => (p.rssGrowthPct === undefined ? [] : [p.rssGrowthPct]));
    return {
      durationMs: run.durationMs,
      ratePerSec: run.ratePerSec,
      warmupMs: run.warmupMs,
      sampleEveryMs: this.everyMs,
      rssGrowthBoundPct: run.rssGrowthBoundPct,
      lost: run.lost,
      servicesWithinRssBound: growths.length > 0 && growths.every((growth) => growth <= run.rssGrowthBoundPct),
      metricsScrapeFailures: this.scrapeFailures,
      processes,
      samples: this.samples,
    };
  }
}
