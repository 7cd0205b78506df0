import { credentials, Metadata, status, type ChannelCredentials, type ClientWritableStream, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations, INTERNAL_TENANT_ID_KEY } from '@waygate/grpc';
import { MediaServiceClient, type UploadMediaRequest, type UploadMediaResponse } from '@waygate/proto';
import type { MediaVault, MediaVaultOutcome } from '../domain/media-vault';
import { isMediaDownloadInterrupted } from '../domain/whatsapp-cloud-api';

/** Codes after which the same upload would fail again: the blob itself was refused. */
const REFUSED_FOR_GOOD: ReadonlySet<status> = new Set([status.INVALID_ARGUMENT]);
/** media-store takes upload chunks of at most 1 MiB. */
const CHUNK_BYTES = 1024 * 1024;
/**
 * The deadline grows with the size: the base timeout plus one second per 2 MiB. The upload runs at the pace of Meta's
 * download (backpressure), so this is the slowest download that can be stored: a tighter bound would fail a large file
 * on a slower link the same way on every retry; a looser one would hold the webhook queue longer on a hung media-store.
 */
const BYTES_PER_EXTRA_SECOND = 2 * 1024 * 1024;

/** A client of this region's media-store, acting for tenants with the region-internal service token. */
export interface MediaStoreClient extends MediaVault {
  close(): void;
}

/**
 * Streams `content` as one UploadMedia call: the header, then the chunks as `content` yields them (split to at most
 * 1 MiB), pulling the next only once the call takes more, so at most one network read and the transport's buffer are in
 * memory. When iterating `content` throws, the call is cancelled (media-store keeps nothing of a cancelled upload) and
 * the promise rejects with that error; when media-store answers early (a refusal), the rest of `content` is not read.
 */
async function upload(
  client: MediaServiceClient,
  metadata: Metadata,
  deadline: Date,
  header: Extract<UploadMediaRequest['part'], { $case: 'header' }>['value'],
  content: AsyncIterable<Uint8Array>,
): Promise<UploadMediaResponse> {
  let answered = false;
  let wake: (() => void) | undefined;
  let call: ClientWritableStream<UploadMediaRequest> | undefined;
  const response = new Promise<UploadMediaResponse>((resolve, reject) => {
    call = client.uploadMedia(metadata, { deadline }, (error, answer) => {
      answered = true;
      wake?.();
      if (error) reject(error);
      else resolve(answer);
    });
  });
  // media-store may fail the call (unreachable, crashed) while the loop below waits on the download; the rejection is
  // returned (and handled) only after it, and an unhandled rejection meanwhile would end the process.
  response.catch(() => undefined);
  const stream = call as unknown as ClientWritableStream<UploadMediaRequest>;
  /** Backpressure: waits for 'drain', or for the answer that ends the call. */
  const drained = () =>
    new Promise<void>((resolve) => {
      wake = () => {
        stream.off('drain', wakeUp);
        wake = undefined;
        resolve();
      };
      const wakeUp = () => wake?.();
      stream.once('drain', wakeUp);
    });
  stream.write({ part: { $case: 'header', value: header } });
  try {
    read: for await (const piece of content) {
      for (let offset = 0; offset < piece.byteLength; offset += CHUNK_BYTES) {
        if (answered) break read;
        const chunk = Buffer.from(piece.buffer, piece.byteOffset + offset, Math.min(CHUNK_BYTES, piece.byteLength - offset));
        if (!stream.write({ part: { $case: 'chunk', value: chunk } })) await drained();
      }
    }
  } catch (error) {
    // The source failed midway: nothing of it may be stored.
    stream.cancel();
    throw error;
  }
  if (!answered) stream.end();
  return response;
}

/**
 * media-store's UploadMedia (client streaming) over gRPC, authenticated with the region-internal service token and
 * the tenant's id (`authorization: Bearer <token>`, `x-waygate-tenant-id`). A refused blob (INVALID_ARGUMENT: type,
 * size, sha256) is `rejected`; anything else that fails (unreachable, deadline, auth or configuration trouble) is
 * `unavailable`, to be retried.
 */
export function createMediaStoreClient(options: {
  address: string;
  serviceToken: string;
  timeoutMs: number;
  /** TLS or plaintext (default) to media-store. */
  credentials?: ChannelCredentials;
}): MediaStoreClient {
  const client = new MediaServiceClient(options.address, options.credentials ?? credentials.createInsecure(), {
    // After an outage, reconnect within a second or two rather than grpc's default of up to two minutes: media-store
    // is a neighbour in the region, and webhook retries (which give up after a bounded number) wait on it.
    'grpc.initial_reconnect_backoff_ms': 250,
    'grpc.max_reconnect_backoff_ms': 2_000,
  });
  return {
    async put(tenantId, media): Promise<MediaVaultOutcome> {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${options.serviceToken}`);
      metadata.set(INTERNAL_TENANT_ID_KEY, tenantId);
      const deadline = new Date(Date.now() + options.timeoutMs + Math.ceil(media.sizeBytes / BYTES_PER_EXTRA_SECOND) * 1000);
      try {
        const response = await upload(
          client,
          metadata,
          deadline,
          {
            mimeType: media.mimeType,
            filename: media.filename ?? '',
            sizeBytes: String(media.sizeBytes),
            sha256: media.sha256 ?? '',
            customer: media.customer ?? '',
          },
          media.content,
        );
        return { kind: 'stored', mediaId: response.mediaId, sha256: response.sha256, sizeBytes: Number(response.sizeBytes) };
      } catch (error) {
        // The source's failure, not media-store's: the caller decides what it means.
        if (isMediaDownloadInterrupted(error)) throw error;
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
