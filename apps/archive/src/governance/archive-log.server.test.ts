/**
 * ArchiveLogService end to end in one archive: events published on real JetStream subjects, recorded by the real
 * consumers into a real SQLite file, each with its entry in the tenant's log; checkpoints and proofs fetched over real
 * gRPC and checked with the tests' own RFC 9162 verifier (libs/testing, independent of libs/tlog).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import {
  ArchiveLogServiceClient,
  MessageStatus,
  type GetCheckpointResponse,
  type GetConsistencyProofResponse,
  type GetInclusionProofResponse,
  type GetLogPublicKeyResponse,
} from '@waygate/proto';
import {
  callUnary,
  independentLeafHash,
  independentRootFromInclusion,
  independentVerifyCheckpoint,
  independentVerifyConsistency,
} from '@waygate/testing';
import Database from 'better-sqlite3';
import { startArchiveHarness, type ArchiveHarness } from '../testing/archive-harness';

const KEYS = { acme: 'key-acme-archive-log', umbrella: 'key-umbrella-archive-log' };
const T0 = Date.UTC(2025, 5, 1, 9);

let harness: ArchiveHarness;
let client: ArchiveLogServiceClient;

function call<R>(
  method: 'getCheckpoint' | 'getLogPublicKey' | 'getInclusionProof' | 'getConsistencyProof',
  request: object,
  apiKey = KEYS.acme,
): Promise<R> {
  return callUnary(client, method, request, harness.metadata(apiKey));
}

async function publishConversation(tenantId: string, n: number): Promise<string[]> {
  const messageId = `msg_log_${tenantId}_${n}`;
  await harness.publishAccepted({ tenantId, messageId, acceptedAt: new Date(T0 + n * 60_000), text: `hello ${tenantId} ${n}` });
  await harness.publishStatus({
    eventId: `log-delivered-${messageId}`,
    tenantId,
    messageId,
    status: MessageStatus.MESSAGE_STATUS_DELIVERED,
    occurredAt: new Date(T0 + n * 60_000 + 1000),
  });
  await harness.publishInbound({
    tenantId,
    waMessageId: `wamid.log-${tenantId}-${n}`,
    occurredAt: new Date(T0 + n * 60_000 + 2000),
    text: `reply ${n}`,
  });
  return [`accepted:${messageId}`, `log-delivered-${messageId}`, `wa:in:wamid.log-${tenantId}-${n}`];
}

before(async () => {
  harness = await startArchiveHarness({
    tenants: [
      { id: 'acme', homeRegion: 'eu', apiKey: KEYS.acme, phoneNumberIds: ['200'] },
      { id: 'umbrella', homeRegion: 'eu', apiKey: KEYS.umbrella, phoneNumberIds: ['202'] },
    ],
  });
  client = new ArchiveLogServiceClient(`127.0.0.1:${harness.archive.grpcPort}`, credentials.createInsecure());
});

after(async () => {
  client?.close();
  await harness?.stop();
});

async function grpcError(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  assert.fail('expected the call to fail');
}

test('checkpoints are signed by the region key, every record is proven, and the log only grows', async () => {
  const key = await call<GetLogPublicKeyResponse>('getLogPublicKey', {});
  assert.equal(key.origin, 'waygate/eu/archive/acme');
  assert.match(key.verifierKey, /^waygate-eu\+[0-9a-f]{8}\+/);
  assert.deepEqual(Buffer.from(key.verifierKey.split('+').slice(2).join('+'), 'base64').subarray(1), Buffer.from(key.publicKey));

  const recordIds = [...(await publishConversation('acme', 1)), ...(await publishConversation('acme', 2))];
  await publishConversation('umbrella', 1);
  await harness.waitUntilCaughtUp();

  const first = await call<GetCheckpointResponse>('getCheckpoint', {});
  const checkpoint = independentVerifyCheckpoint(first.checkpoint, key.verifierKey);
  assert.equal(checkpoint.origin, 'waygate/eu/archive/acme');
  assert.equal(checkpoint.treeSize, 6, "acme's six records, not umbrella's");
  assert.equal(first.treeSize, '6');
  assert.deepEqual(Buffer.from(first.rootHash), checkpoint.rootHash);
  assert.throws(
    () => independentVerifyCheckpoint(first.checkpoint.replace('\n6\n', '\n7\n'), key.verifierKey),
    'a changed checkpoint fails',
  );

  const seen = new Set<string>();
  for (const recordId of recordIds) {
    const proof = await call<GetInclusionProofResponse>('getInclusionProof', { recordId, treeSize: '0' });
    const entry = Buffer.from(proof.entry, 'hex');
    assert.equal(entry[0], 1, 'entry version 1');
    assert.equal(entry.subarray(3, 3 + entry.readUInt16BE(1)).toString('utf8'), recordId, 'the entry names its record');
    assert.equal(entry.length, 3 + Buffer.byteLength(recordId) + 32);
    assert.deepEqual(Buffer.from(proof.leafHash), independentLeafHash(entry));
    assert.equal(proof.treeSize, '6');
    const root = independentRootFromInclusion(
      Number(proof.leafIndex),
      6,
      independentLeafHash(entry),
      proof.auditPath.map((p) => Buffer.from(p)),
    );
    assert.deepEqual(root, checkpoint.rootHash, `record ${recordId} is in the checkpoint's tree`);
    seen.add(proof.leafIndex);
  }
  assert.equal(seen.size, 6, 'one leaf per record');
  // No content in the entry: a record's text is not in it, only its salted hash.
  const anEntry = (await call<GetInclusionProofResponse>('getInclusionProof', { recordId: recordIds[0], treeSize: '0' })).entry;
  assert.ok(!Buffer.from(anEntry, 'hex').includes(Buffer.from('hello acme')));

  // A redelivered event appends nothing; new records grow the log, consistently.
  await harness.publishAccepted(
    { tenantId: 'acme', messageId: 'msg_log_acme_1', acceptedAt: new Date(T0 + 60_000), text: 'hello acme 1' },
    'redelivery-1',
  );
  const more = await publishConversation('acme', 3);
  await harness.waitUntilCaughtUp();
  const second = await call<GetCheckpointResponse>('getCheckpoint', {});
  const later = independentVerifyCheckpoint(second.checkpoint, key.verifierKey);
  assert.equal(later.treeSize, 9, 'three new records, the duplicate appended nothing');
  const consistency = await call<GetConsistencyProofResponse>('getConsistencyProof', { firstSize: '6', secondSize: '0' });
  assert.equal(consistency.secondSize, '9');
  independentVerifyConsistency(
    6,
    9,
    checkpoint.rootHash,
    later.rootHash,
    consistency.proof.map((p) => Buffer.from(p)),
  );
  assert.throws(() =>
    independentVerifyConsistency(
      6,
      9,
      createHash('sha256').update('x').digest(),
      later.rootHash,
      consistency.proof.map((p) => Buffer.from(p)),
    ),
  );
  const newest = await call<GetInclusionProofResponse>('getInclusionProof', { recordId: more[2], treeSize: '0' });
  assert.equal(newest.leafIndex, '8');
  // An older tree size still proves an older record.
  const atSix = await call<GetInclusionProofResponse>('getInclusionProof', { recordId: recordIds[5], treeSize: '6' });
  assert.deepEqual(
    independentRootFromInclusion(
      Number(atSix.leafIndex),
      6,
      Buffer.from(atSix.leafHash),
      atSix.auditPath.map((p) => Buffer.from(p)),
    ),
    checkpoint.rootHash,
  );

  // The tables hold the salted entries, one salt per record, and no content.
  const db = new Database(harness.config.storage.kind === 'sqlite' ? harness.config.storage.file : '', { readonly: true });
  try {
    const salts = db.prepare("SELECT COUNT(*) AS n FROM archive_log_salts WHERE tenant_id = 'acme'").get() as { n: number };
    assert.equal(salts.n, 9);
  } finally {
    db.close();
  }
});

test("field-level errors: bad record id, unknown or other tenant's record, sizes beyond the log", async () => {
  const bad = await grpcError(call('getInclusionProof', { recordId: '', treeSize: '0' }));
  assert.equal(bad.code, status.INVALID_ARGUMENT);
  assert.match(bad.details, /record_id/);
  const unknown = await grpcError(call('getInclusionProof', { recordId: 'accepted:msg_nope', treeSize: '0' }));
  assert.equal(unknown.code, status.NOT_FOUND);
  const others = await grpcError(call('getInclusionProof', { recordId: 'accepted:msg_log_umbrella_1', treeSize: '0' }));
  assert.equal(others.code, status.NOT_FOUND, "umbrella's record is not in acme's log");
  const umbrellaHas = await call<GetInclusionProofResponse>(
    'getInclusionProof',
    { recordId: 'accepted:msg_log_umbrella_1', treeSize: '0' },
    KEYS.umbrella,
  );
  assert.equal(umbrellaHas.leafIndex, '0');
  const tooBig = await grpcError(call('getInclusionProof', { recordId: 'accepted:msg_log_acme_1', treeSize: '1000' }));
  assert.equal(tooBig.code, status.INVALID_ARGUMENT);
  assert.match(tooBig.details, /tree_size/);
  const consistencyTooBig = await grpcError(call('getConsistencyProof', { firstSize: '1', secondSize: '1000' }));
  assert.equal(consistencyTooBig.code, status.INVALID_ARGUMENT);
  assert.match(consistencyTooBig.details, /second_size/);
  const reversed = await grpcError(call('getConsistencyProof', { firstSize: '5', secondSize: '2' }));
  assert.equal(reversed.code, status.INVALID_ARGUMENT);
  assert.match(reversed.details, /first_size/);
  const noKey = await grpcError(callUnary(client, 'getCheckpoint', {}, harness.metadata('not-a-key')));
  assert.equal(noKey.code, status.UNAUTHENTICATED);
});
