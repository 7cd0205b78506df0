import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { RetentionFloorStore } from '@waygate/tenancy';
import { describeContract } from '@waygate/testing';
import { contractBackends } from './contract-backends';
import { MongoRetentionFloorStore, SqliteRetentionFloorStore } from './retention-floor-store';

const backends = contractBackends<RetentionFloorStore & { close(): Promise<void> }>({
  sqlite: (file) => new SqliteRetentionFloorStore(file),
  mongodb: (mongo) => new MongoRetentionFloorStore(mongo),
  close: (store) => store.close(),
});

for (const backend of backends) {
  describeContract(backend, 'RetentionFloorStore contract', (test) => {
    let store: RetentionFloorStore;
    let close: () => Promise<void>;
    before(async () => {
      if (backend.skip) return;
      ({ store, close } = await backend.open());
    });
    after(async () => {
      if (!backend.skip) await close();
    });

    test('a floor only rises: the longer retention, forever (0) longest, compliance once set stays', async () => {
      assert.deepEqual(await store.load('archiveRetentionDays'), []);
      await store.raise({ tenantId: 'acme', setting: 'archiveRetentionDays', days: 30, compliance: true });
      await store.raise({ tenantId: 'acme', setting: 'archiveRetentionDays', days: 10, compliance: false });
      await store.raise({ tenantId: 'acme', setting: 'mediaRetentionDays', days: 5, compliance: true });
      assert.deepEqual(await store.load('archiveRetentionDays'), [
        { tenantId: 'acme', setting: 'archiveRetentionDays', days: 30, compliance: true },
      ]);
      await store.raise({ tenantId: 'acme', setting: 'archiveRetentionDays', days: 60, compliance: true });
      assert.equal((await store.load('archiveRetentionDays'))[0]?.days, 60);
      await store.raise({ tenantId: 'acme', setting: 'archiveRetentionDays', days: 0, compliance: true });
      await store.raise({ tenantId: 'acme', setting: 'archiveRetentionDays', days: 9000, compliance: true });
      assert.equal((await store.load('archiveRetentionDays'))[0]?.days, 0, 'forever stays forever');
      assert.deepEqual(await store.load('mediaRetentionDays'), [
        { tenantId: 'acme', setting: 'mediaRetentionDays', days: 5, compliance: true },
      ]);
    });
  });
}
