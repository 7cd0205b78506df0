import { randomBytes } from 'node:crypto';
import { GridFSBucket, ObjectId, type Binary, type Collection, type GridFSBucketWriteStream, type GridFSFile } from 'mongodb';
import { applyMongoMigrations, isDuplicateKeyError, type MongoDatabase, type MongoMigration } from '@waygate/storage';
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

interface BlobDocument {
  _id: string; // blob id
  tenantId: string;
  customerRef: string;
  sha256: string;
  keyId: string;
  sizeBytes: number;
  storedBytes: number;
  createdAt: Date;
}

interface MediaDocument {
  _id: string; // `${tenantId}/${mediaId}`
  tenantId: string;
  mediaId: string;
  blobId: string;
  mimeType: string;
  filename?: string;
  createdAt: Date;
  expiresAt: Date;
}

/** Release 1's media document (read-only). */
interface LegacyDocument {
  _id: string;
  tenantId: string;
  mimeType: string;
  filename?: string;
  sha256: string;
  sizeBytes: number;
  createdAt: Date;
  iv: Binary;
  authTag: Binary;
  ciphertext: Binary;
}

function toBlob(doc: BlobDocument): BlobRecord {
  return {
    tenantId: doc.tenantId,
    customerRef: doc.customerRef,
    sha256: doc.sha256,
    blobId: doc._id,
    keyId: doc.keyId,
    sizeBytes: doc.sizeBytes,
    storedBytes: doc.storedBytes,
    createdAt: doc.createdAt,
  };
}

function toDocument(blob: BlobRecord): BlobDocument {
  return {
    _id: blob.blobId,
    tenantId: blob.tenantId,
    customerRef: blob.customerRef,
    sha256: blob.sha256,
    keyId: blob.keyId,
    sizeBytes: blob.sizeBytes,
    storedBytes: blob.storedBytes,
    createdAt: blob.createdAt,
  };
}

/**
 * Versioned data migrations of this store's MongoDB collections (version = position, recorded in `schema_migrations`
 * as `media-store`); only appended. Indexes are ensured at every open.
 */
const MONGO_MIGRATIONS: readonly MongoMigration[] = [];

/** GridFS file names: committed blobs by id, uploads in progress under a `tmp/` name until renamed. */
const committedName = (blobId: string) => `blob/${blobId}`;
const COMMITTED_NAME = /^blob\/([0-9a-f]{32})$/;
const PARTIAL_NAME = /^tmp\/[0-9a-f]{24}$/;
/** The blob half of the reaper's pairing marks: empty GridFS files `pairing-mark/<pass>` (metadata.pass). */
const PAIRING_MARK_PREFIX = 'pairing-mark/';
/** The GridFS bucket's chunk size (the driver's default, not overridden here). */
const GRIDFS_CHUNK_BYTES = 255 * 1024;
/** References of partial objects: a GridFS file id, or the files_id of chunks whose file document is missing. */
const FILE_REF = 'file:';
const CHUNKS_REF = 'chunks:';
const IDS_PER_QUERY = 1000;

interface ChunkDocument {
  _id: ObjectId;
  files_id: ObjectId;
  n: number;
  data: Binary;
}

interface ReaperMarkDocument {
  _id: string;
  pass: number;
}

/**
 * The production MediaVaultStore: ciphertext in GridFS (bucket `vault`, 255 KiB chunks, streamed in and out),
 * metadata in the `vault_blobs` and `vault_media` collections. An upload is written under a temporary file name and
 * renamed on commit; one that never commits is deleted on abort.
 */
export class MongoMediaVaultStore implements MediaVaultStore {
  private readonly bucket: GridFSBucket;
  private readonly blobs: Collection<BlobDocument>;
  private readonly media: Collection<MediaDocument>;
  /** GridFS's own collections, read directly by the orphan reaper (listing and conditional deletes). */
  private readonly files: Collection<GridFSFile>;
  private readonly chunks: Collection<ChunkDocument>;
  private readonly reaperMark: Collection<ReaperMarkDocument>;

  private constructor(private readonly mongo: MongoDatabase) {
    this.bucket = new GridFSBucket(mongo.db, { bucketName: 'vault' });
    this.blobs = mongo.db.collection<BlobDocument>('vault_blobs');
    this.media = mongo.db.collection<MediaDocument>('vault_media');
    this.files = mongo.db.collection<GridFSFile>('vault.files');
    this.chunks = mongo.db.collection<ChunkDocument>('vault.chunks');
    this.reaperMark = mongo.db.collection<ReaperMarkDocument>('vault_reaper_mark');
  }

  static async open(mongo: MongoDatabase): Promise<MongoMediaVaultStore> {
    const store = new MongoMediaVaultStore(mongo);
    // addMedia: content addressing per (tenant, customer, sha256).
    await store.blobs.createIndex({ tenantId: 1, customerRef: 1, sha256: 1 }, { unique: true });
    // listExpired: the sweeper's scan.
    await store.media.createIndex({ expiresAt: 1 });
    // deleteMedia: is the blob still referenced?
    await store.media.createIndex({ blobId: 1 });
    // listCustomerMedia: a customer's blobs by id (erasure and export).
    await store.blobs.createIndex({ tenantId: 1, customerRef: 1, _id: 1 });
    // readBlob / deleteBlobData: a GridFS file by name (GridFS itself indexes files by filename and uploadDate).
    await applyMongoMigrations(mongo.db, 'media-store', MONGO_MIGRATIONS);
    return store;
  }

  async createBlobSink(): Promise<BlobSink> {
    const upload: GridFSBucketWriteStream = this.bucket.openUploadStream(`tmp/${randomBytes(12).toString('hex')}`);
    let failed: Error | undefined;
    upload.on('error', (error) => (failed = error));
    const finished = new Promise<void>((resolve, reject) => {
      upload.once('finish', resolve);
      upload.once('error', reject);
    });
    finished.catch(() => undefined);
    return {
      write: (ciphertext) =>
        new Promise<void>((resolve, reject) => {
          if (failed) return reject(failed);
          // Backpressure: wait for the callback, which comes once GridFS flushed the chunk or buffered below its mark.
          upload.write(ciphertext, (error) => (error ? reject(error) : resolve()));
        }),
      commit: async (blobId) => {
        upload.end();
        await finished;
        // An upload stalled past the reaper's grace period may have lost chunks to it (they looked abandoned): then its
        // file is incomplete and must not become a blob. Counted on the (files_id, n) index GridFS keeps.
        const expected = Math.ceil(upload.length / GRIDFS_CHUNK_BYTES);
        if ((await this.chunks.countDocuments({ files_id: upload.id as ObjectId })) !== expected) {
          throw new Error('the upload lost chunks while it was being written');
        }
        await this.bucket.rename(upload.id, committedName(blobId));
      },
      abort: async () => {
        if (!upload.writableEnded) await upload.abort().catch(() => undefined);
        else await this.bucket.delete(upload.id).catch(() => undefined);
      },
    };
  }

  async *readBlob(blobId: string, start = 0): AsyncIterable<Buffer> {
    const download = this.bucket.openDownloadStreamByName(committedName(blobId), { start });
    try {
      for await (const chunk of download) yield chunk as Buffer;
    } finally {
      download.destroy();
    }
  }

  async addMedia(media: Omit<MediaRecord, 'blob'>, blob: BlobRecord): Promise<{ blob: BlobRecord; blobCreated: boolean }> {
    let blobCreated = true;
    try {
      await this.blobs.insertOne(toDocument(blob));
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      blobCreated = false;
    }
    for (let attempt = 0; ; attempt++) {
      const stored = await this.blobs.findOne({ tenantId: blob.tenantId, customerRef: blob.customerRef, sha256: blob.sha256 });
      if (!stored) {
        // The existing blob's last reference was deleted between our insert and this read: store ours after all.
        if (attempt > 3) throw new Error('blob record kept disappearing');
        try {
          await this.blobs.insertOne(toDocument(blob));
          blobCreated = true;
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
        }
        continue;
      }
      await this.media.insertOne({
        _id: `${media.tenantId}/${media.mediaId}`,
        tenantId: media.tenantId,
        mediaId: media.mediaId,
        blobId: stored._id,
        mimeType: media.mimeType,
        ...(media.filename !== undefined ? { filename: media.filename } : {}),
        createdAt: media.createdAt,
        expiresAt: media.expiresAt,
      });
      // A delete that removed the blob record between the read and the media insert would leave a dangling media id;
      // re-check and re-create the record (its bytes are deleted only after the record is gone, by the same delete).
      if (!(await this.blobs.findOne({ _id: stored._id }))) {
        await this.media.deleteOne({ _id: `${media.tenantId}/${media.mediaId}` });
        continue;
      }
      return { blob: toBlob(stored), blobCreated: blobCreated && stored._id === blob.blobId };
    }
  }

  async listCustomerMedia(
    tenantId: string,
    customerRef: string,
    page: { readonly afterBlobId?: string; readonly limit: number },
  ): Promise<MediaRecord[]> {
    const blobs = await this.blobs
      .find({ tenantId, customerRef, _id: { $gt: page.afterBlobId ?? '' } })
      .sort({ _id: 1 })
      .limit(page.limit)
      .toArray();
    const byId = new Map(blobs.map((blob) => [blob._id, blob]));
    const media = await this.media
      .find({ tenantId, blobId: { $in: [...byId.keys()] } })
      .sort({ blobId: 1, mediaId: 1 })
      .toArray();
    return media.map((doc) => ({
      tenantId: doc.tenantId,
      mediaId: doc.mediaId,
      mimeType: doc.mimeType,
      ...(doc.filename !== undefined ? { filename: doc.filename } : {}),
      createdAt: doc.createdAt,
      expiresAt: doc.expiresAt,
      blob: toBlob(byId.get(doc.blobId) as BlobDocument),
    }));
  }

  async flushDeleted(): Promise<void> {
    // MongoDB and GridFS delete in place; nothing to flush.
  }

  async getMedia(tenantId: string, mediaId: string): Promise<MediaRecord | undefined> {
    const doc = await this.media.findOne({ _id: `${tenantId}/${mediaId}`, tenantId });
    if (!doc) return undefined;
    const blob = await this.blobs.findOne({ _id: doc.blobId, tenantId });
    if (!blob) return undefined;
    return {
      tenantId: doc.tenantId,
      mediaId: doc.mediaId,
      mimeType: doc.mimeType,
      ...(doc.filename !== undefined ? { filename: doc.filename } : {}),
      createdAt: doc.createdAt,
      expiresAt: doc.expiresAt,
      blob: toBlob(blob),
    };
  }

  async deleteMedia(tenantId: string, mediaId: string): Promise<{ deleted: boolean; orphan?: BlobRecord }> {
    const doc = await this.media.findOneAndDelete({ _id: `${tenantId}/${mediaId}`, tenantId });
    if (!doc) return { deleted: false };
    if (await this.media.findOne({ blobId: doc.blobId })) return { deleted: true };
    const blob = await this.blobs.findOneAndDelete({ _id: doc.blobId, tenantId });
    if (!blob) return { deleted: true };
    // A media id added meanwhile may point at it: then put the record back and keep the bytes.
    if (await this.media.findOne({ blobId: doc.blobId })) {
      await this.blobs.insertOne(blob).catch((error: unknown) => {
        if (!isDuplicateKeyError(error)) throw error;
      });
      return { deleted: true };
    }
    return { deleted: true, orphan: toBlob(blob) };
  }

  async deleteBlobData(blobId: string): Promise<void> {
    for await (const file of this.bucket.find({ filename: committedName(blobId) })) await this.bucket.delete(file._id);
  }

  async getLegacyMedia(tenantId: string, mediaId: string): Promise<LegacyMediaRecord | undefined> {
    // Release 1's collection `media`: one document per blob, ciphertext as BSON binary.
    const doc = await this.mongo.db.collection<LegacyDocument>('media').findOne({ _id: `${tenantId}/${mediaId}`, tenantId });
    if (!doc) return undefined;
    const bytes = (binary: Binary) => {
      const value = binary.value();
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    };
    return {
      tenantId,
      mediaId,
      ciphertext: bytes(doc.ciphertext),
      iv: bytes(doc.iv),
      authTag: bytes(doc.authTag),
      mimeType: doc.mimeType,
      ...(doc.filename !== undefined ? { filename: doc.filename } : {}),
      sha256: doc.sha256,
      sizeBytes: doc.sizeBytes,
      createdAt: doc.createdAt,
    };
  }

  async listExpired(now: Date, limit: number): Promise<ExpiredMedia[]> {
    const docs = await this.media
      .find({ expiresAt: { $lte: now } }, { sort: { expiresAt: 1 }, limit, projection: { tenantId: 1, mediaId: 1 } })
      .toArray();
    return docs.map((doc) => ({ tenantId: doc.tenantId, mediaId: doc.mediaId }));
  }

  async *listBlobObjects(): AsyncIterable<StoredBlobObject> {
    const files = this.files.find({}, { projection: { _id: 1, filename: 1, length: 1, uploadDate: 1 } });
    for await (const file of files) {
      const blobId = COMMITTED_NAME.exec(file.filename)?.[1];
      // Only names this store writes (its uploads get ObjectId ids); anything else in the bucket is not the reaper's.
      const partial = !blobId && PARTIAL_NAME.test(file.filename);
      if ((!blobId && !partial) || !(file._id instanceof ObjectId)) continue;
      const ref = FILE_REF + file._id.toHexString();
      if (blobId) yield { kind: 'committed', blobId, ref, storedBytes: file.length, modifiedAt: file.uploadDate };
      // A finished upload never renamed (crash between its end and its commit, or its abort failed).
      else yield { kind: 'partial', ref, storedBytes: file.length, modifiedAt: file.uploadDate };
    }
    // Chunks whose file document was never written: an upload still running, or one cut off by a crash. The files_id
    // index (GridFS's own, files_id + n) serves the sort and grouping.
    const abandoned = this.chunks.aggregate<{ _id: ObjectId }>(
      [
        { $sort: { files_id: 1 } },
        { $group: { _id: '$files_id' } },
        { $lookup: { from: 'vault.files', localField: '_id', foreignField: '_id', as: 'file' } },
        { $match: { file: { $size: 0 } } },
        { $project: { _id: 1 } },
      ],
      { allowDiskUse: true },
    );
    for await (const { _id: filesId } of abandoned) {
      if (!(filesId instanceof ObjectId)) continue; // not an upload of this store
      const last = await this.chunks.findOne({ files_id: filesId }, { sort: { n: -1 }, projection: { _id: 1, n: 1, data: 1 } });
      if (!last) continue;
      yield {
        kind: 'partial',
        ref: CHUNKS_REF + filesId.toHexString(),
        storedBytes: last.n * GRIDFS_CHUNK_BYTES + last.data.length(),
        // A chunk's id is made when the chunk is written: the newest one says when the upload last wrote.
        modifiedAt: last._id.getTimestamp(),
      };
    }
  }

  async deleteBlobObject(object: StoredBlobObject, unmodifiedSince: Date): Promise<boolean> {
    if (object.ref.startsWith(FILE_REF)) {
      const id = ObjectId.createFromHexString(object.ref.slice(FILE_REF.length));
      const filename = object.kind === 'committed' ? committedName(object.blobId ?? '') : { $regex: PARTIAL_NAME };
      // Conditional on name and age in one step: two replicas' reapers cannot both count it, a newer upload is kept.
      const { deletedCount } = await this.files.deleteOne({ _id: id, filename, uploadDate: { $lte: unmodifiedSince } });
      // A crash between these two steps leaves chunks without a file: the next pass reaps them as a partial upload.
      if (deletedCount === 1) await this.chunks.deleteMany({ files_id: id });
      return deletedCount === 1;
    }
    if (object.kind !== 'partial' || !object.ref.startsWith(CHUNKS_REF)) throw new Error('not a blob object of this store');
    const filesId = ObjectId.createFromHexString(object.ref.slice(CHUNKS_REF.length));
    if (await this.files.findOne({ _id: filesId }, { projection: { _id: 1 } })) return false; // its upload finished since
    const newest = await this.chunks.findOne({ files_id: filesId }, { sort: { _id: -1 }, projection: { _id: 1 } });
    if (!newest || newest._id.getTimestamp() > unmodifiedSince) return false;
    const { deletedCount } = await this.chunks.deleteMany({ files_id: filesId });
    return deletedCount > 0;
  }

  async referencedBlobIds(blobIds: readonly string[]): Promise<Set<string>> {
    const referenced = new Set<string>();
    for (let offset = 0; offset < blobIds.length; offset += IDS_PER_QUERY) {
      const ids = blobIds.slice(offset, offset + IDS_PER_QUERY);
      // vault_blobs by _id; vault_media through its blobId index (the one deleteMedia uses).
      for await (const doc of this.blobs.find({ _id: { $in: ids } }, { projection: { _id: 1 } })) referenced.add(doc._id);
      for await (const doc of this.media.find({ blobId: { $in: ids } }, { projection: { blobId: 1 } })) referenced.add(doc.blobId);
    }
    return referenced;
  }

  async readPairingMarks(): Promise<PairingMarks> {
    const blobs = await this.readBlobMark();
    const metadata = (await this.reaperMark.findOne({ _id: 'pass' }))?.pass ?? 0;
    return { metadata, blobs };
  }

  async advancePairingMarks(to: number): Promise<void> {
    await this.reaperMark.updateOne({ _id: 'pass' }, { $max: { pass: to } }, { upsert: true });
    if ((await this.readBlobMark()) >= to) return;
    const mark = this.bucket.openUploadStream(`${PAIRING_MARK_PREFIX}${to}`, { metadata: { pass: to } });
    await new Promise<void>((resolve, reject) => {
      mark.once('finish', resolve);
      mark.once('error', reject);
      mark.end();
    });
    // Older marks go; a higher one written meanwhile by another replica stays.
    for await (const file of this.bucket.find({ filename: { $regex: `^${PAIRING_MARK_PREFIX}` }, 'metadata.pass': { $lt: to } }))
      await this.bucket.delete(file._id).catch(() => undefined);
  }

  private async readBlobMark(): Promise<number> {
    // GridFS's (filename, uploadDate) index serves the prefix match.
    const marks = await this.bucket.find({ filename: { $regex: `^${PAIRING_MARK_PREFIX}` } }).toArray();
    return marks.reduce((highest, file) => Math.max(highest, Number((file.metadata as { pass?: unknown } | undefined)?.pass) || 0), 0);
  }

  async close(): Promise<void> {
    // The connection belongs to whoever opened it (server wiring or the contract suite).
  }
}
