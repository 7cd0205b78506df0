import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import type { OptOut, OptOutList } from '../domain/opt-out-list';
import { MongoOptOutList } from './mongo-opt-out-list';
import { SqliteOptOutList } from './sqlite-opt-out-list';

const backends = contractBackends<OptOutList>({
  sqlite: (file) => new SqliteOptOutList(file),
  mongodb: (mongo) => MongoOptOutList.open(mongo),
  close: (list) => list.close(),
});

const T0 = Date.UTC(2025, 0, 1);

function optOut(customer: string, atMs: number, overrides: Partial<OptOut> = {}): OptOut {
  return { tenantId: 'acme', customer, source: 'api', createdAt: new Date(atMs), ...overrides };
}

for (const backend of backends) {
  describeContract(backend, 'OptOutList contract', (test) => {
    async function withList(run: (list: OptOutList) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    test('add once per customer (the earlier opt-out stays), find any of several numbers, remove; scoped by tenant', () =>
      withList(async (list) => {
        const first = optOut('+4915112345678', T0, { source: 'stop-keyword' });
        assert.deepEqual(await list.add(first), { added: true, optOut: first });
        assert.deepEqual(await list.add(optOut('+4915112345678', T0 + 1000)), { added: false, optOut: first });
        assert.deepEqual(await list.findAny('acme', ['+15550001111', '+4915112345678']), first);
        assert.equal(await list.findAny('acme', ['+15550001111']), undefined);
        assert.equal(await list.findAny('acme', []), undefined);
        assert.equal(await list.findAny('globex', ['+4915112345678']), undefined, 'scoped by tenant');
        assert.equal(await list.remove('globex', '+4915112345678'), false);
        assert.equal(await list.remove('acme', '+4915112345678'), true);
        assert.equal(await list.remove('acme', '+4915112345678'), false);
        assert.equal(await list.findAny('acme', ['+4915112345678']), undefined);
      }));

    test('lists newest first in pages that neither skip nor repeat, ties broken by customer', () =>
      withList(async (list) => {
        const customers = ['+491511000001', '+491511000002', '+491511000003', '+491511000004', '+491511000005'];
        // Two share a timestamp.
        const times = [T0, T0 + 1000, T0 + 1000, T0 + 2000, T0 + 3000];
        for (const [i, customer] of customers.entries()) await list.add(optOut(customer, times[i]));
        await list.add(optOut('+491511000009', T0 + 9000, { tenantId: 'globex' }));
        const seen: string[] = [];
        let page = await list.list('acme', { limit: 2 });
        seen.push(...page.optOuts.map((o) => o.customer));
        while (page.next) {
          page = await list.list('acme', { limit: 2, after: page.next });
          seen.push(...page.optOuts.map((o) => o.customer));
        }
        assert.deepEqual(seen, ['+491511000005', '+491511000004', '+491511000003', '+491511000002', '+491511000001']);
        assert.deepEqual((await list.list('acme', { limit: 5 })).next, undefined, 'an exactly full page is the last');
      }));
  });
}
