/**
 * Template and account webhooks always come to the app's one callback URL (Meta's overrides cover `messages` only):
 * two receipts, eu and us, each on its own nats-server; eu forwards the changes of a us WABA to us, re-signed with
 * the owner's app secret, and stores nothing of them itself.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { systemClock } from '@waygate/domain';
import { openPayload, openRegionKeyring, type Keyring } from '@waygate/keyring';
import { connectJetStream, regionStreams, type JetStreamConnection } from '@waygate/nats';
import { WebhookReceived } from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { createTempDir, freePort, startNatsServer, tenantsYaml, waitFor, type NatsServerHandle } from '@waygate/testing';
import { loadReceiptConfig } from '../config';
import { startReceipt } from '../server';
import { parseTenants } from '@waygate/tenancy';
import { FORWARDED_FIELDS } from './domain/region-forwarding';
import { createWebhookIntake } from './domain/webhook-intake';

const EU = { id: 'acme', wabaId: '300000000000001', appSecret: 'secret-acme', number: '310000000000001' };
const US = { id: 'initech', wabaId: '300000000000002', appSecret: 'secret-initech', number: '310000000000002' };
const sign = (body: string, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

interface RunningReceipt {
  readonly webhookUrl: string;
  readonly logs: string[];
  readonly nats: JetStreamConnection;
  /** The region keyring (queued bodies are sealed under it). */
  readonly keyring: Keyring;
  stop(): Promise<void>;
}

let dir: ReturnType<typeof createTempDir>;
const servers: NatsServerHandle[] = [];
let eu: RunningReceipt;
let us: RunningReceipt;
let usWebhookPort: number;

async function start(region: 'eu' | 'us', httpPort: number, env: NodeJS.ProcessEnv): Promise<RunningReceipt> {
  const nats = await startNatsServer();
  servers.push(nats);
  const logs: string[] = [];
  const logger = createLogger({
    service: `receipt-${region}`,
    level: 'debug',
    destination: new Writable({ write: (chunk, _e, done) => (logs.push(String(chunk)), done()) }),
  });
  const config = loadReceiptConfig({
    WAYGATE_REGION: region,
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: path.join(dir.path, 'tenants.yaml'),
    WAYGATE_DATA_DIR: path.join(dir.path, region),
    WAYGATE_GRPC_PORT: '0',
    WAYGATE_HTTP_PORT: String(httpPort),
    WAYGATE_MEDIA_STORE_ADDRESS: `127.0.0.1:${await freePort()}`,
    WAYGATE_INTERNAL_SERVICE_TOKEN: randomBytes(32).toString('hex'),
    WAYGATE_REGION_FORWARD_TIMEOUT_MS: '2000',
    ...env,
  });
  const receipt = await startReceipt(config, logger);
  const connection = await connectJetStream(nats.url, `observer-${region}`);
  const { keyring } = await openRegionKeyring({ js: connection.js, region, kek: config.kek, clock: systemClock });
  return {
    webhookUrl: `http://127.0.0.1:${receipt.httpPort}/webhooks/whatsapp`,
    logs,
    nats: connection,
    keyring,
    async stop() {
      await connection.nc.close();
      await receipt.stop();
    },
  };
}

/** The bodies queued on a region's webhooks stream, parsed. */
async function queuedBodies(
  receipt: RunningReceipt,
  region: 'eu' | 'us',
): Promise<{ entry: { id: string; changes: { field: string }[] }[] }[]> {
  const stream = regionStreams(region).webhooks.name;
  const count = (await receipt.nats.jsm.streams.info(stream)).state.messages;
  const bodies = [];
  for (let seq = 1; seq <= count; seq += 1) {
    const stored = await receipt.nats.jsm.streams.getMessage(stream, { seq });
    const opened = await openPayload(receipt.keyring, stored.data);
    bodies.push(JSON.parse(Buffer.from(WebhookReceived.decode(opened).body).toString('utf8')));
  }
  return bodies;
}

function accountWebhook(entries: { wabaId: string; fields: string[]; number?: string }[]): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: entries.map((entry) => ({
      id: entry.wabaId,
      time: 1764930000,
      changes: entry.fields.map((field) =>
        field === 'messages'
          ? {
              field,
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550001000', phone_number_id: entry.number },
                statuses: [{ id: 'wamid.x', status: 'sent', timestamp: '1764930000', recipient_id: '4915112345678' }],
              },
            }
          : { field, value: { event: 'APPROVED', message_template_id: 1234, message_template_name: 'order_update' } },
      ),
    })),
  });
}

before(async () => {
  dir = createTempDir('waygate-forward-');
  writeFileSync(
    path.join(dir.path, 'tenants.yaml'),
    tenantsYaml([
      { id: EU.id, homeRegion: 'eu', apiKey: 'key-acme', wabaId: EU.wabaId, appSecret: EU.appSecret, phoneNumberIds: [EU.number] },
      { id: US.id, homeRegion: 'us', apiKey: 'key-initech', wabaId: US.wabaId, appSecret: US.appSecret, phoneNumberIds: [US.number] },
    ]),
  );
  usWebhookPort = await freePort();
  us = await start('us', usWebhookPort, {});
  eu = await start('eu', 0, { WAYGATE_REGION_WEBHOOK_URLS: JSON.stringify({ us: us.webhookUrl }) });
});

after(async () => {
  await eu?.stop();
  await us?.stop();
  for (const server of servers) await server.stop();
  dir?.remove();
});

describe("forwarding template and account webhooks to the WABA's region", () => {
  test("a us WABA's template and account changes reach us receipt, signed so it accepts them; eu queues nothing of them", async () => {
    const body = accountWebhook([
      { wabaId: US.wabaId, fields: ['message_template_status_update', 'account_update', 'messages'], number: US.number },
    ]);
    const response = await fetch(eu.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body, US.appSecret) },
      body,
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'forwarded' });
    const forwarded = await waitFor(async () => (await queuedBodies(us, 'us'))[0], { what: 'the forwarded body queued in us' });
    assert.deepEqual(
      forwarded.entry.map((entry) => [entry.id, entry.changes.map((change) => change.field)]),
      [[US.wabaId, ['message_template_status_update', 'account_update']]],
      'only the template and account changes cross, never messages',
    );
    assert.deepEqual(await queuedBodies(eu, 'eu'), [], 'eu stored nothing');
    assert.ok(eu.logs.some((line) => line.includes('template/account webhook forwarded to its region')));
    assert.ok(!eu.logs.join('').includes(US.id), "eu's logs do not name the us tenant");
  });

  test("a body mixing apps is refused; a region's own template and account webhooks stay in it", async () => {
    const body = accountWebhook([
      { wabaId: EU.wabaId, fields: ['phone_number_quality_update'] },
      { wabaId: US.wabaId, fields: ['business_capability_update'] },
    ]);
    // The two WABAs belong to different apps (secrets): a body carrying both cannot be signed by both owners.
    const refused = await fetch(eu.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body, EU.appSecret) },
      body,
    });
    assert.equal(refused.status, 401, 'a body mixing apps cannot be signed by both: refused, nothing forwarded');
    const usBefore = (await queuedBodies(us, 'us')).length;
    assert.equal(usBefore, 1);

    const euOnly = accountWebhook([{ wabaId: EU.wabaId, fields: ['phone_number_quality_update'] }]);
    const local = await fetch(eu.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(euOnly, EU.appSecret) },
      body: euOnly,
    });
    assert.deepEqual(await local.json(), { status: 'queued' }, "eu's own template/account webhooks stay in eu");
    assert.equal((await queuedBodies(us, 'us')).length, usBefore, 'nothing of it crossed');
  });

  test('when the other region does not answer, 503 (Meta retries) and nothing is queued here', async () => {
    await us.stop();
    try {
      const body = accountWebhook([{ wabaId: US.wabaId, fields: ['template_category_update'] }]);
      const euBefore = (await queuedBodies(eu, 'eu')).length;
      const response = await fetch(eu.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': sign(body, US.appSecret) },
        body,
      });
      assert.equal(response.status, 503);
      assert.equal((await queuedBodies(eu, 'eu')).length, euBefore);
      assert.ok(eu.logs.some((line) => line.includes('could not forward webhook to its region')));
    } finally {
      us = await start('us', usWebhookPort, {});
    }
  });

  test("one Meta app for both regions: a mixed body is queued with this region's entries, the other's forwarded, signed alike", () => {
    const sameApp = parseTenants(
      tenantsYaml([
        { id: EU.id, homeRegion: 'eu', apiKey: 'k1', wabaId: EU.wabaId, appSecret: 'one-app', phoneNumberIds: [EU.number] },
        { id: US.id, homeRegion: 'us', apiKey: 'k2', wabaId: US.wabaId, appSecret: 'one-app', phoneNumberIds: [US.number] },
      ]),
    );
    const body = accountWebhook([
      { wabaId: EU.wabaId, fields: ['messages', 'message_template_quality_update'], number: EU.number },
      { wabaId: US.wabaId, fields: ['messages', 'phone_number_quality_update'], number: US.number },
    ]);
    const decision = createWebhookIntake(sameApp, 'eu')(Buffer.from(body), sign(body, 'one-app'));
    assert.equal(decision.kind, 'accepted');
    const queued = JSON.parse(Buffer.from((decision as { body: Uint8Array }).body).toString()) as { entry: { id: string }[] };
    assert.deepEqual(
      queued.entry.map((entry) => entry.id),
      [EU.wabaId],
    );
    assert.equal(decision.forwards.length, 1);
    const [forward] = decision.forwards;
    assert.equal(forward?.region, 'us');
    const forwardedBody = Buffer.from(forward?.body ?? []).toString();
    assert.equal(forward?.signature, sign(forwardedBody, 'one-app'));
    assert.deepEqual(
      JSON.parse(forwardedBody).entry[0].changes.map((change: { field: string }) => change.field),
      ['phone_number_quality_update'],
    );
    assert.ok(!forwardedBody.includes('4915112345678'), 'no customer number crosses');
  });

  test('every template and account field Meta never overrides is forwarded', () => {
    assert.deepEqual([...FORWARDED_FIELDS].sort(), [
      'account_update',
      'business_capability_update',
      'message_template_components_update',
      'message_template_quality_update',
      'message_template_status_update',
      'phone_number_quality_update',
      'template_category_update',
    ]);
  });

  test('WAYGATE_REGION_WEBHOOK_URLS is checked at start', () => {
    const base = { WAYGATE_REGION: 'eu', WAYGATE_TENANTS_FILE: 'x', WAYGATE_INTERNAL_SERVICE_TOKEN: 'a'.repeat(32) };
    assert.deepEqual(
      loadReceiptConfig({ ...base, WAYGATE_REGION_WEBHOOK_URLS: '{"us":"https://r.us.example/w"}' }).webhooks.regionWebhookUrls,
      {
        us: 'https://r.us.example/w',
      },
    );
    assert.throws(() => loadReceiptConfig({ ...base, WAYGATE_REGION_WEBHOOK_URLS: '{"mars":"http://x"}' }), /WAYGATE_REGION_WEBHOOK_URLS/);
    assert.throws(() => loadReceiptConfig({ ...base, WAYGATE_REGION_WEBHOOK_URLS: '{"us":"ftp://x"}' }), /WAYGATE_REGION_WEBHOOK_URLS/);
    assert.throws(() => loadReceiptConfig({ ...base, WAYGATE_REGION_WEBHOOK_URLS: 'not json' }), /WAYGATE_REGION_WEBHOOK_URLS/);
    assert.throws(() => loadReceiptConfig({ ...base, WAYGATE_REGION_WEBHOOK_URLS: '{"eu":"http://x/w"}' }), /names this region/);
  });
});
