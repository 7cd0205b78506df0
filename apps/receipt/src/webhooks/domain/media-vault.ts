/** media-store's largest blob (WhatsApp's document limit; Meta refuses larger inbound media with 131052). */
export const MAX_STORED_MEDIA_BYTES = 100 * 1024 * 1024;

/** The outcome of storing one blob in media-store. */
export type MediaVaultOutcome =
  | { readonly kind: 'stored'; readonly mediaId: string; readonly sha256: string; readonly sizeBytes: number }
  /** media-store refused the blob itself (e.g. its MIME type): storing it again would fail again. */
  | { readonly kind: 'rejected'; readonly reason: string }
  /** media-store is unreachable or failed: try again later. */
  | { readonly kind: 'unavailable'; readonly reason: string };

/** Where inbound media is kept: media-store, acting for the tenant. */
export interface MediaVault {
  /**
   * `sha256` (hex), when Meta gave one, is checked by media-store: a mismatch stores nothing. `customer` (E.164): the
   * sender, whose own data key then encrypts it. `content` is streamed to media-store as it is iterated, no faster
   * than media-store takes it. If iterating `content` throws, the
   * upload is cancelled (media-store keeps nothing) and `put` rejects with that error.
   */
  put(
    tenantId: string,
    media: {
      content: AsyncIterable<Uint8Array>;
      /** The exact size (media-store checks that the stream carries it). */
      sizeBytes: number;
      mimeType: string;
      filename?: string;
      sha256?: string;
      customer?: string;
    },
  ): Promise<MediaVaultOutcome>;
}
