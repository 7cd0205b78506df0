import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_KEY_SCOPES, DEFAULT_API_KEY_SCOPES, hashApiKey, parseTenants } from '@waygate/tenancy';
import { DEFAULT_FUZZ_RUNS, fuzzParameters, fuzzRuns } from './fuzz-parameters';
import { tenantsYaml } from './tenants-yaml';

test('tenantsYaml produces a valid tenants file', () => {
  const directory = parseTenants(tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'k', phoneNumberIds: ['1', '2'] }]));
  assert.equal(directory.authenticate('k')?.id, 'acme');
  assert.equal(directory.findPhoneNumber('2')?.tenant.id, 'acme');
});

test('tenantsYaml gives a test key every scope unless told otherwise; more keys with ids and scopes', () => {
  const directory = parseTenants(
    tenantsYaml([
      {
        id: 'acme',
        homeRegion: 'eu',
        apiKey: 'k',
        apiKeyId: 'main',
        moreApiKeys: [
          { apiKey: 'k2', scopes: 'default' },
          { apiKey: 'k3', id: 'auditor', scopes: ['archive:read'] },
        ],
      },
      { id: 'globex', homeRegion: 'eu', apiKey: 'g', scopes: ['messages:send'] },
    ]),
  );
  assert.deepEqual(directory.authenticateApiKey('k')?.key.scopes, API_KEY_SCOPES);
  assert.equal(directory.authenticateApiKey('k')?.key.id, 'main');
  assert.deepEqual(directory.authenticateApiKey('k2')?.key.scopes, DEFAULT_API_KEY_SCOPES);
  assert.deepEqual(directory.authenticateApiKey('k3')?.key, { sha256: hashApiKey('k3'), id: 'auditor', scopes: ['archive:read'] });
  assert.deepEqual(directory.authenticateApiKey('g')?.key.scopes, ['messages:send']);
  assert.equal(directory.authenticateApiKey('g')?.tenant.id, 'globex');
});

test('fuzz runs come from WAYGATE_FUZZ_RUNS (a share for slower properties); seed and path replay a failure', () => {
  assert.equal(fuzzRuns(1, {}), DEFAULT_FUZZ_RUNS);
  assert.equal(fuzzRuns(0.1, { WAYGATE_FUZZ_RUNS: '20000' }), 2000);
  assert.equal(fuzzRuns(0.001, { WAYGATE_FUZZ_RUNS: '10' }), 1, 'at least one run');
  assert.throws(() => fuzzRuns(1, { WAYGATE_FUZZ_RUNS: 'many' }), /WAYGATE_FUZZ_RUNS must be an integer of at least 1, got "many"/);
  assert.deepEqual(fuzzParameters(1, { WAYGATE_FUZZ_RUNS: '5' }), { numRuns: 5 });
  assert.deepEqual(fuzzParameters(1, { WAYGATE_FUZZ_SEED: '-42', WAYGATE_FUZZ_PATH: '3:1' }), {
    numRuns: DEFAULT_FUZZ_RUNS,
    seed: -42,
    path: '3:1',
  });
  assert.throws(() => fuzzParameters(1, { WAYGATE_FUZZ_SEED: 'x' }), /WAYGATE_FUZZ_SEED/);
});
