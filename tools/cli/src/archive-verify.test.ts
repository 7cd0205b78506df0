/**
 * `npm run archive -- verify <bundle>` as a real child process, on bundles exported by a real archive process (fed
 * through its real consumers, nats-server, SQLite): an intact bundle verifies (with the bundle's key and with the key
 * from GetLogPublicKey); a flipped byte anywhere (a file, a record re-hashed into the manifest, a message row, a row
 * changed in the archive's SQLite file before the export, another key) makes it fail with the reason. The checkpoint
 * and proofs are also checked by the tests' independent RFC 9162 verifier.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { connectJetStream, publishEvent, regionStreams, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import {
  ArchiveLogServiceClient,
  ContentType,
  InboundMessageReceived,
  MessageAccepted,
  MessageStatus,
  MessageStatusChanged,
  StatusSource,
  type GetLogPublicKeyResponse,
} from '@waygate/proto';
import {
  bearerMetadata,
  callUnary,
  createTempDir,
  freePort,
  independentLeafHash,
  independentRootFromInclusion,
  independentVerifyCheckpoint,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  tsxEntryCommand,
  waitForConsumersCaughtUp,
  type NatsServerHandle,
  type ServiceProcess,
} from '@waygate/testing';

const KEY = 'key-acme-archive-verify-0001';
const T0 = Date.UTC(2025, 6, 1, 8);
const subjects = regionSubjects('eu');
const streams = regionStreams('eu');

const dir = createTempDir();
let nats: NatsServerHandle;
let publisher: JetStreamConnection;
let archive: ServiceProcess;
let env: Record<string, string>;
let verifierKey: string;
let port: number;

async function publishConversation(customer: string, tag: string): Promise<void> {
  for (let n = 0; n < 3; n++) {
    const at = new Date(T0 + n * 60_000);
    const waMessageId = `wamid.${tag}-in-${n}`;
    const inbound = InboundMessageReceived.fromPartial({
      eventId: `wa:in:${waMessageId}`,
      tenantId: 'acme',
      phoneNumberId: '200',
      from: customer,
      waMessageId,
      occurredAt: at,
      type: 'text',
      text: `question ${tag} ${n}`,
      contentJson: JSON.stringify({ body: `question ${tag} ${n}` }),
      serviceWindowClosesAt: new Date(at.getTime() + 86_400_000),
    });
    await publishEvent(publisher.js, subjects.inboundEvents, InboundMessageReceived.encode(inbound).finish(), inbound.eventId);
    const messageId = `msg_${tag}_${n}`;
    const accepted = MessageAccepted.fromPartial({
      tenantId: 'acme',
      messageId,
      to: customer,
      phoneNumberId: '200',
      content: { $case: 'text', value: { body: `answer ${tag} ${n}`, previewUrl: false } },
      contentType: ContentType.CONTENT_TYPE_TEXT,
      contentSummary: 'text',
      acceptedAt: new Date(at.getTime() + 10_000),
      expiresAt: new Date(at.getTime() + 86_400_000),
    });
    await publishEvent(publisher.js, subjects.outboundAccepted, MessageAccepted.encode(accepted).finish(), `accepted:${messageId}`);
    const delivered = MessageStatusChanged.fromPartial({
      eventId: `${tag}-delivered-${n}`,
      tenantId: 'acme',
      messageId,
      status: MessageStatus.MESSAGE_STATUS_DELIVERED,
      occurredAt: new Date(at.getTime() + 12_000),
      source: StatusSource.STATUS_SOURCE_WEBHOOK,
      waMessageId: `wamid.${tag}-out-${n}`,
    });
    await publishEvent(publisher.js, subjects.receiptEvents, MessageStatusChanged.encode(delivered).finish(), delivered.eventId);
  }
}

before(async () => {
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(tenantsFile, tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: KEY, phoneNumberIds: ['200'] }]));
  nats = await startNatsServer();
  publisher = await connectJetStream(nats.url, 'archive-verify-test');
  port = await freePort();
  archive = await startServiceProcess('archive', {
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: path.join(dir.path, 'data'),
    WAYGATE_GRPC_PORT: String(port),
    WAYGATE_INTERNAL_SERVICE_TOKEN: 'archive-verify-test-internal-token-0123456789abcdef',
  });
  env = { PATH: process.env.PATH ?? '', WAYGATE_ARCHIVE_ADDRESS: `127.0.0.1:${port}`, WAYGATE_API_KEY: KEY };
  await publishConversation('+4915112340001', 'v1');
  await publishConversation('+4915112340002', 'v2');
  await waitForConsumersCaughtUp(publisher.jsm, [
    [streams.outbound.name, 'archive-outbound'],
    [streams.events.name, 'archive-events'],
  ]);
  const client = new ArchiveLogServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    verifierKey = (await callUnary<ArchiveLogServiceClient, GetLogPublicKeyResponse>(client, 'getLogPublicKey', {}, bearerMetadata(KEY)))
      .verifierKey;
  } finally {
    client.close();
  }
});

after(async () => {
  await archive?.stop('SIGTERM');
  await publisher?.nc.close();
  await nats?.stop();
  dir.remove();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function archiveCli(args: string[]): Promise<Run> {
  const entry = tsxEntryCommand('tools/cli/src/main.ts');
  return new Promise((resolve) => {
    execFile(entry.command, [...entry.args, 'archive', ...args], { cwd: entry.cwd, env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function exportBundle(name: string): Promise<string> {
  const out = path.join(dir.path, name);
  const run = await archiveCli(['export', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  return out;
}

/** A copy of `bundle` in which `edit` changed one file; with `rehash`, the manifest is updated to match. */
function tampered(bundle: string, name: string, file: string, edit: (text: string) => string, rehash: boolean): string {
  const copy = path.join(dir.path, name);
  cpSync(bundle, copy, { recursive: true });
  const target = path.join(copy, file);
  const changed = edit(readFileSync(target, 'utf8'));
  writeFileSync(target, changed);
  if (rehash) {
    const manifestFile = path.join(copy, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { files: { path: string; sha256: string; bytes: number }[] };
    const entry = manifest.files.find((candidate) => candidate.path === file)!;
    entry.sha256 = createHash('sha256').update(changed).digest('hex');
    entry.bytes = Buffer.byteLength(changed);
    writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  }
  return copy;
}

/** Changes one character inside the first occurrence of `marker`. */
const flip = (marker: string) => (text: string) => {
  const at = text.indexOf(marker);
  assert.ok(at >= 0, `${marker} is in the file`);
  return `${text.slice(0, at)}${marker.replace(/.$/, (c) => (c === 'x' ? 'y' : 'x'))}${text.slice(at + marker.length)}`;
};

let intact: string;

test('an intact export verifies, with its own key and with the key from GetLogPublicKey; proofs check independently', async () => {
  intact = await exportBundle('bundle');
  const withBundleKey = await archiveCli(['verify', intact]);
  assert.equal(withBundleKey.code, 0, withBundleKey.stderr);
  assert.match(withBundleKey.stdout, /verified: checkpoint waygate\/eu\/archive\/acme size 18 signed .*integrity, not origin/);
  const withKey = await archiveCli(['verify', intact, '--key', verifierKey, '--json']);
  assert.equal(withKey.code, 0, withKey.stderr);
  const summary = JSON.parse(withKey.stdout.trim()) as { ok: boolean; records: number; messages: number; key_source: string };
  assert.deepEqual([summary.ok, summary.records, summary.messages, summary.key_source], [true, 18, 12, 'option']);

  // The tests' own verifier agrees, without libs/tlog.
  const checkpoint = independentVerifyCheckpoint(readFileSync(path.join(intact, 'log', 'checkpoint'), 'utf8'), verifierKey);
  const records = readFileSync(path.join(intact, 'log', 'records.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { record_id: string; salt: string; record: string });
  const proofs = readFileSync(path.join(intact, 'log', 'proofs.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { leaf_index: number; entry: string; audit_path: string[] });
  assert.equal(records.length, 18);
  records.forEach((record, i) => {
    const proof = proofs[i]!;
    const id = Buffer.from(record.record_id, 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(id.length);
    const hash = createHash('sha256').update(Buffer.from(record.salt, 'base64')).update(record.record, 'utf8').digest();
    const entry = Buffer.concat([Buffer.from([1]), length, id, hash]);
    assert.equal(entry.toString('hex'), proof.entry, 'the entry is rebuilt from salt and record');
    const root = independentRootFromInclusion(
      proof.leaf_index,
      checkpoint.treeSize,
      independentLeafHash(entry),
      proof.audit_path.map((p) => Buffer.from(p, 'base64')),
    );
    assert.deepEqual(root, checkpoint.rootHash);
  });
});

test('a flipped byte in the bundle is detected, with the reason', async () => {
  const cases: Array<[string, string, (text: string) => string, boolean, RegExp]> = [
    ['messages.jsonl', 'raw-messages', flip('question v1 1'), false, /messages\.jsonl: SHA-256 .* does not match the manifest/],
    ['log/records.jsonl', 'record', flip('answer v2 2'), true, /does not match its log entry \(the record was changed\)/],
    ['messages.jsonl', 'message-row', flip('answer v1 0'), true, /messages\.jsonl line \d+ .*differs from its verified record/],
    [
      'log/proofs.jsonl',
      'proof',
      (text) => text.replace(/"audit_path":\["(.)/, (_m, c: string) => `"audit_path":["${c === 'A' ? 'B' : 'A'}`),
      true,
      /inclusion proof does not lead to the root hash/,
    ],
    ['log/checkpoint', 'checkpoint', (text) => text.replace('\n18\n', '\n17\n'), true, /log\/checkpoint: signed note rejected/],
  ];
  for (const [file, name, edit, rehash, reason] of cases) {
    const run = await archiveCli(['verify', tampered(intact, `tampered-${name}`, file, edit, rehash), '--key', verifierKey]);
    assert.equal(run.code, 1, `${name}: ${run.stdout}`);
    assert.match(run.stderr, reason, name);
  }
  const { publicKey } = generateKeyPairSync('ed25519');
  const otherKey = `waygate-eu+00000000+${Buffer.concat([Buffer.from([1]), publicKey.export({ format: 'der', type: 'spki' }).subarray(12)]).toString('base64')}`;
  const wrongKey = await archiveCli(['verify', intact, '--key', otherKey]);
  assert.equal(wrongKey.code, 1);
  assert.match(wrongKey.stderr, /log\/checkpoint/);
});

test('a flipped byte in an archived record (the SQLite row itself) fails the verification of the next export', async () => {
  const db = new Database(path.join(dir.path, 'data', 'eu', 'archive.sqlite'));
  try {
    const changed = db
      .prepare(
        "UPDATE archived_events SET content_json = replace(content_json, 'question v2 1', 'question v2 7') WHERE event_id = 'wa:in:wamid.v2-in-1'",
      )
      .run().changes;
    assert.equal(changed, 1);
  } finally {
    db.close();
  }
  const bundle = await exportBundle('bundle-after-tampering');
  const run = await archiveCli(['verify', bundle, '--key', verifierKey]);
  assert.equal(run.code, 1, run.stdout);
  assert.match(run.stderr, /record wa:in:wamid\.v2-in-1 does not match its log entry/);
});
