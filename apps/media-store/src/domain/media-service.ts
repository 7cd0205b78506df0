import { createHash } from 'node:crypto';
import { NotFoundError, newId, validateId, type Clock } from '@waygate/domain';
import type { Tenant } from '@waygate/tenancy';
import type { MediaCipher } from './media-cipher';
import type { MediaStore } from './media-store';
import { validatePutMediaRequest, type PutMediaRequest } from './put-media-request';

/** What PutMedia reports about a stored blob. */
export interface StoredMediaSummary {
  readonly mediaId: string;
  /** Hex SHA-256 of the plaintext. */
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly mimeType: string;
  readonly createdAt: Date;
}

/** A blob, decrypted and verified. */
export interface Media extends StoredMediaSummary {
  readonly content: Buffer;
  readonly filename?: string;
}

/**
 * A stored blob could not be decrypted or did not match its recorded SHA-256: it was altered, moved to another
 * tenant or id, or encrypted with another key. Not a client error: it surfaces as INTERNAL. Carries ids only, never
 * content, so it is safe to log.
 */
export class MediaIntegrityError extends Error {
  constructor(
    readonly tenantId: string,
    readonly mediaId: string,
    readonly reason: 'decryption-failed' | 'sha256-mismatch',
    options?: { cause?: unknown },
  ) {
    super(`stored media ${mediaId} of tenant ${tenantId} failed its integrity check (${reason})`, options);
    this.name = 'MediaIntegrityError';
  }
}

export function isMediaIntegrityError(error: unknown): error is MediaIntegrityError {
  return error instanceof MediaIntegrityError;
}

export interface MediaService {
  /** Validates, hashes, encrypts and stores a blob for `tenant`. Throws InvalidArgumentError listing every bad field. */
  put(tenant: Tenant, request: PutMediaRequest): Promise<StoredMediaSummary>;
  /**
   * The tenant's blob, decrypted and checked. InvalidArgumentError for an empty, over-long or malformed id;
   * NotFoundError for unknown ids and other tenants' ids alike.
   */
  get(tenant: Tenant, mediaId: string): Promise<Media>;
}

function sha256Hex(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export function createMediaService(deps: { store: MediaStore; cipher: MediaCipher; clock: Clock }): MediaService {
  const { store, cipher, clock } = deps;
  return {
    async put(tenant, request) {
      const valid = validatePutMediaRequest(request);
      const createdAt = clock.now();
      const mediaId = newId('med', createdAt);
      const sha256 = sha256Hex(valid.content);
      const sealed = cipher.encrypt(valid.content, { tenantId: tenant.id, mediaId });
      await store.put({
        tenantId: tenant.id,
        mediaId,
        ...sealed,
        mimeType: valid.mimeType,
        ...(valid.filename !== undefined ? { filename: valid.filename } : {}),
        sha256,
        sizeBytes: valid.content.length,
        createdAt,
      });
      return { mediaId, sha256, sizeBytes: valid.content.length, mimeType: valid.mimeType, createdAt };
    },

    async get(tenant, mediaId) {
      validateId('media_id', mediaId);
      const record = await store.get(tenant.id, mediaId);
      if (!record) throw new NotFoundError('media', mediaId);
      let content: Buffer;
      try {
        // The binding is the caller's tenant and the requested id, not the row's: a row copied elsewhere fails here.
        content = cipher.decrypt(record, { tenantId: tenant.id, mediaId });
      } catch (error) {
        throw new MediaIntegrityError(tenant.id, mediaId, 'decryption-failed', { cause: error });
      }
      // GCM already authenticates the bytes; this also catches a metadata row whose sha256 or size was changed.
      if (content.length !== record.sizeBytes || sha256Hex(content) !== record.sha256)
        throw new MediaIntegrityError(tenant.id, mediaId, 'sha256-mismatch');
      return {
        mediaId,
        content,
        mimeType: record.mimeType,
        ...(record.filename !== undefined ? { filename: record.filename } : {}),
        sha256: record.sha256,
        sizeBytes: record.sizeBytes,
        createdAt: record.createdAt,
      };
    },
  };
}
