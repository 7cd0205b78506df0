/**
 * ExportConversations end to end in one archive: events published on real JetStream subjects, recorded by the
 * archive's real consumers into a real SQLite file, exported over real gRPC. The chunks reassemble into files whose
 * SHA-256 are the manifest's; a tenant exports only its own conversations; a cancelled export stops reading.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { ExportFormat, MessageStatus, type ExportConversationsRequest, type ExportConversationsResponse } from '@waygate/proto';
import { waitFor } from '@waygate/testing';
import { conversationIdOf } from '../domain/transcript';
import { startArchiveHarness, type ArchiveHarness } from '../testing/archive-harness';

const KEYS = { acme: 'key-acme-export', umbrella: 'key-umbrella-export' };
const ACME_CUSTOMERS = ['+4915112345001', '+4915112345002'];
const UMBRELLA_CUSTOMER = '+4915112345001';
/** Messages per acme conversation: enough (with ~2 KB each) that a bundle is far bigger than gRPC's buffers. */
const MESSAGES_PER_CONVERSATION = 1200;
const FILLER = 'lorem ipsum dolor sit amet '.repeat(75);
const T0 = Date.UTC(2025, 3, 1, 8);

let harness: ArchiveHarness;

async function publishInbound(tenantId: string, phoneNumberId: string, from: string, n: number, text: string): Promise<void> {
  const waMessageId = `wamid.export-${tenantId}-${from.slice(-3)}-${n}`;
  await harness.publishInbound({ tenantId, phoneNumberId, from, waMessageId, occurredAt: new Date(T0 + n * 60_000), text });
}

async function publishOutbound(tenantId: string, phoneNumberId: string, to: string, n: number, text: string): Promise<void> {
  const messageId = `msg_export_${tenantId}_${to.slice(-3)}_${n}`;
  const at = T0 + n * 60_000;
  await harness.publishAccepted({ tenantId, messageId, to, phoneNumberId, acceptedAt: new Date(at), text });
  await harness.publishStatus({
    eventId: `export-delivered-${messageId}`,
    tenantId,
    messageId,
    status: MessageStatus.MESSAGE_STATUS_DELIVERED,
    occurredAt: new Date(at + 2000),
    waMessageId: `wamid.out-${messageId}`,
  });
}

before(async () => {
  harness = await startArchiveHarness({
    tenants: [
      { id: 'acme', homeRegion: 'eu', apiKey: KEYS.acme, phoneNumberIds: ['200'] },
      { id: 'umbrella', homeRegion: 'eu', apiKey: KEYS.umbrella, phoneNumberIds: ['202'] },
    ],
    logLevel: 'info',
  });

  const jobs: (() => Promise<void>)[] = [];
  for (const customer of ACME_CUSTOMERS)
    for (let n = 0; n < MESSAGES_PER_CONVERSATION; n++)
      jobs.push(() =>
        n % 2 === 0
          ? publishInbound('acme', '200', customer, n, `question ${n} <script>x</script> ${FILLER}`)
          : publishOutbound('acme', '200', customer, n, `=answer ${n} ${FILLER}`),
      );
  jobs.push(() => publishInbound('umbrella', '202', UMBRELLA_CUSTOMER, 0, 'umbrella secret'));
  jobs.push(() => publishOutbound('umbrella', '202', UMBRELLA_CUSTOMER, 1, 'umbrella answer'));
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) await job();
    }),
  );
  await harness.waitUntilCaughtUp({ timeoutMs: 120_000 });
});

after(() => harness?.stop());

function exportCall(apiKey: string, request: Partial<ExportConversationsRequest> = {}): ClientReadableStream<ExportConversationsResponse> {
  return harness.client.exportConversations(
    { conversationIds: [], customer: '', phoneNumberId: '', formats: [], ...request } as ExportConversationsRequest,
    harness.metadata(apiKey),
  );
}

interface Manifest {
  tenant_id: string;
  conversations: number;
  messages: number;
  files: { path: string; sha256: string; bytes: number; records: number }[];
}

async function readBundle(call: ClientReadableStream<ExportConversationsResponse>): Promise<Map<string, Buffer>> {
  const parts = new Map<string, Buffer[]>();
  for await (const chunk of call as AsyncIterable<ExportConversationsResponse>) {
    assert.ok(chunk.data.length <= 64 * 1024, 'chunks are at most 64 KiB');
    parts.set(chunk.path, [...(parts.get(chunk.path) ?? []), chunk.data]);
  }
  return new Map([...parts].map(([file, data]) => [file, Buffer.concat(data)]));
}

const manifestOf = (files: Map<string, Buffer>) => JSON.parse(files.get('manifest.json')?.toString('utf8') ?? '') as Manifest;
const bundleBytes = (manifest: Manifest) => manifest.files.reduce((sum, file) => sum + file.bytes, 0);
let fullBundleBytes = 0;

test("the archive's messages export as a bundle whose files have the manifest's SHA-256, sizes and counts", async () => {
  const files = await readBundle(exportCall(KEYS.acme));
  const manifest = manifestOf(files);
  const ids = ACME_CUSTOMERS.map((customer) => conversationIdOf({ tenantId: 'acme', phoneNumberId: '200', customer }));
  assert.equal(manifest.tenant_id, 'acme');
  assert.equal(manifest.conversations, 2);
  assert.equal(manifest.messages, 2 * MESSAGES_PER_CONVERSATION);
  assert.deepEqual(
    manifest.files.map((file) => file.path).sort(),
    [
      'messages.csv',
      'messages.jsonl',
      ...ids.map((id) => `transcripts/${id}.html`),
      'log/checkpoint',
      'log/verifier-key',
      'log/records.jsonl',
      'log/proofs.jsonl',
    ].sort(),
  );
  for (const file of manifest.files) {
    const data = files.get(file.path) as Buffer;
    assert.equal(createHash('sha256').update(data).digest('hex'), file.sha256, file.path);
    assert.equal(data.length, file.bytes, file.path);
  }
  const messageFiles = manifest.files.filter((file) => !file.path.startsWith('log/'));
  assert.deepEqual(
    messageFiles.map((file) => file.records),
    messageFiles.map((file) => (file.path.startsWith('transcripts/') ? MESSAGES_PER_CONVERSATION : 2 * MESSAGES_PER_CONVERSATION)),
  );
  // The archive log: every message's record and every outbound message's status record, once.
  for (const logFile of ['log/records.jsonl', 'log/proofs.jsonl'])
    assert.equal(manifest.files.find((file) => file.path === logFile)?.records, 3 * MESSAGES_PER_CONVERSATION, logFile);
  const records = (files.get('messages.jsonl')?.toString('utf8') ?? '')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { direction: string; customer: string; text: string; statuses: { status: string }[] });
  const outbound = records.find((record) => record.direction === 'outbound');
  assert.ok(
    outbound?.statuses.some((entry) => entry.status === 'DELIVERED'),
    'statuses travel with their message',
  );
  assert.ok(records.some((record) => record.direction === 'inbound' && record.text.startsWith('question 0 <script>')));
  const html = files.get(`transcripts/${ids[0]}.html`)?.toString('utf8') ?? '';
  assert.ok(html.includes('question 0 &lt;script&gt;x&lt;/script&gt;') && !html.includes('<script>'));
  assert.match(files.get('messages.csv')?.toString('utf8') ?? '', /,'=answer 1 lorem/);
  fullBundleBytes = bundleBytes(manifest);
});

test('tenant isolation: each tenant exports only its own conversations; naming another tenant’s is NOT_FOUND', async () => {
  const umbrella = manifestOf(await readBundle(exportCall(KEYS.umbrella)));
  assert.equal(umbrella.tenant_id, 'umbrella');
  assert.equal(umbrella.conversations, 1);
  assert.equal(umbrella.messages, 2);
  const umbrellaConversation = conversationIdOf({ tenantId: 'umbrella', phoneNumberId: '202', customer: UMBRELLA_CUSTOMER });
  const foreign = exportCall(KEYS.acme, { conversationIds: [umbrellaConversation] });
  const error = await new Promise<ServiceError>((resolve) => {
    foreign.on('data', () => assert.fail('no chunk for another tenant’s conversation'));
    foreign.on('error', resolve);
  });
  assert.equal(error.code, status.NOT_FOUND);
  // The same customer number at acme is another conversation: filtering by it gives acme's messages only.
  const filtered = await readBundle(exportCall(KEYS.acme, { customer: UMBRELLA_CUSTOMER, formats: [ExportFormat.EXPORT_FORMAT_JSONL] }));
  const lines = (filtered.get('messages.jsonl')?.toString('utf8') ?? '').trim().split('\n');
  assert.equal(lines.length, MESSAGES_PER_CONVERSATION);
  assert.ok(lines.every((line) => (JSON.parse(line) as { tenant_id: string }).tenant_id === 'acme'));
  assert.ok(!lines.some((line) => line.includes('umbrella secret')));
});

test('a cancelled export stops: the server stops streaming (and reading) long before the end of the bundle', async () => {
  assert.ok(fullBundleBytes > 10 * 1024 * 1024, `the full bundle (${fullBundleBytes} bytes) is far larger than gRPC's buffers`);
  const call = exportCall(KEYS.acme);
  let chunks = 0;
  const cancelled = new Promise<ServiceError>((resolve) => call.on('error', resolve));
  call.on('data', () => {
    chunks++;
    if (chunks === 3) call.cancel();
  });
  assert.equal((await cancelled).code, status.CANCELLED);
  const line = await waitFor(() => harness.logLines.find((entry) => entry.includes('export cancelled by the client')), {
    what: "the archive's log line of the cancelled export",
  });
  const logged = JSON.parse(line) as { bytes: number; cancelled: boolean; tenant: string };
  assert.equal(logged.cancelled, true);
  assert.ok(logged.bytes < fullBundleBytes / 4, `the server streamed ${logged.bytes} of ${fullBundleBytes} bytes after the cancel`);
  assert.doesNotMatch(line, /\+4915112345|question|lorem/, 'no customer number or content in the log');
});
