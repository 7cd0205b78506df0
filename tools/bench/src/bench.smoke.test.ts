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
import { formatReport } from './report';
import { runBenchmarks, type BenchReport } from './run-benchmarks';

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

test('a tiny run of every benchmark moves every message and yields a well-formed report', { timeout: 180_000 }, async () => {
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
            ? ['ingress', 'delivery-retry', 'receipt', 'archive', 'media-store', 'nats-server', 'bench', 'total']
            : result.name === 'delivery'
              ? ['ingress', 'delivery-retry', 'nats-server', 'bench', 'total']
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

  assert.throws(() => parseBenchArgs(['--only', 'nope']), UsageError);
  assert.throws(() => parseBenchArgs(['--service-env', 'lower=1']), UsageError);
  assert.throws(() => parseBenchArgs(['--frobnicate']), UsageError);
  assert.deepEqual(parseBenchArgs(['--help']), { help: true });
});
