import { credentials, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { UnavailableError } from '@waygate/domain';
import { internalCallMetadata } from '@waygate/grpc';
import { MediaServiceClient, type MediaInfo } from '@waygate/proto';
import type { MediaCatalog, MediaDescription } from '../domain/media-catalog';

/** How long a send waits for media-store before the caller is told to retry (UNAVAILABLE). */
export const DEFAULT_MEDIA_INFO_DEADLINE_MS = 3000;

/**
 * MediaCatalog over gRPC: media-store's GetMediaInfo, called with the region-internal service token naming the tenant
 * (`x-waygate-tenant-id`), never with the caller's API key, and with a deadline. NOT_FOUND and INVALID_ARGUMENT (an id
 * media-store could never have issued) are "no such media"; anything else is UnavailableError.
 */
export function createGrpcMediaCatalog(options: {
  address: string;
  serviceToken: string;
  deadlineMs?: number;
  /** TLS or plaintext (default) to media-store. */
  credentials?: ChannelCredentials;
}): MediaCatalog & { close(): void } {
  const client = new MediaServiceClient(options.address, options.credentials ?? credentials.createInsecure(), {
    // After a media-store restart, reconnect within seconds rather than grpc's default of up to two minutes.
    'grpc.max_reconnect_backoff_ms': 10_000,
  });
  const deadlineMs = options.deadlineMs ?? DEFAULT_MEDIA_INFO_DEADLINE_MS;
  return {
    describe(tenantId, mediaId) {
      const metadata = internalCallMetadata(options.serviceToken, tenantId);
      return new Promise<MediaDescription | undefined>((resolve, reject) => {
        client.getMediaInfo({ mediaId }, metadata, { deadline: Date.now() + deadlineMs }, (error: ServiceError | null, info: MediaInfo) => {
          if (!error) return resolve({ mediaId: info.mediaId, mimeType: info.mimeType, sizeBytes: Number(info.sizeBytes) });
          if (error.code === status.NOT_FOUND || error.code === status.INVALID_ARGUMENT) return resolve(undefined);
          reject(
            new UnavailableError(`media-store could not describe the media (${status[error.code] ?? error.code}); retry SendMessage`, {
              cause: error,
            }),
          );
        });
      });
    },
    close: () => client.close(),
  };
}
