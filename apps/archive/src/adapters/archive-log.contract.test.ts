import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import { leafHash, merkleTreeHash, verifyConsistency, verifyInclusion } from '@waygate/tlog';
import { canonicalRecordBytes, parseArchiveLogEntry, saltedRecordHash } from '../domain/archive-log';
import type { ArchiveStore } from '../domain/archive-store';
import type { ArchivedEvent } from '../domain/archived-event';
import { MongoArchiveStore } from './mongo-archive-store';
import { SqliteArchiveStore } from './sqlite-archive-store';

const backends = contractBackends<ArchiveStore>({
  sqlite: (file) => new SqliteArchiveStore(file),
  mongodb: (mongo) => MongoArchiveStore.open(mongo),
  close: (store) => store.close(),
});

const T0 = 1_700_000_000_000;

function event(n: number, tenantId = 'acme'): ArchivedEvent {
  return n % 2 === 0
    ? {
        eventId: `accepted:msg_${n}`,
        tenantId,
        messageId: `msg_${n}`,
        kind: 'accepted',
        status: 'ACCEPTED',
        occurredAt: new Date(T0 + n * 1000),
        recordedAt: new Date(T0 + n * 1000 + 5),
        recipient: '+4915112345678',
        phoneNumberId: '200',
        textBody: `hello ${n}`,
        contentType: 'text',
        contentSummary: 'text',
      }
    : {
        eventId: `evt_sent_${n}`,
        tenantId,
        messageId: `msg_${n - 1}`,
        kind: 'status',
        status: 'SENT',
        occurredAt: new Date(T0 + n * 1000),
        recordedAt: new Date(T0 + n * 1000 + 5),
        source: 'delivery',
        waMessageId: `wamid.${n}`,
      };
}

for (const backend of backends)
  describeContract(backend, 'ArchiveStore archive log contract', (test) => {
    async function withStore(run: (store: ArchiveStore) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    test('each recorded event appends one salted entry; a duplicate appends nothing; tenants have their own logs', () =>
      withStore(async (store) => {
        for (let n = 0; n < 7; n++) await store.record(event(n));
        await store.record(event(0, 'umbrella'));
        assert.equal(await store.record(event(3)), 'duplicate');
        assert.equal(await store.logSize('acme'), 7);
        assert.equal(await store.logSize('umbrella'), 1);
        assert.equal(await store.logSize('nobody'), 0);

        const leaves = [];
        for (let n = 0; n < 7; n++) {
          const stored = await store.logLeaf('acme', event(n).eventId);
          assert.ok(stored?.salt, 'a salt per record');
          assert.equal(stored.salt.length, 32);
          assert.equal(stored.leafIndex, n, 'leaves in record order');
          const parsed = parseArchiveLogEntry(stored.entry);
          assert.equal(parsed?.recordId, event(n).eventId);
          const [readBack] = (await store.listByMessage('acme', event(n).messageId)).filter((e) => e.eventId === event(n).eventId);
          assert.deepEqual(
            parsed?.recordHash,
            saltedRecordHash(stored.salt, canonicalRecordBytes(readBack!)),
            'the entry commits to the record',
          );
          leaves.push(leafHash(stored.entry));
        }
        for (let size = 0; size <= 7; size++) assert.deepEqual(await store.logRoot('acme', size), merkleTreeHash(leaves.slice(0, size)));
        const root = await store.logRoot('acme', 7);
        for (let n = 0; n < 7; n++) verifyInclusion(n, 7, leaves[n]!, await store.logInclusionProof('acme', n, 7), root);
        verifyConsistency(3, 7, await store.logRoot('acme', 3), root, await store.logConsistencyProof('acme', 3, 7));
        assert.equal(await store.logLeaf('umbrella', event(1).eventId), undefined);
      }));

    test('shredding salts keeps every entry and proof, and the record can no longer be matched', () =>
      withStore(async (store) => {
        for (let n = 0; n < 5; n++) await store.record(event(n));
        const before = await store.logRoot('acme', 5);
        const target = await store.logLeaf('acme', event(2).eventId);
        assert.equal(await store.shredRecordSalts('acme', [event(2).eventId, 'accepted:msg_unknown']), 1);
        assert.equal(await store.shredRecordSalts('acme', [event(2).eventId]), 0, 'idempotent');
        assert.equal(await store.shredRecordSalts('umbrella', [event(4).eventId]), 0, "another tenant's records are untouched");
        const after = await store.logLeaf('acme', event(2).eventId);
        assert.equal(after?.salt, undefined);
        assert.deepEqual(after?.entry, target?.entry, 'the entry stays');
        assert.ok((await store.logLeaf('acme', event(4).eventId))?.salt, 'other salts stay');
        assert.deepEqual(await store.logRoot('acme', 5), before);
        verifyInclusion(2, 5, leafHash(after!.entry), await store.logInclusionProof('acme', 2, 5), before);
        await store.record(event(5));
        assert.equal(await store.logSize('acme'), 6, 'the log keeps growing');
      }));
  });
