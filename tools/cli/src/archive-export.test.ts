/**
 * `npm run archive -- export` as a real child process against a real archive process fed through its real consumers
 * (nats-server, SQLite): the bundle lands in the directory and matches its manifest; an existing non-empty directory
 * is refused; errors leave nothing behind; the key is never printed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectJetStream, publishEvent, regionStreams, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import { ContentType, InboundMessageReceived, MessageAccepted, MessageStatus, MessageStatusChanged, StatusSource } from '@waygate/proto';
import {
  createTempDir,
  freePort,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  tsxEntryCommand,
  waitForConsumersCaughtUp,
  type NatsServerHandle,
  type ServiceProcess,
} from '@waygate/testing';

const KEYS = { acme: 'key-acme-archive-cli-0001', umbrella: 'key-umbrella-archive-cli-0001' };
const CUSTOMERS = ['+4915112340001', '+4915112340002'];
const T0 = Date.UTC(2025, 5, 1, 8);
const subjects = regionSubjects('eu');
const streams = regionStreams('eu');

const dir = createTempDir();
let nats: NatsServerHandle;
let publisher: JetStreamConnection;
let archive: ServiceProcess;
let env: Record<string, string>;

async function publishConversation(tenantId: string, phoneNumberId: string, customer: string, tag: string): Promise<void> {
  for (let n = 0; n < 3; n++) {
    const at = new Date(T0 + n * 60_000);
    const waMessageId = `wamid.${tag}-in-${n}`;
    const inbound = InboundMessageReceived.fromPartial({
      eventId: `wa:in:${waMessageId}`,
      tenantId,
      phoneNumberId,
      from: customer,
      waMessageId,
      occurredAt: at,
      type: 'text',
      text: `=HYPERLINK("x") question ${n} <b>`,
      contentJson: JSON.stringify({ body: `question ${n}` }),
      serviceWindowClosesAt: new Date(at.getTime() + 86_400_000),
    });
    await publishEvent(publisher.js, subjects.inboundEvents, InboundMessageReceived.encode(inbound).finish(), inbound.eventId);
    const messageId = `msg_${tag}_${n}`;
    const accepted = MessageAccepted.fromPartial({
      tenantId,
      messageId,
      to: customer,
      phoneNumberId,
      content: { $case: 'text', value: { body: `answer ${n}`, previewUrl: false } },
      contentType: ContentType.CONTENT_TYPE_TEXT,
      contentSummary: 'text',
      acceptedAt: new Date(at.getTime() + 10_000),
      expiresAt: new Date(at.getTime() + 86_400_000),
    });
    await publishEvent(publisher.js, subjects.outboundAccepted, MessageAccepted.encode(accepted).finish(), `accepted:${messageId}`);
    const delivered = MessageStatusChanged.fromPartial({
      eventId: `${tag}-delivered-${n}`,
      tenantId,
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
  writeFileSync(
    tenantsFile,
    tenantsYaml([
      { id: 'acme', homeRegion: 'eu', apiKey: KEYS.acme, phoneNumberIds: ['200'] },
      { id: 'umbrella', homeRegion: 'eu', apiKey: KEYS.umbrella, phoneNumberIds: ['202'] },
    ]),
  );
  nats = await startNatsServer();
  publisher = await connectJetStream(nats.url, 'archive-cli-test');
  const port = await freePort();
  archive = await startServiceProcess('archive', {
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: path.join(dir.path, 'data'),
    WAYGATE_GRPC_PORT: String(port),
    WAYGATE_INTERNAL_SERVICE_TOKEN: 'archive-cli-test-internal-token-0123456789abcdef',
  });
  env = { PATH: process.env.PATH ?? '', WAYGATE_ARCHIVE_ADDRESS: `127.0.0.1:${port}`, WAYGATE_API_KEY: KEYS.acme };
  await publishConversation('acme', '200', CUSTOMERS[0] as string, 'a1');
  await publishConversation('acme', '200', CUSTOMERS[1] as string, 'a2');
  await publishConversation('umbrella', '202', CUSTOMERS[0] as string, 'u1');
  await waitForConsumersCaughtUp(publisher.jsm, [
    [streams.outbound.name, 'archive-outbound'],
    [streams.events.name, 'archive-events'],
  ]);
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

/** `npm run archive -- <args>` as npm runs it (tsx on tools/cli/src/main.ts with `archive` first), a child process. */
function archiveCli(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  const entry = tsxEntryCommand('tools/cli/src/main.ts');
  return new Promise((resolve) => {
    execFile(
      entry.command,
      [...entry.args, 'archive', ...args],
      { cwd: entry.cwd, env: { ...env, ...extraEnv }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

interface Manifest {
  tenant_id: string;
  conversations: number;
  messages: number;
  files: { path: string; sha256: string; bytes: number; records: number }[];
}

test('export writes the bundle into a new directory; every file matches the manifest; only the caller’s messages', async () => {
  const out = path.join(dir.path, 'bundle-all');
  const run = await archiveCli(['export', '--out', out, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as { messages: number; verified: boolean };
  assert.equal(summary.verified, true);
  const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
  assert.equal(manifest.tenant_id, 'acme');
  assert.equal(manifest.conversations, 2);
  assert.equal(manifest.messages, 12, "acme's 2 conversations of 6 messages; umbrella's are not there");
  assert.equal(summary.messages, 12);
  assert.deepEqual(manifest.files.map((file) => file.path).slice(0, 2), ['messages.jsonl', 'messages.csv']);
  assert.equal(manifest.files.filter((file) => file.path.startsWith('transcripts/')).length, 2);
  for (const file of manifest.files) {
    const data = readFileSync(path.join(out, file.path));
    assert.equal(createHash('sha256').update(data).digest('hex'), file.sha256, file.path);
  }
  assert.deepEqual(
    readdirSync(path.dirname(out)).filter((name) => name.includes('.partial-')),
    [],
    'no staging left behind',
  );
  const jsonl = readFileSync(path.join(out, 'messages.jsonl'), 'utf8').trim().split('\n');
  assert.equal(jsonl.length, 12);
  const outbound = jsonl
    .map((line) => JSON.parse(line) as { direction: string; statuses: { status: string }[] })
    .find((r) => r.direction === 'outbound');
  assert.ok(
    outbound?.statuses.some((status) => status.status === 'DELIVERED'),
    'statuses are exported with the message',
  );
  assert.match(readFileSync(path.join(out, 'messages.csv'), 'utf8'), /'=HYPERLINK\(""x""\) question 0 <b>/);
  assert.doesNotMatch(run.stdout + run.stderr, new RegExp(KEYS.acme), 'the key is never printed');
});

test('filters and formats: one customer, CSV only', async () => {
  const out = path.join(dir.path, 'bundle-csv');
  const run = await archiveCli(['export', '--out', out, '--customer', CUSTOMERS[1] as string, '--format', 'csv']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /exported 6 messages of 1 conversations into .*every SHA-256 verified/);
  assert.deepEqual(readdirSync(out).sort(), ['log', 'manifest.json', 'messages.csv'], 'the archive log travels with every export');
  assert.equal(readFileSync(path.join(out, 'messages.csv'), 'utf8').trim().split('\r\n').length, 7);
});

test('refuses a non-empty directory (exit 2) and writes nothing into it; an empty one is fine', async () => {
  const full = path.join(dir.path, 'not-empty');
  mkdirSync(full);
  writeFileSync(path.join(full, 'keep.txt'), 'mine');
  const refused = await archiveCli(['export', '--out', full]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /is not empty: refusing to overwrite/);
  assert.deepEqual(readdirSync(full), ['keep.txt']);

  const empty = path.join(dir.path, 'empty');
  mkdirSync(empty);
  const run = await archiveCli(['export', '--out', empty, '--format', 'jsonl']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(readdirSync(empty).sort(), ['log', 'manifest.json', 'messages.jsonl']);
});

test('errors exit 1 with the gRPC status and leave nothing at --out: a wrong key, a bad filter, an unknown conversation', async () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [[], { WAYGATE_API_KEY: 'key-wrong-secret-0001' }, /^error: UNAUTHENTICATED/],
    [['--customer', '0151-not-e164'], {}, /^error: INVALID_ARGUMENT: .*customer/],
    [['--conversation', 'cv_unknown'], {}, /^error: NOT_FOUND/],
  ];
  for (const [index, [args, extraEnv, expected]] of cases.entries()) {
    const out = path.join(dir.path, `failed-${index}`);
    const run = await archiveCli(['export', '--out', out, ...args], extraEnv);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, expected);
    assert.doesNotMatch(run.stderr, /key-wrong-secret/, 'the key is never printed');
    assert.equal(existsSync(out), false, 'nothing at --out');
  }
  assert.deepEqual(
    readdirSync(dir.path).filter((name) => name.includes('.partial-')),
    [],
  );
  const usage = await archiveCli(['export', '--out', path.join(dir.path, 'x'), '--format', 'pdf']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--format pdf: must be jsonl, csv or html/);
});
