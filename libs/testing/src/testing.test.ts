import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTenants } from '@waygate/tenancy';
import { DEFAULT_FUZZ_RUNS, fuzzParameters, fuzzRuns } from './fuzz-parameters';
import { tenantsYaml } from './tenants-yaml';

test('tenantsYaml produces a valid tenants file', () => {
  const directory = parseTenants(tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'k', phoneNumberIds: ['1', '2'] }]));
  assert.equal(directory.authenticate('k')?.id, 'acme');
  assert.equal(directory.findPhoneNumber('2')?.tenant.id, 'acme');
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
