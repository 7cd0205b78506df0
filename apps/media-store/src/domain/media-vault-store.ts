import type { LegacyMediaRecord } from './legacy-media';

/**
 * media-store's storage port: encrypted blob bytes plus metadata. Blobs are content-addressed per (tenant, customer,
 * sha256): one stored blob, any number of media ids pointing at it. Every query takes the tenant id.
 */

/** One stored blob (ciphertext); shared by the media ids of one tenant and customer with the same bytes. */
export interface BlobRecord {
  readonly tenantId: string;
  /** Customer pseudonym from the keyring; empty for tenant-wide blobs. */
  readonly customerRef: string;
  /** Hex SHA-256 of the plaintext. */
  readonly sha256: string;
  readonly blobId: string;
  /** The keyring data key it is encrypted under. */
  readonly keyId: string;
  /** Plaintext size in bytes. */
  readonly sizeBytes: number;
  /** Stored (ciphertext) size in bytes. */
  readonly storedBytes: number;
  readonly createdAt: Date;
}

/** One media id as the API shows it, with the blob it points to. */
export interface MediaRecord {
  readonly tenantId: string;
  readonly mediaId: string;
  readonly mimeType: string;
  /** Undefined when the uploader gave none. */
  readonly filename?: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly blob: BlobRecord;
}

/** A blob being written: ciphertext goes to a temporary place until `commit` moves it under its id. */
export interface BlobSink {
  /** Resolves when the bytes were taken (backpressure: await it before writing more). */
  write(ciphertext: Buffer): Promise<void>;
  /** Makes the written bytes the blob `blobId` (atomically: a crash leaves either nothing or the whole blob). */
  commit(blobId: string): Promise<void>;
  /** Throws the written bytes away; safe to call after a failed write or twice. */
  abort(): Promise<void>;
}

/** A media id whose retention ended (the sweeper's work list). */
export interface ExpiredMedia {
  readonly tenantId: string;
  readonly mediaId: string;
}

/**
 * An object in the blob store as the orphan reaper sees it: what it is, how big, how old; never its content nor whose
 * it is.
 */
export interface StoredBlobObject {
  /**
   * `committed`: bytes under a blob id (they are an orphan when no metadata row points at that id); `partial`: an
   * upload that never committed (a temporary file, or GridFS chunks whose file document was never written).
   */
  readonly kind: 'committed' | 'partial';
  /** The blob id of a committed object; absent for a partial one. */
  readonly blobId?: string;
  /** The adapter's handle to delete it with (a file name, a GridFS id); opaque to the domain, never logged. */
  readonly ref: string;
  /** Stored (ciphertext) bytes. */
  readonly storedBytes: number;
  /** When bytes were last written to it (file mtime, GridFS upload date or last chunk). */
  readonly modifiedAt: Date;
}

/**
 * The reaper's pairing marks: a pass counter kept in both halves of the store (metadata; blob files or GridFS). A
 * pass writes the metadata mark first and the blob mark second, both only ever raised, so `blobs > metadata` can
 * only mean the metadata was restored from before the blobs (or lost): then the reaper must not trust "no row".
 */
export interface PairingMarks {
  readonly metadata: number;
  readonly blobs: number;
}

/** The port. Adapters: files + SQLite (embedded), MongoDB + GridFS (production). */
export interface MediaVaultStore {
  /** Starts writing a new blob's ciphertext. */
  createBlobSink(): Promise<BlobSink>;
  /** Reads a committed blob's stored bytes from byte `start` (default 0) to its end. */
  readBlob(blobId: string, start?: number): AsyncIterable<Buffer>;
  /**
   * Records a media id pointing at `blob`, storing the blob record first unless the same (tenant, customer, sha256)
   * exists already: then the media id points at the existing blob and `blobCreated` is false (the caller deletes
   * the bytes it committed under `blob.blobId`). Atomic, so a concurrent delete of the last other reference cannot
   * leave the media id pointing at deleted bytes. Rejects if the media id exists.
   */
  addMedia(media: Omit<MediaRecord, 'blob'>, blob: BlobRecord): Promise<{ blob: BlobRecord; blobCreated: boolean }>;
  /** The tenant's media id; undefined for an unknown id or another tenant's. */
  getMedia(tenantId: string, mediaId: string): Promise<MediaRecord | undefined>;
  /**
   * Removes the media id. When no other media id points at its blob any more the blob record goes too, and
   * `orphan` names the bytes to delete with {@link deleteBlobData}. `deleted` false: there was no such id.
   */
  deleteMedia(tenantId: string, mediaId: string): Promise<{ deleted: boolean; orphan?: BlobRecord }>;
  /** Deletes a blob's stored bytes (after its record went). Missing bytes are not an error. */
  deleteBlobData(blobId: string): Promise<void>;
  /** A blob stored before the vault (release 1), read-only; undefined when there is none. */
  getLegacyMedia(tenantId: string, mediaId: string): Promise<LegacyMediaRecord | undefined>;
  /** Media ids whose `expiresAt` is at or before `now`, oldest first, at most `limit`. */
  listExpired(now: Date, limit: number): Promise<ExpiredMedia[]>;
  /**
   * Every object in the blob store, committed or partial, in no particular order, streamed (memory stays bounded
   * however many there are). Objects written or deleted while the listing runs may or may not appear.
   */
  listBlobObjects(): AsyncIterable<StoredBlobObject>;
  /**
   * Deletes a listed object unless bytes were written to it after `unmodifiedSince` (an upload still running) or it
   * is gone already; true when this call deleted it. For a committed object the caller checks the rows first.
   */
  deleteBlobObject(object: StoredBlobObject, unmodifiedSince: Date): Promise<boolean>;
  /** Which of `blobIds` a metadata row points at: a blob record, or a media id (of any tenant). */
  referencedBlobIds(blobIds: readonly string[]): Promise<Set<string>>;
  /** Reads the pairing marks: the blob mark first, then the metadata mark (so a concurrent pass never looks like a restore). */
  readPairingMarks(): Promise<PairingMarks>;
  /** Raises the metadata mark to at least `to`, then the blob mark; never lowers either. */
  advancePairingMarks(to: number): Promise<void>;
  /**
   * Erasure and export (issue 14): the media ids of the next `limit` blobs of one customer (by blob id, after
   * `afterBlobId`), each with its blob; ordered by blob id, then media id. Page on with the last record's blob id.
   */
  listCustomerMedia(
    tenantId: string,
    customerRef: string,
    page: { readonly afterBlobId?: string; readonly limit: number },
  ): Promise<MediaRecord[]>;
  /** Makes deletions reach the files (SQLite: WAL checkpoint with TRUNCATE; nothing for MongoDB). */
  flushDeleted(): Promise<void>;
  close(): Promise<void>;
}
