import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDeliveryRetryConfig } from './config';
import { DEFAULT_META_MEDIA_REUSE_MS } from './domain/media-resolver';

const base = {
  WAYGATE_REGION: 'eu',
  WAYGATE_TENANTS_FILE: 'tenants.yaml',
  WAYGATE_INTERNAL_SERVICE_TOKEN: 'internal-token-0123456789abcdef0123456789',
};

test('media by id: media-store on 127.0.0.1:50053 and uploaded ids reused for 29 days unless configured', () => {
  const config = loadDeliveryRetryConfig(base);
  assert.equal(config.mediaStoreAddress, '127.0.0.1:50053');
  assert.equal(config.metaMediaReuseMs, DEFAULT_META_MEDIA_REUSE_MS);
  assert.equal(DEFAULT_META_MEDIA_REUSE_MS, 29 * 24 * 3_600_000);
  const custom = loadDeliveryRetryConfig({
    ...base,
    WAYGATE_MEDIA_STORE_ADDRESS: 'media-store:50053',
    WAYGATE_META_MEDIA_REUSE_MS: '86400000',
  });
  assert.equal(custom.mediaStoreAddress, 'media-store:50053');
  assert.equal(custom.metaMediaReuseMs, 86_400_000);
});

test('a malformed media-store address, or a reuse period not below Meta’s 30 days, fails at startup naming the variable', () => {
  assert.throws(
    () => loadDeliveryRetryConfig({ ...base, WAYGATE_MEDIA_STORE_ADDRESS: 'http://media-store:50053' }),
    /WAYGATE_MEDIA_STORE_ADDRESS/,
  );
  assert.throws(
    () => loadDeliveryRetryConfig({ ...base, WAYGATE_META_MEDIA_REUSE_MS: String(30 * 24 * 3_600_000) }),
    /WAYGATE_META_MEDIA_REUSE_MS/,
  );
  assert.throws(() => loadDeliveryRetryConfig({ ...base, WAYGATE_META_MEDIA_REUSE_MS: 'soon' }), /WAYGATE_META_MEDIA_REUSE_MS/);
});

test('the region KEK (sealed authentication codes): the local file on SQLite, required with MongoDB', () => {
  const local = loadDeliveryRetryConfig({ ...base, WAYGATE_DATA_DIR: '/var/lib/waygate' });
  assert.deepEqual(local.kek, { kind: 'local-file', file: '/var/lib/waygate/eu/keyring.kek' });
  assert.throws(
    () => loadDeliveryRetryConfig({ ...base, WAYGATE_STORAGE: 'mongodb', WAYGATE_MONGODB_URI: 'mongodb://db:27017' }),
    /WAYGATE_KEYRING_KEK or WAYGATE_KEYRING_KEK_FILE: required/,
  );
  const configured = loadDeliveryRetryConfig({ ...base, WAYGATE_KEYRING_KEK: Buffer.alloc(32, 9).toString('base64') });
  assert.equal(configured.kek.kind, 'configured');
});
