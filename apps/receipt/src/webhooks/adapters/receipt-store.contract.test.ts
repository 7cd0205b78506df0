import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import type { ReceiptStore } from '../domain/receipt-store';
import type { WebhookStatus } from '../domain/webhook-payload';
import { MongoReceiptStore } from './mongo-receipt-store';
import { SqliteReceiptStore } from './sqlite-receipt-store';

const backends = contractBackends<ReceiptStore>({
  sqlite: (file) => new SqliteReceiptStore(file),
  mongodb: (mongo) => MongoReceiptStore.open(mongo),
  close: (store) => store.close(),
});

const delivered: WebhookStatus = {
  phoneNumberId: '200',
  wabaId: '900',
  waMessageId: 'wamid.A',
  status: 'DELIVERED',
  occurredAt: new Date(1_700_000_001_000),
  recipientId: '4915112345678',
  conversation: { id: 'c0ffee', expiresAt: new Date(1_700_086_401_000), originType: 'utility' },
  pricing: { billable: true, pricingModel: 'PMP', category: 'utility', type: 'regular' },
};
const failed: WebhookStatus = { ...delivered, status: 'FAILED', errorCode: 131026, errorTitle: 'Message undeliverable' };

for (const backend of backends) {
  describeContract(backend, 'ReceiptStore contract', (test) => {
    async function withStore(run: (store: ReceiptStore) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    test('wamid mappings are idempotent and tenant-scoped', () =>
      withStore(async (store) => {
        const record = {
          tenantId: 'acme',
          waMessageId: 'wamid.A',
          messageId: 'msg_1',
          recipient: '+4915112345678',
          traceContext: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        };
        await store.recordSentMessage(record);
        await store.recordSentMessage({ ...record, messageId: 'msg_other' });
        assert.deepEqual(await store.findSentMessage('acme', 'wamid.A'), record);
        assert.equal(await store.findSentMessage('globex', 'wamid.A'), undefined);
        // Older SENT events carry no recipient or trace; the record then has neither.
        await store.recordSentMessage({ tenantId: 'acme', waMessageId: 'wamid.B', messageId: 'msg_2', recipient: '' });
        assert.deepEqual(await store.findSentMessage('acme', 'wamid.B'), { tenantId: 'acme', waMessageId: 'wamid.B', messageId: 'msg_2' });
      }));

    test('held statuses are kept whole, once each, until released', () =>
      withStore(async (store) => {
        await store.holdStatus('acme', delivered);
        await store.holdStatus('acme', delivered);
        await store.holdStatus('acme', failed);
        await store.holdStatus('globex', delivered);
        const held = await store.listHeldStatuses('acme', 'wamid.A');
        assert.deepEqual(
          held.sort((a, b) => a.status.localeCompare(b.status)),
          [delivered, failed],
        );
        await store.releaseHeldStatuses('acme', 'wamid.A');
        assert.deepEqual(await store.listHeldStatuses('acme', 'wamid.A'), []);
        assert.equal((await store.listHeldStatuses('globex', 'wamid.A')).length, 1, 'other tenants untouched');
      }));
  });
}
