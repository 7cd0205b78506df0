import { unaryHandler } from '@waygate/grpc';
import type { GetMediaRequest, GetMediaResponse, MediaServiceServer, PutMediaRequest, PutMediaResponse } from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { MediaService } from '../domain/media-service';

/**
 * gRPC MediaService: translates proto <-> domain; everything else is the domain's. Logs ids, size and MIME type
 * only: never content, file names or keys.
 */
export function createMediaHandler(service: MediaService, tenants: TenantDirectory, logger: Logger): MediaServiceServer {
  return {
    putMedia: unaryHandler<PutMediaRequest, PutMediaResponse>(tenants, logger, async (request, tenant) => {
      const stored = await service.put(tenant, { content: request.content, mimeType: request.mimeType, filename: request.filename });
      logger.info(
        { tenant_id: tenant.id, media_id: stored.mediaId, size_bytes: stored.sizeBytes, mime_type: stored.mimeType },
        'media stored',
      );
      return { mediaId: stored.mediaId, sha256: stored.sha256, sizeBytes: String(stored.sizeBytes) };
    }),
    getMedia: unaryHandler<GetMediaRequest, GetMediaResponse>(tenants, logger, async (request, tenant) => {
      const media = await service.get(tenant, request.mediaId);
      logger.info({ tenant_id: tenant.id, media_id: media.mediaId, size_bytes: media.sizeBytes, mime_type: media.mimeType }, 'media read');
      return {
        mediaId: media.mediaId,
        content: media.content,
        mimeType: media.mimeType,
        filename: media.filename ?? '',
        sha256: media.sha256,
        createdAt: media.createdAt,
      };
    }),
  };
}
