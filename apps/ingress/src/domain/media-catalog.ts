/** What media-store says about one of a tenant's blobs (its bytes stay in media-store). */
export interface MediaDescription {
  readonly mediaId: string;
  /** As given at upload, e.g. "image/jpeg" or "audio/ogg; codecs=opus". */
  readonly mimeType: string;
  readonly sizeBytes: number;
}

/**
 * The tenant's media, as ingress may ask about it before it accepts a message that sends media by media-store id.
 * Implemented over media-store's GetMediaInfo.
 */
export interface MediaCatalog {
  /**
   * The tenant's blob with this id; undefined for an unknown id and for another tenant's alike. Throws
   * UnavailableError when media-store cannot answer (the caller retries SendMessage).
   */
  describe(tenantId: string, mediaId: string): Promise<MediaDescription | undefined>;
}
