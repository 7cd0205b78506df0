import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import type { Delivery } from '../domain/delivery';
import type { DeliveryStore } from '../domain/delivery-store';
import { MongoDeliveryStore } from './mongo-delivery-store';
import { SqliteDeliveryStore } from './sqlite-delivery-store';

const backends = contractBackends<DeliveryStore>({
  sqlite: (file) => new SqliteDeliveryStore(file),
  mongodb: (mongo) => new MongoDeliveryStore(mongo),
  close: (store) => store.close(),
});

const pending: Delivery = {
  tenantId: 'acme',
  messageId: 'msg_1',
  to: '+4915112345678',
  phoneNumberId: '200',
  content: { kind: 'text', body: 'hello', previewUrl: true },
  state: 'PENDING',
  attempts: 0,
  expiresAt: new Date(1_700_086_400_000),
  updatedAt: new Date(1_700_000_000_000),
};

for (const backend of backends) {
  describe(`DeliveryStore contract (${backend.name})`, () => {
    async function withStore(run: (store: DeliveryStore) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    test('inserts once and returns the stored delivery on later calls', () =>
      withStore(async (store) => {
        assert.deepEqual(await store.insertIfAbsent(pending), pending);
        const again = await store.insertIfAbsent({ ...pending, attempts: 7 });
        assert.equal(again.attempts, 0, 'an existing delivery is not overwritten');
        assert.equal(await store.get('globex', 'msg_1'), undefined, 'scoped by tenant');
      }));

    test('records attempts: errors and next attempt are replaced, the wamid is kept', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(pending);
        await store.recordAttempt('acme', 'msg_1', {
          state: 'PENDING',
          attempts: 1,
          lastErrorCode: 131000,
          lastErrorTitle: 'Something went wrong',
          nextAttemptAt: new Date(1_700_000_005_000),
          updatedAt: new Date(1_700_000_001_000),
        });
        let stored = await store.get('acme', 'msg_1');
        assert.equal(stored?.lastErrorCode, 131000);
        assert.deepEqual(stored?.nextAttemptAt, new Date(1_700_000_005_000));
        await store.recordAttempt('acme', 'msg_1', {
          state: 'SENT',
          attempts: 2,
          waMessageId: 'wamid.X',
          updatedAt: new Date(1_700_000_006_000),
        });
        stored = await store.get('acme', 'msg_1');
        assert.deepEqual(stored, {
          ...pending,
          state: 'SENT',
          attempts: 2,
          waMessageId: 'wamid.X',
          updatedAt: new Date(1_700_000_006_000),
        });
        await store.recordAttempt('globex', 'msg_1', { state: 'FAILED', attempts: 9, updatedAt: new Date() });
        assert.equal((await store.get('acme', 'msg_1'))?.state, 'SENT', 'another tenant cannot write');
      }));
  });
}
