/**
 * The access log interceptor on a real gRPC server (libs/grpc's startGrpcServer: API keys checked by the auth
 * interceptor first) with a small ArchiveService: a unary call and a stream are recorded with their counts; when the
 * write fails the call fails with UNAVAILABLE, a unary response is withheld, and the failure metric counts it; a
 * cancelled stream is recorded as CANCELLED.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { credentials, status, type ServerWritableStream, type ServiceError } from '@grpc/grpc-js';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { startGrpcServer, type RunningGrpcServer } from '@waygate/grpc';
import {
  ArchiveServiceClient,
  ArchiveServiceService,
  ExportConversationsRequest,
  SERVICE_NAMES,
  SERVICE_PROTO_FILES,
  type ExportConversationsResponse,
  type ListConversationsRequest,
  type ListConversationsResponse,
} from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { loadTenantsFile } from '@waygate/tenancy';
import { bearerMetadata, callUnary, createTempDir, tenantsYaml, waitFor } from '@waygate/testing';
import type { AccessLogEntry } from './domain/access-log-entry';
import { ACCESS_LOGGED_SERVICES } from './access-log-actions';
import { createAccessLogInterceptor } from './access-log.interceptor';

const API_KEY = 'key-acme-interceptor';
const dir = createTempDir();
const entries: AccessLogEntry[] = [];
/** What the interceptor logged at warn and above. */
const logLines: string[] = [];
let failing = false;
let server: RunningGrpcServer;
let client: ArchiveServiceClient;
const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
const provider = new MeterProvider({ readers: [reader] });
/** Resolves the stream handler's wait once the client cancelled. */
let streamCancelled: Promise<void> = Promise.resolve();

const listRequest: ListConversationsRequest = {
  customer: '+4915112345678',
  phoneNumberId: '',
  from: undefined,
  to: undefined,
  hasUnanswered: false,
  sentiment: 0,
  pageSize: 0,
  pageToken: '',
};

function conversation(id: string) {
  return {
    conversationId: id,
    phoneNumberId: '200',
    customer: '+4915112345678',
    firstMessageAt: new Date(0),
    lastMessageAt: new Date(0),
    inboundCount: 1,
    outboundCount: 0,
    hasUnanswered: true,
    sessionCount: 1,
    sentiment: undefined,
  };
}

async function failureCount(): Promise<number> {
  await reader.forceFlush();
  const metric = exporter
    .getMetrics()
    .at(-1)
    ?.scopeMetrics.flatMap((scope) => scope.metrics)
    .find((candidate) => candidate.descriptor.name === 'waygate.archive.access_log.write_failures');
  return (metric?.dataPoints ?? []).reduce((sum, point) => sum + (point.value as number), 0);
}

before(async () => {
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(tenantsFile, tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: API_KEY }]));
  const tenants = loadTenantsFile(tenantsFile);
  server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tenants,
    region: 'eu',
    interceptors: [
      createAccessLogInterceptor({
        record: async (entry) => {
          if (failing) throw new Error('disk full');
          entries.push(entry);
        },
        tenants,
        pseudonymOf: () => async (customer) => `ref-of-${customer.length}`,
        services: ACCESS_LOGGED_SERVICES,
        clock: { now: () => new Date() },
        logger: createLogger({
          service: 'access-log-test',
          level: 'warn',
          destination: new Writable({ write: (chunk, _encoding, done) => (logLines.push(String(chunk)), done()) }),
        }),
        meter: provider.getMeter('test'),
      }),
    ],
    services: [
      {
        name: SERVICE_NAMES.archive,
        protoFile: SERVICE_PROTO_FILES.archive,
        definition: ArchiveServiceService,
        implementation: {
          listConversations: (_call: unknown, callback: (error: null, response: ListConversationsResponse) => void) =>
            callback(null, { conversations: [conversation('cv_1'), conversation('cv_2')], nextPageToken: '' }),
          exportConversations: (call: ServerWritableStream<ExportConversationsRequest, ExportConversationsResponse>) => {
            const chunk = (file: string, last: boolean) => ({ path: file, data: Buffer.from('x'), lastChunk: last });
            call.write(chunk('a.jsonl', false));
            call.write(chunk('a.jsonl', true));
            if (call.request.customer === '+1555') {
              // Waits for the client to cancel.
              streamCancelled = new Promise((resolve) => call.on('cancelled', () => resolve()));
              return;
            }
            call.write(chunk('manifest.json', true));
            call.end();
          },
        },
      },
    ],
  });
  client = new ArchiveServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
});

after(async () => {
  client?.close();
  await server?.shutdown(1000);
  await provider.shutdown();
  dir.remove();
});

test('a unary call is recorded with its action, key id, filters and count', async () => {
  const response = await callUnary<ArchiveServiceClient, ListConversationsResponse>(
    client,
    'listConversations',
    listRequest,
    bearerMetadata(API_KEY),
  );
  assert.equal(response.conversations.length, 2);
  const entry = entries.at(-1);
  assert.equal(entry?.action, 'archive.ListConversations');
  assert.equal(entry?.resultCount, 2);
  assert.equal(entry?.statusCode, status.OK);
  assert.match(entry?.keyId ?? '', /^key_[0-9a-f]{12}$/);
  assert.equal(entry?.filtersJson, JSON.stringify({ customer_ref: 'ref-of-14' }));
});

test('a call whose entry cannot be written fails with UNAVAILABLE, returns nothing, and is counted', async () => {
  const before = entries.length;
  failing = true;
  try {
    await assert.rejects(
      callUnary(client, 'listConversations', listRequest, bearerMetadata(API_KEY)),
      (error: ServiceError) => error.code === status.UNAVAILABLE && /access log/.test(error.details),
    );
    const chunks: ExportConversationsResponse[] = [];
    const stream = client.exportConversations(ExportConversationsRequest.fromPartial({}), bearerMetadata(API_KEY));
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) chunks.push(chunk as ExportConversationsResponse);
      })(),
      (error: ServiceError) => error.code === status.UNAVAILABLE,
    );
  } finally {
    failing = false;
  }
  assert.equal(entries.length, before);
  assert.equal(await failureCount(), 2);
});

test('a stream is recorded with its file count, and a cancelled one as CANCELLED', async () => {
  const chunks: ExportConversationsResponse[] = [];
  for await (const chunk of client.exportConversations(ExportConversationsRequest.fromPartial({}), bearerMetadata(API_KEY)))
    chunks.push(chunk as ExportConversationsResponse);
  assert.equal(chunks.length, 3);
  assert.deepEqual(
    [entries.at(-1)?.action, entries.at(-1)?.resultCount, entries.at(-1)?.statusCode],
    ['archive.ExportConversations', 2, status.OK],
  );

  const stream = client.exportConversations(ExportConversationsRequest.fromPartial({ customer: '+1555' }), bearerMetadata(API_KEY));
  stream.on('error', () => undefined);
  await new Promise<void>((resolve) => stream.once('data', () => resolve()));
  const before = entries.length;
  stream.cancel();
  await waitFor(() => entries.length > before, { what: 'the cancelled export to be recorded' });
  await streamCancelled;
  assert.deepEqual([entries.at(-1)?.action, entries.at(-1)?.statusCode], ['archive.ExportConversations', status.CANCELLED]);
});

test('a call refused by authentication reaches neither handler nor access log', async () => {
  const before = entries.length;
  logLines.length = 0;
  await assert.rejects(
    callUnary(client, 'listConversations', listRequest, bearerMetadata('wrong-key')),
    (error: ServiceError) => error.code === status.UNAUTHENTICATED,
  );
  assert.equal(entries.length, before);
  assert.deepEqual(logLines, [], 'a refused call is no error of the access log');
});
