/** The orphan reaper over the embedded store: real blob files, a real SQLite metadata file, the real clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { systemClock } from '@waygate/domain';
import { createTempDir } from '@waygate/testing';
import { FileMediaVaultStore } from './adapters/file-media-vault-store';
import type { BlobRecord, MediaVaultStore } from './domain/media-vault-store';
import { createOrphanReaper, type ReapReport } from './domain/orphan-reaper';

const HOUR_MS = 3_600_000;

/** Records what the reaper reports to its metrics (our own port). */
function recordingMetrics() {
  const reaped: { reason: string; files: number; bytes: number }[] = [];
  const held: number[] = [];
  const passes: string[] = [];
  return {
    reaped,
    held,
    passes,
    orphanPass: (outcome: string) => void passes.push(outcome),
    orphansReaped: (reason: string, files: number, bytes: number) => void reaped.push({ reason, files, bytes }),
    orphansHeld: (count: number) => void held.push(count),
  };
}

function openStore(dir: string): FileMediaVaultStore {
  return new FileMediaVaultStore(path.join(dir, 'media-store.sqlite'), path.join(dir, 'media-blobs'));
}

const blobFile = (dir: string, blobId: string) => path.join(dir, 'media-blobs', blobId.slice(0, 2), `${blobId}.wgm`);
const partialFiles = (dir: string) => readdirSync(path.join(dir, 'media-blobs', 'tmp')).filter((name) => name.endsWith('.part'));

/** Makes a file look last written `ms` ago. */
function age(file: string, ms: number): void {
  const then = new Date(Date.now() - ms);
  utimesSync(file, then, then);
}

/** Commits a blob's bytes (as an upload does) and, when `referenced`, records a media id pointing at it. */
async function storeBlob(store: MediaVaultStore, bytes: number, referenced: boolean): Promise<BlobRecord> {
  const blobId = randomBytes(16).toString('hex');
  const sink = await store.createBlobSink();
  await sink.write(randomBytes(bytes));
  await sink.commit(blobId);
  const blob: BlobRecord = {
    tenantId: 'acme',
    customerRef: '',
    sha256: randomBytes(32).toString('hex'),
    blobId,
    keyId: 'tenant.acme@0011223344556677',
    sizeBytes: bytes - 60,
    storedBytes: bytes,
    createdAt: new Date(),
  };
  if (referenced) {
    const now = new Date();
    const mediaId = `med_${randomBytes(8).toString('hex')}`;
    await store.addMedia(
      { tenantId: 'acme', mediaId, mimeType: 'application/pdf', createdAt: now, expiresAt: new Date(now.getTime() + HOUR_MS) },
      blob,
    );
  }
  return blob;
}

function reaperOver(store: MediaVaultStore, metrics = recordingMetrics()) {
  return createOrphanReaper({ store, clock: systemClock, metrics, graceMs: HOUR_MS, settleMs: 10 });
}

test('an orphan older than the grace is reaped; a young orphan, a referenced blob, a running upload and unknown files stay', async () => {
  const dir = createTempDir();
  const store = openStore(dir.path);
  try {
    const referenced = await storeBlob(store, 5000, true);
    const oldOrphan = await storeBlob(store, 3000, false);
    const youngOrphan = await storeBlob(store, 2000, false);
    // Age alone never condemns a blob: the referenced one is as old as the orphan.
    age(blobFile(dir.path, referenced.blobId), 2 * HOUR_MS);
    age(blobFile(dir.path, oldOrphan.blobId), 2 * HOUR_MS);
    // An upload cut off by a crash long ago, and one being written now.
    const crashed = await store.createBlobSink();
    await crashed.write(randomBytes(700));
    const [crashedPart] = partialFiles(dir.path);
    age(path.join(dir.path, 'media-blobs', 'tmp', crashedPart as string), 2 * HOUR_MS);
    const running = await store.createBlobSink();
    await running.write(randomBytes(100));
    // Files the reaper does not recognise are never its business, however old.
    const foreign = [path.join(dir.path, 'media-blobs', 'README.txt'), path.join(dir.path, 'media-blobs', 'zz', `${'a'.repeat(32)}.wgm`)];
    for (const file of foreign) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, 'not a blob');
      age(file, 5 * HOUR_MS);
    }

    const metrics = recordingMetrics();
    const report = await reaperOver(store, metrics).reap();

    assert.equal(existsSync(blobFile(dir.path, oldOrphan.blobId)), false, 'the old orphan is gone');
    assert.equal(existsSync(blobFile(dir.path, youngOrphan.blobId)), true, 'the young orphan stays (its upload may be recording it)');
    assert.equal(existsSync(blobFile(dir.path, referenced.blobId)), true, 'the referenced blob stays');
    assert.equal(partialFiles(dir.path).length, 1, 'the crashed upload went, the running one stays');
    for (const file of foreign) assert.equal(existsSync(file), true);
    assert.deepEqual({ ...report, durationMs: 0 }, {
      scanned: 5,
      young: 2,
      referenced: 1,
      reaped: { unreferenced: { files: 1, bytes: 3000 }, partial_upload: { files: 1, bytes: 700 } },
      held: 0,
      metadataBehind: false,
      raced: 0,
      truncated: false,
      durationMs: 0,
    } satisfies ReapReport);
    assert.deepEqual(metrics.reaped, [
      { reason: 'unreferenced', files: 1, bytes: 3000 },
      { reason: 'partial_upload', files: 1, bytes: 700 },
    ]);
    assert.deepEqual(metrics.passes, ['completed']);
    // The running upload was not disturbed, and the referenced blob still reads whole.
    await running.write(randomBytes(100));
    await running.commit(randomBytes(16).toString('hex'));
    let read = 0;
    for await (const part of store.readBlob(referenced.blobId)) read += part.length;
    assert.equal(read, 5000);
    await crashed.abort();
  } finally {
    await store.close();
    dir.remove();
  }
});

test('a blob that gains a row between the two checks stays (the re-check right before deleting)', async () => {
  const dir = createTempDir();
  const store = openStore(dir.path);
  try {
    const orphan = await storeBlob(store, 1000, false);
    age(blobFile(dir.path, orphan.blobId), 2 * HOUR_MS);
    let checks = 0;
    // The real store, with a concurrent writer stepping in after the first check (as a MongoDB delete that puts a
    // blob record back, or an upload recording it, would).
    const racing: MediaVaultStore = Object.create(store) as MediaVaultStore;
    racing.referencedBlobIds = async (ids) => {
      const result = await store.referencedBlobIds(ids);
      if (++checks === 1) {
        const now = new Date();
        await store.addMedia(
          { tenantId: 'acme', mediaId: 'med_late', mimeType: 'application/pdf', createdAt: now, expiresAt: now },
          orphan,
        );
      }
      return result;
    };
    const report = await reaperOver(racing).reap();
    assert.equal(checks, 2);
    assert.equal(report.raced, 1);
    assert.equal(report.reaped.unreferenced.files, 0);
    assert.equal(existsSync(blobFile(dir.path, orphan.blobId)), true);
  } finally {
    await store.close();
    dir.remove();
  }
});

test('two replicas reaping the same store at once delete each orphan once and nothing referenced', async () => {
  const dir = createTempDir();
  const stores = [openStore(dir.path), openStore(dir.path)];
  try {
    const [first] = stores as [FileMediaVaultStore];
    const orphans = await Promise.all(Array.from({ length: 30 }, () => storeBlob(first, 500, false)));
    const kept = await Promise.all(Array.from({ length: 30 }, () => storeBlob(first, 500, true)));
    for (const blob of [...orphans, ...kept]) age(blobFile(dir.path, blob.blobId), 2 * HOUR_MS);
    const reports = await Promise.all(stores.map((store) => reaperOver(store).reap()));
    assert.equal(
      reports.reduce((sum, report) => sum + report.reaped.unreferenced.files, 0),
      30,
      'each orphan counted once',
    );
    for (const blob of orphans) assert.equal(existsSync(blobFile(dir.path, blob.blobId)), false);
    for (const blob of kept) assert.equal(existsSync(blobFile(dir.path, blob.blobId)), true);
  } finally {
    for (const store of stores) await store.close();
    dir.remove();
  }
});

test('metadata restored from before the blob folder: unreferenced blobs are held, not reaped, until the operator clears the blob mark', async () => {
  const dir = createTempDir();
  const sqlite = path.join(dir.path, 'media-store.sqlite');
  const backup = path.join(dir.path, 'backup.sqlite');
  let store = openStore(dir.path);
  try {
    await reaperOver(store).reap(); // pass 1: both marks 1
    await store.close();
    copyFileSync(sqlite, backup); // the metadata backup, taken now
    store = openStore(dir.path);
    // After the backup: a blob uploaded and recorded, more passes.
    const later = await storeBlob(store, 4000, true);
    await reaperOver(store).reap();
    await store.close();
    // The metadata alone is restored (say the database was damaged): `later` has no row any more.
    for (const suffix of ['', '-wal', '-shm']) rmSync(sqlite + suffix, { force: true });
    copyFileSync(backup, sqlite);
    store = openStore(dir.path);
    age(blobFile(dir.path, later.blobId), 2 * HOUR_MS);
    const crashed = await store.createBlobSink();
    await crashed.write(randomBytes(300));
    age(path.join(dir.path, 'media-blobs', 'tmp', partialFiles(dir.path)[0] as string), 2 * HOUR_MS);

    const metrics = recordingMetrics();
    const held = await reaperOver(store, metrics).reap();
    assert.equal(held.metadataBehind, true);
    assert.equal(held.held, 1);
    assert.equal(held.reaped.unreferenced.files, 0);
    assert.equal(held.reaped.partial_upload.files, 1, 'a partial upload is never pointed at: still reaped');
    assert.deepEqual(metrics.held, [1]);
    assert.deepEqual(metrics.passes, ['held']);
    assert.equal(existsSync(blobFile(dir.path, later.blobId)), true, 'the blob the restored metadata lost is kept');
    assert.equal((await reaperOver(store).reap()).held, 1, 'and stays held pass after pass');

    // The operator decided (README, "Orphan reaper"): those blobs are to go. Removing the blob mark re-pairs the two.
    rmSync(path.join(dir.path, 'media-blobs', 'pairing-mark'));
    const cleared = await reaperOver(store).reap();
    assert.equal(cleared.metadataBehind, false);
    assert.equal(cleared.reaped.unreferenced.files, 1);
    assert.equal(existsSync(blobFile(dir.path, later.blobId)), false);
    await crashed.abort();
  } finally {
    await store.close();
    dir.remove();
  }
});

test('a pass takes at most its bound of orphans; the next pass goes on', async () => {
  const dir = createTempDir();
  const store = openStore(dir.path);
  try {
    const orphans = await Promise.all(Array.from({ length: 5 }, () => storeBlob(store, 100, false)));
    for (const blob of orphans) age(blobFile(dir.path, blob.blobId), 2 * HOUR_MS);
    const bounded = () =>
      createOrphanReaper({
        store,
        clock: systemClock,
        metrics: recordingMetrics(),
        graceMs: HOUR_MS,
        settleMs: 0,
        maxCandidatesPerPass: 3,
      });
    const first = await bounded().reap();
    assert.equal(first.reaped.unreferenced.files, 3);
    assert.equal(first.truncated, true);
    const second = await bounded().reap();
    assert.equal(second.reaped.unreferenced.files, 2);
    assert.equal(second.truncated, false);
    for (const blob of orphans) assert.equal(existsSync(blobFile(dir.path, blob.blobId)), false);
  } finally {
    await store.close();
    dir.remove();
  }
});
