import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import { ERASURE_PARTS, erasureIdOf, type ErasureRecord, type ErasureStore } from '../governance/domain/erasure';
import { MongoErasureStore } from './mongo-erasure-store';
import { SqliteErasureStore } from './sqlite-erasure-store';

const backends = contractBackends<ErasureStore>({
  sqlite: (file) => new SqliteErasureStore(file),
  mongodb: (mongo) => MongoErasureStore.open(mongo),
  close: (store) => store.close(),
});

const T0 = 1_800_000_000_000;
let sequence = 0;

function erasure(fields: Partial<ErasureRecord> = {}): ErasureRecord {
  sequence += 1;
  return {
    erasureId: erasureIdOf(new Date(T0 + sequence), sequence.toString(16).padStart(14, '0')),
    tenantId: 'acme',
    customerHash: `hash-${sequence}`,
    customerRef: 'a'.repeat(32),
    customerSealed: 'wgsealed:v1:x',
    keyEpoch: sequence,
    requestedBy: 'key_abc',
    reason: 'customer asked',
    requestedAt: new Date(T0 + sequence),
    parts: ERASURE_PARTS.map((service) => ({ service, counts: {} })),
    ...fields,
  };
}

for (const backend of backends) {
  describeContract(backend, 'ErasureStore contract', (test) => {
    let store: ErasureStore;
    let close: () => Promise<void>;
    before(async () => {
      if (backend.skip) return;
      ({ store, close } = await backend.open());
    });
    after(async () => {
      if (!backend.skip) await close();
    });

    test('creates one erasure per tenant and customer hash; asking again returns it unchanged', async () => {
      const first = erasure({ customerHash: 'h-once' });
      const created = await store.create(first);
      assert.equal(created.created, true);
      assert.deepEqual(created.record, first);
      const again = await store.create(erasure({ customerHash: 'h-once', requestedBy: 'key_other' }));
      assert.equal(again.created, false);
      assert.deepEqual(again.record, first);
      assert.deepEqual(await store.byCustomer('acme', 'h-once'), first);
      assert.deepEqual(await store.byId('acme', first.erasureId), first);
      assert.equal(await store.byId('globex', first.erasureId), undefined, 'another tenant does not see it');
      assert.equal((await store.create(erasure({ customerHash: 'h-once', tenantId: 'globex' }))).created, true);
    });

    test('once complete, a new request for the customer is a new erasure; byCustomer gives the newest', async () => {
      const first = erasure({ customerHash: 'h-again' });
      await store.create(first);
      await store.complete('acme', first.erasureId, new Date(T0 + 500), 'receipt-1');
      const second = erasure({ customerHash: 'h-again', requestedAt: new Date(T0 + 1_000) });
      assert.equal((await store.create(second)).created, true, 'the completed erasure does not block a new one');
      assert.equal((await store.byCustomer('acme', 'h-again'))?.erasureId, second.erasureId);
      const third = await store.create(erasure({ customerHash: 'h-again', requestedAt: new Date(T0 + 2_000) }));
      assert.equal(third.created, false, 'while the second runs, asking again returns it');
      assert.equal(third.record.erasureId, second.erasureId);
      assert.equal((await store.byId('acme', first.erasureId))?.receipt, 'receipt-1', 'the first stays, with its receipt');
    });

    test('concurrent requests for one customer make one erasure', async () => {
      const results = await Promise.all([1, 2, 3, 4].map(() => store.create(erasure({ customerHash: 'h-race' }))));
      assert.equal(results.filter((result) => result.created).length, 1);
      assert.equal(new Set(results.map((result) => result.record.erasureId)).size, 1);
    });

    test('parts complete once (the first report wins); the erasure completes once, with its receipt', async () => {
      const record = erasure();
      await store.create(record);
      await store.markPublished('acme', record.erasureId, new Date(T0 + 100));
      await store.markPublished('acme', record.erasureId, new Date(T0 + 200));
      const afterPart = await store.completePart('acme', record.erasureId, 'ingress', new Date(T0 + 300), { messages: 3 });
      assert.deepEqual(afterPart?.publishedAt, new Date(T0 + 100));
      assert.deepEqual(
        afterPart?.parts.find((part) => part.service === 'ingress'),
        {
          service: 'ingress',
          completedAt: new Date(T0 + 300),
          counts: { messages: 3 },
        },
      );
      const redelivered = await store.completePart('acme', record.erasureId, 'ingress', new Date(T0 + 400), { messages: 0 });
      assert.deepEqual(redelivered?.parts.find((part) => part.service === 'ingress')?.counts, { messages: 3 });
      assert.equal(await store.completePart('acme', 'er_00000000000000000000000000', 'ingress', new Date(), {}), undefined);
      assert.ok((await store.inProgress(1000)).some((open) => open.erasureId === record.erasureId));

      const done = await store.complete('acme', record.erasureId, new Date(T0 + 500), 'receipt-1');
      assert.deepEqual(done?.completedAt, new Date(T0 + 500));
      assert.equal(done?.receipt, 'receipt-1');
      const again = await store.complete('acme', record.erasureId, new Date(T0 + 600), 'receipt-2');
      assert.equal(again?.receipt, 'receipt-1', 'the first receipt stays');
      assert.ok(!(await store.inProgress(1000)).some((open) => open.erasureId === record.erasureId));
    });
  });
}
