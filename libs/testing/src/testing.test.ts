import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTenants } from '@waygate/tenancy';
import { tenantsYaml } from './tenants-yaml';

test('tenantsYaml produces a valid tenants file', () => {
  const directory = parseTenants(tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'k', phoneNumberIds: ['1', '2'] }]));
  assert.equal(directory.authenticate('k')?.id, 'acme');
  assert.equal(directory.findPhoneNumber('2')?.tenant.id, 'acme');
});
