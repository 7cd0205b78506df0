import { credentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations, INTERNAL_TENANT_ID_KEY } from '@waygate/grpc';
import { MediaServiceClient, type PutMediaResponse } from '@waygate/proto';
import { MAX_STORED_MEDIA_BYTES, type MediaVault, type MediaVaultOutcome } from '../domain/media-vault';

/** Codes after which the same PutMedia would fail again: the blob itself was refused. */
const REFUSED_FOR_GOOD: ReadonlySet<status> = new Set([status.INVALID_ARGUMENT]);

/** A client of this region's media-store, acting for tenants with the region-internal service token. */
export interface MediaStoreClient extends MediaVault {
  close(): void;
}

/**
 * media-store's PutMedia over gRPC, authenticated with the region-internal service token and the tenant's id
 * (`authorization: Bearer <token>`, `x-waygate-tenant-id`). A refused blob (INVALID_ARGUMENT) is `rejected`; anything
 * else that fails (unreachable, deadline, auth or configuration trouble) is `unavailable`, to be retried.
 */
export function createMediaStoreClient(options: {
  address: string;
  serviceToken: string;
  timeoutMs: number;
  /** TLS or plaintext (default) to media-store. */
  credentials?: ChannelCredentials;
}): MediaStoreClient {
  const client = new MediaServiceClient(options.address, options.credentials ?? credentials.createInsecure(), {
    // A 5 MiB blob plus framing; grpc-js clients send at most 4 MiB by default.
    'grpc.max_send_message_length': MAX_STORED_MEDIA_BYTES + 1024 * 1024,
    // After an outage, reconnect within seconds rather than grpc's default of up to two minutes.
    'grpc.max_reconnect_backoff_ms': 10_000,
  });
  return {
    async put(tenantId, media): Promise<MediaVaultOutcome> {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${options.serviceToken}`);
      metadata.set(INTERNAL_TENANT_ID_KEY, tenantId);
      try {
        const response = await new Promise<PutMediaResponse>((resolve, reject) =>
          client.putMedia(
            { content: Buffer.from(media.content), mimeType: media.mimeType, filename: media.filename ?? '' },
            metadata,
            { deadline: new Date(Date.now() + options.timeoutMs) },
            (error, result) => (error ? reject(error) : resolve(result)),
          ),
        );
        return { kind: 'stored', mediaId: response.mediaId, sha256: response.sha256, sizeBytes: Number(response.sizeBytes) };
      } catch (error) {
        const serviceError = error as ServiceError;
        const code = typeof serviceError.code === 'number' ? serviceError.code : status.UNKNOWN;
        if (REFUSED_FOR_GOOD.has(code)) {
          // Field names and reasons only: media-store's descriptions never carry content, but keep it that way here.
          const fields = badRequestViolations(serviceError).map((violation) => `${violation.field} ${violation.reason}`);
          return { kind: 'rejected', reason: `${status[code]}${fields.length > 0 ? ` (${fields.join(', ')})` : ''}` };
        }
        return { kind: 'unavailable', reason: status[code] ?? String(code) };
      }
    },
    close() {
      client.close();
    },
  };
}
