import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { parseTenants } from '@waygate/tenancy';
import { createTempDir } from '@waygate/testing';
import { formatRunningBanner } from './banner';
import { devTenantsYaml, loadDevCredentials, regionDemoTenant } from './dev-credentials';
import { formatLogLine } from './log-format';
import { DEFAULT_PORTS, regionNatsStoreDir, regionPorts } from './stack';

test('dev credentials are generated once, kept private, and can be overridden', () => {
  const dir = createTempDir();
  try {
    const first = loadDevCredentials(dir.path, {});
    assert.deepEqual(loadDevCredentials(dir.path, {}), first, 'stable across restarts');
    assert.equal(statSync(path.join(dir.path, 'dev-credentials.json')).mode & 0o777, 0o600);
    const overridden = loadDevCredentials(dir.path, {
      WAYGATE_DEV_API_KEY: 'my-key',
      WAYGATE_DEV_PHONE_NUMBER_ID: '123',
      WAYGATE_DEV_APP_SECRET: 'sec',
    });
    assert.deepEqual([overridden.apiKey, overridden.phoneNumberId, overridden.appSecret], ['my-key', '123', 'sec']);
    const tenants = parseTenants(devTenantsYaml(overridden));
    assert.equal(tenants.authenticate('my-key')?.homeRegion, 'eu');
    assert.equal(tenants.authenticate(overridden.usApiKey)?.homeRegion, 'us');
  } finally {
    dir.remove();
  }
});

test('log lines are rendered readably with the process name', () => {
  const line = formatLogLine(
    'ingress',
    JSON.stringify({ level: 'info', time: 't', service: 'ingress', msg: 'message accepted', message_id: 'msg_1' }),
    0,
    false,
  );
  assert.equal(line, 'ingress         INFO  message accepted  message_id=msg_1');
  assert.equal(formatLogLine('nats-server', 'plain text', 1, false), 'nats-server     plain text');
});

test("the banner names the gRPC services each port serves, receipt's included, and how to open the customer's window", () => {
  const dir = createTempDir();
  try {
    const credentials = loadDevCredentials(dir.path, {});
    const banner = formatRunningBanner({
      region: 'eu',
      ports: DEFAULT_PORTS,
      credentials,
      webhookUrl: 'http://127.0.0.1:8080/webhooks/whatsapp',
      simulatorUrl: 'http://127.0.0.1:8090',
    });
    const receipt = banner.split('\n').find((line) => line.trim().startsWith('receipt'));
    assert.match(receipt ?? '', /127\.0\.0\.1:50052 +ReceiptService \(WatchEvents, dead letters\), InboundService/);
    assert.doesNotMatch(banner, /gRPC health/);
    assert.match(banner, /127\.0\.0\.1:50055 +DeliveryAdminService \(internal: service token only\)/);
    assert.match(banner, /DeadLetterAdminService .*\n.*internalServiceToken of dev-credentials\.json/);
    assert.ok(!banner.includes(credentials.internalServiceToken), 'the internal token is not printed');
    assert.match(banner, /_simulator\/inbound/);
    assert.ok(banner.includes(credentials.apiKey));
  } finally {
    dir.remove();
  }
});

test('--regions eu,us: us runs 100 above the eu ports on its own nats-server and data folder, with its own tenant and token', () => {
  const us = regionPorts(DEFAULT_PORTS, 'us');
  assert.deepEqual(
    [us.nats, us.webhook, us.grpc.ingress, us.grpc['delivery-retry'], us.simulator],
    [4322, 8180, 50151, 50155, DEFAULT_PORTS.simulator],
    'the simulator is shared',
  );
  assert.deepEqual(regionPorts(DEFAULT_PORTS, 'eu'), DEFAULT_PORTS, 'eu keeps the documented ports');
  assert.equal(regionNatsStoreDir('/d', 'eu'), path.join('/d', 'nats'), 'eu keeps its JetStream store where it always was');
  assert.equal(regionNatsStoreDir('/d', 'us'), path.join('/d', 'us', 'nats'));
  const dir = createTempDir();
  try {
    const credentials = loadDevCredentials(dir.path, {});
    const [eu, usTenant] = [regionDemoTenant(credentials, 'eu'), regionDemoTenant(credentials, 'us')];
    for (const key of [
      'tenantId',
      'apiKey',
      'wabaId',
      'phoneNumberId',
      'displayPhoneNumber',
      'accessToken',
      'internalServiceToken',
    ] as const) {
      assert.notEqual(eu[key], usTenant[key], key);
    }
    const tenants = parseTenants(devTenantsYaml(credentials));
    assert.equal(tenants.authenticate(usTenant.apiKey)?.id, 'demo-us');
    assert.equal(tenants.get('demo-us')?.whatsapp.wabaId, usTenant.wabaId);
    assert.equal(tenants.get('demo')?.whatsapp.phoneNumbers[0]?.id, eu.phoneNumberId);
  } finally {
    dir.remove();
  }
});
