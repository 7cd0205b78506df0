/**
 * The access log through the real archive: real gRPC calls (API keys, the auth interceptor, then the access log
 * interceptor), a real SQLite file. Every ArchiveService, GovernanceService and ArchiveLogService call leaves one entry
 * with its action, key id, count and status, failed calls too; a search's text and a customer's number appear neither
 * in an entry nor in the access log's files; tenants see only their own log; and a verifier written here (RFC 9162
 * hashing, the C2SP signed note, Ed25519 from node:crypto; independent of libs/tlog) checks the listing against the
 * signed checkpoint and detects an entry changed in the SQLite file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { credentials, status, type Client, type ServiceError } from '@grpc/grpc-js';
import {
  ArchiveLogServiceClient,
  EraseCustomerRequest,
  ExportFormat,
  GetConsistencyProofRequest,
  GetErasureStatusRequest,
  GetInclusionProofRequest,
  GovernanceServiceClient,
  ListAccessLogRequest,
  ListLegalHoldsRequest,
  ListMessageEventsRequest,
  PlaceLegalHoldRequest,
  ReleaseLegalHoldRequest,
  SearchMessagesRequest,
  type AccessLogEntry,
  ExportConversationsRequest,
  type ExportConversationsResponse,
  type GetConversationMetricsRequest,
  type GetTenantReportRequest,
  type GetTranscriptRequest,
  type ListAccessLogResponse,
  type ListConversationsRequest,
} from '@waygate/proto';
import { callUnary, type UnaryMethodOf } from '@waygate/testing';
import { conversationIdOf } from '../domain/transcript';
import { startArchiveHarness, type ArchiveHarness } from '../testing/archive-harness';
import { ACCESS_LOG_FILE } from './open-access-log';

const KEYS = { acme: 'key-acme-access-log', globex: 'key-globex-access-log', acmeReader: 'key-acme-reader-access-log' };
const CUSTOMER = '+4915112399001';
/** A unique text in a customer's message, searched for; it must never reach the access log. */
const MARKER = 'zebracorn7734';
const T0 = Date.UTC(2026, 2, 1, 9);
/** The region log signing key's seed, so that the test derives the public key itself. */
const SEED = Buffer.alloc(32, 7);
const conversationId = conversationIdOf({ tenantId: 'acme', phoneNumberId: '200', customer: CUSTOMER });

let harness: ArchiveHarness;
let governance: GovernanceServiceClient;
let archiveLog: ArchiveLogServiceClient;

// Requests whose message types @waygate/proto exports as types only: every field given, as the encoder needs.
function listConversationsRequest(fields: Partial<ListConversationsRequest>): ListConversationsRequest {
  return {
    customer: '',
    phoneNumberId: '',
    from: undefined,
    to: undefined,
    hasUnanswered: false,
    sentiment: 0,
    pageSize: 0,
    pageToken: '',
    ...fields,
  };
}

function getTranscriptRequest(fields: Partial<GetTranscriptRequest>): GetTranscriptRequest {
  return { conversationId: '', from: undefined, to: undefined, pageSize: 0, pageToken: '', ...fields };
}

/** The default id of a key without one in the tenants file. */
function keyIdOf(apiKey: string): string {
  return `key_${createHash('sha256').update(apiKey).digest('hex').slice(0, 12)}`;
}

/** Calls a unary RPC; resolves with the response or the status code it failed with. */
async function call<C extends Client>(client: C, method: UnaryMethodOf<C>, request: object, apiKey = KEYS.acme) {
  try {
    return { code: status.OK, response: await callUnary<C, Record<string, unknown>>(client, method, request, harness.metadata(apiKey)) };
  } catch (error) {
    return { code: (error as ServiceError).code, response: undefined };
  }
}

async function exportChunks(request: Partial<ExportConversationsRequest>): Promise<ExportConversationsResponse[]> {
  const chunks: ExportConversationsResponse[] = [];
  const stream = harness.client.exportConversations(ExportConversationsRequest.fromPartial(request), harness.metadata());
  for await (const chunk of stream) chunks.push(chunk as ExportConversationsResponse);
  return chunks;
}

async function listAll(apiKey = KEYS.acme, request: Partial<ListAccessLogRequest> = {}): Promise<ListAccessLogResponse> {
  return callUnary<GovernanceServiceClient, ListAccessLogResponse>(
    governance,
    'listAccessLog',
    ListAccessLogRequest.fromPartial({ pageSize: 1000, ...request }),
    harness.metadata(apiKey),
  );
}

// --- The independent verifier: RFC 9162 section 2.1.1 and the C2SP signed note, from the specifications. ---

function sha256(...parts: Buffer[]): Buffer {
  const hash = createHash('sha256');
  parts.forEach((part) => hash.update(part));
  return hash.digest();
}

/** MTH(D[n]) of RFC 9162: the largest power of two smaller than n splits the leaves. */
function merkleRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Buffer.from([1]), merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)));
}

/** The entry bytes as docs/governance.md defines them, rebuilt from a listed entry. */
function entryLeaf(tenantId: string, entry: AccessLogEntry): Buffer {
  const bytes = JSON.stringify([
    'waygate-access-log/v1',
    tenantId,
    (entry.at as Date).toISOString(),
    entry.keyId,
    entry.action,
    entry.filtersJson,
    Number(entry.resultCount),
    entry.statusCode,
  ]);
  return sha256(Buffer.from([0]), Buffer.from(bytes, 'utf8'));
}

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const publicKey = createPublicKey(createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, SEED]), format: 'der', type: 'pkcs8' }));

/** Verifies the signed checkpoint note with the region's public key; returns its origin, size and root. */
function verifyCheckpointNote(note: string): { origin: string; size: number; root: Buffer } {
  const split = note.indexOf('\n\n');
  assert.ok(split > 0, 'a signed note has a blank line between text and signatures');
  const text = note.slice(0, split + 1);
  const signatures = note
    .slice(split + 2)
    .split('\n')
    .filter(Boolean);
  const verified = signatures.some((line) => {
    const match = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!match) return false;
    const blob = Buffer.from(match[2] as string, 'base64');
    return blob.length === 68 && verify(null, Buffer.from(text, 'utf8'), publicKey, blob.subarray(4));
  });
  assert.ok(verified, 'the checkpoint is signed by the region key');
  const [origin, size, root] = text.split('\n');
  return { origin: origin as string, size: Number(size), root: Buffer.from(root as string, 'base64') };
}

/** Checks a full listing against its checkpoint; returns what is wrong (empty: the log verifies). */
function verifyListing(tenantId: string, page: ListAccessLogResponse): string[] {
  const problems: string[] = [];
  const checkpoint = verifyCheckpointNote(page.checkpoint);
  if (checkpoint.origin !== `waygate/eu/access/${tenantId}`) problems.push(`origin ${checkpoint.origin}`);
  if (checkpoint.size !== page.entries.length) problems.push(`size ${checkpoint.size} but ${page.entries.length} entries`);
  const leaves = page.entries.map((entry, index) => {
    if (Number(entry.index) !== index) problems.push(`entry ${index} has index ${entry.index}`);
    const leaf = entryLeaf(tenantId, entry);
    if (leaf.toString('hex') !== entry.leafHash) problems.push(`entry ${index}: leaf hash does not match its fields`);
    return leaf;
  });
  if (!merkleRoot(leaves).equals(checkpoint.root)) problems.push('root does not match the signed checkpoint');
  return problems;
}

before(async () => {
  harness = await startArchiveHarness({
    tenants: [
      {
        id: 'acme',
        homeRegion: 'eu',
        apiKey: KEYS.acme,
        phoneNumberIds: ['200'],
        moreApiKeys: [{ apiKey: KEYS.acmeReader, id: 'acme-reader', scopes: ['archive:read'] }],
      },
      { id: 'globex', homeRegion: 'eu', apiKey: KEYS.globex, apiKeyId: 'globex-auditor', phoneNumberIds: ['201'] },
    ],
    env: { WAYGATE_LOG_SIGNING_KEY: SEED.toString('base64') },
    analyzeText: async () => ({ language: 'en', score: 0, label: 'neutral' }),
    logLevel: 'info',
  });
  const address = `127.0.0.1:${harness.archive.grpcPort}`;
  governance = new GovernanceServiceClient(address, credentials.createInsecure());
  archiveLog = new ArchiveLogServiceClient(address, credentials.createInsecure());
  await harness.publishInbound({
    tenantId: 'acme',
    phoneNumberId: '200',
    from: CUSTOMER,
    waMessageId: 'wamid.access-log-1',
    occurredAt: new Date(T0),
    text: `please call me about ${MARKER}`,
  });
  await harness.waitUntilCaughtUp();
});

after(async () => {
  governance?.close();
  archiveLog?.close();
  await harness?.stop();
});

/** What each call is expected to leave: action, status, count. */
interface Expected {
  readonly action: string;
  readonly code: number;
  readonly count: number;
}

test('every archive, governance and archive-log call leaves one entry with its action, key id, count and status', async () => {
  const expected: Expected[] = [];
  const unary = async <C extends Client>(
    client: C,
    method: UnaryMethodOf<C>,
    request: object,
    action: string,
    count: (r: Record<string, unknown>) => number,
  ) => {
    const { code, response } = await call(client, method, request);
    expected.push({ action, code, count: response ? count(response) : 0 });
    return { code, response };
  };
  const length = (field: string) => (r: Record<string, unknown>) => (r[field] as unknown[]).length;
  const one = () => 1;
  const before = (await listAll()).entries.length;

  assert.equal(
    (
      await unary(
        harness.client,
        'listMessageEvents',
        ListMessageEventsRequest.fromPartial({ messageId: 'wamid.access-log-1' }),
        'archive.ListMessageEvents',
        length('events'),
      )
    ).code,
    status.OK,
  );
  await unary(
    harness.client,
    'listConversations',
    listConversationsRequest({ customer: CUSTOMER }),
    'archive.ListConversations',
    length('conversations'),
  );
  await unary(harness.client, 'getTranscript', getTranscriptRequest({ conversationId }), 'archive.GetTranscript', length('messages'));
  const search = await unary(
    harness.client,
    'searchMessages',
    SearchMessagesRequest.fromPartial({ query: MARKER, customer: CUSTOMER }),
    'archive.SearchMessages',
    length('hits'),
  );
  assert.equal((search.response?.['hits'] as unknown[]).length, 1, 'the search finds the message');
  await unary(
    harness.client,
    'getConversationMetrics',
    { conversationId } satisfies GetConversationMetricsRequest,
    'archive.GetConversationMetrics',
    one,
  );
  await unary(
    harness.client,
    'getTenantReport',
    { from: new Date(T0), to: new Date(T0 + 86_400_000), phoneNumberId: '' } satisfies GetTenantReportRequest,
    'archive.GetTenantReport',
    length('days'),
  );
  const chunks = await exportChunks({ customer: CUSTOMER, formats: [ExportFormat.EXPORT_FORMAT_JSONL] });
  expected.push({ action: 'archive.ExportConversations', code: status.OK, count: chunks.filter((chunk) => chunk.lastChunk).length });
  // Governance and archive-log parts of other slices answer what they answer (UNIMPLEMENTED until wired): the
  // entry records it either way.
  await unary(
    governance,
    'placeLegalHold',
    PlaceLegalHoldRequest.fromPartial({ matter: 'SEC v. Acme', customer: CUSTOMER }),
    'governance.PlaceLegalHold',
    one,
  );
  await unary(
    governance,
    'listLegalHolds',
    ListLegalHoldsRequest.fromPartial({ customer: CUSTOMER }),
    'governance.ListLegalHolds',
    length('holds'),
  );
  await unary(
    governance,
    'releaseLegalHold',
    ReleaseLegalHoldRequest.fromPartial({ holdId: 'lh_00000000000000000000000000' }),
    'governance.ReleaseLegalHold',
    one,
  );
  await unary(
    governance,
    'getErasureStatus',
    GetErasureStatusRequest.fromPartial({ erasureId: 'er_00000000000000000000000000' }),
    'governance.GetErasureStatus',
    one,
  );
  await unary(archiveLog, 'getCheckpoint', {}, 'archiveLog.GetCheckpoint', one);
  await unary(archiveLog, 'getLogPublicKey', {}, 'archiveLog.GetLogPublicKey', one);
  await unary(
    archiveLog,
    'getInclusionProof',
    GetInclusionProofRequest.fromPartial({ recordId: 'wa:in:wamid.access-log-1' }),
    'archiveLog.GetInclusionProof',
    one,
  );
  await unary(
    archiveLog,
    'getConsistencyProof',
    GetConsistencyProofRequest.fromPartial({ firstSize: '1', secondSize: '1' }),
    'archiveLog.GetConsistencyProof',
    one,
  );
  await unary(
    governance,
    'listAccessLog',
    ListAccessLogRequest.fromPartial({ action: 'archive.SearchMessages' }),
    'governance.ListAccessLog',
    length('entries'),
  );

  // After the listing that counted them (itself recorded).
  const entries = (await listAll()).entries.slice(before + 1);
  assert.deepEqual(
    entries.map((entry) => ({ action: entry.action, code: entry.statusCode, count: Number(entry.resultCount) })),
    expected,
  );
  for (const entry of entries) {
    assert.equal(entry.keyId, keyIdOf(KEYS.acme), `${entry.action} names the caller's key id`);
    assert.ok(Math.abs((entry.at as Date).getTime() - Date.now()) < 60_000, `${entry.action} is timed`);
  }
  assert.ok(
    expected.filter((e) => e.action.startsWith('archive.')).every((e) => e.code === status.OK && e.count > 0),
    'the archive reads all succeeded with results',
  );
  const searchEntry = entries.find((entry) => entry.action === 'archive.SearchMessages');
  assert.deepEqual(Object.keys(JSON.parse(searchEntry?.filtersJson ?? '{}')).sort(), ['customer_ref', 'query_length']);
  assert.equal(JSON.parse(searchEntry?.filtersJson ?? '{}').query_length, MARKER.length);
});

test('a failed call is recorded with its status and no results', async () => {
  const { code } = await call(harness.client, 'getTranscript', getTranscriptRequest({ conversationId: 'not a conversation id!' }));
  assert.equal(code, status.INVALID_ARGUMENT);
  const missing = await call(
    harness.client,
    'getTranscript',
    getTranscriptRequest({ conversationId: conversationIdOf({ tenantId: 'acme', phoneNumberId: '200', customer: '+4915100000999' }) }),
  );
  assert.equal(missing.code, status.NOT_FOUND);
  const badSearch = await call(harness.client, 'searchMessages', SearchMessagesRequest.fromPartial({ query: 'x', customer: 'not-e164' }));
  assert.equal(badSearch.code, status.INVALID_ARGUMENT);
  const last = (await listAll()).entries.slice(-3);
  assert.deepEqual(
    last.map((entry) => [entry.action, entry.statusCode, entry.resultCount]),
    [
      ['archive.GetTranscript', status.INVALID_ARGUMENT, '0'],
      ['archive.GetTranscript', status.NOT_FOUND, '0'],
      ['archive.SearchMessages', status.INVALID_ARGUMENT, '0'],
    ],
  );
  // An invalid id is kept (it is not personal data), bounded in length.
  assert.equal(JSON.parse(last[0]?.filtersJson ?? '{}').conversation_id, 'not a conversation id!');
});

test("a search's text and a customer's number appear neither in the entries nor in the access log's files", async () => {
  await call(harness.client, 'searchMessages', SearchMessagesRequest.fromPartial({ query: `${MARKER} ${CUSTOMER}`, customer: CUSTOMER }));
  await call(governance, 'eraseCustomer', EraseCustomerRequest.fromPartial({ customer: CUSTOMER, reason: `asked by ${CUSTOMER}` }));
  await call(harness.client, 'listConversations', listConversationsRequest({ customer: CUSTOMER }));
  const { entries } = await listAll();
  const refs = new Set<string>();
  for (const entry of entries) {
    const json = JSON.stringify(entry);
    for (const secret of [MARKER, CUSTOMER, CUSTOMER.slice(1), KEYS.acme, 'SEC v. Acme'])
      assert.equal(json.includes(secret), false, `${entry.action} does not hold ${secret}`);
    const ref = (JSON.parse(entry.filtersJson) as { customer_ref?: string }).customer_ref;
    // (An invalid number, from the failed-call test, has a pseudonym of its own.)
    if (ref && entry.statusCode !== status.INVALID_ARGUMENT) refs.add(ref);
  }
  assert.equal(refs.size, 1, 'the customer has one pseudonym in every entry');
  assert.match([...refs][0] as string, /^[0-9a-f]{32}$/);

  const dir = path.dirname(harness.config.storage.kind === 'sqlite' ? harness.config.storage.file : '');
  const files = readdirSync(dir).filter((name) => name.startsWith(ACCESS_LOG_FILE));
  assert.ok(files.includes(ACCESS_LOG_FILE));
  for (const name of files) {
    const bytes = readFileSync(path.join(dir, name));
    for (const secret of [MARKER, CUSTOMER.slice(1), KEYS.acme])
      assert.equal(bytes.includes(Buffer.from(secret)), false, `${name} does not hold ${secret}`);
  }
});

test('a tenant sees only its own access log, with its own checkpoint', async () => {
  const own = await call(harness.client, 'listConversations', listConversationsRequest({}), KEYS.globex);
  assert.equal(own.code, status.OK);
  const globex = await listAll(KEYS.globex);
  assert.deepEqual(
    globex.entries.map((entry) => [entry.index, entry.action, entry.keyId]),
    [['0', 'archive.ListConversations', 'globex-auditor']],
    'a key with an id in the tenants file is named by it',
  );
  assert.deepEqual(verifyListing('globex', globex), []);
  const acme = await listAll();
  assert.ok(acme.entries.length > 10);
  assert.ok(acme.entries.every((entry) => entry.keyId === keyIdOf(KEYS.acme)));
  assert.equal(verifyCheckpointNote(acme.checkpoint).origin, 'waygate/eu/access/acme');
});

test('listing pages through the log with opaque tokens and filters by action and time', async () => {
  const all = (await listAll()).entries;
  const pages: AccessLogEntry[] = [];
  let pageToken = '';
  do {
    const page = await callUnary<GovernanceServiceClient, ListAccessLogResponse>(
      governance,
      'listAccessLog',
      ListAccessLogRequest.fromPartial({ pageSize: 4, pageToken }),
      harness.metadata(),
    );
    assert.ok(page.entries.length <= 4);
    pages.push(...page.entries);
    pageToken = page.nextPageToken;
  } while (pageToken && pages.length < all.length);
  assert.deepEqual(
    pages.slice(0, all.length).map((e) => e.index),
    all.map((e) => e.index),
  );

  const searches = await listAll(KEYS.acme, { action: 'archive.SearchMessages' });
  assert.ok(searches.entries.length >= 2 && searches.entries.every((entry) => entry.action === 'archive.SearchMessages'));
  const future = await listAll(KEYS.acme, { from: new Date(Date.now() + 3_600_000) });
  assert.deepEqual(future.entries, []);
  const bad = await call(governance, 'listAccessLog', ListAccessLogRequest.fromPartial({ action: 'no action', pageToken: 'x' }));
  assert.equal(bad.code, status.INVALID_ARGUMENT);
});

test('a modified entry in the SQLite file is detected against the signed checkpoint', async () => {
  const intact = await listAll();
  assert.deepEqual(verifyListing('acme', intact), [], 'the untouched log verifies');
  const file = path.join(path.dirname(harness.config.storage.kind === 'sqlite' ? harness.config.storage.file : ''), ACCESS_LOG_FILE);
  const db = new Database(file);
  try {
    // Someone hides that a search returned results: the count changes, the stored leaf hash stays.
    const search = intact.entries.find((entry) => entry.action === 'archive.SearchMessages' && entry.resultCount !== '0');
    assert.ok(search);
    const index = Number(search.index);
    db.prepare("UPDATE access_log SET result_count = 0 WHERE tenant_id = 'acme' AND idx = ?").run(index);
    const countChanged = await listAll();
    assert.deepEqual(verifyListing('acme', countChanged), [
      `entry ${index}: leaf hash does not match its fields`,
      'root does not match the signed checkpoint',
    ]);
    // A careful forger rewrites the leaf hash too: the root no longer matches the signed checkpoint.
    const forged = countChanged.entries[index] as AccessLogEntry;
    db.prepare("UPDATE access_log SET leaf_hash = ? WHERE tenant_id = 'acme' AND idx = ?").run(entryLeaf('acme', forged), index);
    assert.deepEqual(verifyListing('acme', await listAll()), ['root does not match the signed checkpoint']);
  } finally {
    db.close();
  }
});

test('a key without governance:admin cannot list the access log; its reads are recorded under its own key id', async () => {
  const denied = await call(governance, 'listAccessLog', ListAccessLogRequest.fromPartial({}), KEYS.acmeReader);
  assert.equal(denied.code, status.PERMISSION_DENIED);
  const read = await call(harness.client, 'listConversations', listConversationsRequest({}), KEYS.acmeReader);
  assert.equal(read.code, status.OK);
  const last = (await listAll()).entries.at(-1);
  assert.deepEqual([last?.action, last?.keyId, last?.statusCode], ['archive.ListConversations', 'acme-reader', status.OK]);
});
