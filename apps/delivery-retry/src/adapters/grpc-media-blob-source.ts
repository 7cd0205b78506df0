import { credentials, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { internalCallMetadata } from '@waygate/grpc';
import { MediaServiceClient, type GetMediaResponse } from '@waygate/proto';
import type { MediaBlobOutcome, MediaBlobSource } from '../domain/media-resolver';

/** media-store holds blobs of at most 5 MiB today; room for that and the response's other fields. */
const MAX_RECEIVE_BYTES = 6 * 1024 * 1024;
export const DEFAULT_MEDIA_FETCH_DEADLINE_MS = 10_000;

/**
 * MediaBlobSource over gRPC: media-store's GetMedia with the region-internal service token naming the tenant. NOT_FOUND
 * and INVALID_ARGUMENT mean the blob will never be there; anything else is `unavailable`, to be retried.
 */
export function createGrpcMediaBlobSource(options: {
  address: string;
  serviceToken: string;
  deadlineMs?: number;
  /** TLS or plaintext (default) to media-store. */
  credentials?: ChannelCredentials;
}): MediaBlobSource & { close(): void } {
  const client = new MediaServiceClient(options.address, options.credentials ?? credentials.createInsecure(), {
    'grpc.max_receive_message_length': MAX_RECEIVE_BYTES,
    'grpc.max_reconnect_backoff_ms': 10_000,
  });
  const deadlineMs = options.deadlineMs ?? DEFAULT_MEDIA_FETCH_DEADLINE_MS;
  return {
    fetch(tenantId, mediaId) {
      const metadata = internalCallMetadata(options.serviceToken, tenantId);
      return new Promise<MediaBlobOutcome>((resolve) => {
        client.getMedia(
          { mediaId },
          metadata,
          { deadline: Date.now() + deadlineMs },
          (error: ServiceError | null, media: GetMediaResponse) => {
            if (!error) return resolve({ kind: 'found', bytes: media.content, mimeType: media.mimeType, filename: media.filename });
            if (error.code === status.NOT_FOUND || error.code === status.INVALID_ARGUMENT) return resolve({ kind: 'not-found' });
            resolve({ kind: 'unavailable', reason: status[error.code] ?? String(error.code) });
          },
        );
      });
    },
    close: () => client.close(),
  };
}
