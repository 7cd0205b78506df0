import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ConfigError } from '@waygate/config';
import { loadMediaStoreConfig } from './config';

const base = { WAYGATE_REGION: 'eu', WAYGATE_TENANTS_FILE: '/etc/waygate/tenants.yaml' };

test('defaults: port 50053, SQLite, blobs and a local KEK file under the data dir, 1 year retention, HTTP on any port', () => {
  const config = loadMediaStoreConfig({ ...base, WAYGATE_DATA_DIR: '/var/lib/waygate' });
  assert.equal(config.grpcPort, 50053);
  assert.equal(config.grpcHost, '127.0.0.1');
  assert.deepEqual(config.storage, { kind: 'sqlite', file: '/var/lib/waygate/eu/media-store.sqlite' });
  assert.deepEqual(config.kek, { kind: 'local-file', file: path.join('/var/lib/waygate', 'eu', 'keyring.kek') });
  assert.equal(config.blobDir, path.join('/var/lib/waygate', 'eu', 'media-blobs'));
  assert.equal(config.retentionDays, 365);
  assert.equal(config.httpPort, 0);
  assert.equal(config.publicUrl, undefined);
});

test('a KEK from the environment is decoded, and never shows when the config is serialized', () => {
  const key = randomBytes(32);
  const config = loadMediaStoreConfig({ ...base, WAYGATE_GRPC_PORT: '0', WAYGATE_KEYRING_KEK: key.toString('base64') });
  assert.equal(config.grpcPort, 0);
  assert.equal(config.kek.kind, 'configured');
  assert.deepEqual(config.kek.kind === 'configured' && config.kek.keys().active.key(), key);
  const serialized = JSON.stringify(config);
  assert.ok(!serialized.includes(key.toString('base64')) && !serialized.includes(key.toString('hex')), serialized);
});

test('an invalid KEK fails fast, naming the variable but not echoing its value', () => {
  for (const bad of ['', 'c2hvcnQ=', randomBytes(32).toString('hex'), randomBytes(48).toString('base64')]) {
    assert.throws(
      () => loadMediaStoreConfig({ ...base, WAYGATE_KEYRING_KEK: bad }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /WAYGATE_KEYRING_KEK: must be base64 of exactly 32 bytes/);
        if (bad) assert.ok(!error.message.includes(bad));
        return true;
      },
    );
  }
  assert.throws(
    () => loadMediaStoreConfig({ ...base, WAYGATE_KEYRING_KEK_FILE: '/nonexistent/kek' }),
    /WAYGATE_KEYRING_KEK_FILE: cannot read/,
  );
  assert.throws(
    () => loadMediaStoreConfig({ ...base, WAYGATE_MEDIA_ENCRYPTION_KEY: 'short' }),
    /WAYGATE_MEDIA_ENCRYPTION_KEY: must be base64/,
  );
  const legacy = randomBytes(32);
  const config = loadMediaStoreConfig({ ...base, WAYGATE_MEDIA_ENCRYPTION_KEY: legacy.toString('base64') });
  assert.deepEqual(config.legacyMediaKey.kind === 'environment' && config.legacyMediaKey.key(), legacy, "release 1's key stays readable");
});

test('with MongoDB storage the KEK is required', () => {
  const mongo = { ...base, WAYGATE_STORAGE: 'mongodb', WAYGATE_MONGODB_URI: 'mongodb://db.internal:27017' };
  assert.throws(
    () => loadMediaStoreConfig(mongo),
    /WAYGATE_KEYRING_KEK or WAYGATE_KEYRING_KEK_FILE: required when WAYGATE_STORAGE=mongodb/,
  );
  const config = loadMediaStoreConfig({ ...mongo, WAYGATE_KEYRING_KEK: randomBytes(32).toString('base64') });
  assert.equal(config.storage.kind, 'mongodb');
  assert.equal(config.storage.kind === 'mongodb' && config.storage.database, 'waygate_eu_media_store');
  assert.equal(config.kek.kind, 'configured');
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

test('the orphan reaper: 1 hour grace and interval by default; a grace under a minute or a bad number stops the start', () => {
  const defaults = loadMediaStoreConfig(base);
  assert.equal(defaults.orphanGraceMs, 3_600_000);
  assert.equal(defaults.orphanIntervalMs, 3_600_000);
  const set = loadMediaStoreConfig({ ...base, WAYGATE_MEDIA_ORPHAN_GRACE_MS: '600000', WAYGATE_MEDIA_ORPHAN_INTERVAL_MS: '60000' });
  assert.equal(set.orphanGraceMs, 600_000);
  assert.equal(set.orphanIntervalMs, 60_000);
  for (const bad of ['0', '59999', '-5', 'an hour', '90000.5']) {
    assert.throws(() => loadMediaStoreConfig({ ...base, WAYGATE_MEDIA_ORPHAN_GRACE_MS: bad }), /WAYGATE_MEDIA_ORPHAN_GRACE_MS: /);
  }
  assert.throws(
    () => loadMediaStoreConfig({ ...base, WAYGATE_MEDIA_ORPHAN_INTERVAL_MS: '100' }),
    /WAYGATE_MEDIA_ORPHAN_INTERVAL_MS: must be at least/,
  );
});
