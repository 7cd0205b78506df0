import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, type Dirent } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { checkpointWalTruncate, openSqliteDatabase, type SqliteDatabase } from '@waygate/storage';
import type { LegacyMediaRecord } from '../domain/legacy-media';
import type {
  BlobRecord,
  BlobSink,
  ExpiredMedia,
  MediaRecord,
  MediaVaultStore,
  PairingMarks,
  StoredBlobObject,
} from '../domain/media-vault-store';

const MIGRATIONS = [
  // 1: the pre-vault table (one ciphertext BLOB per row under the old single service key): read-only since the vault
  // (getLegacyMedia), so release-1 media stays readable.
  `CREATE TABLE media (
     tenant_id TEXT NOT NULL,
     media_id TEXT NOT NULL,
     mime_type TEXT NOT NULL,
     filename TEXT,
     sha256 TEXT NOT NULL,
     size_bytes INTEGER NOT NULL,
     created_at_ms INTEGER NOT NULL,
     iv BLOB NOT NULL,
     auth_tag BLOB NOT NULL,
     ciphertext BLOB NOT NULL,
     PRIMARY KEY (tenant_id, media_id)
   );`,
  // 2: the vault. Blob bytes live in files; these tables hold metadata only.
  `CREATE TABLE vault_blobs (
     blob_id TEXT PRIMARY KEY,
     tenant_id TEXT NOT NULL,
     customer_ref TEXT NOT NULL,
     sha256 TEXT NOT NULL,
     key_id TEXT NOT NULL,
     size_bytes INTEGER NOT NULL,
     stored_bytes INTEGER NOT NULL,
     created_at_ms INTEGER NOT NULL
   );
   -- findBlob / addMedia: content addressing per (tenant, customer, sha256).
   CREATE UNIQUE INDEX vault_blobs_content ON vault_blobs (tenant_id, customer_ref, sha256);
   CREATE TABLE vault_media (
     tenant_id TEXT NOT NULL,
     media_id TEXT NOT NULL,
     blob_id TEXT NOT NULL REFERENCES vault_blobs (blob_id),
     mime_type TEXT NOT NULL,
     filename TEXT,
     created_at_ms INTEGER NOT NULL,
     expires_at_ms INTEGER NOT NULL,
     -- getMedia / deleteMedia: one media id of a tenant.
     PRIMARY KEY (tenant_id, media_id)
   );
   -- listExpired: the sweeper's scan.
   CREATE INDEX vault_media_expiry ON vault_media (expires_at_ms);
   -- deleteMedia: is the blob still referenced?
   CREATE INDEX vault_media_blob ON vault_media (blob_id);`,
  // 3: the orphan reaper's metadata pairing mark (see PairingMarks); a fresh or lost database starts at 0.
  `CREATE TABLE vault_reaper_mark (id INTEGER PRIMARY KEY CHECK (id = 1), pass INTEGER NOT NULL);
   INSERT INTO vault_reaper_mark (id, pass) VALUES (1, 0);`,
];

interface JoinedRow {
  tenant_id: string;
  media_id: string;
  mime_type: string;
  filename: string | null;
  created_at_ms: number;
  expires_at_ms: number;
  blob_id: string;
  customer_ref: string;
  sha256: string;
  key_id: string;
  size_bytes: number;
  stored_bytes: number;
  blob_created_at_ms: number;
}

interface BlobRow {
  blob_id: string;
  tenant_id: string;
  customer_ref: string;
  sha256: string;
  key_id: string;
  size_bytes: number;
  stored_bytes: number;
  created_at_ms: number;
}

function toBlob(row: BlobRow): BlobRecord {
  return {
    tenantId: row.tenant_id,
    customerRef: row.customer_ref,
    sha256: row.sha256,
    blobId: row.blob_id,
    keyId: row.key_id,
    sizeBytes: row.size_bytes,
    storedBytes: row.stored_bytes,
    createdAt: new Date(row.created_at_ms),
  };
}

const BLOB_ID = /^[0-9a-f]{32}$/;
/** Names the reaper recognises; anything else under the blob folder is never listed, so never deleted. */
const SHARD_DIR = /^[0-9a-f]{2}$/;
const COMMITTED_FILE = /^([0-9a-f]{32})\.wgm$/;
const PARTIAL_FILE = /^[0-9a-f]{24}\.part$/;
/** The blob half of the reaper's pairing marks: `<blob dir>/pairing-mark`, one decimal number. */
const PAIRING_MARK_FILE = 'pairing-mark';
/** How many ids one `referencedBlobIds` query takes (well under SQLite's bound-parameter limit). */
const IDS_PER_QUERY = 400;

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/** A directory's entries, or none when it does not exist (any more). */
async function entriesOf(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

/**
 * The embedded MediaVaultStore: ciphertext in files under `blobDir` (`<aa>/<blob id>.wgm`), metadata in SQLite. A
 * blob is written to `tmp/` and renamed into place on commit, so a crash never leaves a partial blob under its id.
 */
export class FileMediaVaultStore implements MediaVaultStore {
  private readonly db: SqliteDatabase;
  private readonly tmpDir: string;

  constructor(
    sqliteFile: string,
    private readonly blobDir: string,
  ) {
    this.db = openSqliteDatabase(sqliteFile, MIGRATIONS);
    this.tmpDir = path.join(blobDir, 'tmp');
    // Leftovers of a crash mid-upload stay until the orphan reaper finds them older than its grace period: another
    // replica sharing this folder may be writing one of them right now.
    mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
  }

  private blobPath(blobId: string): string {
    if (!BLOB_ID.test(blobId)) throw new Error('malformed blob id');
    return path.join(this.blobDir, blobId.slice(0, 2), `${blobId}.wgm`);
  }

  async createBlobSink(): Promise<BlobSink> {
    const temporary = path.join(this.tmpDir, `${randomBytes(12).toString('hex')}.part`);
    const handle: FileHandle = await open(temporary, 'wx', 0o600);
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await handle.close();
    };
    return {
      write: async (ciphertext) => {
        await handle.write(ciphertext);
      },
      commit: async (blobId) => {
        const target = this.blobPath(blobId);
        await handle.sync();
        await close();
        mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
        await rename(temporary, target);
      },
      abort: async () => {
        await close().catch(() => undefined);
        await rm(temporary, { force: true });
      },
    };
  }

  async *readBlob(blobId: string, start = 0): AsyncIterable<Buffer> {
    const stream = createReadStream(this.blobPath(blobId), { start, highWaterMark: 256 * 1024 });
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } finally {
      stream.destroy();
    }
  }

  async addMedia(media: Omit<MediaRecord, 'blob'>, blob: BlobRecord): Promise<{ blob: BlobRecord; blobCreated: boolean }> {
    const run = this.db.transaction(() => {
      const inserted = this.db
        .prepare(
          `INSERT INTO vault_blobs (blob_id, tenant_id, customer_ref, sha256, key_id, size_bytes, stored_bytes, created_at_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, customer_ref, sha256) DO NOTHING`,
        )
        .run(
          blob.blobId,
          blob.tenantId,
          blob.customerRef,
          blob.sha256,
          blob.keyId,
          blob.sizeBytes,
          blob.storedBytes,
          blob.createdAt.getTime(),
        );
      const stored = this.db
        .prepare('SELECT * FROM vault_blobs WHERE tenant_id = ? AND customer_ref = ? AND sha256 = ?')
        .get(blob.tenantId, blob.customerRef, blob.sha256) as BlobRow;
      this.db
        .prepare(
          `INSERT INTO vault_media (tenant_id, media_id, blob_id, mime_type, filename, created_at_ms, expires_at_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          media.tenantId,
          media.mediaId,
          stored.blob_id,
          media.mimeType,
          media.filename ?? null,
          media.createdAt.getTime(),
          media.expiresAt.getTime(),
        );
      return { blob: toBlob(stored), blobCreated: inserted.changes === 1 };
    });
    return run.immediate();
  }

  async listCustomerMedia(
    tenantId: string,
    customerRef: string,
    page: { readonly afterBlobId?: string; readonly limit: number },
  ): Promise<MediaRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT m.tenant_id, m.media_id, m.mime_type, m.filename, m.created_at_ms, m.expires_at_ms, b.blob_id, b.customer_ref,
                b.sha256, b.key_id, b.size_bytes, b.stored_bytes, b.created_at_ms AS blob_created_at_ms
         FROM vault_media m JOIN vault_blobs b ON b.blob_id = m.blob_id
         WHERE m.tenant_id = ? AND b.blob_id IN (
           SELECT blob_id FROM vault_blobs WHERE tenant_id = ? AND customer_ref = ? AND blob_id > ? ORDER BY blob_id LIMIT ?)
         ORDER BY b.blob_id, m.media_id`,
      )
      .all(tenantId, tenantId, customerRef, page.afterBlobId ?? '', page.limit) as JoinedRow[];
    return rows.map((row) => ({
      tenantId: row.tenant_id,
      mediaId: row.media_id,
      mimeType: row.mime_type,
      ...(row.filename !== null ? { filename: row.filename } : {}),
      createdAt: new Date(row.created_at_ms),
      expiresAt: new Date(row.expires_at_ms),
      blob: toBlob({ ...row, created_at_ms: row.blob_created_at_ms }),
    }));
  }

  async flushDeleted(): Promise<void> {
    await checkpointWalTruncate(this.db);
  }

  async getMedia(tenantId: string, mediaId: string): Promise<MediaRecord | undefined> {
    const row = this.db
      .prepare(
        `SELECT m.tenant_id, m.media_id, m.mime_type, m.filename, m.created_at_ms, m.expires_at_ms, b.blob_id, b.customer_ref,
                b.sha256, b.key_id, b.size_bytes, b.stored_bytes, b.created_at_ms AS blob_created_at_ms
         FROM vault_media m JOIN vault_blobs b ON b.blob_id = m.blob_id
         WHERE m.tenant_id = ? AND m.media_id = ?`,
      )
      .get(tenantId, mediaId) as JoinedRow | undefined;
    if (!row) return undefined;
    return {
      tenantId: row.tenant_id,
      mediaId: row.media_id,
      mimeType: row.mime_type,
      ...(row.filename !== null ? { filename: row.filename } : {}),
      createdAt: new Date(row.created_at_ms),
      expiresAt: new Date(row.expires_at_ms),
      blob: toBlob({ ...row, tenant_id: row.tenant_id, created_at_ms: row.blob_created_at_ms }),
    };
  }

  async deleteMedia(tenantId: string, mediaId: string): Promise<{ deleted: boolean; orphan?: BlobRecord }> {
    const run = this.db.transaction(() => {
      const media = this.db.prepare('SELECT blob_id FROM vault_media WHERE tenant_id = ? AND media_id = ?').get(tenantId, mediaId) as
        { blob_id: string } | undefined;
      if (!media) return { deleted: false };
      this.db.prepare('DELETE FROM vault_media WHERE tenant_id = ? AND media_id = ?').run(tenantId, mediaId);
      const stillUsed = this.db.prepare('SELECT 1 FROM vault_media WHERE blob_id = ? LIMIT 1').get(media.blob_id);
      if (stillUsed) return { deleted: true };
      const blob = this.db.prepare('SELECT * FROM vault_blobs WHERE blob_id = ?').get(media.blob_id) as BlobRow;
      this.db.prepare('DELETE FROM vault_blobs WHERE blob_id = ?').run(media.blob_id);
      return { deleted: true, orphan: toBlob(blob) };
    });
    return run.immediate();
  }

  async deleteBlobData(blobId: string): Promise<void> {
    await rm(this.blobPath(blobId), { force: true });
  }

  async getLegacyMedia(tenantId: string, mediaId: string): Promise<LegacyMediaRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM media WHERE tenant_id = ? AND media_id = ?').get(tenantId, mediaId) as
      | {
          mime_type: string;
          filename: string | null;
          sha256: string;
          size_bytes: number;
          created_at_ms: number;
          iv: Buffer;
          auth_tag: Buffer;
          ciphertext: Buffer;
        }
      | undefined;
    if (!row) return undefined;
    return {
      tenantId,
      mediaId,
      ciphertext: row.ciphertext,
      iv: row.iv,
      authTag: row.auth_tag,
      mimeType: row.mime_type,
      ...(row.filename !== null ? { filename: row.filename } : {}),
      sha256: row.sha256,
      sizeBytes: row.size_bytes,
      createdAt: new Date(row.created_at_ms),
    };
  }

  async listExpired(now: Date, limit: number): Promise<ExpiredMedia[]> {
    const rows = this.db
      .prepare('SELECT tenant_id, media_id FROM vault_media WHERE expires_at_ms <= ? ORDER BY expires_at_ms LIMIT ?')
      .all(now.getTime(), limit) as { tenant_id: string; media_id: string }[];
    return rows.map((row) => ({ tenantId: row.tenant_id, mediaId: row.media_id }));
  }

  async *listBlobObjects(): AsyncIterable<StoredBlobObject> {
    for (const shard of await entriesOf(this.blobDir)) {
      if (!shard.isDirectory()) continue;
      const partial = shard.name === 'tmp';
      if (!partial && !SHARD_DIR.test(shard.name)) continue;
      for (const file of await entriesOf(path.join(this.blobDir, shard.name))) {
        if (!file.isFile()) continue;
        const blobId = COMMITTED_FILE.exec(file.name)?.[1];
        if (partial ? !PARTIAL_FILE.test(file.name) : blobId?.slice(0, 2) !== shard.name) continue;
        const ref = `${shard.name}/${file.name}`;
        let stats;
        try {
          stats = await stat(path.join(this.blobDir, ref));
        } catch (error) {
          if (isMissing(error)) continue; // committed or deleted since the directory was read
          throw error;
        }
        yield partial
          ? { kind: 'partial', ref, storedBytes: stats.size, modifiedAt: stats.mtime }
          : { kind: 'committed', blobId: blobId as string, ref, storedBytes: stats.size, modifiedAt: stats.mtime };
      }
    }
  }

  async deleteBlobObject(object: StoredBlobObject, unmodifiedSince: Date): Promise<boolean> {
    const [dir, name, ...rest] = object.ref.split('/');
    const recognised =
      rest.length === 0 &&
      dir !== undefined &&
      name !== undefined &&
      (object.kind === 'partial'
        ? dir === 'tmp' && PARTIAL_FILE.test(name)
        : COMMITTED_FILE.exec(name)?.[1] === object.blobId && object.blobId?.slice(0, 2) === dir);
    if (!recognised) throw new Error('not a blob object of this store');
    const file = path.join(this.blobDir, dir, name);
    try {
      // Re-read right before deleting: an upload that wrote since the listing is still running.
      if ((await stat(file)).mtimeMs > unmodifiedSince.getTime()) return false;
      await unlink(file);
      return true;
    } catch (error) {
      if (isMissing(error)) return false; // another replica's reaper, or the upload's own commit or abort, was first
      throw error;
    }
  }

  async referencedBlobIds(blobIds: readonly string[]): Promise<Set<string>> {
    const referenced = new Set<string>();
    for (let offset = 0; offset < blobIds.length; offset += IDS_PER_QUERY) {
      const ids = blobIds.slice(offset, offset + IDS_PER_QUERY);
      const marks = ids.map(() => '?').join(', ');
      // vault_blobs' primary key and the vault_media_blob index answer both halves.
      const rows = this.db
        .prepare(
          `SELECT blob_id FROM vault_blobs WHERE blob_id IN (${marks}) UNION SELECT blob_id FROM vault_media WHERE blob_id IN (${marks})`,
        )
        .pluck()
        .all(...ids, ...ids) as string[];
      for (const id of rows) referenced.add(id);
    }
    return referenced;
  }

  async readPairingMarks(): Promise<PairingMarks> {
    const blobs = await this.readBlobMark();
    const metadata = this.db.prepare('SELECT pass FROM vault_reaper_mark WHERE id = 1').pluck().get() as number;
    return { metadata, blobs };
  }

  async advancePairingMarks(to: number): Promise<void> {
    this.db.prepare('UPDATE vault_reaper_mark SET pass = MAX(pass, ?) WHERE id = 1').run(to);
    if ((await this.readBlobMark()) >= to) return;
    // Written beside it and renamed into place, so a crash leaves the old mark or the new one (and at worst a few bytes
    // of temporary file, not in tmp/ where uploads run). Two replicas racing may leave the lower of their two values:
    // a lower blob mark can only make the reaper less suspicious of a restore, never hold without cause.
    const temporary = path.join(this.blobDir, `${PAIRING_MARK_FILE}.${randomBytes(6).toString('hex')}.next`);
    await writeFile(temporary, `${to}\n`, { mode: 0o600 });
    await rename(temporary, path.join(this.blobDir, PAIRING_MARK_FILE));
  }

  private async readBlobMark(): Promise<number> {
    try {
      const text = (await readFile(path.join(this.blobDir, PAIRING_MARK_FILE), 'utf8')).trim();
      const value = Number(text);
      if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${PAIRING_MARK_FILE} in the blob folder is not a pass number`);
      return value;
    } catch (error) {
      if (isMissing(error)) return 0;
      throw error;
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
