import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import type { Clock } from '@waygate/domain';
import { startNatsServer, type NatsServerHandle } from '@waygate/testing';
import { JetStreamWrappedKeyStore } from './jetstream-wrapped-key-store';
import { loadKeyEncryptionKeys, parseKeyEncryptionKeyFile, toKeyEncryptionKey } from './key-encryption-keys';
import { createKeyring, DATA_KEY_CACHE_MS, isDataKeyUnavailableError } from './keyring';
import type { WrappedKeyStore } from './wrapped-key-store';

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

/** Each test its own region, so its own bucket. */
async function openStore() {
  return JetStreamWrappedKeyStore.open(nc.jetstream(), `t${++region}`);
}

let now = 1_700_000_000_000;
const clock: Clock = { now: () => new Date(now) };
const kek1 = toKeyEncryptionKey(randomBytes(32));
const kek2 = toKeyEncryptionKey(randomBytes(32));

test('a scope gets one data key, stored only wrapped; every replica unwraps the same key', async () => {
  const store = await openStore();
  const a = createKeyring({ store, keks: { active: kek1, retired: [] }, clock });
  const b = createKeyring({ store, keks: { active: kek1, retired: [] }, clock });
  const [first, second] = await Promise.all([a.dataKeyFor({ tenantId: 'acme' }), b.dataKeyFor({ tenantId: 'acme' })]);
  assert.equal(first.keyId, second.keyId);
  assert.ok(first.key.equals(second.key));
  const stored = await store.get('tenant.acme');
  assert.ok(stored);
  assert.equal(stored.value.includes(first.key), false, 'the data key is never stored in clear');
  assert.equal(stored.value.includes(first.key.toString('base64')), false);
  assert.ok((await b.dataKeyById(first.keyId)).equals(first.key));
});

test('concurrent callers that miss the cache share one store read, and one creation of a new key', async () => {
  const jetStream = await openStore();
  const calls = { get: 0, create: 0 };
  // The real store, counted: what each cache miss costs is a round trip to JetStream.
  const store: WrappedKeyStore = {
    get: (name) => (calls.get++, jetStream.get(name)),
    create: (name, value) => (calls.create++, jetStream.create(name, value)),
    replace: (name, value, revision) => jetStream.replace(name, value, revision),
    destroy: (name) => jetStream.destroy(name),
    names: (filter) => jetStream.names(filter),
  };
  const keyring = createKeyring({ store, keks: { active: kek1, retired: [] }, clock });
  const tenantKeys = await Promise.all(Array.from({ length: 10 }, () => keyring.dataKeyFor({ tenantId: 'acme' })));
  assert.equal(new Set(tenantKeys.map((key) => key.keyId)).size, 1);
  assert.deepEqual(calls, { get: 1, create: 1 }, 'ten callers for a new key: one read (a miss) and one create');

  // Another replica (its own cache) opening what was sealed: ten callers, one read.
  const other = createKeyring({ store, keks: { active: kek1, retired: [] }, clock });
  calls.get = 0;
  const opened = await Promise.all(Array.from({ length: 10 }, () => other.dataKeyById(tenantKeys[0].keyId)));
  assert.ok(opened.every((key) => key.equals(tenantKeys[0].key)));
  assert.equal(calls.get, 1);

  // A destroy drops what is shared: the next caller gets a new key, not the shredded one.
  assert.equal(await keyring.destroyKey({ tenantId: 'acme' }), true);
  const recreated = await keyring.dataKeyFor({ tenantId: 'acme' });
  assert.notEqual(recreated.keyId, tenantKeys[0].keyId);
});

test('customers get their own keys and stable pseudonyms; destroying one shreds only that key', async () => {
  const store = await openStore();
  const keyring = createKeyring({ store, keks: { active: kek1, retired: [] }, clock });
  const jane = await keyring.customerRef('acme', '+4915112345678');
  assert.match(jane, /^[0-9a-f]{32}$/);
  assert.equal(await keyring.customerRef('acme', '+4915112345678'), jane);
  assert.notEqual(await keyring.customerRef('globex', '+4915112345678'), jane, 'pseudonyms differ per tenant');
  const john = await keyring.customerRef('acme', '+4915199999999');
  const janeKey = await keyring.dataKeyFor({ tenantId: 'acme', customerRef: jane });
  const johnKey = await keyring.dataKeyFor({ tenantId: 'acme', customerRef: john });
  assert.equal(janeKey.key.equals(johnKey.key), false);

  assert.equal(await keyring.destroyKey({ tenantId: 'acme', customerRef: jane }), true);
  await assert.rejects(keyring.dataKeyById(janeKey.keyId), (error) => isDataKeyUnavailableError(error));
  assert.ok((await keyring.dataKeyById(johnKey.keyId)).equals(johnKey.key));
  // Another replica notices the shredding once its cache expires.
  assert.equal(await store.get(`tenant.acme.customer.${jane}`), undefined);
  // A new key for the same customer is a new incarnation: the old id stays unavailable.
  const again = await keyring.dataKeyFor({ tenantId: 'acme', customerRef: jane });
  assert.notEqual(again.keyId, janeKey.keyId);
  await assert.rejects(keyring.dataKeyById(janeKey.keyId), (error) => isDataKeyUnavailableError(error));
});

test('a replica sees another replica destroy a key within the cache time', async () => {
  const store = await openStore();
  const a = createKeyring({ store, keks: { active: kek1, retired: [] }, clock });
  const b = createKeyring({ store, keks: { active: kek1, retired: [] }, clock });
  const key = await a.dataKeyFor({ tenantId: 'acme' });
  await b.dataKeyById(key.keyId);
  await a.destroyKey({ tenantId: 'acme' });
  now += DATA_KEY_CACHE_MS;
  await assert.rejects(b.dataKeyById(key.keyId), (error) => isDataKeyUnavailableError(error));
});

test('KEK rotation re-wraps every data key without changing it; the old KEK is then no longer needed', async () => {
  const store = await openStore();
  const before = createKeyring({ store, keks: { active: kek1, retired: [] }, clock });
  const tenantKey = await before.dataKeyFor({ tenantId: 'acme' });
  const customerKey = await before.dataKeyFor({ tenantId: 'acme', customerRef: await before.customerRef('acme', '+4915112345678') });

  const rotating = createKeyring({ store, keks: { active: kek2, retired: [kek1] }, clock });
  assert.deepEqual(await rotating.rotateKeyEncryptionKey(), { rewrapped: 2, unchanged: 0, keyEncryptionKeyId: kek2.id });
  assert.deepEqual(await rotating.rotateKeyEncryptionKey(), { rewrapped: 0, unchanged: 2, keyEncryptionKeyId: kek2.id });

  const after = createKeyring({ store, keks: { active: kek2, retired: [] }, clock });
  assert.ok((await after.dataKeyById(tenantKey.keyId)).equals(tenantKey.key));
  assert.ok((await after.dataKeyById(customerKey.keyId)).equals(customerKey.key));
  // Without the new KEK nothing unwraps.
  const stale = createKeyring({ store, keks: { active: kek1, retired: [] }, clock });
  await assert.rejects(stale.dataKeyById(tenantKey.keyId), /not configured/);
});

test('a tampered wrapped key is refused', async () => {
  const store = await openStore();
  const keyring = createKeyring({ store, keks: { active: kek1, retired: [] }, clock });
  const key = await keyring.dataKeyFor({ tenantId: 'acme' });
  const entry = await store.get('tenant.acme');
  assert.ok(entry);
  const record = JSON.parse(entry.value.toString()) as { key: string };
  const bytes = Buffer.from(record.key, 'base64');
  bytes[0] ^= 1;
  record.key = bytes.toString('base64');
  assert.ok(await store.replace('tenant.acme', Buffer.from(JSON.stringify(record)), entry.revision));
  const fresh = createKeyring({ store, keks: { active: kek1, retired: [] }, clock });
  await assert.rejects(fresh.dataKeyById(key.keyId), /authenticate/);
});

test('KEK settings: inline, retired list, file; a bad or doubled setting is named, never echoed', () => {
  const a = randomBytes(32).toString('base64');
  const b = randomBytes(32).toString('base64');
  assert.equal(loadKeyEncryptionKeys({}), undefined);
  const inline = loadKeyEncryptionKeys({ WAYGATE_KEYRING_KEK: a, WAYGATE_KEYRING_RETIRED_KEKS: b });
  assert.equal(inline?.retired.length, 1);
  assert.equal(inline?.active.id, toKeyEncryptionKey(Buffer.from(a, 'base64')).id);
  assert.throws(
    () => loadKeyEncryptionKeys({ WAYGATE_KEYRING_KEK: 'short' }),
    /^KeyEncryptionKeyConfigError: WAYGATE_KEYRING_KEK: must be base64/,
  );
  assert.throws(() => loadKeyEncryptionKeys({ WAYGATE_KEYRING_KEK: a, WAYGATE_KEYRING_KEK_FILE: '/x' }), /set one, not both/);
  assert.throws(() => loadKeyEncryptionKeys({ WAYGATE_KEYRING_KEK_FILE: '/nonexistent/kek' }), /WAYGATE_KEYRING_KEK_FILE: cannot read/);
  const file = parseKeyEncryptionKeyFile(`# active\n${a}\n\n${b} # retired\n`, 'f');
  assert.equal(file.retired.length, 1);
  assert.throws(
    () => parseKeyEncryptionKeyFile(`${a}\nnot-a-key\n`, 'WAYGATE_KEYRING_KEK_FILE'),
    (error: Error) => /key line 2/.test(error.message) && !error.message.includes('not-a-key'),
  );
});
