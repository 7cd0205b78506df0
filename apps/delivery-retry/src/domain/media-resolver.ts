import type { Clock } from '@waygate/domain';
import type { CloudApiSendOutcome } from './whatsapp-client';

/** How long Meta keeps an uploaded media id usable. */
export const META_MEDIA_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** How long Waygate reuses an uploaded media id: a day short of Meta's 30, so a send never names an expiring id. */
export const DEFAULT_META_MEDIA_REUSE_MS = 29 * 24 * 60 * 60 * 1000;

/** Meta's id for a media-store blob uploaded for one business number. */
export interface MetaMediaEntry {
  readonly tenantId: string;
  readonly phoneNumberId: string;
  /** The media-store id. */
  readonly mediaId: string;
  /** Meta's media id, usable by `phoneNumberId` only. */
  readonly metaMediaId: string;
  readonly uploadedAt: Date;
  /** After this, the blob is uploaded again. */
  readonly reuseUntil: Date;
}

/** The durable cache of uploaded media ids (delivery-retry's store). */
export interface MetaMediaCache {
  /** The entry for this tenant, number and media-store id, if any (expired ones included: the caller decides). */
  getMetaMedia(tenantId: string, phoneNumberId: string, mediaId: string): Promise<MetaMediaEntry | undefined>;
  /** Stores the entry, replacing an older one for the same tenant, number and media-store id. */
  putMetaMedia(entry: MetaMediaEntry): Promise<void>;
}

/** A blob read from media-store, or why not. */
export type MediaBlobOutcome =
  | { readonly kind: 'found'; readonly bytes: Buffer; readonly mimeType: string; readonly filename: string }
  /** The blob is gone (deleted, or never this tenant's): sending will never work. */
  | { readonly kind: 'not-found' }
  /** media-store did not answer usefully: try again later. */
  | { readonly kind: 'unavailable'; readonly reason: string };

/** media-store, as delivery-retry reads blobs from it. */
export interface MediaBlobSource {
  fetch(tenantId: string, mediaId: string): Promise<MediaBlobOutcome>;
}

/** Meta's media upload, as delivery-retry uses it: Meta's id, or the same outcome shape a send has. */
export interface MediaUploader {
  upload(request: {
    readonly phoneNumberId: string;
    readonly accessToken: string;
    readonly bytes: Buffer;
    readonly mimeType: string;
    readonly filename: string;
  }): Promise<{ readonly kind: 'uploaded'; readonly metaMediaId: string } | Exclude<CloudApiSendOutcome, { kind: 'accepted' }>>;
}

/** What resolving a message's media ids gave: Meta's id for each, or the failure to record as the attempt's outcome. */
export type MediaResolution =
  | { readonly kind: 'resolved'; readonly metaMediaId: (mediaId: string) => string }
  | { readonly kind: 'failed'; readonly outcome: Exclude<CloudApiSendOutcome, { kind: 'accepted' }> };

/** Resolves media-store ids to Meta media ids for one send. */
export interface MediaResolver {
  resolve(request: {
    readonly tenantId: string;
    readonly phoneNumberId: string;
    readonly accessToken: string;
    readonly mediaIds: readonly string[];
  }): Promise<MediaResolution>;
}

/**
 * The outcome recorded when a blob named by a message is gone from media-store: Meta's 131053 ("media upload error"),
 * which the outcome table already classifies as permanent, with a title that says why.
 */
const MEDIA_GONE = { kind: 'error', httpStatus: 0, code: 131053, title: 'the media is no longer in media-store' } as const;

/**
 * Media by media-store id, uploaded to Meta once per (tenant, business number, media id): the first send reads the blob
 * from media-store, uploads it (`POST /{phone_number_id}/media`) and keeps Meta's id durably until `reuseMs` after
 * the upload (29 days by default, a day short of Meta's 30-day retention); later sends reuse it, and a send after that
 * uploads again. Concurrent sends of the same media in this replica share one upload.
 *
 * Failures are the attempt's outcome, classified like a send's: media-store unavailable or no answer from Meta →
 * retried; Meta refusing the upload (4xx, e.g. 131053 or an unsupported type) → by its code, usually permanent;
 * a blob gone from media-store → permanent (131053).
 */
export function createMediaResolver(deps: {
  cache: MetaMediaCache;
  source: MediaBlobSource;
  uploader: MediaUploader;
  clock: Clock;
  reuseMs?: number;
}): MediaResolver {
  const reuseMs = deps.reuseMs ?? DEFAULT_META_MEDIA_REUSE_MS;
  const inFlight = new Map<string, Promise<{ metaMediaId: string } | { failed: MediaResolution & { kind: 'failed' } }>>();

  async function uploadOnce(tenantId: string, phoneNumberId: string, accessToken: string, mediaId: string) {
    const cached = await deps.cache.getMetaMedia(tenantId, phoneNumberId, mediaId);
    if (cached && deps.clock.now() < cached.reuseUntil) return { metaMediaId: cached.metaMediaId };
    const blob = await deps.source.fetch(tenantId, mediaId);
    if (blob.kind === 'not-found') return { failed: { kind: 'failed', outcome: MEDIA_GONE } as const };
    if (blob.kind === 'unavailable') {
      return {
        failed: { kind: 'failed', outcome: { kind: 'no-answer', reason: `media-store: ${blob.reason}`, mayHaveArrived: false } } as const,
      };
    }
    const uploaded = await deps.uploader.upload({
      phoneNumberId,
      accessToken,
      bytes: blob.bytes,
      mimeType: blob.mimeType,
      filename: blob.filename,
    });
    if (uploaded.kind === 'no-answer') {
      // The message itself was not sent, so no webhook can settle it: retry without waiting for one.
      return { failed: { kind: 'failed', outcome: { ...uploaded, mayHaveArrived: false } } as const };
    }
    if (uploaded.kind !== 'uploaded') return { failed: { kind: 'failed', outcome: uploaded } as const };
    const uploadedAt = deps.clock.now();
    await deps.cache.putMetaMedia({
      tenantId,
      phoneNumberId,
      mediaId,
      metaMediaId: uploaded.metaMediaId,
      uploadedAt,
      reuseUntil: new Date(uploadedAt.getTime() + reuseMs),
    });
    return { metaMediaId: uploaded.metaMediaId };
  }

  return {
    async resolve({ tenantId, phoneNumberId, accessToken, mediaIds }) {
      const resolved = new Map<string, string>();
      for (const mediaId of new Set(mediaIds)) {
        const key = JSON.stringify([tenantId, phoneNumberId, mediaId]);
        let pending = inFlight.get(key);
        if (!pending) {
          pending = uploadOnce(tenantId, phoneNumberId, accessToken, mediaId).finally(() => inFlight.delete(key));
          inFlight.set(key, pending);
        }
        const result = await pending;
        if ('failed' in result) return result.failed;
        resolved.set(mediaId, result.metaMediaId);
      }
      return {
        kind: 'resolved',
        metaMediaId: (mediaId) => {
          const metaMediaId = resolved.get(mediaId);
          if (metaMediaId === undefined) throw new Error(`media ${mediaId} was not resolved for this send`);
          return metaMediaId;
        },
      };
    },
  };
}
