import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTenants } from '@waygate/tenancy';
import { tenantsYaml } from './tenants-yaml';
import { waitFor } from './wait-for';

test('tenantsYaml produces a valid tenants file', () => {
  const directory = parseTenants(tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'k', phoneNumberIds: ['1', '2'] }]));
  assert.equal(directory.authenticate('k')?.id, 'acme');
  assert.equal(directory.findPhoneNumber('2')?.tenant.id, 'acme');
});

test('waitFor returns the first truthy value and fails with what it waited for', async () => {
  let calls = 0;
  assert.equal(await waitFor(() => (++calls >= 3 ? 'done' : undefined), { intervalMs: 1 }), 'done');
  await assert.rejects(
    waitFor(() => false, { timeoutMs: 20, intervalMs: 5, what: 'nothing' }),
    /waiting for nothing/,
  );
});
