import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadReceiptConfig } from './config';

const base = { WAYGATE_REGION: 'eu', WAYGATE_TENANTS_FILE: '/etc/waygate/tenants.yaml' };
const token = 'a'.repeat(64);

test('defaults: ports, the Cloud API, media-store next door; the internal token never serializes', () => {
  const config = loadReceiptConfig({ ...base, WAYGATE_INTERNAL_SERVICE_TOKEN: token });
  assert.deepEqual(
    [
      config.grpcPort,
      config.webhooks.httpPort,
      config.webhooks.whatsappApiBaseUrl,
      config.webhooks.whatsappApiVersion,
      config.webhooks.mediaStoreAddress,
    ],
    [50052, 8080, 'https://graph.facebook.com', 'v23.0', '127.0.0.1:50053'],
  );
  assert.equal(config.webhooks.internalServiceToken(), token);
  assert.ok(!JSON.stringify(config).includes(token));
});

test('WAYGATE_INTERNAL_SERVICE_TOKEN is required and at least 32 characters; bad values are named', () => {
  assert.throws(() => loadReceiptConfig(base), /WAYGATE_INTERNAL_SERVICE_TOKEN: .*\(not set\)/);
  assert.throws(
    () => loadReceiptConfig({ ...base, WAYGATE_INTERNAL_SERVICE_TOKEN: 'short' }),
    /WAYGATE_INTERNAL_SERVICE_TOKEN: must be at least 32/,
  );
  assert.throws(
    () => loadReceiptConfig({ ...base, WAYGATE_INTERNAL_SERVICE_TOKEN: token, WAYGATE_MEDIA_STORE_ADDRESS: 'http://media:50053' }),
    /WAYGATE_MEDIA_STORE_ADDRESS: must be host:port/,
  );
});

test('WAYGATE_WEBHOOK_MAX_DELIVERIES: 15 by default (as every consumer), a bad value is named', () => {
  assert.equal(loadReceiptConfig({ ...base, WAYGATE_INTERNAL_SERVICE_TOKEN: token }).webhooks.webhookMaxDeliveries, 15);
  assert.equal(
    loadReceiptConfig({ ...base, WAYGATE_INTERNAL_SERVICE_TOKEN: token, WAYGATE_WEBHOOK_MAX_DELIVERIES: '4' }).webhooks
      .webhookMaxDeliveries,
    4,
  );
  for (const bad of ['0', '1.5', 'many'])
    assert.throws(
      () => loadReceiptConfig({ ...base, WAYGATE_INTERNAL_SERVICE_TOKEN: token, WAYGATE_WEBHOOK_MAX_DELIVERIES: bad }),
      /WAYGATE_WEBHOOK_MAX_DELIVERIES/,
    );
});
