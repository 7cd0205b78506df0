import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { credentials, Metadata } from '@grpc/grpc-js';
import { connectJetStream, publishEvent, regionStreams, regionSubjects } from '@waygate/nats';
import {
  ArchiveServiceClient,
  ContentType,
  InboundMessageReceived,
  MessageAccepted,
  SearchMessagesRequest,
  type SearchMessagesResponse,
} from '@waygate/proto';
import { createTempDir, freePort, launchProcess, startNatsServer, tsxEntryCommand } from '@waygate/testing';
import type { BenchProfile } from '../bench-options';
import type { ArchiveFigures, ArchiveQueryResult, BenchmarkResult, ProgressLog } from '../benchmark-result';
import { withCleanup } from '../cleanup';
import { LatencyRecorder } from '../latency';
import { round } from '../phase';
import { startService, type ServiceProcess } from '../service-process';
import { BENCH_REGION, BENCH_TENANT, benchTenantsYaml, serviceBaseEnv } from './bench-tenant';

/** The archive's half, run as a child process (tools do not depend on apps): ingest, seed, in-process search, bare FTS5. */
const WORKER_ENTRY = 'apps/archive/src/bench/archive-bench.worker.ts';
/** Publishes in flight at once while measuring the consumers (PubAcks awaited). */
const PUBLISH_WINDOW = 256;
const PAGE_SIZE = 20;

interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly count: number;
}

/** What the worker writes (see its header). */
interface WorkerResult {
  readonly ingest: { readonly events: number; readonly ms: number; readonly latency: Percentiles };
  readonly seed: { readonly events: number; readonly ms: number; readonly batch: number };
  readonly corpus: {
    readonly archivedMessages: number;
    readonly benchTenantMessages: number;
    readonly fileBytes: number;
    readonly tenants: number;
  };
  readonly queries: readonly {
    readonly label: string;
    readonly query: string;
    readonly hits: number;
    readonly search: Percentiles;
    readonly index: Percentiles;
    readonly bare?: Percentiles & { readonly hits: number };
  }[];
  readonly comparable: { readonly search: Percentiles; readonly index: Percentiles; readonly bare: Percentiles };
}

const ms = (value: number) => round(value, 3);

async function runWorker(file: string, out: string, profile: BenchProfile): Promise<WorkerResult> {
  const command = tsxEntryCommand(WORKER_ENTRY);
  const worker = launchProcess({
    name: 'archive-bench-worker',
    command: command.command,
    args: [
      ...command.args,
      file,
      out,
      BENCH_TENANT.id,
      String(profile.archiveIngestEvents),
      String(profile.archiveMessages),
      String(profile.archiveQueryRepeats),
    ],
    cwd: command.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    // A batch job: "ready" at once; its end is what counts.
    ready: { check: async () => true },
    detached: true,
  });
  const stop = withCleanup(() => worker.stop('SIGKILL'));
  try {
    const exit = await worker.exited;
    if (exit.code !== 0) throw new Error(`the archive bench worker failed (${exit.code ?? exit.signal}):\n${worker.outputTail(30)}`);
    return JSON.parse(readFileSync(out, 'utf8')) as WorkerResult;
  } finally {
    await stop();
  }
}

/** Publishes `count` accepted and inbound events and measures until the archive's two consumers acknowledged all. */
async function measureConsumers(natsUrl: string, count: number): Promise<{ events: number; eventsPerSec: number }> {
  const nats = await connectJetStream(natsUrl, 'bench-archive-publisher');
  try {
    const subjects = regionSubjects(BENCH_REGION);
    const streams = regionStreams(BENCH_REGION);
    const started = performance.now();
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; i < count; i += 1) {
      const at = new Date(Date.UTC(2026, 5, 1) + i);
      const to = `+4916${String(i).padStart(9, '0')}`;
      const text = `Bench-Nachricht ${i}: Rückerstattung für Café Müller, 退款申请, возврат`;
      const publish =
        i % 2 === 0
          ? publishEvent(
              nats.js,
              subjects.outboundAccepted,
              MessageAccepted.encode(
                MessageAccepted.fromPartial({
                  tenantId: BENCH_TENANT.id,
                  messageId: `msg_bench_${i}`,
                  to,
                  phoneNumberId: BENCH_TENANT.phoneNumberId,
                  content: { $case: 'text', value: { body: text, previewUrl: false } },
                  contentType: ContentType.CONTENT_TYPE_TEXT,
                  contentSummary: 'text',
                  acceptedAt: at,
                  expiresAt: new Date(at.getTime() + 86_400_000),
                }),
              ).finish(),
              `accepted:msg_bench_${i}`,
            )
          : publishEvent(
              nats.js,
              subjects.inboundEvents,
              InboundMessageReceived.encode(
                InboundMessageReceived.fromPartial({
                  eventId: `wa:in:wamid.bench${i}`,
                  tenantId: BENCH_TENANT.id,
                  phoneNumberId: BENCH_TENANT.phoneNumberId,
                  from: to,
                  waMessageId: `wamid.bench${i}`,
                  occurredAt: at,
                  type: 'text',
                  text,
                  serviceWindowClosesAt: new Date(at.getTime() + 86_400_000),
                }),
              ).finish(),
              `wa:in:wamid.bench${i}`,
            );
      const tracked = publish.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= PUBLISH_WINDOW) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    for (const [stream, durable] of [
      [streams.outbound.name, 'archive-outbound'],
      [streams.events.name, 'archive-events'],
    ] as const) {
      for (;;) {
        const info = await nats.jsm.consumers.info(stream, durable);
        if (info.num_pending === 0 && info.num_ack_pending === 0) break;
        if (performance.now() - started > 600_000) throw new Error(`${durable} did not catch up within 10 minutes`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    return { events: count, eventsPerSec: round(count / ((performance.now() - started) / 1000), 1) };
  } finally {
    await nats.nc.close();
  }
}

function searchOverGrpc(client: ArchiveServiceClient, metadata: Metadata, query: string): Promise<SearchMessagesResponse> {
  return new Promise((resolve, reject) =>
    client.searchMessages(SearchMessagesRequest.fromPartial({ query, pageSize: PAGE_SIZE }), metadata, (error, response) =>
      error ? reject(error) : resolve(response),
    ),
  );
}

/**
 * The archive: ingest (events/s through the record path, durable, and through the running archive's consumers) and
 * search latency over `profile.archiveMessages` archived messages on SQLite, next to a bare FTS5 MATCH over the same
 * texts in the same run.
 */
export async function runArchiveSearch(
  profile: BenchProfile,
  options: { serviceEnv: Readonly<Record<string, string>> },
  log: ProgressLog,
): Promise<BenchmarkResult> {
  const started = performance.now();
  let archive: ArchiveFigures | undefined;
  const result = (extra: Partial<BenchmarkResult>): BenchmarkResult => ({
    name: 'archive',
    title: `Archive: ingest, and search over ${profile.archiveMessages.toLocaleString('en')} archived messages vs a bare FTS5 MATCH`,
    method: [
      `Record path: ${profile.archiveIngestEvents} events (accepted and inbound messages in Latin, Cyrillic, Chinese and Thai; every tenth a status) through ArchiveService.record and the search feed exactly as the consumers call them, 64 at a time (their concurrency), each awaited until durable (synchronous=FULL, the store's group commit); in a child process (${WORKER_ENTRY}).`,
      `Corpus: then messages up to ${profile.archiveMessages} (4 tenants, the bench tenant one of them) through the same record path, 1,000 events per transaction; a Zipf-like vocabulary per script, the queried words at fixed rates.`,
      `Search: each query ${profile.archiveQueryRepeats} times, first page of 20, as the bench tenant: SearchMessages' use case in that process (validation, FTS5 indexes, the store read of every hit, snippets), the search index alone, and a bare FTS5 MATCH of the same terms on plain FTS5 tables over the same texts (no tenant, no filters, ORDER BY rank LIMIT 20), one after the other.`,
      'Then the archive as a child process (node --import tsx apps/archive/src/main.ts) on that file and one nats-server: the same queries over gRPC SearchMessages (one call at a time), and events published to JetStream until both archive consumers acknowledged them (consumers events/s).',
      'The ratio is SearchMessages over gRPC / bare FTS5 MATCH, over every run of the queries FTS5 alone can answer (a 2-character Chinese word cannot be: the gram index answers it).',
    ],
    setup: {
      storage: 'sqlite',
      archiveMessages: profile.archiveMessages,
      ingestEvents: profile.archiveIngestEvents,
      queryRepeats: profile.archiveQueryRepeats,
      pageSize: PAGE_SIZE,
    },
    phases: [],
    ...(archive ? { archive } : {}),
    elapsedMs: Math.round(performance.now() - started),
    ...extra,
  });

  const dir = createTempDir('waygate-bench-archive-');
  const removeDir = withCleanup(() => dir.remove());
  let stopNats: (() => Promise<void>) | undefined;
  let service: ServiceProcess | undefined;
  let client: ArchiveServiceClient | undefined;
  try {
    const dataDir = path.join(dir.path, 'data');
    // The file the archive opens for region BENCH_REGION (WAYGATE_DATA_DIR/<region>/archive.sqlite).
    const file = path.join(dataDir, BENCH_REGION, 'archive.sqlite');
    log(
      `Archive: ingest ${profile.archiveIngestEvents} events, then seed ${profile.archiveMessages} messages and search (child process) ...`,
    );
    const worker = await runWorker(file, path.join(dir.path, 'worker.json'), profile);
    log(
      `  record path ${round(worker.ingest.events / (worker.ingest.ms / 1000), 1)} events/s; seeded ${worker.seed.events} events at ${round(worker.seed.events / (worker.seed.ms / 1000), 1)}/s`,
    );

    const tenantsFile = path.join(dir.path, 'tenants.yaml');
    writeFileSync(tenantsFile, benchTenantsYaml(), { mode: 0o600 });
    const nats = await startNatsServer();
    stopNats = withCleanup(() => nats.stop());
    const port = await freePort();
    log('  starting the archive on that file ...');
    service = await startService('archive', {
      env: { ...serviceBaseEnv({ natsUrl: nats.url, tenantsFile, dataDir }), ...options.serviceEnv },
      logDir: dir.path,
      grpcPort: port,
    });
    client = new ArchiveServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${BENCH_TENANT.apiKey}`);
    await searchOverGrpc(client, metadata, 'warmup');

    const comparableGrpc = new LatencyRecorder();
    const queries: ArchiveQueryResult[] = [];
    for (const query of worker.queries) {
      const recorder = new LatencyRecorder();
      for (let r = 0; r < profile.archiveQueryRepeats; r += 1) {
        const t0 = performance.now();
        const response = await searchOverGrpc(client, metadata, query.query);
        const elapsed = performance.now() - t0;
        recorder.record(elapsed);
        if (query.bare) comparableGrpc.record(elapsed);
        if (response.hits.length !== query.hits)
          throw new Error(`${query.label}: ${response.hits.length} hits over gRPC, ${query.hits} in process`);
      }
      const grpc = recorder.summary();
      queries.push({
        label: query.label,
        query: query.query,
        hits: query.hits,
        searchP50Ms: ms(query.search.p50),
        searchP99Ms: ms(query.search.p99),
        indexP50Ms: ms(query.index.p50),
        indexP99Ms: ms(query.index.p99),
        grpcP50Ms: grpc.p50,
        grpcP99Ms: grpc.p99,
        ...(query.bare ? { bareP50Ms: ms(query.bare.p50), bareP99Ms: ms(query.bare.p99) } : {}),
      });
    }
    log(`  consumers: publishing ${profile.archiveIngestEvents} events ...`);
    const consumers = await measureConsumers(nats.url, profile.archiveIngestEvents);
    const grpc = comparableGrpc.summary();
    const bare = worker.comparable.bare;
    archive = {
      corpus: {
        messages: worker.corpus.archivedMessages,
        benchTenantMessages: worker.corpus.benchTenantMessages,
        tenants: worker.corpus.tenants,
        fileMb: round(worker.corpus.fileBytes / 1024 / 1024, 1),
      },
      recordPath: {
        events: worker.ingest.events,
        eventsPerSec: round(worker.ingest.events / (worker.ingest.ms / 1000), 1),
        p50Ms: ms(worker.ingest.latency.p50),
        p99Ms: ms(worker.ingest.latency.p99),
      },
      consumers,
      seed: { events: worker.seed.events, eventsPerSec: round(worker.seed.events / (worker.seed.ms / 1000), 1) },
      queries,
      overall: {
        searchP50Ms: ms(worker.comparable.search.p50),
        searchP99Ms: ms(worker.comparable.search.p99),
        indexP50Ms: ms(worker.comparable.index.p50),
        indexP99Ms: ms(worker.comparable.index.p99),
        grpcP50Ms: grpc.p50,
        grpcP99Ms: grpc.p99,
        bareP50Ms: ms(bare.p50),
        bareP99Ms: ms(bare.p99),
        grpcToBareP50: bare.p50 > 0 ? round(grpc.p50 / bare.p50, 1) : 0,
        grpcToBareP99: bare.p99 > 0 ? round(grpc.p99 / bare.p99, 1) : 0,
      },
    };
    log(`  SearchMessages over gRPC p50 ${grpc.p50} ms, p99 ${grpc.p99} ms; bare FTS5 p50 ${ms(bare.p50)} ms, p99 ${ms(bare.p99)} ms`);
    return result({ archive, elapsedMs: Math.round(performance.now() - started) });
  } catch (error) {
    return result({ error: (error as Error).message, elapsedMs: Math.round(performance.now() - started) });
  } finally {
    client?.close();
    await service?.stop();
    await stopNats?.();
    await removeDir();
  }
}
