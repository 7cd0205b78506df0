import { FailedPreconditionError, InvalidArgumentError, validateId, type Clock } from '@waygate/domain';
import { serverStreamingHandler, unaryHandler } from '@waygate/grpc';
import type {
  CreateDownloadUrlRequest,
  CreateDownloadUrlResponse,
  DeleteMediaRequest,
  DeleteMediaResponse,
  DownloadMediaRequest,
  DownloadMediaResponse,
  GetMediaInfoRequest,
  GetMediaRequest,
  GetMediaResponse,
  MediaInfo as MediaInfoMessage,
  MediaServiceServer,
  PutMediaRequest,
  PutMediaResponse,
  UploadMediaRequest,
  UploadMediaResponse,
} from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import { DEFAULT_URL_TTL_SECONDS, MAX_URL_TTL_SECONDS } from '../domain/download-url';
import type { MediaInfo, MediaVault } from '../domain/media-vault';
import { MAX_PUT_MEDIA_BYTES, MAX_UPLOAD_CHUNK_BYTES } from '../domain/upload-request';
import { clientStreamingHandler } from './client-streaming';

/** Largest download message: chunks are gathered up to this before they are sent. */
const DOWNLOAD_MESSAGE_BYTES = 1024 * 1024;

/** Issues signed download URLs (wired with the HTTP server's address and the signing secret). */
export interface DownloadUrlIssuer {
  issue(grant: { tenantId: string; mediaId: string; expires: number }): string;
}

function toMessage(info: MediaInfo): MediaInfoMessage {
  return {
    mediaId: info.mediaId,
    mimeType: info.mimeType,
    sizeBytes: String(info.sizeBytes),
    sha256: info.sha256,
    filename: info.filename ?? '',
    createdAt: info.createdAt,
    expiresAt: info.expiresAt,
  };
}

async function* contentChunks(content: Buffer): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < content.length; offset += MAX_UPLOAD_CHUNK_BYTES)
    yield content.subarray(offset, offset + MAX_UPLOAD_CHUNK_BYTES);
}

/** The chunks of an upload stream after its header; a second header is a client error. */
async function* uploadChunks(requests: AsyncIterator<UploadMediaRequest>): AsyncGenerator<Buffer> {
  for (;;) {
    const next = await requests.next();
    if (next.done) return;
    const part = next.value.part;
    if (part?.$case !== 'chunk')
      throw new InvalidArgumentError([{ field: 'part', reason: 'UNEXPECTED_PART', description: 'only the first message is a header' }]);
    yield part.value;
  }
}

function sizeOf(text: string): number {
  const size = Number(text);
  return Number.isSafeInteger(size) ? size : -1;
}

/**
 * gRPC MediaService: translates proto <-> domain; everything else is the vault's. Logs ids, size and MIME type
 * only: never content, file names, customers or keys.
 */
export function createMediaHandler(deps: {
  vault: MediaVault;
  tenants: TenantDirectory;
  logger: Logger;
  urls: DownloadUrlIssuer;
  clock: Clock;
}): MediaServiceServer {
  const { vault, tenants, logger, urls, clock } = deps;
  return {
    putMedia: unaryHandler<PutMediaRequest, PutMediaResponse>(tenants, logger, async (request, tenant) => {
      if (request.content.length === 0)
        throw new InvalidArgumentError([{ field: 'content', reason: 'REQUIRED', description: 'must not be empty' }]);
      if (request.content.length > MAX_PUT_MEDIA_BYTES)
        throw new InvalidArgumentError([
          { field: 'content', reason: 'TOO_LARGE', description: `at most ${MAX_PUT_MEDIA_BYTES} bytes in PutMedia; use UploadMedia` },
        ]);
      const stored = await vault.upload(
        tenant,
        {
          mimeType: request.mimeType,
          filename: request.filename,
          sizeBytes: request.content.length,
          sha256: '',
          customer: request.customer,
        },
        contentChunks(request.content),
      );
      logger.info(
        { tenant_id: tenant.id, media_id: stored.mediaId, size_bytes: stored.sizeBytes, mime_type: stored.mimeType },
        'media stored',
      );
      return { mediaId: stored.mediaId, sha256: stored.sha256, sizeBytes: String(stored.sizeBytes), mimeType: stored.mimeType };
    }),

    getMedia: unaryHandler<GetMediaRequest, GetMediaResponse>(tenants, logger, async (request, tenant) => {
      const info = await vault.info(tenant, request.mediaId);
      if (info.sizeBytes > MAX_PUT_MEDIA_BYTES)
        throw new FailedPreconditionError('the blob is larger than GetMedia returns; use DownloadMedia', [
          { type: 'MEDIA_SIZE', subject: `media/${info.mediaId}`, description: `larger than ${MAX_PUT_MEDIA_BYTES} bytes` },
        ]);
      const download = await vault.download(tenant, request.mediaId);
      const parts: Buffer[] = [];
      for await (const part of download.content) parts.push(part);
      logger.info({ tenant_id: tenant.id, media_id: info.mediaId, size_bytes: info.sizeBytes, mime_type: info.mimeType }, 'media read');
      return {
        mediaId: info.mediaId,
        content: Buffer.concat(parts),
        mimeType: info.mimeType,
        filename: info.filename ?? '',
        sha256: info.sha256,
        createdAt: info.createdAt,
      };
    }),

    uploadMedia: clientStreamingHandler<UploadMediaRequest, UploadMediaResponse>(tenants, logger, async (requests, tenant) => {
      const iterator = requests[Symbol.asyncIterator]();
      const first = await iterator.next();
      const header = first.done ? undefined : first.value.part;
      if (header?.$case !== 'header')
        throw new InvalidArgumentError([{ field: 'header', reason: 'REQUIRED', description: 'the first message must be the header' }]);
      const stored = await vault.upload(
        tenant,
        {
          mimeType: header.value.mimeType,
          filename: header.value.filename,
          sizeBytes: sizeOf(header.value.sizeBytes),
          sha256: header.value.sha256,
          customer: header.value.customer,
        },
        uploadChunks(iterator),
      );
      logger.info(
        { tenant_id: tenant.id, media_id: stored.mediaId, size_bytes: stored.sizeBytes, mime_type: stored.mimeType },
        'media stored',
      );
      return { mediaId: stored.mediaId, sha256: stored.sha256, sizeBytes: String(stored.sizeBytes), mimeType: stored.mimeType };
    }),

    downloadMedia: serverStreamingHandler<DownloadMediaRequest, DownloadMediaResponse>(tenants, logger, async (request, tenant, stream) => {
      const download = await vault.download(tenant, request.mediaId);
      await stream.write({ part: { $case: 'info', value: toMessage(download.info) } });
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      for await (const piece of download.content) {
        pending.push(piece);
        pendingBytes += piece.length;
        if (pendingBytes >= DOWNLOAD_MESSAGE_BYTES) {
          // Awaited: a slow reader holds the decryption (and the disk reads) back.
          await stream.write({ part: { $case: 'chunk', value: Buffer.concat(pending) } });
          pending = [];
          pendingBytes = 0;
        }
      }
      if (pendingBytes > 0) await stream.write({ part: { $case: 'chunk', value: Buffer.concat(pending) } });
      logger.info({ tenant_id: tenant.id, media_id: download.info.mediaId, size_bytes: download.info.sizeBytes }, 'media downloaded');
    }),

    getMediaInfo: unaryHandler<GetMediaInfoRequest, MediaInfoMessage>(tenants, logger, async (request, tenant) =>
      toMessage(await vault.info(tenant, request.mediaId)),
    ),

    deleteMedia: unaryHandler<DeleteMediaRequest, DeleteMediaResponse>(tenants, logger, async (request, tenant) => {
      await vault.delete(tenant, request.mediaId);
      logger.info({ tenant_id: tenant.id, media_id: request.mediaId }, 'media deleted');
      return {};
    }),

    createDownloadUrl: unaryHandler<CreateDownloadUrlRequest, CreateDownloadUrlResponse>(tenants, logger, async (request, tenant) => {
      validateId('media_id', request.mediaId);
      const ttl = request.ttlSeconds === 0 ? DEFAULT_URL_TTL_SECONDS : request.ttlSeconds;
      if (ttl < 1 || ttl > MAX_URL_TTL_SECONDS)
        throw new InvalidArgumentError([
          {
            field: 'ttl_seconds',
            reason: 'OUT_OF_RANGE',
            description: `must be 1 to ${MAX_URL_TTL_SECONDS} (0: ${DEFAULT_URL_TTL_SECONDS})`,
          },
        ]);
      const info = await vault.info(tenant, request.mediaId);
      const expires = Math.floor(clock.now().getTime() / 1000) + ttl;
      return { url: urls.issue({ tenantId: tenant.id, mediaId: info.mediaId, expires }), expiresAt: new Date(expires * 1000) };
    }),
  };
}
