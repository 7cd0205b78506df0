import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, envSchemas, parseEnv } from './parse-config';
import { parseStorageConfig } from './storage-config';

test('parses and applies defaults', () => {
  const config = parseEnv({ WAYGATE_REGION: envSchemas.region, PORT: envSchemas.port(50051) }, { WAYGATE_REGION: 'eu' });
  assert.deepEqual(config, { WAYGATE_REGION: 'eu', PORT: 50051 });
  assert.ok(Object.isFrozen(config));
});

test('names every bad variable', () => {
  assert.throws(
    () => parseEnv({ WAYGATE_REGION: envSchemas.region, PORT: envSchemas.port(1) }, { WAYGATE_REGION: 'asia', PORT: 'x' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /WAYGATE_REGION: must be "eu" or "us"/);
      assert.match(error.message, /PORT:/);
      return true;
    },
  );
  assert.throws(() => parseEnv({ WAYGATE_REGION: envSchemas.region }, {}), /WAYGATE_REGION: .*\(not set\)/);
});

test('storage config: sqlite by default, mongodb needs a URI', () => {
  assert.deepEqual(parseStorageConfig('delivery-retry', 'eu', {}), { kind: 'sqlite', file: '.data/eu/delivery-retry.sqlite' });
  assert.throws(() => parseStorageConfig('ingress', 'eu', { WAYGATE_STORAGE: 'mongodb' }), /WAYGATE_MONGODB_URI: required/);
  assert.deepEqual(parseStorageConfig('delivery-retry', 'us', { WAYGATE_STORAGE: 'mongodb', WAYGATE_MONGODB_URI: 'mongodb://db:27017' }), {
    kind: 'mongodb',
    uri: 'mongodb://db:27017',
    database: 'waygate_us_delivery_retry',
  });
});

test('the internal service token is required where asked for, at least 32 characters, and named when missing', () => {
  const shape = { WAYGATE_INTERNAL_SERVICE_TOKEN: envSchemas.internalServiceToken('the token delivery-retry accepts') };
  assert.throws(() => parseEnv(shape, {}), /WAYGATE_INTERNAL_SERVICE_TOKEN: required: the token delivery-retry accepts \(not set\)/);
  assert.throws(
    () => parseEnv(shape, { WAYGATE_INTERNAL_SERVICE_TOKEN: 'short' }),
    /WAYGATE_INTERNAL_SERVICE_TOKEN: must be at least 32 characters/,
  );
  const token = 'a'.repeat(32);
  assert.equal(parseEnv(shape, { WAYGATE_INTERNAL_SERVICE_TOKEN: token }).WAYGATE_INTERNAL_SERVICE_TOKEN, token);
});
