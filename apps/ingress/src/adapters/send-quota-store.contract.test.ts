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

    test('the send rate is shared: a burst, then one send per interval, whatever replica asks; a returned send is free again', async () => {
      const { store, close } = await backend.open();
      try {
        const rate = { intervalMs: 100, burst: 3 };
        const t0 = 1_000_000;
        // Three at once (the burst), racing as replicas would.
        const first = await Promise.all(Array.from({ length: 5 }, () => store.takeRate('acme', t0, rate)));
        assert.equal(first.filter((wait) => wait === 0).length, 3);
        assert.ok(
          first.filter((wait) => wait > 0).every((wait) => wait === 100),
          `the next send in 100 ms: ${first.join(' ')}`,
        );
        assert.equal(await store.takeRate('acme', t0 + 50, rate), 50);
        assert.equal(await store.takeRate('acme', t0 + 100, rate), 0, 'one more after an interval');
        assert.equal(await store.takeRate('acme', t0 + 100, rate), 100);
        await store.returnRate('acme', rate);
        assert.equal(await store.takeRate('acme', t0 + 100, rate), 0, 'the returned send is allowed again');
        assert.equal(await store.takeRate('globex', t0, rate), 0, 'per tenant');
        // After a long pause the burst is back, not more.
        const later = await Promise.all(Array.from({ length: 4 }, () => store.takeRate('acme', t0 + 60_000, rate)));
        assert.equal(later.filter((wait) => wait === 0).length, 3);
      } finally {
        await close();
      }
    });
  });
}
