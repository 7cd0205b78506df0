/**
 * End to end, the tamper-evident archive log (issue 14): the real processes (nats-server, the WhatsApp simulator, the
 * five services on SQLite) started by the same code as `npm start`; ArchiveLogService called through a client built
 * from the public protos only; every checkpoint and proof checked by the tests' own RFC 9162 verifier (libs/testing,
 * independent of libs/tlog); the export verified by `npm run archive -- verify` as a child process; and a byte flipped
 * in the archive's SQLite file caught by that verification.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { credentials, loadPackageDefinition, type Client } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import Database from 'better-sqlite3';
import {
  createTempDir,
  independentLeafHash,
  independentRootFromInclusion,
  independentVerifyCheckpoint,
  independentVerifyConsistency,
  tsxEntryCommand,
  waitFor,
} from '@waygate/testing';
import { freeStackPorts, startLocalStack, untilWindowOpen, type LocalStack, type StackPorts } from '@waygate/local-run';
import { callUnary, loadPublicClients } from './proto-clients';

const CUSTOMER = '+4915112349001';

let dir: ReturnType<typeof createTempDir>;
let stack: LocalStack;
let ports: StackPorts;
let messaging: Client;
let archive: Client;
let archiveLog: Client;
const logLines: { process: string; line: string }[] = [];

/** ArchiveLogService from the public governance.proto, as an outside auditor would build it. */
function archiveLogClient(address: string): Client {
  const definition = loadPackageDefinition(
    loadSync('waygate/governance/v1/governance.proto', {
      includeDirs: [path.resolve(__dirname, '../../../proto')],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    }),
  ) as unknown as { waygate: { governance: { v1: { ArchiveLogService: new (address: string, creds: unknown) => Client } } } };
  return new definition.waygate.governance.v1.ArchiveLogService(address, credentials.createInsecure());
}

before(async () => {
  dir = createTempDir('waygate-e2e-archive-log-');
  ports = await freeStackPorts();
  stack = await startLocalStack({
    dataDir: dir.path,
    ports,
    serviceEnv: { WAYGATE_LOG_LEVEL: 'info' },
    onLine: (process, line) => logLines.push({ process, line }),
  });
  const clients = loadPublicClients();
  messaging = clients.messaging(`127.0.0.1:${ports.grpc.ingress}`);
  archive = clients.archive(`127.0.0.1:${ports.grpc.archive}`);
  archiveLog = archiveLogClient(`127.0.0.1:${ports.grpc.archive}`);
});

after(async () => {
  messaging?.close();
  archive?.close();
  archiveLog?.close();
  await stack?.stop();
  if (process.exitCode && logLines.length > 0)
    process.stderr.write(
      `${logLines
        .slice(-80)
        .map((l) => `${l.process}: ${l.line}`)
        .join('\n')}\n`,
    );
  dir?.remove();
});

const logCall = <T>(method: string, request: unknown = {}) => callUnary<T>(archiveLog, method, request, stack.credentials.apiKey);

interface Checkpoint {
  checkpoint: string;
  tree_size: string;
  root_hash: Buffer;
}

async function customerWrites(text: string): Promise<void> {
  const response = await fetch(`${stack.simulatorUrl}/_simulator/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: { from: CUSTOMER.slice(1), type: 'text', text } }),
  });
  assert.equal(response.status, 200, await response.text());
}

async function businessReplies(key: string, text: string): Promise<void> {
  await untilWindowOpen(() =>
    callUnary(
      messaging,
      'SendMessage',
      { to: CUSTOMER, text: { body: text, preview_url: false }, idempotency_key: key },
      stack.credentials.apiKey,
    ),
  );
}

function waitForTreeSize(atLeast: number): Promise<Checkpoint> {
  return waitFor(() => logCall<Checkpoint>('GetCheckpoint'), {
    until: (checkpoint) => Number(checkpoint.tree_size) >= atLeast,
    timeoutMs: 60_000,
    intervalMs: 200,
    what: `the archive log to reach ${atLeast} entries`,
  });
}

function archiveCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const entry = tsxEntryCommand('tools/cli/src/main.ts');
  const env = {
    PATH: process.env.PATH ?? '',
    WAYGATE_ARCHIVE_ADDRESS: `127.0.0.1:${ports.grpc.archive}`,
    WAYGATE_API_KEY: stack.credentials.apiKey,
  };
  return new Promise((resolve) => {
    execFile(entry.command, [...entry.args, 'archive', ...args], { cwd: entry.cwd, env, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('the archive log through the real processes: signed checkpoints, proofs, consistency, export verification, tampering', async () => {
  const key = await logCall<{ verifier_key: string; public_key: Buffer; origin: string }>('GetLogPublicKey');
  assert.equal(key.origin, 'waygate/eu/archive/demo');

  await customerWrites('Where is my parcel? e2e-log-1');
  await businessReplies('e2e-log-reply-1', 'It ships today. e2e-log-2');
  const first = await waitForTreeSize(2);
  const firstCheckpoint = independentVerifyCheckpoint(first.checkpoint, key.verifier_key);
  assert.equal(firstCheckpoint.origin, 'waygate/eu/archive/demo');

  // Every message of the transcript is proven in the newest tree, by the independent verifier.
  const { conversations } = await callUnary<{ conversations: { conversation_id: string }[] }>(
    archive,
    'ListConversations',
    { customer: CUSTOMER, page_size: 10 },
    stack.credentials.apiKey,
  );
  assert.equal(conversations.length, 1);
  await customerWrites('Thanks! e2e-log-3');
  // The transcript first, then the checkpoint: a message the transcript shows has its entry committed with it, so the
  // tree read after it holds every one (a status of the reply may grow the tree before the customer's third message).
  const transcript = await waitFor(
    () =>
      callUnary<{ messages: { record_id: string }[] }>(
        archive,
        'GetTranscript',
        { conversation_id: conversations[0]!.conversation_id, page_size: 100 },
        stack.credentials.apiKey,
      ),
    { until: (page) => page.messages.length >= 3, timeoutMs: 60_000, intervalMs: 200, what: 'the third message in the transcript' },
  );
  assert.ok(transcript.messages.length >= 3);
  const second = await waitForTreeSize(Number(first.tree_size) + 1);
  const secondCheckpoint = independentVerifyCheckpoint(second.checkpoint, key.verifier_key);
  for (const message of transcript.messages) {
    const proof = await logCall<{ leaf_index: string; tree_size: string; leaf_hash: Buffer; audit_path: Buffer[]; entry: string }>(
      'GetInclusionProof',
      { record_id: message.record_id, tree_size: second.tree_size },
    );
    assert.deepEqual(Buffer.from(proof.leaf_hash), independentLeafHash(Buffer.from(proof.entry, 'hex')));
    assert.deepEqual(
      independentRootFromInclusion(Number(proof.leaf_index), secondCheckpoint.treeSize, Buffer.from(proof.leaf_hash), proof.audit_path),
      secondCheckpoint.rootHash,
      message.record_id,
    );
  }
  const consistency = await logCall<{ proof: Buffer[] }>('GetConsistencyProof', {
    first_size: first.tree_size,
    second_size: second.tree_size,
  });
  independentVerifyConsistency(
    firstCheckpoint.treeSize,
    secondCheckpoint.treeSize,
    firstCheckpoint.rootHash,
    secondCheckpoint.rootHash,
    consistency.proof,
  );

  // The export carries the log; the offline verifier accepts it with the key from GetLogPublicKey.
  const bundle = path.join(dir.path, 'bundle');
  const exported = await archiveCli(['export', '--out', bundle, '--customer', CUSTOMER]);
  assert.equal(exported.code, 0, exported.stderr);
  const verified = await archiveCli(['verify', bundle, '--key', key.verifier_key]);
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /verified: checkpoint waygate\/eu\/archive\/demo/);

  // A byte flipped in an archived record (the SQLite row) is caught by the verification of the next export.
  const db = new Database(path.join(dir.path, 'eu', 'archive.sqlite'));
  try {
    // Its content is sealed at rest (a changed ciphertext does not open at all); its metadata is not, and a change
    // there must be caught by the log.
    const changed = db
      .prepare(
        "UPDATE archived_events SET content_type = 'texu' WHERE rowid = (SELECT rowid FROM archived_events WHERE kind = 'accepted' AND content_type = 'text' ORDER BY rowid LIMIT 1)",
      )
      .run().changes;
    assert.equal(changed, 1);
  } finally {
    db.close();
  }
  const afterTampering = path.join(dir.path, 'bundle-tampered');
  assert.equal((await archiveCli(['export', '--out', afterTampering, '--customer', CUSTOMER])).code, 0);
  const rejected = await archiveCli(['verify', afterTampering, '--key', key.verifier_key]);
  assert.equal(rejected.code, 1, rejected.stdout);
  assert.match(rejected.stderr, /does not match its log entry \(the record was changed\)/);
});
