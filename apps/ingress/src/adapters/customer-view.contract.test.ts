import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import { customerKeyOfBsuid, customerKeyOfWaId, type CustomerView, type InboundMessageEntry } from '../domain/customer-view';
import { MongoCustomerView } from './mongo-customer-view';
import { SqliteCustomerView } from './sqlite-customer-view';

const backends = contractBackends<CustomerView>({
  sqlite: (file) => new SqliteCustomerView(file),
  mongodb: (mongo) => MongoCustomerView.open(mongo),
  close: (view) => view.close(),
});

const T0 = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;

function inbound(overrides: Partial<InboundMessageEntry> = {}): InboundMessageEntry {
  const occurredAt = overrides.occurredAt ?? new Date(T0);
  return {
    tenantId: 'acme',
    phoneNumberId: '200',
    waMessageId: 'wamid.1',
    customer: '+4915112345678',
    customerKey: customerKeyOfWaId('4915112345678'),
    occurredAt,
    windowClosesAt: new Date(occurredAt.getTime() + 24 * HOUR),
    ...overrides,
  };
}

for (const backend of backends) {
  describeContract(backend, 'CustomerView contract', (test) => {
    async function withView(run: (view: CustomerView) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    test('an inbound message opens the window of its number and customer, and is indexed by wamid', () =>
      withView(async (view) => {
        await view.recordInbound(inbound());
        assert.deepEqual(await view.findWindow('acme', '200', '4915112345678'), {
          tenantId: 'acme',
          phoneNumberId: '200',
          customerKey: '4915112345678',
          lastInboundAt: new Date(T0),
          closesAt: new Date(T0 + 24 * HOUR),
        });
        assert.deepEqual(await view.findInbound('acme', 'wamid.1'), {
          tenantId: 'acme',
          waMessageId: 'wamid.1',
          customer: '+4915112345678',
          phoneNumberId: '200',
          occurredAt: new Date(T0),
        });
        assert.equal(await view.findWindow('acme', '201', '4915112345678'), undefined, 'windows are per business number');
        assert.equal(await view.findWindow('globex', '200', '4915112345678'), undefined, 'scoped by tenant');
        assert.equal(await view.findInbound('globex', 'wamid.1'), undefined, "another tenant's wamid is unknown");
        assert.equal(await view.findInbound('acme', 'wamid.unknown'), undefined);
      }));

    test('a later message extends the window; an earlier one arriving late and a duplicate change nothing', () =>
      withView(async (view) => {
        await view.recordInbound(inbound({ waMessageId: 'wamid.2', occurredAt: new Date(T0 + 5 * HOUR) }));
        await view.recordInbound(inbound({ waMessageId: 'wamid.1', occurredAt: new Date(T0) }));
        await view.recordInbound(inbound({ waMessageId: 'wamid.2', occurredAt: new Date(T0 + 5 * HOUR) }));
        const window = await view.findWindow('acme', '200', '4915112345678');
        assert.deepEqual(window?.closesAt, new Date(T0 + 29 * HOUR));
        assert.deepEqual(window?.lastInboundAt, new Date(T0 + 5 * HOUR));
        assert.deepEqual((await view.findInbound('acme', 'wamid.1'))?.occurredAt, new Date(T0), 'the late message is indexed');
      }));

    test('a message that opens no window (a system notice) is indexed without one', () =>
      withView(async (view) => {
        await view.recordInbound(inbound({ windowClosesAt: undefined }));
        assert.equal(await view.findWindow('acme', '200', '4915112345678'), undefined);
        assert.ok(await view.findInbound('acme', 'wamid.1'));
      }));

    test('a customer known only by a business-scoped user id has a window of their own', () =>
      withView(async (view) => {
        const key = customerKeyOfBsuid('US.13491208655302741918');
        await view.recordInbound(inbound({ customer: '', customerKey: key }));
        assert.equal((await view.findWindow('acme', '200', key))?.customerKey, key);
        assert.equal((await view.findInbound('acme', 'wamid.1'))?.customer, '');
        assert.equal(await view.findWindow('acme', '200', '4915112345678'), undefined);
      }));

    test('the to -> wa_id mapping: the latest answer wins, an older one arriving late changes nothing; scoped by tenant', () =>
      withView(async (view) => {
        assert.equal(await view.findWaId('acme', '+5511987654321'), undefined);
        await view.recordWaId('acme', '+5511987654321', '551187654321', new Date(T0 + HOUR));
        await view.recordWaId('acme', '+5511987654321', '5511987654321', new Date(T0));
        assert.equal(await view.findWaId('acme', '+5511987654321'), '551187654321');
        await view.recordWaId('acme', '+5511987654321', '5511987654321', new Date(T0 + 2 * HOUR));
        assert.equal(await view.findWaId('acme', '+5511987654321'), '5511987654321');
        assert.equal(await view.findWaId('globex', '+5511987654321'), undefined);
      }));
  });
}
