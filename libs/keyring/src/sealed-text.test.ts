import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import type { Clock } from '@waygate/domain';
import { startNatsServer, type NatsServerHandle } from '@waygate/testing';
import { JetStreamWrappedKeyStore } from './jetstream-wrapped-key-store';
import { toKeyEncryptionKey } from './key-encryption-keys';
import { createKeyring, isDataKeyUnavailableError, scopeName } from './keyring';
import { isSealedText, MalformedSealedTextError, openSealedText, sealText } from './sealed-text';

let nats: NatsServerHandle;
let nc: NatsConnection;
before(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
});
after(async () => {
  await nc.close();
  await nats.stop();
});

const clock: Clock = { now: () => new Date(1_700_000_000_000) };
const kek = toKeyEncryptionKey(randomBytes(32));

test('sealed text: opened by another replica with the KEK, bound to its tenant, unreadable once its ephemeral key is destroyed', async () => {
  const store = await JetStreamWrappedKeyStore.open(nc.jetstream(), 'sealed');
  const ingress = createKeyring({ store, keks: { active: kek, retired: [] }, clock });
  const delivery = createKeyring({ store, keks: { active: kek, retired: [] }, clock });
  const scope = { tenantId: 'acme', ephemeral: { purpose: 'sealed', epoch: 7 } };
  assert.equal(scopeName(scope), 'tenant.acme.sealed.e7');
  const sealed = await sealText(ingress, scope, '482913');
  assert.ok(isSealedText(sealed));
  assert.ok(!sealed.includes('482913'));
  assert.notEqual(await sealText(ingress, scope, '482913'), sealed, 'a fresh IV every time');
  assert.equal(await openSealedText(delivery, 'acme', sealed), '482913');
  await assert.rejects(openSealedText(delivery, 'globex', sealed), MalformedSealedTextError);
  const tampered = sealed.slice(0, -3) + (sealed.endsWith('AAA') ? 'BBB' : 'AAA');
  await assert.rejects(openSealedText(delivery, 'acme', tampered), MalformedSealedTextError);
  await assert.rejects(openSealedText(delivery, 'acme', 'wgsealed:v1:nope'), MalformedSealedTextError);

  // Epoch 8 survives; epoch 7 (and only the purpose asked for) is destroyed.
  const later = await sealText(ingress, { tenantId: 'acme', ephemeral: { purpose: 'sealed', epoch: 8 } }, '111111');
  await ingress.dataKeyFor({ tenantId: 'acme', ephemeral: { purpose: 'other', epoch: 1 } });
  await ingress.dataKeyFor({ tenantId: 'acme' });
  assert.equal(await ingress.destroyEphemeralKeys('sealed', 8), 1);
  await assert.rejects(openSealedText(createKeyring({ store, keks: { active: kek, retired: [] }, clock }), 'acme', sealed), (error) =>
    isDataKeyUnavailableError(error),
  );
  assert.equal(await openSealedText(delivery, 'acme', later), '111111');
  assert.deepEqual((await store.names()).sort(), ['tenant.acme', 'tenant.acme.other.e1', 'tenant.acme.sealed.e8']);
  assert.throws(() => scopeName({ tenantId: 'acme', ephemeral: { purpose: 'customer', epoch: 1 } }));
});
