import { openSqliteDatabase, type SqliteDatabase } from '@waygate/storage';
import type { MediaStore, StoredMedia } from '../domain/media-store';

const MIGRATIONS = [
  // The ciphertext is the last column: SQLite keeps a large BLOB in overflow pages, and reading the columns before
  // it never has to walk them.
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
     -- get: one blob by tenant and id (the only query).
     PRIMARY KEY (tenant_id, media_id)
   );`,
];

interface MediaRow {
  tenant_id: string;
  media_id: string;
  mime_type: string;
  filename: string | null;
  sha256: string;
  size_bytes: number;
  created_at_ms: number;
  iv: Buffer;
  auth_tag: Buffer;
  ciphertext: Buffer;
}

/** The embedded MediaStore: one SQLite file, WAL mode; the ciphertext is a BLOB column. */
export class SqliteMediaStore implements MediaStore {
  private readonly db: SqliteDatabase;

  constructor(file: string) {
    this.db = openSqliteDatabase(file, MIGRATIONS);
  }

  async put(record: StoredMedia): Promise<void> {
    // A plain INSERT: an existing (tenant_id, media_id) violates the primary key and nothing is overwritten.
    this.db
      .prepare(
        `INSERT INTO media (tenant_id, media_id, mime_type, filename, sha256, size_bytes, created_at_ms, iv, auth_tag, ciphertext)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        record.tenantId,
        record.mediaId,
        record.mimeType,
        record.filename ?? null,
        record.sha256,
        record.sizeBytes,
        record.createdAt.getTime(),
        record.iv,
        record.authTag,
        record.ciphertext,
      );
  }

  async get(tenantId: string, mediaId: string): Promise<StoredMedia | undefined> {
    const row = this.db.prepare('SELECT * FROM media WHERE tenant_id = ? AND media_id = ?').get(tenantId, mediaId) as MediaRow | undefined;
    if (!row) return undefined;
    return {
      tenantId: row.tenant_id,
      mediaId: row.media_id,
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

  async close(): Promise<void> {
    this.db.close();
  }
}
