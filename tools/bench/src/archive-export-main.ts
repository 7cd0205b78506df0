/**
 * The export figure of issue 13: archives N messages (default 100,000) into a SQLite archive through its real
 * consumers, exports them through the real ExportConversations RPC with the real command (`npm run archive -- export`,
 * a child process), and reports the export's duration, the bundle's size, and the peak RSS of the archive process
 * during the export and of the command. A script, not a test: it asserts only that the bundle verified.
 *
 *   npx tsx tools/bench/src/archive-export-main.ts [--messages 100000] [--conversations 1000] [--archive-heap-mib N]
 *     [--out report.json]
 *
 * It exports twice: the first tenth of the messages (by --to), then all of them. Peak RSS is Linux's VmHWM
 * (/proc/<pid>/status). The archive's is reset (clear_refs 5) right before each export, so it is that export's peak,
 * not the ingest's; the command's is sampled every 20 ms until it exits. With bounded memory both peaks are alike.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { connectJetStream, publishEvent, regionStreams, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import { ContentType, InboundMessageReceived, MessageAccepted, MessageStatus, MessageStatusChanged, StatusSource } from '@waygate/proto';
import { createTempDir, freePort, startNatsServer, tsxEntryCommand, waitFor } from '@waygate/testing';
import { BENCH_REGION, BENCH_TENANT, benchTenantsYaml, serviceBaseEnv } from './benchmarks/bench-tenant';
import { cleanUpEverything, withCleanup } from './cleanup';
import { startService } from './service-process';

const write = (line: string) => process.stdout.write(`${line}\n`);

function numberOption(argv: string[], name: string, fallback: number): number {
  const index = argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(argv[index + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}

/** VmHWM (peak resident set) or VmRSS of a process, in MiB; undefined once it has gone. */
function memoryMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : undefined;
  } catch {
    return undefined;
  }
}

const SAMPLE_TEXTS = [
  'Hallo, wann kommt meine Bestellung? Die Sendungsnummer funktioniert nicht.',
  'Thanks! Could you also send the invoice as a PDF, please?',
  'Здравствуйте, я хотел бы изменить адрес доставки.',
  '你好，我的订单什么时候发货？',
  'Bonjour, le colis est arrivé abîmé, que dois-je faire ?',
];

/** Publishes message `i` (even: the customer writes; odd: the business answers, then Meta reports it delivered). */
async function publishMessage(js: JetStreamConnection['js'], i: number, conversations: number): Promise<void> {
  const subjects = regionSubjects(BENCH_REGION);
  const customer = `+49151${String(10_000_000 + (i % conversations)).padStart(8, '0')}`;
  // Spread over 30 days, in order.
  const at = new Date(Date.UTC(2025, 5, 1) + i * 25_000);
  const text = `${SAMPLE_TEXTS[i % SAMPLE_TEXTS.length]} #${i}`;
  if (i % 2 === 0) {
    const waMessageId = `wamid.bench-in-${i}`;
    const event = InboundMessageReceived.fromPartial({
      eventId: `wa:in:${waMessageId}`,
      tenantId: BENCH_TENANT.id,
      phoneNumberId: BENCH_TENANT.phoneNumberId,
      from: customer,
      waMessageId,
      occurredAt: at,
      type: 'text',
      text,
      contentJson: JSON.stringify({ body: text }),
      serviceWindowClosesAt: new Date(at.getTime() + 86_400_000),
    });
    await publishEvent(js, subjects.inboundEvents, InboundMessageReceived.encode(event).finish(), event.eventId);
    return;
  }
  const messageId = `msg_bench_${String(i).padStart(10, '0')}`;
  const accepted = MessageAccepted.fromPartial({
    tenantId: BENCH_TENANT.id,
    messageId,
    to: customer,
    phoneNumberId: BENCH_TENANT.phoneNumberId,
    content: { $case: 'text', value: { body: text, previewUrl: false } },
    contentType: ContentType.CONTENT_TYPE_TEXT,
    contentSummary: 'text',
    acceptedAt: at,
    expiresAt: new Date(at.getTime() + 86_400_000),
  });
  await publishEvent(js, subjects.outboundAccepted, MessageAccepted.encode(accepted).finish(), `accepted:${messageId}`);
  const delivered = MessageStatusChanged.fromPartial({
    eventId: `bench-delivered-${i}`,
    tenantId: BENCH_TENANT.id,
    messageId,
    status: MessageStatus.MESSAGE_STATUS_DELIVERED,
    occurredAt: new Date(at.getTime() + 2000),
    source: StatusSource.STATUS_SOURCE_WEBHOOK,
    waMessageId: `wamid.bench-out-${i}`,
  });
  await publishEvent(js, subjects.receiptEvents, MessageStatusChanged.encode(delivered).finish(), delivered.eventId);
}

function directorySize(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = directorySize(full);
      files += inner.files;
      bytes += inner.bytes;
    } else {
      files++;
      bytes += statSync(full).size;
    }
  }
  return { files, bytes };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const messages = numberOption(argv, 'messages', 100_000);
  const conversations = numberOption(argv, 'conversations', 1000);
  const outIndex = argv.indexOf('--out');
  const reportFile = outIndex >= 0 ? (argv[outIndex + 1] as string) : path.join('.data', 'bench', `archive-export-${Date.now()}.json`);

  const dir = createTempDir();
  const removeDir = withCleanup(() => dir.remove());
  const nats = await startNatsServer();
  const stopNats = withCleanup(() => nats.stop());
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(tenantsFile, benchTenantsYaml());
  const grpcPort = await freePort();
  // --archive-heap-mib caps the archive's V8 old space: an export that held data would then fail, not just grow.
  const heapIndex = argv.indexOf('--archive-heap-mib');
  const heapMiB = heapIndex >= 0 ? numberOption(argv, 'archive-heap-mib', 0) : undefined;
  const archive = await startService('archive', {
    env: {
      ...serviceBaseEnv({ natsUrl: nats.url, tenantsFile, dataDir: path.join(dir.path, 'data') }),
      ...(heapMiB ? { NODE_OPTIONS: `--max-old-space-size=${heapMiB}` } : {}),
    },
    logDir: dir.path,
    grpcPort,
  });
  const publisher = await connectJetStream(nats.url, 'bench-archive-export');
  try {
    write(`archiving ${messages} messages in ${conversations} conversations through the archive's consumers ...`);
    const ingestStarted = performance.now();
    let next = 0;
    // 256 publishes in flight: PubAcks awaited, the order per conversation does not matter to the archive.
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        while (next < messages) await publishMessage(publisher.js, next++, conversations);
      }),
    );
    const streams = regionStreams(BENCH_REGION);
    for (const [stream, durable] of [
      [streams.outbound.name, 'archive-outbound'],
      [streams.events.name, 'archive-events'],
    ] as const) {
      await waitFor(
        async () => {
          const info = await publisher.jsm.consumers.info(stream, durable);
          return info.num_pending === 0 && info.num_ack_pending === 0;
        },
        { what: `${durable} to catch up`, timeoutMs: 30 * 60_000, intervalMs: 500 },
      );
    }
    const ingestSeconds = (performance.now() - ingestStarted) / 1000;
    const events = messages + Math.floor(messages / 2);
    write(`archived ${events} events in ${ingestSeconds.toFixed(1)} s (${Math.round(events / ingestSeconds)} events/s)`);

    const archivePid = archive.pid;
    const archiveRssBefore = memoryMiB(archivePid, 'VmRSS');
    const runExport = async (label: string, extraArgs: string[]) => {
      // Resets VmHWM to the current RSS, so the peak read after the export is this export's.
      let peakReset = true;
      try {
        writeFileSync(`/proc/${archivePid}/clear_refs`, '5');
      } catch {
        peakReset = false;
      }
      const out = path.join(dir.path, `bundle-${label}`);
      const entry = tsxEntryCommand('tools/cli/src/main.ts');
      const started = performance.now();
      let commandPeak = 0;
      let archiveSampledPeak = 0;
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(
          entry.command,
          [...entry.args, 'archive', 'export', '--out', out, '--json', ...extraArgs],
          {
            cwd: entry.cwd,
            env: { PATH: process.env.PATH ?? '', WAYGATE_ARCHIVE_ADDRESS: `127.0.0.1:${grpcPort}`, WAYGATE_API_KEY: BENCH_TENANT.apiKey },
            maxBuffer: 1024 * 1024,
          },
          (error, stdout, stderr) => {
            clearInterval(sampler);
            resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
          },
        );
        const sampler = setInterval(() => {
          if (child.pid !== undefined) commandPeak = Math.max(commandPeak, memoryMiB(child.pid, 'VmHWM') ?? 0);
          archiveSampledPeak = Math.max(archiveSampledPeak, memoryMiB(archivePid, 'VmRSS') ?? 0);
        }, 20);
      });
      const seconds = (performance.now() - started) / 1000;
      if (result.code !== 0) throw new Error(`the export command failed (${result.code}): ${result.stderr || result.stdout}`);
      const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) as string) as { messages: number; verified: boolean };
      const bundle = directorySize(out);
      rmSync(out, { recursive: true, force: true });
      const figures = {
        seconds: Math.round(seconds * 10) / 10,
        messages: summary.messages,
        messagesPerSecond: Math.round(summary.messages / seconds),
        verified: summary.verified,
        bundleFiles: bundle.files,
        bundleMiB: Math.round((bundle.bytes / 1024 / 1024) * 10) / 10,
        archivePeakRssMiB: peakReset ? memoryMiB(archivePid, 'VmHWM') : archiveSampledPeak,
        commandPeakRssMiB: commandPeak,
      };
      write(`${label}: ${JSON.stringify(figures)}`);
      return figures;
    };
    // A tenth first (by time range), then everything: if memory is bounded, both peaks are about the same.
    const tenthTo = new Date(Date.UTC(2025, 5, 1) + Math.floor(messages / 10) * 25_000).toISOString();
    const tenth = await runExport('tenth', ['--to', tenthTo]);
    const all = await runExport('all', []);
    if (all.messages !== messages) throw new Error(`the bundle holds ${all.messages} messages, not ${messages}`);
    const report = {
      messages,
      conversations,
      archivedEvents: events,
      ingest: { seconds: Math.round(ingestSeconds * 10) / 10, eventsPerSecond: Math.round(events / ingestSeconds) },
      archiveRssBeforeExportMiB: archiveRssBefore,
      archiveMaxOldSpaceMiB: heapMiB ?? null,
      archivePeakMethod: 'VmHWM after clear_refs 5 (else VmRSS sampled every 20 ms); the command: VmHWM sampled every 20 ms',
      exportTenth: tenth,
      exportAll: all,
      machine: { cpus: os.cpus().length, loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100, node: process.version },
    };
    mkdirSync(path.dirname(reportFile), { recursive: true });
    writeFileSync(reportFile, `${JSON.stringify(report, null, 2)}\n`);
    write(JSON.stringify(report, null, 2));
    write(`report written to ${reportFile}`);
  } finally {
    await publisher.nc.close();
    await archive.stop();
    await stopNats();
    await removeDir();
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUpEverything().finally(() => process.exit(130)));

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  void cleanUpEverything().finally(() => process.exit(1));
});
