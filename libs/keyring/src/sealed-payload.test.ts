import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import type { Clock } from '@waygate/domain';
import { startNatsServer, waitFor, type NatsServerHandle } from '@waygate/testing';
import { JetStreamWrappedKeyStore } from './jetstream-wrapped-key-store';
import { toKeyEncryptionKey } from './key-encryption-keys';
import { createKeyring, isDataKeyUnavailableError, type Keyring } from './keyring';
import {
  customerKeyScope,
  isSealedPayload,
  MalformedSealedPayloadError,
  openPayload,
  sealedPayloadKeyId,
  sealPayload,
  tenantOfKeyId,
} from './sealed-payload';

let nats: NatsServerHandle;
let nc: NatsConnection;
let region = 0;
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

async function openKeyring(): Promise<{ keyring: Keyring; store: JetStreamWrappedKeyStore }> {
  const store = await JetStreamWrappedKeyStore.open(nc.jetstream(), `p${++region}`);
  return { store, keyring: createKeyring({ store, keks: { active: kek, retired: [] }, clock }) };
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

test('a sealed payload opens with the keyring of another replica, names its key, and hides the plaintext', async () => {
  const { keyring, store } = await openKeyring();
  const other = createKeyring({ store, keks: { active: kek, retired: [] }, clock });
  const scope = await customerKeyScope(keyring, 'acme', '+4915112345678');
  const plaintext = Buffer.from('marker-sealed-payload-1 hello');
  const sealed = await sealPayload(keyring, scope, plaintext);
  assert.ok(isSealedPayload(sealed));
  assert.equal(sealed.includes(plaintext), false);
  assert.equal(sealed[0], 0x57, 'protobuf wire type 7: never the first byte of an event');
  const keyId = sealedPayloadKeyId(sealed);
  assert.match(keyId, /^tenant\.acme\.customer\.[0-9a-f]{32}@[0-9a-f]{16}$/);
  assert.equal(tenantOfKeyId(keyId), 'acme');
  assert.deepEqual(await openPayload(other, sealed), plaintext);
  assert.deepEqual(await openPayload(other, sealed, { tenantId: 'acme' }), plaintext);
  await assert.rejects(openPayload(other, sealed, { tenantId: 'globex' }), MalformedSealedPayloadError);
  // Two seals of the same plaintext differ (random IV).
  assert.notDeepEqual(await sealPayload(keyring, scope, plaintext), sealed);
  // The empty payload seals too.
  assert.equal((await openPayload(other, await sealPayload(keyring, scope, new Uint8Array(0)))).length, 0);
});

test('an altered, truncated or re-labelled sealed payload is refused as malformed', async () => {
  const { keyring } = await openKeyring();
  const sealed = await sealPayload(keyring, { tenantId: 'acme' }, Buffer.from('some content'));
  for (const at of [4, 10, sealed.length - 20, sealed.length - 1]) {
    const altered = Buffer.from(sealed);
    altered[at] ^= 1;
    await assert.rejects(
      openPayload(keyring, altered),
      (error: Error) => error instanceof MalformedSealedPayloadError || isDataKeyUnavailableError(error),
    );
  }
  await assert.rejects(openPayload(keyring, sealed.subarray(0, 30)), MalformedSealedPayloadError);
  await assert.rejects(openPayload(keyring, Buffer.from('not sealed')), MalformedSealedPayloadError);
  assert.equal(isSealedPayload(Buffer.from([0x0a, 0x03])), false);
});

test('destroying the customer key makes its payloads unavailable, leaves other customers readable, and erases the wrapped key from the store files', async () => {
  const { keyring, store } = await openKeyring();
  const jane = await customerKeyScope(keyring, 'acme', '+4915100000001');
  const john = await customerKeyScope(keyring, 'acme', '+4915100000002');
  const forJane = await sealPayload(keyring, jane, Buffer.from('for jane'));
  const forJohn = await sealPayload(keyring, john, Buffer.from('for john'));
  const janeKey = await keyring.dataKeyFor(jane);
  const wrapped = (await store.get(`tenant.acme.customer.${jane.customerRef}`))?.value;
  assert.ok(wrapped);
  const wrappedBytes = Buffer.from((JSON.parse(wrapped.toString()) as { key: string }).key, 'base64');
  // The wrapped key is in the store's files before the destruction (so the search below can fail).
  await waitFor(() => filesUnder(nats.storeDir).some((file) => readFileSync(file).includes(wrappedBytes.toString('base64'))), {
    what: 'the wrapped key written to the store files',
  });

  assert.equal(await keyring.destroyKey(jane), true);
  await assert.rejects(openPayload(keyring, forJane), (error) => isDataKeyUnavailableError(error));
  assert.deepEqual(await openPayload(keyring, forJohn), Buffer.from('for john'));
  const holders = filesUnder(nats.storeDir).filter((file) => {
    const bytes = readFileSync(file);
    return bytes.includes(wrappedBytes.toString('base64')) || bytes.includes(janeKey.key);
  });
  assert.deepEqual(holders, [], 'no file of the JetStream store holds the destroyed wrapped key');
});

test('a key destroyed and created again elsewhere is found, not reported unavailable from a stale cache', async () => {
  const { keyring, store } = await openKeyring();
  const elsewhere = createKeyring({ store, keks: { active: kek, retired: [] }, clock });
  const scope = await customerKeyScope(keyring, 'acme', '+4915100000003');
  await openPayload(keyring, await sealPayload(keyring, scope, Buffer.from('old')));
  await elsewhere.destroyKey(scope);
  const fresh = await sealPayload(elsewhere, scope, Buffer.from('new'));
  // `keyring` still caches the old incarnation (its clock did not move): it must look again, not call it erased.
  assert.deepEqual(await openPayload(keyring, fresh), Buffer.from('new'));
});
