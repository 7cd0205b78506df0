import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ConfigError } from '@waygate/config';
import { loadMediaStoreConfig } from './config';

const base = { WAYGATE_REGION: 'eu', WAYGATE_TENANTS_FILE: '/etc/waygate/tenants.yaml' };

test('defaults: port 50053, SQLite, a local key file under the data dir', () => {
  const config = loadMediaStoreConfig({ ...base, WAYGATE_DATA_DIR: '/var/lib/waygate' });
  assert.equal(config.grpcPort, 50053);
  assert.equal(config.grpcHost, '127.0.0.1');
  assert.deepEqual(config.storage, { kind: 'sqlite', file: '/var/lib/waygate/eu/media-store.sqlite' });
  assert.deepEqual(config.encryptionKey, { kind: 'local-file', file: path.join('/var/lib/waygate', 'eu', 'media-store.key') });
});

test('a key from the environment is decoded, and never shows when the config is serialized', () => {
  const key = randomBytes(32);
  const config = loadMediaStoreConfig({ ...base, WAYGATE_GRPC_PORT: '0', WAYGATE_MEDIA_ENCRYPTION_KEY: key.toString('base64') });
  assert.equal(config.grpcPort, 0);
  assert.equal(config.encryptionKey.kind, 'environment');
  assert.deepEqual(config.encryptionKey.kind === 'environment' && config.encryptionKey.key(), key);
  const serialized = JSON.stringify(config);
  assert.ok(!serialized.includes(key.toString('base64')) && !serialized.includes(key.toString('hex')), serialized);
});

test('an invalid key fails fast, naming the variable but not echoing its value', () => {
  for (const bad of ['', 'c2hvcnQ=', randomBytes(32).toString('hex'), randomBytes(48).toString('base64')]) {
    assert.throws(
      () => loadMediaStoreConfig({ ...base, WAYGATE_MEDIA_ENCRYPTION_KEY: bad }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /WAYGATE_MEDIA_ENCRYPTION_KEY: must be base64 of exactly 32 bytes/);
        if (bad) assert.ok(!error.message.includes(bad));
        return true;
      },
    );
  }
});

test('with MongoDB storage the key is required', () => {
  const mongo = { ...base, WAYGATE_STORAGE: 'mongodb', WAYGATE_MONGODB_URI: 'mongodb://db.internal:27017' };
  assert.throws(() => loadMediaStoreConfig(mongo), /WAYGATE_MEDIA_ENCRYPTION_KEY: required when WAYGATE_STORAGE=mongodb/);
  const config = loadMediaStoreConfig({ ...mongo, WAYGATE_MEDIA_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
  assert.equal(config.storage.kind, 'mongodb');
  assert.equal(config.storage.kind === 'mongodb' && config.storage.database, 'waygate_eu_media_store');
  assert.equal(config.encryptionKey.kind, 'environment');
});

test('WAYGATE_INTERNAL_SERVICE_TOKEN is optional; when set it must be at least 32 characters and never serializes', () => {
  assert.equal(loadMediaStoreConfig(base).internalServiceToken, undefined);
  const token = randomBytes(32).toString('hex');
  const config = loadMediaStoreConfig({ ...base, WAYGATE_INTERNAL_SERVICE_TOKEN: token });
  assert.equal(config.internalServiceToken?.(), token);
  assert.ok(!JSON.stringify(config).includes(token));
  for (const bad of ['', 'short']) {
    assert.throws(
      () => loadMediaStoreConfig({ ...base, WAYGATE_INTERNAL_SERVICE_TOKEN: bad }),
      /WAYGATE_INTERNAL_SERVICE_TOKEN: must be at least 32/,
    );
  }
});
