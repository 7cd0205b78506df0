import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import type { MediaStore, StoredMedia } from '../domain/media-store';
import { MongoMediaStore } from './mongo-media-store';
import { SqliteMediaStore } from './sqlite-media-store';

const backends = contractBackends<MediaStore>({
  sqlite: (file) => new SqliteMediaStore(file),
  mongodb: (mongo) => MongoMediaStore.open(mongo),
  close: (store) => store.close(),
});

function record(overrides: Partial<StoredMedia> = {}): StoredMedia {
  return {
    tenantId: 'acme',
    mediaId: 'med_1',
    ciphertext: randomBytes(64),
    iv: randomBytes(12),
    authTag: randomBytes(16),
    mimeType: 'image/jpeg',
    filename: 'photo.jpg',
    sha256: 'a'.repeat(64),
    sizeBytes: 64,
    createdAt: new Date(1_700_000_000_000),
    ...overrides,
  };
}

for (const backend of backends) {
  describeContract(backend, 'MediaStore contract', (test) => {
    async function withStore(run: (store: MediaStore) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    test('stores a record and reads it back byte for byte', () =>
      withStore(async (store) => {
        const original = record();
        await store.put(original);
        const stored = await store.get('acme', 'med_1');
        assert.ok(stored);
        assert.ok(Buffer.isBuffer(stored.ciphertext) && Buffer.isBuffer(stored.iv) && Buffer.isBuffer(stored.authTag));
        assert.deepEqual(stored, original);
      }));

    test('a missing filename stays missing', () =>
      withStore(async (store) => {
        const { filename: _omitted, ...withoutFilename } = record();
        await store.put(withoutFilename);
        const stored = await store.get('acme', 'med_1');
        assert.equal(stored?.filename, undefined);
        assert.equal(stored && 'filename' in stored, false);
      }));

    test('holds a 5 MiB blob plus the GCM overhead', () =>
      withStore(async (store) => {
        const ciphertext = randomBytes(5 * 1024 * 1024);
        await store.put(record({ ciphertext, sizeBytes: ciphertext.length }));
        assert.ok((await store.get('acme', 'med_1'))?.ciphertext.equals(ciphertext));
      }));

    test('reads are scoped by tenant; the same media id may exist for two tenants', () =>
      withStore(async (store) => {
        await store.put(record());
        assert.equal(await store.get('globex', 'med_1'), undefined);
        assert.equal(await store.get('acme', 'med_2'), undefined);
        const theirs = record({ tenantId: 'globex', mimeType: 'application/pdf' });
        await store.put(theirs);
        assert.equal((await store.get('globex', 'med_1'))?.mimeType, 'application/pdf');
        assert.equal((await store.get('acme', 'med_1'))?.mimeType, 'image/jpeg');
      }));

    test('put never overwrites: a second record with the same tenant and id is refused', () =>
      withStore(async (store) => {
        const original = record();
        await store.put(original);
        await assert.rejects(store.put(record({ mimeType: 'text/plain' })));
        assert.deepEqual(await store.get('acme', 'med_1'), original);
      }));
  });
}
