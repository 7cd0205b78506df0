import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tenantLogRef } from './tenant-log-ref';

test('a tenant is named in another region by a short hash of its id, never the id', () => {
  const ref = tenantLogRef('demo-us');
  assert.match(ref, /^sha256:[0-9a-f]{16}$/);
  assert.ok(!ref.includes('demo'));
  assert.equal(ref, tenantLogRef('demo-us'), 'stable, so an operator can match it');
  assert.notEqual(ref, tenantLogRef('demo'));
});
