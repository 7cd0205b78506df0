import { createHash, randomBytes } from 'node:crypto';
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { InvalidArgumentError, NotFoundError, newId, validateId, type Clock, type FieldViolation } from '@waygate/domain';
import type { Tenant } from '@waygate/tenancy';
import {
  BlobEncryptor,
  BlobIntegrityError,
  ciphertextSize,
  decryptRecords,
  HEADER_BYTES,
  recordPosition,
  type BlobBinding,
} from './chunked-cipher';
import { openLegacyMedia, type LegacyMediaRecord } from './legacy-media';
import type { MediaMetrics } from './media-metrics';
import { judgeSniffedType } from './media-types';
import type { BlobRecord, MediaRecord, MediaVaultStore } from './media-vault-store';
import { MAX_UPLOAD_CHUNK_BYTES, validateUploadHeader, type UploadHeader } from './upload-request';

/** Bytes sniffed before the rest of an upload is taken: enough for every signature file-type checks (OOXML included). */
export const SNIFF_BYTES = 64 * 1024;
/** Retention when the tenants file sets none: media is kept longer than messages. */
export const DEFAULT_RETENTION_DAYS = 365;
const DAY_MS = 24 * 60 * 60 * 1000;

const tracer = trace.getTracer('media-store');

/** The keyring as the vault needs it (implemented by @waygate/keyring's Keyring). */
export interface DataKeys {
  dataKeyFor(scope: { tenantId: string; customerRef?: string }): Promise<{ keyId: string; key: Buffer }>;
  /** Throws an error named `DataKeyUnavailableError` when the key was destroyed (erasure). */
  dataKeyById(keyId: string): Promise<Buffer>;
  customerRef(tenantId: string, customer: string): Promise<string>;
}

/** Recognises a file's type from its first bytes (file-type); undefined when no signature matches. */
export interface ContentSniffer {
  sniff(sample: Buffer): Promise<string | undefined>;
}

/**
 * The seam for legal hold and erasure (data governance): the sweeper asks before deleting an expired media id. The
 * default holds nothing.
 */
export interface RetentionHold {
  isHeld(media: { tenantId: string; mediaId: string }): Promise<boolean>;
}

/** What an upload reports. */
export interface StoredMediaSummary {
  readonly mediaId: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  /** The sniffed type, by WhatsApp's name. */
  readonly mimeType: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/** A media id's description (GetMediaInfo, the first DownloadMedia message). */
export interface MediaInfo extends StoredMediaSummary {
  readonly filename?: string;
}

/** An inclusive plaintext byte range. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** A download: the media's info, and its (decrypted, authenticated) bytes as they are read. */
export interface MediaDownload {
  readonly info: MediaInfo;
  readonly content: AsyncIterable<Buffer>;
}

/**
 * A stored blob failed its integrity check (altered ciphertext, truncated file, changed metadata). Surfaces as
 * INTERNAL; carries ids only.
 */
export class MediaIntegrityError extends Error {
  constructor(
    readonly tenantId: string,
    readonly mediaId: string,
    options?: { cause?: unknown },
  ) {
    super(`stored media ${mediaId} of tenant ${tenantId} failed its integrity check`, options);
    this.name = 'MediaIntegrityError';
  }
}

/** Type guard for {@link MediaIntegrityError}. */
export function isMediaIntegrityError(error: unknown): error is MediaIntegrityError {
  return error instanceof MediaIntegrityError;
}

/** media-store's domain: upload (checked, encrypted, content-addressed), download, info, delete, retention. */
export interface MediaVault {
  /** Stores a streamed blob. InvalidArgumentError (nothing kept) for a bad header, type, size or sha256. */
  upload(tenant: Tenant, header: UploadHeader, chunks: AsyncIterable<Buffer>): Promise<StoredMediaSummary>;
  info(tenant: Tenant, mediaId: string): Promise<MediaInfo>;
  /** NotFoundError for unknown, other tenants' and erased ids alike. */
  download(tenant: Tenant, mediaId: string, range?: ByteRange): Promise<MediaDownload>;
  delete(tenant: Tenant, mediaId: string): Promise<void>;
  /** Deletes up to `limit` media ids whose retention ended (unless held); returns how many went. */
  sweepExpired(limit?: number): Promise<number>;
}

function invalid(field: string, reason: string, description: string): InvalidArgumentError {
  const violation: FieldViolation = { field, reason, description };
  return new InvalidArgumentError([violation]);
}

function toInfo(record: MediaRecord): MediaInfo {
  return {
    mediaId: record.mediaId,
    sha256: record.blob.sha256,
    sizeBytes: record.blob.sizeBytes,
    mimeType: record.mimeType,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    ...(record.filename !== undefined ? { filename: record.filename } : {}),
  };
}

function bindingOf(blob: BlobRecord): BlobBinding {
  return { tenantId: blob.tenantId, customerRef: blob.customerRef, blobId: blob.blobId, keyId: blob.keyId };
}

/** Reads the stored blob's header, then closes that read. */
async function readHeader(store: MediaVaultStore, blobId: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let bytes = 0;
  for await (const part of store.readBlob(blobId, 0)) {
    parts.push(part);
    bytes += part.length;
    if (bytes >= HEADER_BYTES) break;
  }
  return Buffer.concat(parts).subarray(0, HEADER_BYTES);
}

/** Runs `work` in a span carrying the tenant and media id (never a file name); records failures on it. */
async function inSpan<T>(name: string, attributes: Record<string, string>, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).name });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Builds the vault over its ports. */
export function createMediaVault(deps: {
  store: MediaVaultStore;
  keys: DataKeys;
  sniffer: ContentSniffer;
  clock: Clock;
  metrics: MediaMetrics;
  hold?: RetentionHold;
  defaultRetentionDays?: number;
  /** The release-1 service key, when media stored before the vault must stay readable. */
  legacyKey?: Buffer;
}): MediaVault {
  const { store, keys, sniffer, clock, metrics } = deps;
  const hold = deps.hold ?? { isHeld: async () => false };
  const retentionDays = (tenant: Tenant) => tenant.media?.retentionDays ?? deps.defaultRetentionDays ?? DEFAULT_RETENTION_DAYS;

  async function find(tenant: Tenant, mediaId: string): Promise<MediaRecord> {
    validateId('media_id', mediaId);
    const record = await store.getMedia(tenant.id, mediaId);
    if (!record) throw new NotFoundError('media', mediaId);
    return record;
  }

  /** A vault record, or a release-1 blob (read-only) when the vault has none and the old key is configured. */
  async function findAny(tenant: Tenant, mediaId: string): Promise<{ vault: MediaRecord } | { legacy: LegacyMediaRecord }> {
    try {
      return { vault: await find(tenant, mediaId) };
    } catch (error) {
      if (!(error instanceof NotFoundError) || !deps.legacyKey) throw error;
      const legacy = await store.getLegacyMedia(tenant.id, mediaId);
      if (!legacy) throw error;
      return { legacy };
    }
  }

  function legacyInfo(tenant: Tenant, record: LegacyMediaRecord): MediaInfo {
    return {
      mediaId: record.mediaId,
      sha256: record.sha256,
      sizeBytes: record.sizeBytes,
      mimeType: record.mimeType,
      createdAt: record.createdAt,
      expiresAt: new Date(record.createdAt.getTime() + retentionDays(tenant) * DAY_MS),
      ...(record.filename !== undefined ? { filename: record.filename } : {}),
    };
  }

  function legacyDownload(tenant: Tenant, record: LegacyMediaRecord, range?: ByteRange): MediaDownload {
    let content: Buffer;
    try {
      content = openLegacyMedia(deps.legacyKey as Buffer, record);
    } catch (error) {
      metrics.integrityFailure(tenant.id);
      throw new MediaIntegrityError(tenant.id, record.mediaId, { cause: error });
    }
    const piece = range ? content.subarray(range.start, range.end + 1) : content;
    async function* once(): AsyncGenerator<Buffer> {
      yield piece;
    }
    return { info: legacyInfo(tenant, record), content: once() };
  }

  async function dataKeyOf(record: MediaRecord): Promise<Buffer> {
    try {
      return await keys.dataKeyById(record.blob.keyId);
    } catch (error) {
      // Shredded (erasure): as gone as a deleted blob.
      if ((error as Error).name === 'DataKeyUnavailableError') throw new NotFoundError('media', record.mediaId);
      throw error;
    }
  }

  async function upload(tenant: Tenant, header: UploadHeader, chunks: AsyncIterable<Buffer>): Promise<StoredMediaSummary> {
    let valid;
    try {
      valid = validateUploadHeader(header);
    } catch (error) {
      metrics.refused(tenant.id, (error as InvalidArgumentError).violations?.[0]?.reason ?? 'INVALID');
      throw error;
    }
    const createdAt = clock.now();
    const mediaId = newId('med', createdAt);
    return inSpan('media.upload', { 'waygate.tenant_id': tenant.id, 'waygate.media_id': mediaId }, async (span) => {
      const customerRef = valid.customer ? await keys.customerRef(tenant.id, valid.customer) : '';
      const dataKey = await keys.dataKeyFor(customerRef ? { tenantId: tenant.id, customerRef } : { tenantId: tenant.id });
      const blobId = randomBytes(16).toString('hex');
      const binding: BlobBinding = { tenantId: tenant.id, customerRef, blobId, keyId: dataKey.keyId };
      const encryptor = new BlobEncryptor(dataKey.key, binding);
      const hash = createHash('sha256');
      const sink = await store.createBlobSink();
      let total = 0;
      let sample: Buffer[] = [];
      let sampleBytes = 0;
      let verdict: ReturnType<typeof judgeSniffedType> | undefined;

      const take = async (plaintext: Buffer) => {
        hash.update(plaintext);
        const records = encryptor.update(plaintext);
        if (records.length > 0) await sink.write(records.length === 1 ? (records[0] as Buffer) : Buffer.concat(records));
      };
      const judge = async (complete: boolean) => {
        const first = Buffer.concat(sample);
        verdict = judgeSniffedType(valid.mimeType, await sniffer.sniff(first), first, complete);
        if (!verdict.ok) throw invalid('mime_type', verdict.reason, verdict.description);
        if (valid.sizeBytes > verdict.limit)
          throw invalid('size_bytes', 'TOO_LARGE', `${verdict.mimeType} may be at most ${verdict.limit} bytes (got ${valid.sizeBytes})`);
        sample = [];
        sampleBytes = 0;
        await take(first);
      };
      try {
        for await (const chunk of chunks) {
          if (chunk.length === 0 || chunk.length > MAX_UPLOAD_CHUNK_BYTES)
            throw invalid('chunk', 'INVALID_SIZE', `each chunk must be 1 to ${MAX_UPLOAD_CHUNK_BYTES} bytes (got ${chunk.length})`);
          total += chunk.length;
          // Enforced as the stream runs: the declared size was checked against the type's limit.
          if (total > valid.sizeBytes)
            throw invalid('size_bytes', 'SIZE_MISMATCH', `the stream carries more than the declared ${valid.sizeBytes} bytes`);
          if (verdict) {
            await take(chunk);
            continue;
          }
          sample.push(chunk);
          sampleBytes += chunk.length;
          if (sampleBytes >= SNIFF_BYTES) await judge(false);
        }
        if (total !== valid.sizeBytes)
          throw invalid('size_bytes', 'SIZE_MISMATCH', `the stream carried ${total} bytes, not the declared ${valid.sizeBytes}`);
        if (!verdict) await judge(true);
        const sha256 = hash.digest('hex');
        if (valid.sha256 !== undefined && valid.sha256 !== sha256)
          throw invalid('sha256', 'MISMATCH', 'the SHA-256 of the bytes differs from the declared one');
        await sink.write(Buffer.concat(encryptor.final()));
        await sink.commit(blobId);
        const ok = verdict as Extract<typeof verdict, { ok: true }>;
        const blob: BlobRecord = {
          tenantId: tenant.id,
          customerRef,
          sha256,
          blobId,
          keyId: dataKey.keyId,
          sizeBytes: total,
          storedBytes: ciphertextSize(total),
          createdAt,
        };
        const expiresAt = new Date(createdAt.getTime() + retentionDays(tenant) * DAY_MS);
        let added;
        try {
          added = await store.addMedia(
            {
              tenantId: tenant.id,
              mediaId,
              mimeType: ok.mimeType,
              ...(valid.filename ? { filename: valid.filename } : {}),
              createdAt,
              expiresAt,
            },
            blob,
          );
        } catch (error) {
          await store.deleteBlobData(blobId);
          throw error;
        }
        // Same bytes for this tenant and customer already stored: keep the one copy.
        if (!added.blobCreated) await store.deleteBlobData(blobId);
        else metrics.stored(tenant.id, blob.storedBytes);
        span.setAttribute('waygate.deduplicated', !added.blobCreated);
        span.setAttribute('waygate.size_bytes', total);
        metrics.uploaded(tenant.id, ok.kind, total);
        return { mediaId, sha256, sizeBytes: total, mimeType: ok.mimeType, createdAt, expiresAt };
      } catch (error) {
        await sink.abort();
        if (error instanceof InvalidArgumentError) metrics.refused(tenant.id, error.violations[0]?.reason ?? 'INVALID');
        throw error;
      }
    });
  }

  async function download(tenant: Tenant, mediaId: string, range?: ByteRange): Promise<MediaDownload> {
    const found = await findAny(tenant, mediaId);
    if ('legacy' in found) return legacyDownload(tenant, found.legacy, range);
    const record = found.vault;
    const key = await dataKeyOf(record);
    const info = toInfo(record);
    const size = record.blob.sizeBytes;
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    const header = await readHeader(store, record.blob.blobId);
    const position = recordPosition(start);
    const wanted = end - start + 1;
    const whole = start === 0 && end === size - 1;
    async function* content(): AsyncGenerator<Buffer> {
      const hash = whole ? createHash('sha256') : undefined;
      let sent = 0;
      let skip = position.skip;
      try {
        const records = store.readBlob(record.blob.blobId, position.storedOffset);
        const stopAfterBytes = whole ? undefined : wanted + skip;
        for await (const plaintext of decryptRecords(key, bindingOf(record.blob), header, records, {
          firstIndex: position.index,
          ...(stopAfterBytes !== undefined ? { stopAfterBytes } : {}),
        })) {
          let piece = skip > 0 ? plaintext.subarray(skip) : plaintext;
          skip = 0;
          if (sent + piece.length > wanted) piece = piece.subarray(0, wanted - sent);
          hash?.update(piece);
          sent += piece.length;
          if (piece.length > 0) yield piece;
          if (sent >= wanted && !whole) break;
        }
        // The ciphertext authenticates itself; this also catches metadata (size, sha256) changed beside it.
        if (sent !== wanted || (hash && hash.digest('hex') !== record.blob.sha256)) throw new BlobIntegrityError('size or sha256 differs');
      } catch (error) {
        metrics.integrityFailure(tenant.id);
        throw new MediaIntegrityError(tenant.id, mediaId, { cause: error });
      }
      metrics.downloaded(tenant.id, sent);
    }
    return { info, content: content() };
  }

  async function remove(tenant: Tenant, mediaId: string): Promise<void> {
    validateId('media_id', mediaId);
    const { deleted, orphan } = await store.deleteMedia(tenant.id, mediaId);
    if (!deleted) throw new NotFoundError('media', mediaId);
    if (orphan) {
      await store.deleteBlobData(orphan.blobId);
      metrics.stored(tenant.id, -orphan.storedBytes);
    }
  }

  return {
    upload,
    download: (tenant, mediaId, range) =>
      inSpan('media.download', { 'waygate.tenant_id': tenant.id, 'waygate.media_id': mediaId }, () => download(tenant, mediaId, range)),
    info: async (tenant, mediaId) => {
      const found = await findAny(tenant, mediaId);
      return 'legacy' in found ? legacyInfo(tenant, found.legacy) : toInfo(found.vault);
    },
    delete: (tenant, mediaId) =>
      inSpan('media.delete', { 'waygate.tenant_id': tenant.id, 'waygate.media_id': mediaId }, () => remove(tenant, mediaId)),
    async sweepExpired(limit = 500) {
      let deleted = 0;
      for (const expired of await store.listExpired(clock.now(), limit)) {
        if (await hold.isHeld(expired)) continue;
        const { deleted: gone, orphan } = await store.deleteMedia(expired.tenantId, expired.mediaId);
        if (orphan) {
          await store.deleteBlobData(orphan.blobId);
          metrics.stored(expired.tenantId, -orphan.storedBytes);
        }
        if (gone) deleted++;
      }
      metrics.swept(deleted);
      return deleted;
    },
  };
}
