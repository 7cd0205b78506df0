import type { BenchmarkResult } from './benchmark-result';
import type { PhaseResult } from './phase';
import type { BenchReport } from './run-benchmarks';

/** How each benchmark with phases is named in the summary's first column (the README's Benchmarks table). */
const PATH_NAMES: Partial<Record<BenchmarkResult['name'], string>> = {
  baseline: 'JetStream baseline',
  delivery: 'delivery path',
  'webhook-ingest': 'webhook ingest',
  'full-loop': 'full loop',
  verification: 'verification',
  soak: 'soak (full loop)',
};

/** The processes of the CPU table in this order; any other process follows them, `total` comes last. */
const PROCESS_ORDER = ['ingress', 'delivery-retry', 'receipt', 'archive', 'media-store', 'nats-server', 'simulator', 'bench'];

const thousands = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
/** Items per second: whole numbers from 100 up (with thousands separators), one decimal below. */
const rate = (value: number) => thousands(value, value >= 100 ? 0 : 1);
/** Milliseconds with a precision that suits their size. */
const ms = (value: number) => (value >= 100 ? thousands(value) : value.toFixed(value >= 10 ? 1 : 2));
const ratio = (value: number) => `x${value >= 10 ? value.toFixed(0) : value >= 1 ? value.toFixed(1) : value.toFixed(2)}`;

function markdownTable(header: readonly string[], alignRight: readonly boolean[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(alignRight.map((right) => (right ? '---:' : '---'))), ...rows.map(line)];
}

/** The phase's load as the README writes it: `1,000/s`, `3,000/s, 25 per POST`, `max (128 in flight)`. */
export function offeredLabel(result: BenchmarkResult, phase: PhaseResult): string {
  if (phase.load.kind === 'closed-loop') return `max (${phase.load.concurrency} in flight)`;
  const offered = `${thousands(phase.offeredItemsPerSec ?? phase.load.ratePerSec)}/s`;
  return result.name === 'webhook-ingest' ? `${offered}, ${phase.itemsPerSend} per POST` : offered;
}

function phasedBenchmarks(report: BenchReport): { result: BenchmarkResult; path: string }[] {
  return report.benchmarks.flatMap((result) => {
    const path = PATH_NAMES[result.name];
    return path && result.phases.length > 0 ? [{ result, path }] : [];
  });
}

/**
 * The summary as Markdown, in the shape of the README's Benchmarks table: one row per benchmark phase (sustained
 * rate, latency, the HTTP answer for webhooks, the ratios to the baseline phase of the same load, CPU ms per message
 * and the load average before the run), then CPU ms per message per process. With `--runs N` every figure is the
 * median run's (by throughput) and a column gives the spread.
 */
export function formatMarkdownSummary(report: BenchReport): string {
  const runs = report.runs ?? 1;
  const benchmarks = phasedBenchmarks(report);
  const lines = [
    `Waygate benchmarks, ${report.startedAt.slice(0, 10)}: ${report.machine.cpus} cores (${report.machine.cpuModel}), node ${report.machine.node}, ${report.machine.natsServer}; ${report.profile.name} profile${runs > 1 ? `; median of ${runs} runs by throughput` : ''}.`,
    '',
  ];
  const header = [
    'path',
    'offered',
    'sustained/s',
    'p50 ms',
    'p99 ms',
    'HTTP answer p99 ms',
    'vs baseline (throughput, p99)',
    'CPU ms/msg',
    'load avg',
  ];
  if (runs > 1) header.push(`spread over ${runs} runs (throughput, p99 ms)`);
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const { result, path } of benchmarks) {
    for (const phase of result.phases) {
      const comparison = result.comparisons?.find((c) => c.phaseId === phase.id);
      const total = phase.cpu?.find((row) => row.process === 'total');
      const load = phase.spread?.loadAverage1mBefore ?? report.loadAverage1mBefore[result.name];
      const row = [
        path,
        offeredLabel(result, phase),
        rate(phase.throughputPerSec),
        ms(phase.latencyMs.p50),
        ms(phase.latencyMs.p99),
        result.name === 'webhook-ingest' ? ms(phase.requestLatencyMs.p99) : '-',
        result.name === 'baseline'
          ? 'baseline'
          : comparison
            ? `${ratio(comparison.throughputRatio)}, ${ratio(comparison.p99LatencyRatio)}`
            : '-',
        total ? ms(total.msPerItem) : '-',
        load === undefined ? '-' : load.toFixed(1),
      ];
      if (runs > 1) {
        const s = phase.spread;
        row.push(
          s
            ? `${rate(s.throughputPerSec.min)}-${rate(s.throughputPerSec.max)}/s, ${ms(s.p99Ms.min)}-${ms(s.p99Ms.max)} (run ${s.medianRun} of ${s.runs})`
            : '-',
        );
      }
      rows.push(row);
      const lost = phase.items.failed + phase.items.notCompletedWithinDrain;
      if (lost > 0)
        notes.push(
          `${path}, ${offeredLabel(result, phase)}: ${phase.items.failed} of ${phase.items.expected} failed, ${phase.items.notCompletedWithinDrain} not done within the drain timeout.`,
        );
    }
  }
  if (rows.length === 0) return `${lines.join('\n')}No benchmark with phases ran.\n`;
  lines.push(
    ...markdownTable(
      header,
      header.map((_, column) => column >= 2 && column !== 6),
      rows,
    ),
  );
  if (notes.length > 0) lines.push('', ...notes);

  const measured = benchmarks.flatMap(({ result, path }) =>
    result.phases.filter((phase) => phase.cpu && phase.cpu.length > 0).map((phase) => ({ result, path, phase })),
  );
  if (measured.length > 0) {
    const seen = new Set(measured.flatMap(({ phase }) => (phase.cpu ?? []).map((row) => row.process)));
    const processes = [
      ...PROCESS_ORDER.filter((name) => seen.has(name)),
      ...[...seen].filter((name) => !PROCESS_ORDER.includes(name) && name !== 'total'),
      ...(seen.has('total') ? ['total'] : []),
    ];
    const cpuRows = measured.map(({ result, path, phase }) => [
      `${path}, ${offeredLabel(result, phase)}`,
      ...processes.map((name) => {
        const row = phase.cpu?.find((candidate) => candidate.process === name);
        return row ? ms(row.msPerItem) : '-';
      }),
    ]);
    lines.push(
      '',
      'CPU ms per message (user + system, first send to end of drain, divided by the messages completed):',
      '',
      ...markdownTable(
        ['CPU ms per message', ...processes],
        ['', ...processes].map((_, column) => column > 0),
        cpuRows,
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
