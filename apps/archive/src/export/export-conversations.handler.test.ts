/**
 * ExportConversations over real gRPC (a server on a loopback port, the generated client), with the export's own
 * reader port given in-memory data: the wire format, validation codes, backpressure and cancellation. The same RPC
 * against the archive's real store and consumers is in ../server.test.ts's export tests.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { credentials, Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations, startGrpcServer, type RunningGrpcServer } from '@waygate/grpc';
import {
  ArchiveServiceClient,
  ArchiveServiceService,
  ExportFormat,
  SERVICE_NAMES,
  SERVICE_PROTO_FILES,
  type ExportConversationsRequest,
  type ExportConversationsResponse,
} from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { parseTenants } from '@waygate/tenancy';
import { tenantsYaml, waitFor } from '@waygate/testing';
import type { TranscriptEntry } from '../domain/transcript';
import type { ExportConversation } from './domain/export-record';
import { createExportService, type ExportReader } from './domain/export-service';
import { createExportConversationsHandler } from './export-conversations.handler';

const logger = createLogger({ service: 'export-handler-test', level: 'silent' });
const tenants = parseTenants(
  tenantsYaml([
    { id: 'acme', homeRegion: 'eu', apiKey: 'key-acme' },
    { id: 'umbrella', homeRegion: 'eu', apiKey: 'key-umbrella' },
  ]),
);

const BIG: ExportConversation = { conversationId: 'cv_big', phoneNumberId: '200', customer: '+4915112345678' };
const SMALL: ExportConversation = { conversationId: 'cv_small', phoneNumberId: '200', customer: '+4915112345679' };
/** umbrella's: acme must never see it. */
const OTHER: ExportConversation = { conversationId: 'cv_other', phoneNumberId: '202', customer: '+4915112345670' };
/** ~2 KB of text per message, so that a lead of a few thousand messages is many megabytes. */
const FILLER = 'lorem ipsum dolor sit amet '.repeat(75);

/** What the reader did: messages produced for cv_big, and whether its iterator was closed before the end. */
const bigReads = { produced: 0, closed: false };

function entry(conversation: ExportConversation, tenantId: string, n: number): TranscriptEntry {
  return {
    recordId: `wa:in:wamid.${conversation.conversationId}.${n}`,
    tenantId,
    conversationId: conversation.conversationId,
    messageId: `wamid.${conversation.conversationId}.${n}`,
    direction: 'inbound',
    type: 'text',
    occurredAt: new Date(Date.UTC(2025, 0, 1) + n * 1000),
    text: `${n} ${FILLER}`,
    mediaIds: [],
    statuses: [],
  };
}

/** acme owns cv_big (a million messages, produced as read) and cv_small (3); umbrella owns cv_other (2). */
const reader: ExportReader = {
  async getConversation(tenantId, id) {
    const owned = tenantId === 'acme' ? [BIG, SMALL] : tenantId === 'umbrella' ? [OTHER] : [];
    return owned.find((conversation) => conversation.conversationId === id);
  },
  async *conversations(tenantId) {
    if (tenantId === 'umbrella') yield OTHER;
  },
  async *transcript(tenantId, id) {
    if (id === 'cv_small' && tenantId === 'acme') for (let n = 0; n < 3; n++) yield entry(SMALL, tenantId, n);
    if (id === 'cv_other' && tenantId === 'umbrella') for (let n = 0; n < 2; n++) yield entry(OTHER, tenantId, n);
    if (id !== 'cv_big' || tenantId !== 'acme') return;
    let finished = false;
    try {
      for (let n = 0; n < 1_000_000; n++) {
        bigReads.produced++;
        yield entry(BIG, tenantId, n);
      }
      finished = true;
    } finally {
      bigReads.closed = !finished;
    }
  },
};

let server: RunningGrpcServer;
let client: ArchiveServiceClient;

before(async () => {
  const service = createExportService({ reader, clock: { now: () => new Date(Date.UTC(2026, 0, 1)) } });
  server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tenants,
    region: 'eu',
    internalServiceToken: 'export-test-internal-token-0123456789abcdef',
    services: [
      {
        name: SERVICE_NAMES.archive,
        protoFile: SERVICE_PROTO_FILES.archive,
        definition: ArchiveServiceService,
        implementation: { exportConversations: createExportConversationsHandler(service, tenants, logger) },
      },
    ],
  });
  client = new ArchiveServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
});

after(async () => {
  client.close();
  await server.shutdown(1000);
});

function exportCall(apiKey: string, request: Partial<ExportConversationsRequest>): ClientReadableStream<ExportConversationsResponse> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${apiKey}`);
  return client.exportConversations(
    { conversationIds: [], customer: '', phoneNumberId: '', formats: [], ...request } as ExportConversationsRequest,
    metadata,
  );
}

/** Reads a whole export into files. */
async function readBundle(call: ClientReadableStream<ExportConversationsResponse>): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer[]>();
  for await (const chunk of call as AsyncIterable<ExportConversationsResponse>) {
    assert.ok(chunk.data.length <= 64 * 1024);
    files.set(chunk.path, [...(files.get(chunk.path) ?? []), chunk.data]);
  }
  return new Map([...files].map(([path, parts]) => [path, Buffer.concat(parts)]));
}

test("the chunks reassemble into files whose SHA-256 and sizes are the manifest's; only the caller's conversations", async () => {
  const files = await readBundle(exportCall('key-umbrella', {}));
  assert.deepEqual([...files.keys()], ['messages.jsonl', 'messages.csv', 'transcripts/cv_other.html', 'manifest.json']);
  const manifest = JSON.parse(files.get('manifest.json')?.toString() ?? '') as {
    tenant_id: string;
    messages: number;
    files: { path: string; sha256: string; bytes: number }[];
  };
  assert.equal(manifest.tenant_id, 'umbrella');
  assert.equal(manifest.messages, 2);
  for (const file of manifest.files) {
    const data = files.get(file.path) as Buffer;
    assert.equal(createHash('sha256').update(data).digest('hex'), file.sha256, file.path);
    assert.equal(data.length, file.bytes);
  }
});

test('a bad request is INVALID_ARGUMENT naming each field; another tenant’s conversation is NOT_FOUND; both before any chunk', async () => {
  const chunks: ExportConversationsResponse[] = [];
  const invalid = exportCall('key-acme', {
    customer: '0151 not e164',
    from: new Date(Date.UTC(2025, 1, 1)),
    to: new Date(Date.UTC(2025, 0, 1)),
    formats: [ExportFormat.EXPORT_FORMAT_CSV, ExportFormat.EXPORT_FORMAT_UNSPECIFIED, 42 as ExportFormat],
    conversationIds: Array.from({ length: 1001 }, (_, i) => `cv_${i}`),
  });
  invalid.on('data', (chunk: ExportConversationsResponse) => chunks.push(chunk));
  const error = await new Promise<ServiceError>((resolve) => invalid.on('error', resolve));
  assert.equal(error.code, status.INVALID_ARGUMENT);
  assert.deepEqual(
    badRequestViolations(error).map((violation) => violation.field),
    ['conversation_ids', 'customer', 'to', 'formats[1]', 'formats[2]'],
  );
  assert.doesNotMatch(error.details, /0151/, 'values are never quoted');

  const foreign = exportCall('key-acme', { conversationIds: ['cv_small', 'cv_other'] });
  foreign.on('data', (chunk: ExportConversationsResponse) => chunks.push(chunk));
  const notFound = await new Promise<ServiceError>((resolve) => foreign.on('error', resolve));
  assert.equal(notFound.code, status.NOT_FOUND);
  assert.equal(chunks.length, 0);

  const unauthenticated = exportCall('key-nobody', {});
  assert.equal((await new Promise<ServiceError>((resolve) => unauthenticated.on('error', resolve))).code, status.UNAUTHENTICATED);
});

test('a slow client holds the server back (bounded lead), and cancelling stops the reading of the store', async () => {
  const call = exportCall('key-acme', { conversationIds: ['cv_big'], formats: [ExportFormat.EXPORT_FORMAT_JSONL] });
  const chunkBytes = 64 * 1024;
  let received = 0;
  let maxLeadBytes = 0;
  for await (const chunk of call as AsyncIterable<ExportConversationsResponse>) {
    received += chunk.data.length;
    // What the server has read from the store beyond what this client took (each message is ~2 KB of JSON).
    maxLeadBytes = Math.max(maxLeadBytes, bigReads.produced * 2_100 - received);
    if (received >= 400 * chunkBytes) break;
    // A slow consumer: this client takes a chunk every 2 ms, far slower than the server can read and encode.
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  call.cancel();
  await waitFor(() => bigReads.closed, { what: "the store's iterator to be closed after the cancel" });
  const producedAtClose = bigReads.produced;
  // Without backpressure the server would have read far ahead of the 25 MB this client took (a million messages
  // are ~2 GB): the lead is bounded by HTTP/2 and socket buffers.
  assert.ok(maxLeadBytes < 32 * 1024 * 1024, `the server ran ${Math.round(maxLeadBytes / 1024 / 1024)} MB ahead of the client`);
  assert.ok(producedAtClose < 30_000, `the server read ${producedAtClose} of a million messages`);
});
