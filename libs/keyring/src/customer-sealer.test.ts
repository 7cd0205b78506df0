import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createCustomerSealer } from './customer-sealer';
import { toKeyEncryptionKey } from './key-encryption-keys';
import { createKeyring } from './keyring';
import { createMemoryWrappedKeyStore } from './memory-wrapped-key-store';
import { isSealedText, MalformedSealedTextError } from './sealed-text';

const clock = { now: () => new Date() };

test('content sealed under the customer key opens until the key is destroyed, then reads as erased', async () => {
  const keyring = createKeyring({
    store: createMemoryWrappedKeyStore(),
    keks: { active: toKeyEncryptionKey(randomBytes(32)), retired: [] },
    clock,
  });
  const sealer = createCustomerSealer(keyring);
  const mine = await sealer.seal('acme', '+4915112345678', 'marker-a1 hello');
  const theirs = await sealer.seal('acme', '+4915187654321', 'marker-b2 hello');
  assert.ok(isSealedText(mine));
  assert.equal(mine.includes('marker-a1'), false);
  assert.equal(await sealer.open('acme', mine), 'marker-a1 hello');
  await assert.rejects(sealer.open('other', mine), MalformedSealedTextError);
  assert.equal(await sealer.open('acme', 'plain text written before sealing'), 'plain text written before sealing');

  const customerRef = await sealer.customerRef('acme', '+4915112345678');
  assert.match(customerRef, /^[0-9a-f]{32}$/);
  assert.equal(await keyring.destroyKey({ tenantId: 'acme', customerRef }), true);
  assert.equal(await sealer.open('acme', mine), undefined);
  assert.equal(await sealer.open('acme', theirs), 'marker-b2 hello');
  // A new message to the same number after erasure gets a new key; the old content stays unreadable.
  const again = await sealer.seal('acme', '+4915112345678', 'marker-a3');
  assert.equal(await sealer.open('acme', again), 'marker-a3');
  assert.equal(await sealer.open('acme', mine), undefined);
});
