import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { METRIC_HTTP_SERVER_REQUEST_DURATION } from '@opentelemetry/semantic-conventions';

/** The OTel instrument kinds Waygate's code creates (`meter.create<Kind>(name, ...)`). */
export type InstrumentKind =
  'Counter' | 'UpDownCounter' | 'Histogram' | 'Gauge' | 'ObservableGauge' | 'ObservableCounter' | 'ObservableUpDownCounter';

export interface Instrument {
  readonly name: string;
  readonly kind: InstrumentKind;
  /** Where it comes from: a source file, a library, or why it is assumed. */
  readonly source: string;
}

/** Where a Prometheus series name comes from. */
export type Provenance = 'source' | 'library' | 'prometheus' | 'assumed';

/**
 * Instruments that the dashboard and the alerts need but no code emits yet: the issue asks for alerts on webhook
 * processing lag and callback dead letters, and for statuses and throughput per tenant, and no metric carries those
 * today. Names follow the existing `waygate.<area>.<what>` scheme; deploy/README.md lists them for whoever adds them.
 * The tests report every assumed name a panel or alert uses.
 */
export const ASSUMED_INSTRUMENTS: readonly Instrument[] = [];

/** Instruments created by libraries the services start (telemetry-sdk registers HttpInstrumentation). */
export const LIBRARY_INSTRUMENTS: readonly Instrument[] = [
  {
    name: METRIC_HTTP_SERVER_REQUEST_DURATION,
    kind: 'Histogram',
    source: '@opentelemetry/instrumentation-http (webhook and HTTP endpoints)',
  },
];

/** Series Prometheus itself adds to every scrape target. */
const PROMETHEUS_SERIES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'];
/** Series OTel's Prometheus exporter adds itself (the resource's attributes). */
const EXPORTER_SERIES = ['target_info'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.split(path.sep).includes('generated'))
    .map((file) => path.join(dir, file));
}

/**
 * Every instrument the services' code creates: `.create<Kind>('<name>'` in apps/<app>/src and libs/<lib>/src (tests
 * excluded). A name built at run time would not be found, so the scan refuses a `.create<Kind>(` without a literal.
 */
export function discoverSourceInstruments(repoRoot: string): Instrument[] {
  const instruments: Instrument[] = [];
  for (const top of ['apps', 'libs']) {
    for (const project of readdirSync(path.join(repoRoot, top))) {
      const src = path.join(repoRoot, top, project, 'src');
      let files: string[];
      try {
        files = sourceFiles(src);
      } catch {
        continue;
      }
      for (const file of files) {
        const text = readFileSync(file, 'utf8');
        for (const match of text.matchAll(
          /\.create(Counter|UpDownCounter|Histogram|Gauge|ObservableGauge|ObservableCounter|ObservableUpDownCounter)\(\s*([^,)]*)/g,
        )) {
          const literal = /^'([^']+)'$|^"([^"]+)"$/.exec(match[2].trim());
          const where = path.relative(repoRoot, file);
          if (!literal)
            throw new Error(`${where}: instrument name is not a string literal (${match[2].trim()}); the metric catalog cannot see it`);
          instruments.push({ name: literal[1] ?? literal[2], kind: match[1] as InstrumentKind, source: where });
        }
      }
    }
  }
  return instruments;
}

/**
 * The Prometheus series names OTel's Prometheus exporter renders for these instruments, found by running the real
 * exporter over them (dots -> underscores, monotonic counters + `_total`, histograms as `_bucket`/`_sum`/`_count`).
 */
export async function prometheusNames(instruments: readonly Instrument[]): Promise<Map<string, Instrument>> {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  const meter = provider.getMeter('metric-catalog');
  for (const { name, kind } of instruments) {
    if (kind === 'Counter') meter.createCounter(name).add(1);
    else if (kind === 'UpDownCounter') meter.createUpDownCounter(name).add(1);
    else if (kind === 'Histogram') meter.createHistogram(name).record(1);
    else if (kind === 'Gauge') meter.createGauge(name).record(1);
    else if (kind === 'ObservableGauge') meter.createObservableGauge(name).addCallback((result) => result.observe(1));
    else if (kind === 'ObservableCounter') meter.createObservableCounter(name).addCallback((result) => result.observe(1));
    else meter.createObservableUpDownCounter(name).addCallback((result) => result.observe(1));
  }
  const { resourceMetrics, errors } = await exporter.collect();
  if (errors.length > 0) throw new Error(`collecting failed: ${String(errors[0])}`);
  const text = new PrometheusSerializer().serialize(resourceMetrics);
  await provider.shutdown();
  const byPrometheusName = new Map<string, Instrument>();
  // target_info (the resource's attributes) is the exporter's own family, not one of the instruments.
  const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].filter(([, family]) => family !== 'target_info');
  // One family per instrument, in creation order (the exporter keeps it); checked so a rename cannot misattribute.
  if (families.length !== instruments.length)
    throw new Error(`expected ${instruments.length} metric families, the exporter rendered ${families.length}`);
  families.forEach(([, family, type], index) => {
    const names = type === 'histogram' ? [`${family}_bucket`, `${family}_sum`, `${family}_count`] : [family];
    for (const name of names) byPrometheusName.set(name, instruments[index]);
  });
  return byPrometheusName;
}

/** Every series name a dashboard or alert may use, with where it comes from. */
export async function loadMetricCatalog(repoRoot: string): Promise<Map<string, Provenance>> {
  const catalog = new Map<string, Provenance>();
  for (const name of PROMETHEUS_SERIES) catalog.set(name, 'prometheus');
  for (const name of EXPORTER_SERIES) catalog.set(name, 'library');
  for (const [provenance, instruments] of [
    ['assumed', ASSUMED_INSTRUMENTS],
    ['library', LIBRARY_INSTRUMENTS],
    ['source', discoverSourceInstruments(repoRoot)],
  ] as const) {
    for (const name of (await prometheusNames(instruments)).keys()) catalog.set(name, provenance);
  }
  return catalog;
}

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads: strings, label matchers, ranges, grouping label lists and Grafana
 * variables removed, then every identifier that is not a function call or a keyword.
 */
export function promqlMetricNames(expression: string): string[] {
  const stripped = expression
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?[\w:]+\}?/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = stripped.slice((match.index ?? 0) + match[0].length);
    if (/^\s*\(/.test(rest) || PROMQL_KEYWORDS.has(match[0].toLowerCase())) continue;
    if (/^\d/.test(match[0])) continue;
    names.add(match[0]);
  }
  return [...names];
}
