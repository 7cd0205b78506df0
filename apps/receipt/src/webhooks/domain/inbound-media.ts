import type { StoredInboundMedia } from './inbound-store';
import { MAX_STORED_MEDIA_BYTES, type MediaVault, type MediaVaultOutcome } from './media-vault';
import { RetryLaterError } from './retry-later-error';
import type { InboundMedia } from './webhook-payload';
import { isMediaDownloadInterrupted, isTransientCloudApiFailure, type WhatsAppCloudApi } from './whatsapp-cloud-api';

/** Where an inbound message's media ended up. */
export type InboundMediaOutcome =
  | { readonly kind: 'stored'; readonly media: StoredInboundMedia }
  /**
   * Gone for good (unknown or expired media id, refused, too large), or still failing on the webhook's last attempt:
   * the message is recorded without it.
   */
  | { readonly kind: 'unavailable'; readonly reason: string };

/** media-store's file name rules: at most 255 characters, no path separators or control characters. */
export function storableFilename(filename: string | undefined): string | undefined {
  if (!filename) return undefined;
  // eslint-disable-next-line no-control-regex
  const cleaned = filename.replace(/[/\\\u0000-\u001f\u007f]/g, '_').slice(0, 255);
  return cleaned.trim() === '' ? undefined : cleaned;
}

/**
 * Fetches an inbound message's media from the Cloud API with the receiving number's token and stores it in
 * media-store for the tenant. A failure that may pass (no answer, 5xx, 429, refused token, a download cut off midway,
 * bytes not matching Meta's sha256, media-store unavailable or failing midway) throws RetryLaterError so the webhook is
 * processed again later, with a fresh download URL from Meta (its media id stays retrievable for 7 days, each URL for 5
 * minutes); one that will not (media id unknown or expired, 404, other refusals, too large for media-store) resolves
 * `unavailable` with a reason. The bytes stream from Meta to media-store as they arrive; a download that stops midway
 * cancels the upload, so media-store keeps nothing of it.
 */
export async function transferInboundMedia(
  deps: { cloudApi: WhatsAppCloudApi; vault: MediaVault },
  request: { tenantId: string; accessToken: string; media: InboundMedia; customer?: string },
): Promise<InboundMediaOutcome> {
  const download = await deps.cloudApi.downloadMedia({
    mediaId: request.media.mediaId,
    accessToken: request.accessToken,
    maxBytes: MAX_STORED_MEDIA_BYTES,
  });
  if (download.kind === 'too-large') return { kind: 'unavailable', reason: `larger than ${download.limitBytes} bytes` };
  if (download.kind === 'no-answer') throw new RetryLaterError(`media download: ${download.reason}`);
  if (download.kind === 'error') {
    if (isTransientCloudApiFailure(download))
      throw new RetryLaterError(`media download: HTTP ${download.httpStatus} code ${download.code}`);
    const gone = download.httpStatus === 404 || download.code === 100;
    return { kind: 'unavailable', reason: gone ? 'media not found or expired' : `refused by WhatsApp (code ${download.code})` };
  }
  if (download.sizeBytes === undefined) {
    // media-store needs the size up front (it bounds the stream by it); Meta always sends one, so this is not Meta.
    await download.content[Symbol.asyncIterator]().return?.();
    return { kind: 'unavailable', reason: 'download without a declared size' };
  }
  const filename = storableFilename(request.media.filename);
  let stored: MediaVaultOutcome;
  try {
    stored = await deps.vault.put(request.tenantId, {
      content: download.content,
      sizeBytes: download.sizeBytes,
      // The webhook's MIME type is what the customer sent; the download's is the fallback.
      mimeType: request.media.mimeType || download.mimeType,
      ...(filename ? { filename } : {}),
      ...(request.customer ? { customer: request.customer } : {}),
      ...(request.media.sha256 && /^[0-9a-f]{64}$/i.test(request.media.sha256) ? { sha256: request.media.sha256 } : {}),
    });
  } catch (error) {
    if (!isMediaDownloadInterrupted(error)) throw error;
    if (error.reason === 'too-large') return { kind: 'unavailable', reason: `larger than ${MAX_STORED_MEDIA_BYTES} bytes` };
    // A cut-off connection or bytes that do not match Meta's hash may be a glitch on the way: Meta keeps the media, so
    // another try (with a fresh URL) may well get all of it. The cancelled upload left nothing in media-store.
    throw new RetryLaterError(error.reason === 'corrupt' ? `media download: ${error.detail}` : `download cut off: ${error.detail}`);
  }
  if (stored.kind === 'unavailable') throw new RetryLaterError(`media-store: ${stored.reason}`);
  if (stored.kind === 'rejected') return { kind: 'unavailable', reason: `refused by media-store: ${stored.reason}` };
  return {
    kind: 'stored',
    media: {
      mediaId: stored.mediaId,
      mimeType: request.media.mimeType || download.mimeType,
      sha256: stored.sha256,
      sizeBytes: stored.sizeBytes,
    },
  };
}
