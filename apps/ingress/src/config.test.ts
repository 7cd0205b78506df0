import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@waygate/config';
import { loadIngressConfig } from './config';

const TOKEN = 'internal-token-0123456789abcdef0123456789';
const base = { WAYGATE_REGION: 'eu', WAYGATE_TENANTS_FILE: '/etc/waygate/tenants.yaml', WAYGATE_INTERNAL_SERVICE_TOKEN: TOKEN };

test('defaults: port 50051, delivery-retry on 127.0.0.1:50055, outbox every 5 s', () => {
  const config = loadIngressConfig(base);
  assert.equal(config.grpcPort, 50051);
  assert.equal(config.deliveryAddress, '127.0.0.1:50055');
  assert.equal(config.mediaStoreAddress, '127.0.0.1:50053');
  assert.equal(config.outboxIntervalMs, 5000);
});

test('WAYGATE_DELIVERY_ADDRESS takes host:port with a DNS name, IPv4 or bracketed IPv6 host', () => {
  for (const address of [
    'waygate-eu-delivery-retry:50055',
    '10.0.0.7:1',
    '[::1]:65535',
    'delivery-retry.waygate.svc.cluster.local:50055',
  ]) {
    assert.equal(loadIngressConfig({ ...base, WAYGATE_DELIVERY_ADDRESS: address }).deliveryAddress, address);
  }
});

test('a malformed WAYGATE_MEDIA_STORE_ADDRESS fails at startup, naming the variable; a good one is kept', () => {
  assert.equal(
    loadIngressConfig({ ...base, WAYGATE_MEDIA_STORE_ADDRESS: 'waygate-eu-media-store:50053' }).mediaStoreAddress,
    'waygate-eu-media-store:50053',
  );
  for (const bad of ['media-store', 'media-store:0', 'grpc://media-store:50053']) {
    assert.throws(
      () => loadIngressConfig({ ...base, WAYGATE_MEDIA_STORE_ADDRESS: bad }),
      (error: unknown) => error instanceof ConfigError && /WAYGATE_MEDIA_STORE_ADDRESS/.test(error.message),
      `"${bad}" is refused`,
    );
  }
});

test('a malformed WAYGATE_DELIVERY_ADDRESS fails at startup, naming the variable', () => {
  for (const bad of ['', 'delivery-retry', 'http://delivery-retry:50055', 'delivery-retry:0', 'delivery-retry:70000', ':50055', 'a b:1']) {
    assert.throws(
      () => loadIngressConfig({ ...base, WAYGATE_DELIVERY_ADDRESS: bad }),
      (error: unknown) => error instanceof ConfigError && /WAYGATE_DELIVERY_ADDRESS/.test(error.message),
      `"${bad}" is refused`,
    );
  }
});

test('WAYGATE_INTERNAL_SERVICE_TOKEN is required (for CancelMessage) and kept out of the printed configuration', () => {
  const { WAYGATE_INTERNAL_SERVICE_TOKEN: _unset, ...withoutToken } = base;
  assert.throws(
    () => loadIngressConfig(withoutToken),
    (error: unknown) => error instanceof ConfigError && /WAYGATE_INTERNAL_SERVICE_TOKEN: required.*\(not set\)/.test(error.message),
  );
  assert.throws(
    () => loadIngressConfig({ ...base, WAYGATE_INTERNAL_SERVICE_TOKEN: 'short' }),
    /WAYGATE_INTERNAL_SERVICE_TOKEN: must be at least 32/,
  );
  const config = loadIngressConfig(base);
  assert.equal(config.internalServiceToken(), TOKEN);
  assert.ok(!JSON.stringify(config).includes(TOKEN));
});

test('templates are synced every 15 minutes from graph.facebook.com unless configured; a bad interval names the variable', () => {
  const defaults = loadIngressConfig(base);
  assert.equal(defaults.templateSyncIntervalMs, 15 * 60 * 1000);
  assert.equal(defaults.whatsappApiBaseUrl, 'https://graph.facebook.com');
  const configured = loadIngressConfig({
    ...base,
    WAYGATE_TEMPLATE_SYNC_INTERVAL_MS: '60000',
    WAYGATE_WHATSAPP_API_BASE_URL: 'http://127.0.0.1:8090',
  });
  assert.equal(configured.templateSyncIntervalMs, 60_000);
  assert.equal(configured.whatsappApiBaseUrl, 'http://127.0.0.1:8090');
  assert.throws(
    () => loadIngressConfig({ ...base, WAYGATE_TEMPLATE_SYNC_INTERVAL_MS: '-1' }),
    (error: unknown) => error instanceof ConfigError && /WAYGATE_TEMPLATE_SYNC_INTERVAL_MS/.test(error.message),
  );
});

test('verification secret and KEK: local files on SQLite; configured ones checked; required with MongoDB, naming the variables', () => {
  const local = loadIngressConfig({ ...base, WAYGATE_DATA_DIR: '/var/lib/waygate' });
  assert.deepEqual(local.verificationSecret, { kind: 'local-file', file: '/var/lib/waygate/eu/verification.secret' });
  assert.deepEqual(local.kek, { kind: 'local-file', file: '/var/lib/waygate/eu/keyring.kek' });
  const secret = 'a-verification-secret-of-32-chars!';
  const configured = loadIngressConfig({
    ...base,
    WAYGATE_VERIFICATION_SECRET: secret,
    WAYGATE_KEYRING_KEK: Buffer.alloc(32, 7).toString('base64'),
  });
  assert.equal(configured.verificationSecret.kind === 'configured' && configured.verificationSecret.secret().toString(), secret);
  assert.equal(configured.kek.kind, 'configured');
  assert.ok(!JSON.stringify(configured).includes(secret), 'the configuration never prints the secret');
  assert.throws(
    () => loadIngressConfig({ ...base, WAYGATE_VERIFICATION_SECRET: 'too-short' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      /WAYGATE_VERIFICATION_SECRET: must be at least 32/.test(error.message) &&
      !error.message.includes('too-short'),
  );
  assert.throws(
    () => loadIngressConfig({ ...base, WAYGATE_STORAGE: 'mongodb', WAYGATE_MONGODB_URI: 'mongodb://db:27017' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      /WAYGATE_VERIFICATION_SECRET or WAYGATE_VERIFICATION_SECRET_FILE: required/.test(error.message) &&
      /WAYGATE_KEYRING_KEK or WAYGATE_KEYRING_KEK_FILE: required/.test(error.message),
  );
});
