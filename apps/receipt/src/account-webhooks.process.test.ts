/**
 * Meta's account webhooks through receipt's real HTTP endpoint (a receipt process, the simulator's control API
 * emitting them signed like Meta): each becomes an AccountEvent on NATS, a metric on /metrics (alerts where a person
 * is needed), and delivery-retry's side is nats-throughput-upgrades.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { connectJetStream, ensureRegionStreams, regionStreams, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import { AccountEvent } from '@waygate/proto';
import {
  createTempDir,
  freePort,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  waitFor,
  type NatsServerHandle,
  type ServiceProcess,
} from '@waygate/testing';
import { startSimulator, type WhatsAppSimulator } from '@waygate/whatsapp-simulator';

const TENANT = {
  id: 'acme',
  homeRegion: 'eu' as const,
  apiKey: 'key-acme',
  wabaId: '900100',
  phoneNumberIds: ['700100'],
  appSecret: 'app-secret-acme',
  verifyToken: 'verify-acme',
  accessToken: 'token-acme',
};
const dir = createTempDir();
let nats: NatsServerHandle;
let connection: JetStreamConnection;
let simulator: WhatsAppSimulator;
let receipt: ServiceProcess;
let metricsPort: number;
const events: AccountEvent[] = [];
let stopCollecting: () => Promise<void>;

before(async () => {
  nats = await startNatsServer();
  connection = await connectJetStream(nats.url, 'account-webhooks-test');
  await ensureRegionStreams(connection.jsm, 'eu');
  const consumer = await connection.js.consumers.get(regionStreams('eu').events.name, {
    filterSubjects: regionSubjects('eu').accountEvents,
  });
  const messages = await consumer.consume();
  const loop = (async () => {
    for await (const message of messages) events.push(AccountEvent.decode(message.data));
  })();
  stopCollecting = async () => {
    await messages.close();
    await loop;
  };
  simulator = await startSimulator({
    appSecret: TENANT.appSecret,
    phoneNumbers: [{ id: '700100', displayPhoneNumber: '+1 555-000-1000', accessToken: TENANT.accessToken, wabaId: TENANT.wabaId }],
  });
  writeFileSync(path.join(dir.path, 'tenants.yaml'), tenantsYaml([TENANT]));
  const httpPort = await freePort();
  metricsPort = await freePort();
  receipt = await startServiceProcess('receipt', {
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: path.join(dir.path, 'tenants.yaml'),
    WAYGATE_DATA_DIR: dir.path,
    WAYGATE_GRPC_PORT: '0',
    WAYGATE_HTTP_PORT: String(httpPort),
    WAYGATE_METRICS_PORT: String(metricsPort),
    WAYGATE_INTERNAL_SERVICE_TOKEN: 'account-test-internal-token-0123456789abcdef',
  });
  const subscribed = await fetch(`${simulator.url}/_simulator/subscribe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `http://127.0.0.1:${httpPort}/webhooks/whatsapp`, verifyToken: TENANT.verifyToken }),
  });
  assert.equal(subscribed.status, 200, await subscribed.text());
});

after(async () => {
  await receipt?.stop('SIGTERM');
  await stopCollecting?.();
  await simulator?.stop();
  await connection?.nc.close();
  await nats?.stop();
  dir.remove();
});

async function emit(field: string, value?: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${simulator.url}/_simulator/account-webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ field, ...(value ? { value } : {}) }),
  });
  const answer = (await response.json()) as { receiverStatus: number };
  assert.equal(response.status, 200);
  assert.equal(answer.receiverStatus, 200, 'receipt took the signed webhook');
}

const metricsText = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();

test('a throughput upgrade becomes an AccountEvent naming the number (delivery-retry raises its rate from it)', async () => {
  await emit('phone_number_quality_update', { event: 'THROUGHPUT_UPGRADE' });
  await waitFor(() => events.find((e) => e.change?.$case === 'phoneNumberQuality'), { what: 'the AccountEvent' });
  const event = events.find((e) => e.change?.$case === 'phoneNumberQuality');
  assert.equal(event?.tenantId, 'acme');
  assert.equal(event?.wabaId, TENANT.wabaId);
  assert.deepEqual(event?.change?.$case === 'phoneNumberQuality' && event.change.value, {
    phoneNumberId: '700100',
    displayPhoneNumber: '15550001000',
    event: 'THROUGHPUT_UPGRADE',
    currentLimit: 'TIER_UNLIMITED',
    oldLimit: '',
    maxDailyConversationsPerBusiness: '0',
    throughputMps: 1000,
  });
  await waitFor(metricsText, {
    what: 'the throughput gauge',
    until: (text) => /^waygate_account_phone_number_throughput\{[^}]*phone_number_id="700100"[^}]*\} 1000$/m.test(text),
  });
  // The simulator's Graph API reports the new level too (what `doctor` reads).
  const number = (await (await fetch(`${simulator.url}/v23.0/700100?access_token=${TENANT.accessToken}`)).json()) as {
    throughput: { level: string };
  };
  assert.equal(number.throughput.level, 'HIGH');
});

test('a flagged number, a new messaging limit, a restriction and a ban: events, gauges and alert counters', async () => {
  await emit('phone_number_quality_update', { event: 'FLAGGED', current_limit: 'TIER_1K' });
  await emit('business_capability_update', { max_daily_conversations_per_business: 10000, max_phone_numbers_per_business: 20 });
  await emit('account_update', {
    event: 'ACCOUNT_RESTRICTION',
    restriction_info: [{ restriction_type: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expiration: '2026-12-31T00:00:00+0000' }],
  });
  await emit('account_update', { event: 'DISABLED_UPDATE', ban_info: { waba_ban_state: ['DISABLE'], waba_ban_date: '2026-12-05' } });
  await waitFor(() => events.length, { what: 'five account events', until: (count) => count >= 5 });

  const capability = events.find((e) => e.change?.$case === 'businessCapability');
  assert.deepEqual(capability?.change?.$case === 'businessCapability' && capability.change.value, {
    maxDailyConversationsPerBusiness: '10000',
    maxPhoneNumbersPerBusiness: '20',
    maxPhoneNumbersPerWaba: '0',
  });
  const ban = events.find((e) => e.change?.$case === 'accountUpdate' && e.change.value.event === 'DISABLED_UPDATE');
  assert.equal(ban?.change?.$case === 'accountUpdate' && ban.change.value.banState, 'DISABLE');
  const restriction = events.find((e) => e.change?.$case === 'accountUpdate' && e.change.value.event === 'ACCOUNT_RESTRICTION');
  assert.deepEqual(restriction?.change?.$case === 'accountUpdate' && restriction.change.value.restrictions, [
    { restrictionType: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expiration: '2026-12-31T00:00:00+0000' },
  ]);

  const text = await waitFor(metricsText, { what: 'the ban alert', until: (t) => /kind="account_banned"/.test(t) });
  for (const kind of ['phone_number_flagged', 'account_restricted', 'account_banned'])
    assert.match(text, new RegExp(`^waygate_account_alerts_total\\{(?=[^}]*kind="${kind}")(?=[^}]*tenant="acme")[^}]*\\} 1$`, 'm'), kind);
  assert.match(text, /^waygate_account_messaging_limit\{[^}]*tenant="acme"[^}]*\} 10000$/m);
  assert.match(text, /^waygate_account_phone_number_flagged\{[^}]*phone_number_id="700100"[^}]*\} 1$/m);
  assert.match(text, /^waygate_account_restrictions\{[^}]*\} 1$/m);
  assert.doesNotMatch(receipt.outputTail(200), /"level":"(error|fatal)"/);
});
