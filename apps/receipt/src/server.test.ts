import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { connectJetStream, regionStreams, type JetStreamConnection } from '@waygate/nats';
import { createLogger } from '@waygate/telemetry';
import { createTempDir, type NatsServerHandle, startNatsServer, tenantsYaml } from '@waygate/testing';
import { loadReceiptConfig } from './config';
import { startReceipt } from './server';
import { statusWebhookJson } from './testing/status-webhook';

const logger = createLogger({ service: 'receipt-test', level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
let nats: NatsServerHandle;
let dir: ReturnType<typeof createTempDir>;
let receipt: Awaited<ReturnType<typeof startReceipt>>;
let connection: JetStreamConnection;
let url: string;

before(async () => {
  nats = await startNatsServer();
  dir = createTempDir();
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(
    tenantsFile,
    tenantsYaml([
      {
        id: 'acme',
        homeRegion: 'eu',
        apiKey: 'a',
        wabaId: '900',
        appSecret: 'app-secret',
        verifyToken: 'verify-me',
        phoneNumberIds: ['200'],
      },
    ]),
  );
  const config = loadReceiptConfig({
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: dir.path,
    WAYGATE_GRPC_PORT: '0',
    WAYGATE_HTTP_PORT: '0',
  });
  receipt = await startReceipt(config, logger);
  url = `http://127.0.0.1:${receipt.httpPort}/webhooks/whatsapp`;
  connection = await connectJetStream(nats.url, 'receipt-test');
});

after(async () => {
  await connection.nc.close();
  await receipt.stop();
  await nats.stop();
  dir.remove();
});

const queuedWebhooks = async () => (await connection.jsm.streams.info(regionStreams('eu').webhooks.name)).state.messages;
/** JSON body of an HTTP answer. */
const json = async (response: Response) => (await response.json()) as { error?: string; status?: string };
const sign = (body: string, secret = 'app-secret') => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const statusBody = statusWebhookJson('200', [{ id: 'wamid.1', status: 'sent', timestamp: '1700000000' }]);

test('subscription handshake echoes the challenge only for a known verify token', async () => {
  const ok = await fetch(`${url}?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=12345`);
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), '12345');
  const wrong = await fetch(`${url}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=12345`);
  assert.equal(wrong.status, 403);
  assert.match(String((await json(wrong)).error), /verify token/);
  assert.ok(ok.headers.get('x-content-type-options'), 'helmet headers are set');
});

test('a bad or missing signature is refused with 401 and nothing is queued', async () => {
  const before = await queuedWebhooks();
  for (const signature of [sign(statusBody, 'wrong-secret'), undefined, 'sha256=00']) {
    const response = await fetch(url, {
      method: 'POST',
      body: statusBody,
      headers: { 'content-type': 'application/json', ...(signature ? { 'x-hub-signature-256': signature } : {}) },
    });
    assert.equal(response.status, 401);
    assert.match(String((await json(response)).error), /X-Hub-Signature-256/);
  }
  assert.equal(await queuedWebhooks(), before);
});

test('a signed webhook is queued durably before 200; an identical retry is stored once', async () => {
  const before = await queuedWebhooks();
  for (let i = 0; i < 2; i++) {
    const response = await fetch(url, {
      method: 'POST',
      body: statusBody,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(statusBody) },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await json(response), { status: 'queued' });
  }
  assert.equal(await queuedWebhooks(), before + 1);
});

test('oversize bodies get 413 and signed non-JSON is answered without being queued', async () => {
  const big = 'x'.repeat(3 * 1024 * 1024 + 1);
  const oversize = await fetch(url, {
    method: 'POST',
    body: big,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(big) },
  });
  assert.equal(oversize.status, 413);
  assert.match(String((await json(oversize)).error), /exceeds/);
  const before = await queuedWebhooks();
  const garbage = await fetch(url, { method: 'POST', body: '{not json', headers: { 'x-hub-signature-256': sign('{not json') } });
  assert.equal(garbage.status, 200);
  assert.equal((await json(garbage)).status, 'ignored');
  assert.equal(await queuedWebhooks(), before);
});
