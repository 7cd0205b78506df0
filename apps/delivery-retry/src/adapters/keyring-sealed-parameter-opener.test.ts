import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import type { MessageContent } from '@waygate/domain';
import { createKeyring, JetStreamWrappedKeyStore, sealText, toKeyEncryptionKey } from '@waygate/keyring';
import { startNatsServer, type NatsServerHandle } from '@waygate/testing';
import { createKeyringSealedParameterOpener } from './keyring-sealed-parameter-opener';

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

const kek = toKeyEncryptionKey(randomBytes(32));
const clock = { now: () => new Date() };

function template(text: string): MessageContent {
  return {
    kind: 'template',
    name: 'login_code',
    language: 'en_US',
    components: [
      { type: 'body', subType: '', index: 0, parameters: [{ parameterName: '', value: { type: 'text', text } }] },
      { type: 'button', subType: 'url', index: 0, parameters: [{ parameterName: '', value: { type: 'text', text } }] },
    ],
  };
}

test('sealed codes are opened at send time; a destroyed (expired) key or another tenant fails permanently with 131009', async () => {
  const store = await JetStreamWrappedKeyStore.open(nc.jetstream(), 'eu');
  const ingress = createKeyring({ store, keks: { active: kek, retired: [] }, clock });
  const scope = { tenantId: 'acme', ephemeral: { purpose: 'sealed', epoch: 1 } };
  const sealed = await sealText(ingress, scope, '90210');
  const opener = createKeyringSealedParameterOpener(createKeyring({ store, keks: { active: kek, retired: [] }, clock }));
  assert.deepEqual(await opener.open('acme', template(sealed)), { kind: 'opened', content: template('90210') });
  const plain = template('not sealed');
  assert.deepEqual(await opener.open('acme', plain), { kind: 'opened', content: plain }, 'unsealed content as it is');
  const foreign = await opener.open('globex', template(sealed));
  assert.equal(foreign.kind === 'failed' && foreign.outcome.kind === 'error' && foreign.outcome.code, 131009);
  assert.equal(await ingress.destroyEphemeralKeys('sealed', 2), 1);
  // A fresh replica (no cached key): the code is gone for good.
  const expired = await createKeyringSealedParameterOpener(createKeyring({ store, keks: { active: kek, retired: [] }, clock })).open(
    'acme',
    template(sealed),
  );
  assert.equal(expired.kind === 'failed' && expired.outcome.kind === 'error' && expired.outcome.code, 131009);
});
