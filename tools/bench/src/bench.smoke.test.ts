/**
 * Smoke test of `npm run bench`: runs every benchmark for real (nats-server, the services as child processes, the
 * simulator) with tiny phases and checks that the report is well-formed and that every phase moved messages. It
 * asserts nothing about speed: the figures themselves belong to the script's report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { BENCHMARK_NAMES, DEFAULT_ARCHIVE_MESSAGES, QUICK_PROFILE, type BenchProfile } from './bench-options';
import { parseBenchArgs, UsageError } from './cli-args';
import type { BenchmarkResult, BenchmarkRun } from './benchmark-result';
import type { PhaseResult } from './phase';
import { formatReport } from './report';
import { runBenchmarks, type BenchReport } from './run-benchmarks';
import { combineRuns } from './runs';
import { formatMarkdownSummary } from './summary-table';

const TINY_PROFILE: BenchProfile = {
  ...QUICK_PROFILE,
  name: 'custom',
  warmupMs: 100,
  phaseMs: 300,
  webhookPhaseMs: 300,
  fullLoopPhaseMs: 300,
  // Generous: a loaded CI machine may be slow, and a message that never arrives must fail the test, not a timer.
  drainTimeoutMs: 30_000,
  archiveMessages: 1000,
  archiveIngestEvents: 100,
  archiveQueryRepeats: 2,
};

test('a tiny run of every benchmark moves every message and yields a well-formed report', { timeout: 420_000 }, async () => {
  const report: BenchReport = await runBenchmarks({ profile: TINY_PROFILE, only: [], serviceEnv: {} }, () => undefined);

  assert.equal(report.schemaVersion, 1);
  assert.ok(report.machine.cpus > 0 && report.machine.node.startsWith('v'));
  assert.deepEqual(
    report.benchmarks.map((result) => result.name),
    [...BENCHMARK_NAMES],
  );
  const expectedPhases: Record<string, string[]> = {
    baseline: ['rate-100', 'rate-1000', 'max'],
    delivery: ['rate-100', 'rate-1000', 'max'],
    'webhook-ingest': ['rate-1000-batch-1', 'rate-1000-batch-25', 'rate-3000-batch-1', 'rate-3000-batch-25'],
    'full-loop': ['rate-100', 'rate-500', 'max'],
    media: [],
    verification: ['rate-100'],
    archive: [],
  };
  for (const result of report.benchmarks) {
    assert.equal(result.error, undefined, `${result.name}: ${result.error}`);
    if (result.name === 'archive') {
      const archive = result.archive;
      assert.ok(archive, 'the archive benchmark reports its figures');
      assert.ok(archive.corpus.messages >= TINY_PROFILE.archiveMessages, 'the corpus was seeded');
      assert.ok(archive.recordPath.eventsPerSec > 0 && archive.consumers.eventsPerSec > 0 && archive.seed.eventsPerSec > 0);
      assert.ok(archive.queries.length > 0 && archive.queries.some((query) => query.hits > 0), 'searches found messages');
      for (const query of archive.queries) assert.ok(query.grpcP50Ms > 0 && query.searchP50Ms > 0 && query.indexP50Ms > 0, query.label);
      assert.ok(archive.overall.bareP50Ms > 0 && archive.overall.grpcToBareP50 > 0, 'SearchMessages is compared with a bare FTS5 MATCH');
      continue;
    }
    if (result.name === 'media') {
      assert.deepEqual(
        result.transfers?.map((transfer) => transfer.id),
        ['1MiB', '50MiB'],
      );
      for (const transfer of result.transfers ?? [])
        assert.ok(transfer.uploadMBps > 0 && transfer.downloadMBps > 0 && transfer.rawWriteMBps > 0);
      continue;
    }
    assert.ok(result.warmup && result.warmup.completed > 0, `${result.name} warmed up`);
    assert.deepEqual(
      result.phases.map((phase) => phase.id),
      expectedPhases[result.name],
    );
    for (const phase of result.phases) {
      const where: string = `${result.name} ${phase.id}`;
      assert.ok(phase.items.completed > 0, `${where} moved messages`);
      assert.equal(phase.items.failed, 0, `${where}: ${JSON.stringify(phase.errors)}`);
      assert.equal(phase.items.completed, phase.items.expected, `${where}: every item completed`);
      assert.equal(phase.items.unexpected, 0, `${where}: nothing arrived twice`);
      assert.equal(phase.latencyMs.count, phase.items.completed);
      assert.ok(phase.throughputPerSec > 0 && phase.latencyMs.p50 > 0 && phase.latencyMs.p50 <= phase.latencyMs.p99, where);
      assert.ok(phase.latencyMs.p99 <= phase.latencyMs.max, where);
      assert.ok(phase.answeredCallsPerSec > 0 && phase.requestLatencyMs.count > 0, `${where}: calls were answered`);
      if (['delivery', 'webhook-ingest', 'full-loop'].includes(result.name)) {
        const cpu = new Map((phase.cpu ?? []).map((row) => [row.process, row]));
        const processes: string[] =
          result.name === 'full-loop'
            ? ['ingress', 'delivery-retry', 'receipt', 'archive', 'media-store', 'nats-server', 'simulator', 'bench', 'total']
            : result.name === 'delivery'
              ? ['ingress', 'delivery-retry', 'nats-server', 'simulator', 'bench', 'total']
              : ['receipt', 'nats-server', 'bench', 'total'];
        assert.deepEqual([...cpu.keys()], processes, `${where}: CPU of every process`);
        assert.ok((cpu.get('total')?.msPerItem ?? 0) > 0, `${where}: CPU per message measured`);
      }
    }
  }
  const webhookPhases = report.benchmarks[2].phases;
  assert.deepEqual(
    webhookPhases.map((phase) => phase.itemsPerSend),
    [1, 25, 1, 25],
  );
  assert.ok((report.benchmarks[2].preparation?.seededWamids ?? 0) > 0, 'receipt learned wamids before the phases');
  assert.deepEqual(
    report.benchmarks[1].comparisons?.map((comparison) => comparison.phaseId),
    ['rate-100', 'rate-1000', 'max'],
    'delivery is compared with the baseline phase by phase',
  );

  assert.deepEqual(JSON.parse(JSON.stringify(report)), report, 'the report survives JSON');
  const text = formatReport(report);
  for (const result of report.benchmarks) assert.ok(text.includes(result.title), `the printed report has ${result.name}`);
  assert.match(text, /compared with the baseline/);
  assert.match(text, /CPU ms per completed item/);

  // The summary: one Markdown row per phase of every benchmark with phases, in the README's shape, then CPU per process.
  const markdown = formatMarkdownSummary(report);
  assert.ok(text.includes(markdown), 'the printed report ends with the Markdown summary');
  const summaryRows = markdownRows(markdown, '| path |');
  assert.deepEqual(
    summaryRows.map((row) => `${row[0]} ${row[1]}`),
    [
      'JetStream baseline 100/s',
      'JetStream baseline 1,000/s',
      'JetStream baseline max (128 in flight)',
      'delivery path 100/s',
      'delivery path 1,000/s',
      'delivery path max (128 in flight)',
      'webhook ingest 1,000/s, 1 per POST',
      'webhook ingest 1,000/s, 25 per POST',
      'webhook ingest 3,000/s, 1 per POST',
      'webhook ingest 3,000/s, 25 per POST',
      'full loop 100/s',
      'full loop 500/s',
      'full loop max (128 in flight)',
      'verification 100/s',
    ],
  );
  for (const row of summaryRows) {
    assert.equal(row.length, 9, `${row[0]} ${row[1]}: every column`);
    assert.match(row[2], /^[\d,.]+$/, `${row[0]} ${row[1]}: sustained/s`);
    assert.equal(row[5] !== '-', row[0] === 'webhook ingest', `${row[0]} ${row[1]}: HTTP answer p99 on webhook rows only`);
    if (row[0] !== 'verification') assert.match(row[7], /^[\d,.]+$/, `${row[0]} ${row[1]}: CPU ms per message`);
    assert.match(row[8], /^\d+\.\d$/, `${row[0]} ${row[1]}: load average`);
  }
  const vsBaseline = new Map(summaryRows.map((row) => [`${row[0]} ${row[1]}`, row[6]]));
  assert.match(vsBaseline.get('delivery path 1,000/s') ?? '', /^x[\d.]+, x[\d.]+$/, 'delivery against the baseline at 1,000/s');
  assert.match(
    vsBaseline.get('full loop max (128 in flight)') ?? '',
    /^x[\d.]+, x[\d.]+$/,
    'the full loop against the closed-loop baseline',
  );
  assert.equal(vsBaseline.get('full loop 500/s'), '-', 'no baseline phase at 500/s');
  const cpuRows = markdownRows(markdown, '| CPU ms per message |');
  const cpuHeader = markdown.split('\n').find((line) => line.startsWith('| CPU ms per message |')) ?? '';
  assert.match(
    cpuHeader,
    /\| ingress \| delivery-retry \| receipt \| archive \| media-store \| nats-server \| simulator \| bench \| total \|$/,
  );
  for (const label of ['delivery path, 100/s', 'delivery path, max (128 in flight)', 'full loop, 500/s'])
    assert.ok(
      cpuRows.some((row) => row[0] === label),
      `CPU row ${label}`,
    );
});

/** The body rows of the Markdown table whose header line starts with `headerStart`, as cells. */
function markdownRows(markdown: string, headerStart: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.startsWith(headerStart));
  assert.ok(start >= 0, `a table starting ${headerStart}`);
  assert.match(lines[start + 1], /^\| (---:?|---) \|/, 'a Markdown separator row');
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(2, -2)
        .split(' | ')
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

test('--runs: every run is kept, each phase shows its median run by throughput with the spread', { timeout: 120_000 }, async () => {
  const report = await runBenchmarks({ profile: TINY_PROFILE, only: ['baseline'], serviceEnv: {}, runs: 2 }, () => undefined);
  assert.equal(report.runs, 2);
  const [baseline] = report.benchmarks;
  assert.equal(baseline.error, undefined, baseline.error);
  assert.deepEqual(
    baseline.runs?.map((run) => run.run),
    [1, 2],
  );
  for (const run of baseline.runs ?? []) {
    assert.ok(run.loadAverage1mBefore >= 0);
    assert.deepEqual(
      run.result.phases.map((phase) => phase.id),
      ['rate-100', 'rate-1000', 'max'],
    );
  }
  for (const phase of baseline.phases) {
    const spread = phase.spread;
    assert.ok(spread, `${phase.id} has a spread`);
    assert.equal(spread.runs, 2);
    const measured: PhaseResult[] = (baseline.runs ?? []).map(
      (run: BenchmarkRun) => run.result.phases.find((candidate) => candidate.id === phase.id) as PhaseResult,
    );
    const slower: PhaseResult = [...measured].sort((a, b) => a.throughputPerSec - b.throughputPerSec)[0];
    // Of two runs the lower median: the slower one's figures, never an average.
    assert.equal(phase.throughputPerSec, slower.throughputPerSec);
    assert.deepEqual(phase.latencyMs, measured[spread.medianRun - 1].latencyMs);
    assert.equal(spread.throughputPerSec.min, Math.min(...measured.map((p) => p.throughputPerSec)));
    assert.equal(spread.p99Ms.max, Math.max(...measured.map((p) => p.latencyMs.p99)));
    assert.equal(phase.items.completed, phase.items.expected, `${phase.id}: every item completed`);
  }
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report, 'the report survives JSON');
  const text = formatReport(report);
  assert.match(text, /2 runs \(load average before each: /);
  const rows = markdownRows(formatMarkdownSummary(report), '| path |');
  assert.equal(rows.length, 3);
  for (const row of rows) assert.match(row[9], /^[\d,.]+-[\d,.]+\/s, [\d,.]+-[\d,.]+ \(run [12] of 2\)$/, 'the spread column');
});

test('combineRuns: the median of three runs by throughput, a failed run fails the result', () => {
  const phase = (id: string, throughputPerSec: number, p99: number): PhaseResult => ({
    id,
    label: id,
    load: { kind: 'closed-loop', concurrency: 1 },
    durationMs: 1,
    itemsPerSend: 1,
    generator: { issued: 1, issueWindowMs: 0, maxIssueLagMs: 0 },
    items: { expected: 1, completed: 1, failed: 0, notCompletedWithinDrain: 0, unexpected: 0 },
    throughputPerSec,
    latencyMs: { count: 1, p50: p99 / 2, p95: p99, p99, max: p99, mean: p99 / 2 },
    requestLatencyMs: { count: 1, p50: 1, p95: 1, p99: 1, max: 1, mean: 1 },
    answeredCallsPerSec: throughputPerSec,
    errors: [],
    counters: {},
  });
  const run = (n: number, phases: PhaseResult[], error?: string): BenchmarkRun => {
    const result: BenchmarkResult = {
      name: 'delivery',
      title: 't',
      method: [],
      setup: {},
      phases,
      elapsedMs: 10,
      ...(error ? { error } : {}),
    };
    return { run: n, loadAverage1mBefore: n, result };
  };
  const combined = combineRuns([
    run(1, [phase('a', 300, 9), phase('b', 5, 1)]),
    run(2, [phase('a', 100, 50)]),
    run(3, [phase('a', 200, 20)], 'boom'),
  ]);
  const a = combined.phases.find((p) => p.id === 'a');
  assert.equal(a?.throughputPerSec, 200);
  assert.deepEqual(a?.spread, {
    runs: 3,
    medianRun: 3,
    throughputPerSec: { min: 100, max: 300 },
    p99Ms: { min: 9, max: 50 },
    loadAverage1mBefore: 3,
  });
  assert.equal(combined.phases.find((p) => p.id === 'b')?.spread?.runs, 1, 'a phase only one run reached');
  assert.equal(combined.elapsedMs, 30);
  assert.equal(combined.runs?.length, 3);
  assert.match(combined.error ?? '', /^run 3: boom$/);
  const single = run(1, [phase('a', 1, 1)]).result;
  assert.equal(combineRuns([{ run: 1, loadAverage1mBefore: 0, result: single }]), single, 'one run is reported as it is');
});

test('command line: profile, benchmark selection, report path and service environment', () => {
  const now = new Date('2026-11-24T10:20:30.456Z');
  const full = parseBenchArgs([], now, '/repo');
  assert.ok(!full.help);
  assert.equal(full.profile.name, 'full');
  assert.deepEqual(full.only, []);
  assert.equal(full.out, path.join('/repo', '.data', 'bench', '2026-11-24T10-20-30Z.json'));
  const million = parseBenchArgs(['--only', 'archive', '--archive-messages', '1000000'], now, '/repo');
  assert.ok(!million.help);
  assert.equal(million.profile.archiveMessages, 1_000_000);
  assert.equal(full.profile.archiveMessages, DEFAULT_ARCHIVE_MESSAGES);
  assert.throws(() => parseBenchArgs(['--archive-messages', 'lots']), UsageError);
  assert.throws(() => parseBenchArgs(['--archive-messages', '5']), UsageError);

  const quick = parseBenchArgs(
    ['--quick', '--only', 'baseline,delivery', '--out', 'r.json', '--service-env', 'WAYGATE_DELIVERY_CONCURRENCY=64'],
    now,
    '/repo',
  );
  assert.ok(!quick.help);
  assert.equal(quick.profile.name, 'quick');
  assert.deepEqual(quick.only, ['baseline', 'delivery']);
  assert.equal(quick.out, path.join('/repo', 'r.json'));
  assert.deepEqual(quick.serviceEnv, { WAYGATE_DELIVERY_CONCURRENCY: '64' });

  const soak = parseBenchArgs(['--soak', '10m', '--full-loop-phase', '45s'], now, '/repo');
  assert.ok(!soak.help);
  assert.equal(soak.soakMs, 600_000);
  assert.equal(soak.profile.fullLoopPhaseMs, 45_000);
  assert.equal(full.soakMs, undefined);
  assert.throws(() => parseBenchArgs(['--soak', 'ten minutes']), UsageError);
  assert.throws(() => parseBenchArgs(['--soak', '1s']), UsageError, 'a soak shorter than 10 s says nothing');
  assert.throws(() => parseBenchArgs(['--soak', '1m', '--only', 'delivery']), UsageError, 'the soak runs alone');
  assert.equal(soak.soakRatePerSec, undefined, 'the soak runs at 300/s unless told');
  const slower = parseBenchArgs(['--soak', '10m', '--soak-rate', '80'], now, '/repo');
  assert.ok(!slower.help);
  assert.equal(slower.soakRatePerSec, 80);
  assert.throws(() => parseBenchArgs(['--soak-rate', '80']), UsageError, '--soak-rate needs --soak');
  assert.throws(() => parseBenchArgs(['--soak', '1m', '--soak-rate', '0']), UsageError);

  assert.throws(() => parseBenchArgs(['--only', 'nope']), UsageError);
  assert.throws(() => parseBenchArgs(['--service-env', 'lower=1']), UsageError);
  assert.throws(() => parseBenchArgs(['--frobnicate']), UsageError);
  assert.deepEqual(parseBenchArgs(['--help']), { help: true });

  assert.equal(full.runs, 1);
  const three = parseBenchArgs(['--only', 'delivery', '--runs', '3'], now, '/repo');
  assert.ok(!three.help);
  assert.equal(three.runs, 3);
  assert.throws(() => parseBenchArgs(['--runs', '0']), UsageError);
  assert.throws(() => parseBenchArgs(['--runs', '2.5']), UsageError);
  assert.throws(() => parseBenchArgs(['--soak', '1m', '--runs', '3']), UsageError, 'a soak is one run');
});
