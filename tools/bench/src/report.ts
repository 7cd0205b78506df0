import type { ArchiveFigures, BenchmarkResult, SoakFigures } from './benchmark-result';
import type { PhaseResult } from './phase';
import type { BenchReport } from './run-benchmarks';
import { offeredLabel, formatMarkdownSummary } from './summary-table';

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2));

function phaseRow(phase: PhaseResult): string[] {
  const { items, latencyMs, requestLatencyMs } = phase;
  const offered =
    phase.offeredItemsPerSec !== undefined
      ? String(Math.round(phase.offeredItemsPerSec))
      : phase.load.kind === 'closed-loop'
        ? 'closed'
        : '';
  return [
    phase.label,
    offered,
    String(items.expected),
    String(items.completed),
    String(items.failed),
    String(items.notCompletedWithinDrain),
    phase.throughputPerSec.toFixed(1),
    ms(latencyMs.p50),
    ms(latencyMs.p95),
    ms(latencyMs.p99),
    ms(latencyMs.max),
    phase.answeredCallsPerSec.toFixed(1),
    ms(requestLatencyMs.p50),
    ms(requestLatencyMs.p99),
  ];
}

const PHASE_HEADER = ['phase', 'offered/s', 'items', 'done', 'failed', 'not done', 'thr/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'];

/** The call that starts an item: its answers per second and answer latency. */
const REQUEST_COLUMNS: Record<BenchmarkResult['name'], [string, string, string]> = {
  baseline: ['acks/s', 'ack p50', 'ack p99'],
  delivery: ['rpcs/s', 'rpc p50', 'rpc p99'],
  'webhook-ingest': ['posts/s', 'http p50', 'http p99'],
  'full-loop': ['rpcs/s', 'rpc p50', 'rpc p99'],
  soak: ['rpcs/s', 'rpc p50', 'rpc p99'],
  media: ['', '', ''],
  verification: ['rpcs/s', 'rpc p50', 'rpc p99'],
  archive: ['', '', ''],
};

function formatArchive(figures: ArchiveFigures): string[] {
  const c = figures.corpus;
  const o = figures.overall;
  const lines = [
    `  corpus: ${c.messages} messages of ${c.tenants} tenants (${c.benchTenantMessages} the bench tenant's), ${c.fileMb} MB SQLite file`,
    `  ingest: record path ${figures.recordPath.eventsPerSec} events/s (p50 ${ms(figures.recordPath.p50Ms)} ms, p99 ${ms(figures.recordPath.p99Ms)} ms per event, ${figures.recordPath.events} events); through the consumers ${figures.consumers.eventsPerSec} events/s (${figures.consumers.events} events); seeding ${figures.seed.eventsPerSec} events/s in batches`,
    '',
  ];
  const header = ['query', 'hits', 'gRPC p50', 'gRPC p99', 'search p50', 'search p99', 'index p50', 'index p99', 'bare p50', 'bare p99'];
  const rows = figures.queries.map((q) => [
    q.label,
    String(q.hits),
    ms(q.grpcP50Ms),
    ms(q.grpcP99Ms),
    ms(q.searchP50Ms),
    ms(q.searchP99Ms),
    ms(q.indexP50Ms),
    ms(q.indexP99Ms),
    q.bareP50Ms === undefined ? 'n/a' : ms(q.bareP50Ms),
    q.bareP99Ms === undefined ? 'n/a' : ms(q.bareP99Ms),
  ]);
  rows.push([
    'all with a bare equivalent',
    '',
    ms(o.grpcP50Ms),
    ms(o.grpcP99Ms),
    ms(o.searchP50Ms),
    ms(o.searchP99Ms),
    ms(o.indexP50Ms),
    ms(o.indexP99Ms),
    ms(o.bareP50Ms),
    ms(o.bareP99Ms),
  ]);
  lines.push(...table(header, rows).map((line) => `  ${line}`));
  lines.push('', `  SearchMessages over gRPC / bare FTS5 MATCH: p50 x${o.grpcToBareP50}, p99 x${o.grpcToBareP99}`);
  return lines;
}

/** CPU ms per completed item, one row per phase, one column per process (and the total). */
function formatCpu(phases: readonly PhaseResult[]): string[] {
  const measured = phases.filter((phase) => phase.cpu && phase.cpu.length > 0);
  if (measured.length === 0) return [];
  const processes = [...new Set(measured.flatMap((phase) => (phase.cpu ?? []).map((row) => row.process)))];
  const rows = measured.map((phase) => [
    phase.label,
    ...processes.map((name) => {
      const row = phase.cpu?.find((candidate) => candidate.process === name);
      return row ? row.msPerItem.toFixed(3) : '';
    }),
  ]);
  return [
    '',
    "  CPU ms per completed item (user + system, first send to end of drain; simulator = the WhatsApp simulator's own process, bench = the load generator and observers):",
    ...table(['phase', ...processes], rows).map((line) => `  ${line}`),
  ];
}

function formatSoak(soak: SoakFigures): string[] {
  const value = (v: number | undefined, digits = 1) => (v === undefined ? 'n/a' : v.toFixed(digits));
  const rows = soak.processes.map((p) => [
    p.process,
    value(p.rssMiBAfterWarmup),
    value(p.rssMiBEnd),
    value(p.rssMiBMax),
    p.rssGrowthPct === undefined ? 'n/a' : `${p.rssGrowthPct >= 0 ? '+' : ''}${p.rssGrowthPct.toFixed(1)} %`,
    value(p.eventLoopP99MsMedian, 2),
    value(p.eventLoopP99MsMax, 2),
    value(p.eventLoopMaxMs, 2),
  ]);
  return [
    '',
    `  soak: ${soak.samples.length} samples every ${soak.sampleEveryMs / 1000} s; RSS growth after the first ${soak.warmupMs / 1000} s (bound ${soak.rssGrowthBoundPct} %): ${soak.servicesWithinRssBound ? 'every service within' : 'NOT every service within'}; lost messages: ${soak.lost}${soak.metricsScrapeFailures > 0 ? `; ${soak.metricsScrapeFailures} /metrics scrapes failed` : ''}`,
    ...table(
      [
        'process',
        'RSS MiB after warmup',
        'RSS MiB end',
        'RSS MiB max',
        'growth',
        'loop p99 ms (median)',
        'loop p99 ms (max)',
        'loop max ms',
      ],
      rows,
    ).map((line) => `  ${line}`),
  ];
}

function formatBenchmark(result: BenchmarkResult): string[] {
  const lines = [`${result.title}  (${(result.elapsedMs / 1000).toFixed(1)} s)`];
  lines.push(...result.method.map((sentence) => `  - ${sentence}`));
  if (result.warmup) {
    const w = result.warmup;
    lines.push(
      `  warmup: ${w.durationMs} ms at ${w.ratePerSec}/s, ${w.completed} done, ${w.failed + w.notCompletedWithinDrain} failed or not done (not measured)`,
    );
  }
  if (result.preparation && Object.keys(result.preparation).length > 0) {
    lines.push(
      `  preparation: ${Object.entries(result.preparation)
        .map(([key, value]) => `${key} ${value}`)
        .join(', ')}`,
    );
  }
  if (result.phases.length > 0) {
    lines.push('');
    lines.push(...table([...PHASE_HEADER, ...REQUEST_COLUMNS[result.name]], result.phases.map(phaseRow)).map((line) => `  ${line}`));
  }
  lines.push(...formatCpu(result.phases));
  if (result.transfers && result.transfers.length > 0) {
    lines.push('');
    const header = ['size', 'count', 'upload MB/s', 'raw write MB/s', 'download MB/s', 'raw read MB/s'];
    const rows = result.transfers.map((t) => [
      t.id,
      String(t.count),
      String(t.uploadMBps),
      String(t.rawWriteMBps),
      String(t.downloadMBps),
      String(t.rawReadMBps),
    ]);
    lines.push(...table(header, rows).map((line) => `  ${line}`));
  }
  if (result.archive) lines.push('', ...formatArchive(result.archive));
  if (result.soak) lines.push(...formatSoak(result.soak));
  const extras = result.phases.flatMap((phase) => {
    const notes = [
      ...phase.errors.map((error) => `${error.count}x ${error.reason}`),
      ...Object.entries(phase.counters).map(([name, count]) => `${count}x ${name}`),
      ...(phase.items.unexpected > 0 ? [`${phase.items.unexpected} unexpected or duplicate completions`] : []),
      ...(phase.generator.maxIssueLagMs > 100 ? [`sends started up to ${ms(phase.generator.maxIssueLagMs)} ms late (back-pressure)`] : []),
    ];
    return notes.length > 0 ? [`  ${phase.label}: ${notes.join('; ')}`] : [];
  });
  if (extras.length > 0) lines.push('', ...extras);
  if (result.runs && result.runs.length > 1) {
    lines.push(
      '',
      `  ${result.runs.length} runs (load average before each: ${result.runs.map((run) => run.loadAverage1mBefore).join(', ')}); each phase above is its median run by throughput:`,
    );
    lines.push(
      ...table(
        ['phase', 'median run', 'thr/s min', 'thr/s max', 'p99 ms min', 'p99 ms max'],
        result.phases.flatMap((phase) =>
          phase.spread
            ? [
                [
                  offeredLabel(result, phase),
                  `${phase.spread.medianRun} of ${phase.spread.runs}`,
                  phase.spread.throughputPerSec.min.toFixed(1),
                  phase.spread.throughputPerSec.max.toFixed(1),
                  ms(phase.spread.p99Ms.min),
                  ms(phase.spread.p99Ms.max),
                ],
              ]
            : [],
        ),
      ).map((line) => `  ${line}`),
    );
  }
  if (result.comparisons && result.comparisons.length > 0) {
    lines.push('', '  compared with the baseline at the same load (platform / baseline):');
    lines.push(
      ...table(
        ['phase', 'throughput', 'p50 latency', 'p99 latency'],
        result.comparisons.map((c) => [
          result.phases.find((phase) => phase.id === c.phaseId)?.label ?? c.phaseId,
          `x${c.throughputRatio.toFixed(2)}`,
          `x${c.p50LatencyRatio}`,
          `x${c.p99LatencyRatio}`,
        ]),
      ).map((line) => `  ${line}`),
    );
  }
  if (result.error) lines.push('', `  FAILED: ${result.error.split('\n').join('\n    ')}`);
  return lines;
}

/** The human-readable report printed at the end of `npm run bench`. */
export function formatReport(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `Waygate benchmarks (${report.profile.name} profile), ${report.startedAt}, ${(report.elapsedMs / 1000).toFixed(1)} s`,
    `machine: ${m.cpus} cores (${m.cpuModel}), ${Math.round(m.totalMemoryMb / 1024)} GB, ${m.os}, node ${m.node}, ${m.natsServer}`,
    `load average (1 min) before each benchmark${(report.runs ?? 1) > 1 ? `'s first run (each run's: see its benchmark)` : ''}: ${Object.entries(
      report.loadAverage1mBefore,
    )
      .map(([name, load]) => `${name} ${load}`)
      .join(', ')} (well above 0 means other processes shared the CPUs)`,
    `latency is measured from each item's scheduled start; thr/s = completed items per second from the first scheduled start to the last completion; "not done" = not completed within the ${report.profile.drainTimeoutMs / 1000} s drain timeout`,
  ];
  if (Object.keys(report.serviceEnv).length > 0) {
    lines.push(
      `service environment overrides: ${Object.entries(report.serviceEnv)
        .map(([key, value]) => `${key}=${value}`)
        .join(' ')}`,
    );
  }
  for (const result of report.benchmarks) lines.push('', ...formatBenchmark(result));
  lines.push('', 'Summary (Markdown, also written next to the JSON report as .md):', '', formatMarkdownSummary(report));
  return `${lines.join('\n')}`;
}
