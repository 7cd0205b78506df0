import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import { EMPTY_ROOT, merkleTreeHash } from '@waygate/tlog';
import { accessLogLeafHash, type AccessLogEntry } from '../domain/access-log-entry';
import type { AccessLogStore } from '../domain/access-log-store';
import { MongoAccessLogStore } from './mongo-access-log-store';
import { SqliteAccessLogStore } from './sqlite-access-log-store';

const backends = contractBackends<AccessLogStore>({
  sqlite: (file) => new SqliteAccessLogStore(file),
  mongodb: (mongo) => MongoAccessLogStore.open(mongo),
  close: (store) => store.close(),
});

const T0 = Date.UTC(2026, 0, 1);

function entry(fields: Partial<AccessLogEntry> & { readonly second?: number } = {}): AccessLogEntry {
  return {
    tenantId: fields.tenantId ?? 'acme',
    at: fields.at ?? new Date(T0 + (fields.second ?? 0) * 1000),
    keyId: fields.keyId ?? 'key_0123456789ab',
    action: fields.action ?? 'archive.ListConversations',
    filtersJson: fields.filtersJson ?? '{}',
    resultCount: fields.resultCount ?? 0,
    statusCode: fields.statusCode ?? 0,
  };
}

async function append(store: AccessLogStore, fields: Parameters<typeof entry>[0] = {}) {
  const value = entry(fields);
  return store.append(value, accessLogLeafHash(value));
}

for (const backend of backends) {
  describeContract(backend, 'AccessLogStore contract', (test) => {
    async function withStore(run: (store: AccessLogStore) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    test('appends each tenant its own log from index 0 and reads every field back', () =>
      withStore(async (store) => {
        assert.equal(await store.size('acme'), 0);
        const first = await append(store, { filtersJson: '{"customer_ref":"ab"}', resultCount: 3, statusCode: 0 });
        const second = await append(store, { action: 'archive.SearchMessages', statusCode: 3, second: 1 });
        const other = await append(store, { tenantId: 'globex', second: 2 });
        assert.deepEqual([first.index, second.index, other.index], [0, 1, 0]);
        assert.equal(await store.size('acme'), 2);
        assert.equal(await store.size('globex'), 1);
        const listed = await store.list({ tenantId: 'acme', limit: 10 });
        assert.deepEqual(
          listed.map((e) => ({ ...e, leafHash: e.leafHash.toString('hex') })),
          [first, second].map((e) => ({ ...e, leafHash: e.leafHash.toString('hex') })),
        );
        assert.deepEqual(
          (await store.leafHashes('acme', 0, 10)).map((hash) => hash.toString('hex')),
          [first.leafHash, second.leafHash].map((hash) => hash.toString('hex')),
        );
        assert.deepEqual(await store.leafHashes('acme', 1, 2), [second.leafHash]);
        assert.deepEqual(await store.list({ tenantId: 'initech', limit: 10 }), []);
      }));

    test('filters by time range, action and index, oldest first, bounded by limit', () =>
      withStore(async (store) => {
        for (let second = 0; second < 6; second += 1)
          await append(store, { second, action: second % 2 === 0 ? 'archive.GetTranscript' : 'governance.EraseCustomer' });
        const indexes = async (query: Omit<Parameters<AccessLogStore['list']>[0], 'tenantId'>) =>
          (await store.list({ tenantId: 'acme', ...query })).map((e) => e.index);
        assert.deepEqual(await indexes({ limit: 100 }), [0, 1, 2, 3, 4, 5]);
        assert.deepEqual(await indexes({ limit: 2 }), [0, 1]);
        assert.deepEqual(await indexes({ from: new Date(T0 + 2000), to: new Date(T0 + 4000), limit: 100 }), [2, 3]);
        assert.deepEqual(await indexes({ action: 'governance.EraseCustomer', limit: 100 }), [1, 3, 5]);
        assert.deepEqual(await indexes({ afterIndex: 1, beforeIndex: 5, limit: 100 }), [2, 3, 4]);
        assert.deepEqual(await indexes({ action: 'archive.GetTranscript', afterIndex: 0, limit: 1 }), [2]);
      }));

    test('concurrent appends take distinct indexes without gaps', () =>
      withStore(async (store) => {
        const recorded = await Promise.all(Array.from({ length: 20 }, (_, second) => append(store, { second })));
        assert.deepEqual(
          recorded.map((e) => e.index).sort((a, b) => a - b),
          Array.from({ length: 20 }, (_, i) => i),
        );
        assert.equal(await store.size('acme'), 20);
      }));

    test('keeps each tenant a Merkle tree whose head covers every entry appended', () =>
      withStore(async (store) => {
        assert.deepEqual(await store.treeHead('acme'), { size: 0, rootHash: EMPTY_ROOT });
        const leaves: Buffer[] = [];
        for (let second = 0; second < 11; second += 1) {
          leaves.push((await append(store, { second })).leafHash);
          const head = await store.treeHead('acme');
          assert.equal(head.size, leaves.length);
          assert.equal(head.rootHash.toString('hex'), merkleTreeHash(leaves).toString('hex'), `root at size ${leaves.length}`);
        }
        await append(store, { tenantId: 'globex' });
        assert.equal((await store.treeHead('acme')).size, 11, "another tenant's entry is not in this tenant's tree");
      }));

    test('keeps one pseudonym key per tenant', () =>
      withStore(async (store) => {
        const acme = await store.pseudonymKey('acme');
        assert.equal(acme.length, 32);
        assert.ok((await store.pseudonymKey('acme')).equals(acme));
        assert.equal((await store.pseudonymKey('globex')).equals(acme), false);
      }));
  });
}
