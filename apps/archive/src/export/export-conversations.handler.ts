import { serverStreamingHandler } from '@waygate/grpc';
import { ExportFormat, type ExportConversationsRequest, type ExportConversationsResponse } from '@waygate/proto';
import { tenantLogRef, type TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { ExportRequest, ExportService } from './domain/export-service';

const FORMAT_NAMES: Partial<Record<ExportFormat, string>> = {
  [ExportFormat.EXPORT_FORMAT_JSONL]: 'jsonl',
  [ExportFormat.EXPORT_FORMAT_CSV]: 'csv',
  [ExportFormat.EXPORT_FORMAT_HTML]: 'html',
};

/** The proto request as the domain's; UNSPECIFIED or an unknown enum value stays unknown, for validation to name. */
export function toExportRequest(request: ExportConversationsRequest): ExportRequest {
  return {
    conversationIds: request.conversationIds,
    customer: request.customer,
    phoneNumberId: request.phoneNumberId,
    ...(request.from ? { from: request.from } : {}),
    ...(request.to ? { to: request.to } : {}),
    formats: request.formats.map((format) => FORMAT_NAMES[format] ?? `unknown:${format}`),
  };
}

/**
 * ArchiveService.ExportConversations: the bundle's chunks, each awaited by the transport before the next one is made
 * (a slow client slows the store reads instead of filling memory). When the client cancels, the pending write
 * rejects, the loop ends and the bundle's iterators, down to the store's, are closed: nothing more is read.
 */
export function createExportConversationsHandler(service: ExportService, tenants: TenantDirectory, logger: Logger) {
  return serverStreamingHandler<ExportConversationsRequest, ExportConversationsResponse>(
    tenants,
    logger,
    async (request, tenant, stream) => {
      const started = Date.now();
      const bundle = await service.exportBundle(tenant.id, toExportRequest(request));
      let files = 0;
      let bytes = 0;
      let completed = false;
      try {
        for await (const chunk of bundle) {
          if (stream.signal.aborted) break;
          await stream.write({ path: chunk.path, data: chunk.data, lastChunk: chunk.lastChunk });
          bytes += chunk.data.length;
          if (chunk.lastChunk) files++;
        }
        completed = !stream.signal.aborted;
      } finally {
        // Counts only: the filters name customers, and the files hold content.
        logger.info(
          { tenant: tenantLogRef(tenant.id), files, bytes, duration_ms: Date.now() - started, cancelled: stream.signal.aborted },
          completed ? 'export streamed' : stream.signal.aborted ? 'export cancelled by the client' : 'export failed',
        );
      }
    },
  );
}
