import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import type { BlobRecord, MediaRecord, MediaVaultStore, StoredBlobObject } from '../domain/media-vault-store';
import { FileMediaVaultStore } from './file-media-vault-store';
import { MongoMediaVaultStore } from './mongo-media-vault-store';

const backends = contractBackends<MediaVaultStore>({
  sqlite: (file) => new FileMediaVaultStore(file, path.join(path.dirname(file), 'media-blobs')),
  mongodb: (mongo) => MongoMediaVaultStore.open(mongo),
  close: (store) => store.close(),
});

const T0 = new Date(1_700_000_000_000);

function blob(overrides: Partial<BlobRecord> = {}): BlobRecord {
  return {
    tenantId: 'acme',
    customerRef: '',
    sha256: 'a'.repeat(64),
    blobId: randomBytes(16).toString('hex'),
    keyId: 'tenant.acme@0011223344556677',
    sizeBytes: 100,
    storedBytes: 160,
    createdAt: T0,
    ...overrides,
  };
}

function media(overrides: Partial<Omit<MediaRecord, 'blob'>> = {}): Omit<MediaRecord, 'blob'> {
  return {
    tenantId: 'acme',
    mediaId: `med_${randomBytes(8).toString('hex')}`,
    mimeType: 'application/pdf',
    filename: 'invoice.pdf',
    createdAt: T0,
    expiresAt: new Date(T0.getTime() + 1000),
    ...overrides,
  };
}

async function writeBlob(store: MediaVaultStore, blobId: string, bytes: Buffer): Promise<void> {
  const sink = await store.createBlobSink();
  for (let offset = 0; offset < bytes.length; offset += 100_000) await sink.write(bytes.subarray(offset, offset + 100_000));
  await sink.commit(blobId);
}

async function readAll(store: MediaVaultStore, blobId: string, start?: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of store.readBlob(blobId, start)) parts.push(part);
  return Buffer.concat(parts);
}

async function listAll(store: MediaVaultStore): Promise<StoredBlobObject[]> {
  const objects: StoredBlobObject[] = [];
  for await (const object of store.listBlobObjects()) objects.push(object);
  return objects;
}

/** Write times are kept to the second by GridFS (chunk ids), to the file system's precision by files. */
function assertWrittenBetween(object: StoredBlobObject | undefined, before: number, after: number): void {
  assert.ok(object, 'listed');
  const at = object.modifiedAt.getTime();
  assert.ok(at >= before - 1000 && at <= after + 1000, `written at ${object.modifiedAt.toISOString()}`);
}

const HOUR_AGO = () => new Date(Date.now() - 3_600_000);
const SOON = () => new Date(Date.now() + 60_000);

for (const backend of backends) {
  describeContract(backend, 'MediaVaultStore contract', (test) => {
    async function withStore(run: (store: MediaVaultStore) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    test("lists one customer's media by blob, in pages, with every media id of each blob; never another's", () =>
      withStore(async (store) => {
        const ref = '0123456789abcdef0123456789abcdef';
        const blobs = ['10', '20', '30'].map((prefix, i) =>
          blob({ customerRef: ref, blobId: `${prefix}${'0'.repeat(30)}`, sha256: String(i).repeat(64) }),
        );
        for (const b of blobs) await store.addMedia(media({ mediaId: `med_${b.blobId.slice(0, 2)}_1` }), b);
        await store.addMedia(media({ mediaId: 'med_10_2' }), blobs[0] as BlobRecord);
        await store.addMedia(media({ mediaId: 'med_other' }), blob({ customerRef: 'f'.repeat(32) }));
        await store.addMedia(media({ mediaId: 'med_globex', tenantId: 'globex' }), blob({ tenantId: 'globex', customerRef: ref }));
        const first = await store.listCustomerMedia('acme', ref, { limit: 2 });
        assert.deepEqual(
          first.map((m) => m.mediaId),
          ['med_10_1', 'med_10_2', 'med_20_1'],
        );
        assert.equal(first[0]?.blob.customerRef, ref);
        const second = await store.listCustomerMedia('acme', ref, { limit: 2, afterBlobId: first.at(-1)?.blob.blobId });
        assert.deepEqual(
          second.map((m) => m.mediaId),
          ['med_30_1'],
        );
        assert.deepEqual(await store.listCustomerMedia('acme', ref, { limit: 2, afterBlobId: second.at(-1)?.blob.blobId }), []);
        await store.flushDeleted();
      }));

    test('a committed blob reads back byte for byte, from the start or from an offset', () =>
      withStore(async (store) => {
        const bytes = randomBytes(1_000_003);
        await writeBlob(store, 'ab'.repeat(16), bytes);
        assert.ok((await readAll(store, 'ab'.repeat(16))).equals(bytes));
        assert.ok((await readAll(store, 'ab'.repeat(16), 654_321)).equals(bytes.subarray(654_321)));
      }));

    test('an aborted blob leaves nothing readable', () =>
      withStore(async (store) => {
        const sink = await store.createBlobSink();
        await sink.write(randomBytes(1000));
        await sink.abort();
        await sink.abort();
        await assert.rejects(readAll(store, 'cd'.repeat(16)));
      }));

    test('addMedia stores blob and media; getMedia joins them; another tenant sees nothing', () =>
      withStore(async (store) => {
        const b = blob();
        const m = media();
        const added = await store.addMedia(m, b);
        assert.equal(added.blobCreated, true);
        assert.deepEqual(added.blob, b);
        assert.deepEqual(await store.getMedia('acme', m.mediaId), { ...m, blob: b });
        assert.equal(await store.getMedia('globex', m.mediaId), undefined);
        assert.equal(await store.getMedia('acme', 'med_unknown'), undefined);
        await assert.rejects(store.addMedia(m, blob({ sha256: 'b'.repeat(64) })), 'a media id is never overwritten');
      }));

    test('a missing filename stays missing', () =>
      withStore(async (store) => {
        const { filename: _omitted, ...withoutFilename } = media();
        await store.addMedia(withoutFilename, blob());
        const stored = await store.getMedia('acme', withoutFilename.mediaId);
        assert.ok(stored && !('filename' in stored));
      }));

    test('content addressing per (tenant, customer, sha256): same bytes twice are one blob; other customers and tenants their own', () =>
      withStore(async (store) => {
        const first = blob();
        await store.addMedia(media(), first);
        const again = await store.addMedia(media(), blob());
        assert.equal(again.blobCreated, false);
        assert.equal(again.blob.blobId, first.blobId);
        const otherCustomer = await store.addMedia(media(), blob({ customerRef: 'f'.repeat(32) }));
        assert.equal(otherCustomer.blobCreated, true);
        const otherTenant = await store.addMedia(media({ tenantId: 'globex' }), blob({ tenantId: 'globex' }));
        assert.equal(otherTenant.blobCreated, true);
      }));

    test('deleteMedia frees the blob only when its last media id goes', () =>
      withStore(async (store) => {
        const b = blob();
        const one = media();
        const two = media();
        await store.addMedia(one, b);
        await store.addMedia(two, blob());
        assert.deepEqual(await store.deleteMedia('globex', one.mediaId), { deleted: false }, 'scoped by tenant');
        assert.deepEqual(await store.deleteMedia('acme', one.mediaId), { deleted: true });
        assert.equal(await store.getMedia('acme', one.mediaId), undefined);
        assert.equal((await store.getMedia('acme', two.mediaId))?.blob.blobId, b.blobId);
        assert.deepEqual(await store.deleteMedia('acme', two.mediaId), { deleted: true, orphan: b });
        assert.deepEqual(await store.deleteMedia('acme', two.mediaId), { deleted: false });
        // The same bytes uploaded after that are a new blob.
        assert.equal((await store.addMedia(media(), blob())).blobCreated, true);
      }));

    test('deleteBlobData removes the bytes; a missing blob is not an error', () =>
      withStore(async (store) => {
        await writeBlob(store, 'ef'.repeat(16), randomBytes(10));
        await store.deleteBlobData('ef'.repeat(16));
        await store.deleteBlobData('ef'.repeat(16));
        await assert.rejects(readAll(store, 'ef'.repeat(16)));
      }));

    test('listBlobObjects: committed blobs by id with their stored size and write time; an upload in progress as partial', () =>
      withStore(async (store) => {
        assert.deepEqual(await listAll(store), [], 'an empty store lists nothing');
        const before = Date.now();
        await writeBlob(store, '12'.repeat(16), randomBytes(700_001));
        const running = await store.createBlobSink();
        // More than one GridFS chunk (255 KiB), so some of it is stored while the upload is still open.
        await running.write(randomBytes(600_000));
        const after = Date.now();
        const objects = await listAll(store);
        assert.equal(objects.length, 2, JSON.stringify(objects));
        const committed = objects.find((object) => object.kind === 'committed');
        assert.equal(committed?.blobId, '12'.repeat(16));
        assert.equal(committed?.storedBytes, 700_001);
        assertWrittenBetween(committed, before, after);
        const partial = objects.find((object) => object.kind === 'partial');
        assert.equal(partial?.blobId, undefined);
        assert.ok(partial && partial.storedBytes > 0 && partial.storedBytes <= 600_000, `partial holds ${partial?.storedBytes} bytes`);
        assertWrittenBetween(partial, before, after);
        assert.notEqual(partial.ref, committed?.ref);

        // Committed, it is listed under its id and the partial is gone; an aborted upload leaves nothing listed.
        await running.commit('34'.repeat(16));
        const aborted = await store.createBlobSink();
        await aborted.write(randomBytes(600_000));
        await aborted.abort();
        const ids = (await listAll(store)).map((object) => `${object.kind}:${object.blobId ?? ''}`).sort();
        assert.deepEqual(ids, [`committed:${'12'.repeat(16)}`, `committed:${'34'.repeat(16)}`]);
      }));

    test('deleteBlobObject: only what was not written since the given time, once; a reaped upload can no longer commit', () =>
      withStore(async (store) => {
        await writeBlob(store, '56'.repeat(16), randomBytes(1000));
        const running = await store.createBlobSink();
        await running.write(randomBytes(600_000));
        const objects = await listAll(store);
        const committed = objects.find((object) => object.kind === 'committed') as StoredBlobObject;
        const partial = objects.find((object) => object.kind === 'partial') as StoredBlobObject;

        assert.equal(await store.deleteBlobObject(committed, HOUR_AGO()), false, 'written after the cutoff: kept');
        assert.equal(await store.deleteBlobObject(partial, HOUR_AGO()), false, 'an upload written after the cutoff: kept');
        assert.equal((await readAll(store, '56'.repeat(16))).length, 1000);

        assert.equal(await store.deleteBlobObject(committed, SOON()), true);
        assert.equal(await store.deleteBlobObject(committed, SOON()), false, 'a second delete (another replica) finds nothing');
        await assert.rejects(readAll(store, '56'.repeat(16)));
        assert.equal(await store.deleteBlobObject(partial, SOON()), true);
        assert.deepEqual(await listAll(store), []);
        // The upload whose bytes were reaped (it stalled past the grace) fails rather than commit a broken blob.
        await assert.rejects(async () => {
          await running.write(randomBytes(1000));
          await running.commit('78'.repeat(16));
        });
        await running.abort();
        await assert.rejects(readAll(store, '78'.repeat(16)));
      }));

    test('referencedBlobIds: ids a blob record or a media id points at, of any tenant; none once the last media id went', () =>
      withStore(async (store) => {
        const acme = blob();
        const globex = blob({ tenantId: 'globex' });
        const acmeMedia = media();
        await store.addMedia(acmeMedia, acme);
        await store.addMedia(media({ tenantId: 'globex' }), globex);
        const unknown = randomBytes(16).toString('hex');
        assert.deepEqual(await store.referencedBlobIds([]), new Set());
        assert.deepEqual(await store.referencedBlobIds([acme.blobId, unknown, globex.blobId]), new Set([acme.blobId, globex.blobId]));
        await store.deleteMedia('acme', acmeMedia.mediaId);
        assert.deepEqual(await store.referencedBlobIds([acme.blobId, globex.blobId]), new Set([globex.blobId]));
        // Many ids at once (more than one query's worth).
        const many = Array.from({ length: 1500 }, () => randomBytes(16).toString('hex'));
        assert.deepEqual(await store.referencedBlobIds([...many, globex.blobId]), new Set([globex.blobId]));
      }));

    test('pairing marks start at 0 and are only ever raised, metadata and blobs alike', () =>
      withStore(async (store) => {
        assert.deepEqual(await store.readPairingMarks(), { metadata: 0, blobs: 0 });
        await store.advancePairingMarks(1);
        assert.deepEqual(await store.readPairingMarks(), { metadata: 1, blobs: 1 });
        await store.advancePairingMarks(3);
        await store.advancePairingMarks(2);
        assert.deepEqual(await store.readPairingMarks(), { metadata: 3, blobs: 3 });
        assert.deepEqual(await listAll(store), [], 'the blob mark is never listed as a blob or an upload');
      }));

    test('listExpired: expiry at or before now, oldest first, bounded', () =>
      withStore(async (store) => {
        const at = (ms: number) => new Date(T0.getTime() + ms);
        const late = media({ expiresAt: at(3000) });
        const early = media({ expiresAt: at(1000) });
        const exact = media({ tenantId: 'globex', expiresAt: at(2000) });
        await store.addMedia(late, blob({ sha256: '1'.repeat(64) }));
        await store.addMedia(early, blob({ sha256: '2'.repeat(64) }));
        await store.addMedia(exact, blob({ tenantId: 'globex' }));
        assert.deepEqual(await store.listExpired(at(999), 10), []);
        assert.deepEqual(await store.listExpired(at(2000), 10), [
          { tenantId: 'acme', mediaId: early.mediaId },
          { tenantId: 'globex', mediaId: exact.mediaId },
        ]);
        assert.deepEqual(await store.listExpired(at(5000), 1), [{ tenantId: 'acme', mediaId: early.mediaId }]);
      }));
  });
}
