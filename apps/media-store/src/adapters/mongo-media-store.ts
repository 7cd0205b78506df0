import { Binary, type Collection } from 'mongodb';
import { applyMongoMigrations, type MongoDatabase, type MongoMigration } from '@waygate/storage';
import type { MediaStore, StoredMedia } from '../domain/media-store';

interface MediaDocument {
  _id: string; // `${tenantId}/${mediaId}`
  tenantId: string;
  mediaId: string;
  mimeType: string;
  filename?: string;
  sha256: string;
  sizeBytes: number;
  createdAt: Date;
  iv: Binary;
  authTag: Binary;
  /** At most 5 MiB plus the GCM overhead, well under MongoDB's 16 MiB document limit. */
  ciphertext: Binary;
}

/** The bytes of a BSON binary as a Buffer, without copying (`value()` stops at the binary's length, not its capacity). */
function toBuffer(binary: Binary): Buffer {
  const bytes = binary.value();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Versioned data migrations of this store's MongoDB collections (version = position, recorded in `schema_migrations`
 * as `media-store`); only appended. Indexes are ensured at every open.
 */
const MONGO_MIGRATIONS: readonly MongoMigration[] = [];

/** The production MediaStore: one document per blob, the ciphertext as BSON binary. */
export class MongoMediaStore implements MediaStore {
  private readonly media: Collection<MediaDocument>;

  private constructor(mongo: MongoDatabase) {
    this.media = mongo.db.collection<MediaDocument>('media');
  }

  /**
   * No secondary index: `get` reads one document by `_id` (which embeds the tenant id), served by MongoDB's built-in
   * `_id` index, and `put` relies on `_id` uniqueness. Add indexes here, each with the query it serves.
   */
  static async open(mongo: MongoDatabase): Promise<MongoMediaStore> {
    await applyMongoMigrations(mongo.db, 'media-store', MONGO_MIGRATIONS);
    return new MongoMediaStore(mongo);
  }

  async put(record: StoredMedia): Promise<void> {
    // insertOne, never upsert: an existing id is a duplicate-key error and nothing is overwritten.
    await this.media.insertOne({
      _id: `${record.tenantId}/${record.mediaId}`,
      tenantId: record.tenantId,
      mediaId: record.mediaId,
      mimeType: record.mimeType,
      ...(record.filename !== undefined ? { filename: record.filename } : {}),
      sha256: record.sha256,
      sizeBytes: record.sizeBytes,
      createdAt: record.createdAt,
      iv: new Binary(record.iv),
      authTag: new Binary(record.authTag),
      ciphertext: new Binary(record.ciphertext),
    });
  }

  async get(tenantId: string, mediaId: string): Promise<StoredMedia | undefined> {
    // tenantId in the filter too: scoping never depends on how `_id` happens to be built.
    const doc = await this.media.findOne({ _id: `${tenantId}/${mediaId}`, tenantId });
    if (!doc) return undefined;
    return {
      tenantId: doc.tenantId,
      mediaId: doc.mediaId,
      ciphertext: toBuffer(doc.ciphertext),
      iv: toBuffer(doc.iv),
      authTag: toBuffer(doc.authTag),
      mimeType: doc.mimeType,
      ...(doc.filename !== undefined ? { filename: doc.filename } : {}),
      sha256: doc.sha256,
      sizeBytes: doc.sizeBytes,
      createdAt: doc.createdAt,
    };
  }

  async close(): Promise<void> {
    // The connection belongs to whoever opened it (server wiring or the contract suite).
  }
}
