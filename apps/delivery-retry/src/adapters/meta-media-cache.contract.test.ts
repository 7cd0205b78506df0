import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import type { DeliveryStore } from '../domain/delivery-store';
import type { MetaMediaCache, MetaMediaEntry } from '../domain/media-resolver';
import { MongoDeliveryStore } from './mongo-delivery-store';
import { SqliteDeliveryStore } from './sqlite-delivery-store';
import { createCustomerSealer, createInMemoryKeyring } from '@waygate/keyring';

/** Content is sealed at rest under customer keys (a process's own keyring is not this one: there content reads as erased). */
const sealer = createCustomerSealer(createInMemoryKeyring());

const backends = contractBackends<DeliveryStore & MetaMediaCache>({
  sqlite: (file) => new SqliteDeliveryStore(file, sealer),
  mongodb: (mongo) => MongoDeliveryStore.open(mongo, sealer),
  close: (store) => store.close(),
});

const T0 = 1_700_000_000_000;

function entry(overrides: Partial<MetaMediaEntry> = {}): MetaMediaEntry {
  return {
    tenantId: 'acme',
    phoneNumberId: '200',
    mediaId: 'med_1',
    metaMediaId: '1037543291543636',
    uploadedAt: new Date(T0),
    reuseUntil: new Date(T0 + 29 * 86_400_000),
    ...overrides,
  };
}

for (const backend of backends) {
  describeContract(backend, 'MetaMediaCache contract (delivery store)', (test) => {
    test('keeps an entry per tenant, number and media id; a later put replaces it', async () => {
      const { store, close } = await backend.open();
      try {
        assert.equal(await store.getMetaMedia('acme', '200', 'med_1'), undefined);
        await store.putMetaMedia(entry());
        assert.deepEqual(await store.getMetaMedia('acme', '200', 'med_1'), entry());
        assert.equal(await store.getMetaMedia('acme', '201', 'med_1'), undefined, 'another number needs its own upload');
        assert.equal(await store.getMetaMedia('globex', '200', 'med_1'), undefined, 'scoped by tenant');
        assert.equal(await store.getMetaMedia('acme', '200', 'med_2'), undefined);

        const renewed = entry({ metaMediaId: '2', uploadedAt: new Date(T0 + 1000), reuseUntil: new Date(T0 + 2000) });
        await store.putMetaMedia(renewed);
        assert.deepEqual(await store.getMetaMedia('acme', '200', 'med_1'), renewed);
      } finally {
        await close();
      }
    });
  });
}
