/**
 * The tenants file is live in real processes: ingress takes a new key and refuses a removed one within seconds of the
 * file changing, receipt answers the webhook handshake of a tenant added meanwhile, a broken file is refused with a
 * log line while the previous configuration stays, and SIGHUP reloads too. Removing a key also ends receipt's tenant
 * feed streams already open with it, while another key's stream keeps going.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ReceiptServiceClient, type ListDeadLettersResponse } from '@waygate/proto';
import {
  createTempDir,
  freePort,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  waitFor,
  type NatsServerHandle,
  type ServiceProcess,
  type TestTenant,
} from '@waygate/testing';
import { callUnary, loadPublicClients } from './proto-clients';

const ACME: TestTenant = { id: 'acme', homeRegion: 'eu', apiKey: 'key-acme-0001' };
const GLOBEX: TestTenant = { id: 'globex', homeRegion: 'eu', apiKey: 'key-globex-0001', verifyToken: 'verify-globex' };
const TOKEN = 'reload-test-internal-token-0123456789abcdef';

const dir = createTempDir();
const tenantsFile = path.join(dir.path, 'tenants.yaml');
let nats: NatsServerHandle;
let ingress: ServiceProcess;
let receipt: ServiceProcess;
let httpPort: number;
let receiptGrpcPort: number;
let messaging: ReturnType<ReturnType<typeof loadPublicClients>['messaging']>;

/** Replaces the file as editors and `kubectl` do: written aside, then renamed over it. */
function writeTenants(text: string): void {
  const aside = `${tenantsFile}.tmp`;
  writeFileSync(aside, text);
  renameSync(aside, tenantsFile);
}

/** What ingress answers a GetMessage for an unknown id with this key: NOT_FOUND once the key is known. */
async function answerFor(apiKey: string): Promise<string> {
  try {
    await callUnary(messaging, 'GetMessage', { message_id: 'msg_01HZZZZZZZZZZZZZZZZZZZZZZZ' }, apiKey);
    return 'OK';
  } catch (error) {
    return status[(error as ServiceError).code];
  }
}

async function handshake(verifyToken: string): Promise<number> {
  const url = `http://127.0.0.1:${httpPort}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${verifyToken}&hub.challenge=42`;
  return (await fetch(url)).status;
}

const logLines = (service: ServiceProcess) => service.outputTail(500).split('\n');

before(async () => {
  writeTenants(tenantsYaml([ACME]));
  nats = await startNatsServer();
  const env = {
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: dir.path,
    WAYGATE_GRPC_PORT: '0',
    WAYGATE_INTERNAL_SERVICE_TOKEN: TOKEN,
  };
  const ingressPort = await freePort();
  httpPort = await freePort();
  receiptGrpcPort = await freePort();
  [ingress, receipt] = await Promise.all([
    startServiceProcess('ingress', { ...env, WAYGATE_GRPC_PORT: String(ingressPort) }),
    startServiceProcess('receipt', { ...env, WAYGATE_HTTP_PORT: String(httpPort), WAYGATE_GRPC_PORT: String(receiptGrpcPort) }),
  ]);
  messaging = loadPublicClients().messaging(`127.0.0.1:${ingressPort}`);
});

after(async () => {
  messaging?.close();
  await Promise.all([ingress?.stop('SIGTERM'), receipt?.stop('SIGTERM')]);
  await nats?.stop();
  dir.remove();
});

test('a new key and tenant take effect within seconds; a removed key is refused at once', async () => {
  assert.equal(await answerFor(ACME.apiKey), 'NOT_FOUND');
  assert.equal(await answerFor(GLOBEX.apiKey), 'UNAUTHENTICATED');
  assert.equal(await handshake('verify-globex'), 403);

  writeTenants(tenantsYaml([ACME, GLOBEX]));
  await waitFor(async () => (await answerFor(GLOBEX.apiKey)) === 'NOT_FOUND', { timeoutMs: 5000, what: 'new key accepted' });
  await waitFor(async () => (await handshake('verify-globex')) === 200, { timeoutMs: 5000, what: 'new verify token' });
  assert.equal(await answerFor(ACME.apiKey), 'NOT_FOUND');

  writeTenants(tenantsYaml([GLOBEX]));
  await waitFor(async () => (await answerFor(ACME.apiKey)) === 'UNAUTHENTICATED', { timeoutMs: 5000, what: 'removed key refused' });
  assert.equal(await answerFor(GLOBEX.apiKey), 'NOT_FOUND');
  assert.ok(logLines(ingress).some((line) => /"msg":"tenants file reloaded"/.test(line)));
});

test('a broken file is refused with a log line and the previous configuration stays; SIGHUP reloads', async () => {
  writeTenants(tenantsYaml([GLOBEX]));
  await waitFor(async () => (await answerFor(GLOBEX.apiKey)) === 'NOT_FOUND', { timeoutMs: 5000, what: 'globex configured' });
  const refusals = (service: ServiceProcess) => logLines(service).filter((line) => /tenants file refused/.test(line));
  const before = { ingress: refusals(ingress).length, receipt: refusals(receipt).length };

  writeTenants(`${tenantsYaml([GLOBEX])}  - id: Not A Valid Id\n`);
  await waitFor(() => refusals(ingress).length > before.ingress && refusals(receipt).length > before.receipt, {
    timeoutMs: 5000,
    what: 'refusal logged by ingress and receipt',
  });
  const refusal = JSON.parse(refusals(ingress).at(-1) as string) as { level: string; reason: string; trigger: string };
  assert.equal(refusal.level, 'error');
  assert.match(refusal.reason, /invalid tenants file/);
  assert.equal(await answerFor(GLOBEX.apiKey), 'NOT_FOUND', 'the previous configuration stays in force');
  assert.equal(await handshake('verify-globex'), 200);

  // SIGHUP alone (no file event) makes it read the file again: here, the same broken file is refused once more.
  const countBefore = refusals(ingress).length;
  ingress.child.kill('SIGHUP');
  await waitFor(
    () =>
      refusals(ingress)
        .slice(countBefore)
        .some((line) => /"trigger":"SIGHUP"/.test(line)),
    {
      timeoutMs: 5000,
      what: 'SIGHUP reload',
    },
  );
  assert.equal(await answerFor(GLOBEX.apiKey), 'NOT_FOUND');
});

test('removing a key ends the WatchEvents streams open with it (UNAUTHENTICATED); another key’s stream keeps going', async () => {
  writeTenants(tenantsYaml([ACME, GLOBEX]));
  await waitFor(async () => (await handshake('verify-acme')) === 200, { timeoutMs: 5000, what: 'receipt knows acme' });
  const receiptClient = new ReceiptServiceClient(`127.0.0.1:${receiptGrpcPort}`, credentials.createInsecure());
  const withKey = (apiKey: string) => {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${apiKey}`);
    return metadata;
  };
  /** A unary call with the key on the same connection: once it answers OK, a stream opened before it was admitted. */
  const listDeadLetters = (apiKey: string) =>
    new Promise<ListDeadLettersResponse>((resolve, reject) =>
      receiptClient.listDeadLetters({ endpointId: '', pageSize: 0, pageToken: '' }, withKey(apiKey), (error, response) =>
        error ? reject(error) : resolve(response),
      ),
    );
  const watch = (apiKey: string) => {
    const stream = receiptClient.watchEvents({ afterSequence: '0', messageIds: [], recipients: [], eventTypes: [] }, withKey(apiKey));
    const state: { ended: boolean; error?: ServiceError } = { ended: false };
    stream.on('data', () => undefined);
    stream.on('error', (error: ServiceError) => Object.assign(state, { ended: true, error }));
    stream.on('end', () => (state.ended = true));
    return { stream, state };
  };
  try {
    const acmeFeed = watch(ACME.apiKey);
    const globexFeed = watch(GLOBEX.apiKey);
    await listDeadLetters(ACME.apiKey);
    await listDeadLetters(GLOBEX.apiKey);
    assert.equal(acmeFeed.state.ended, false, 'the acme feed is open');
    assert.equal(globexFeed.state.ended, false, 'the globex feed is open');

    // acme's key is rotated: the tenant stays, its old key is gone.
    const rotated: TestTenant = { ...ACME, apiKey: 'key-acme-0002' };
    writeTenants(tenantsYaml([rotated, GLOBEX]));
    await waitFor(() => acmeFeed.state.ended, { timeoutMs: 5000, what: 'the feed of the removed key to end' });
    assert.equal(acmeFeed.state.error?.code, status.UNAUTHENTICATED);
    assert.match(acmeFeed.state.error?.details ?? '', /API key this stream was opened with was revoked/);
    await assert.rejects(listDeadLetters(ACME.apiKey), (error: ServiceError) => error.code === status.UNAUTHENTICATED);
    await listDeadLetters(rotated.apiKey);
    await listDeadLetters(GLOBEX.apiKey);
    assert.equal(globexFeed.state.ended, false, 'the feed of the remaining key keeps going');

    const closed = logLines(receipt).filter((line) => /open stream closed: credential revoked/.test(line));
    assert.equal(closed.length, 1);
    assert.ok(!closed[0].includes(ACME.apiKey) && !closed[0].includes('"acme"'), 'the log names neither the key nor the tenant id');
    globexFeed.stream.cancel();
  } finally {
    receiptClient.close();
  }
});
