import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import type { SendQuotaStore } from '../domain/send-quota';
import { MongoSendQuotaStore } from './mongo-send-quota-store';
import { SqliteSendQuotaStore } from './sqlite-send-quota-store';

const backends = contractBackends<SendQuotaStore>({
  sqlite: (file) => new SqliteSendQuotaStore(file),
  mongodb: (mongo) => MongoSendQuotaStore.open(mongo),
  close: (store) => store.close(),
});

for (const backend of backends) {
  describeContract(backend, 'SendQuotaStore contract', (test) => {
    test('counts up to the limit per tenant and day, also when sends race', async () => {
      const { store, close } = await backend.open();
      try {
        const results = await Promise.all(Array.from({ length: 8 }, () => store.consume('acme', '2025-01-01', 5)));
        assert.equal(results.filter(Boolean).length, 5);
        assert.equal(await store.used('acme', '2025-01-01'), 5);
        assert.equal(await store.consume('acme', '2025-01-01', 5), false);
        assert.equal(await store.consume('acme', '2025-01-01', 6), true, 'a raised limit allows more at once');
        assert.equal(await store.consume('acme', '2025-01-02', 5), true, 'a new day starts at zero');
        assert.equal(await store.consume('globex', '2025-01-01', 1), true, 'per tenant');
        assert.equal(await store.used('globex', '2025-01-01'), 1);
        assert.equal(await store.used('initech', '2025-01-01'), 0);
      } finally {
        await close();
      }
    });
  });
}
