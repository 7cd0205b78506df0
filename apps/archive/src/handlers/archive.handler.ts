import { status as GrpcStatus } from '@grpc/grpc-js';
import { toProtoContentType, toProtoStatus } from '@waygate/contracts';
import { unaryHandler } from '@waygate/grpc';
import {
  ContentType,
  MessageStatus,
  type ArchivedEvent as ArchivedEventMessage,
  type ArchiveServiceServer,
  type ListMessageEventsRequest,
  type ListMessageEventsResponse,
} from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { ArchiveService } from '../domain/archive-service';
import type { ArchivedEvent } from '../domain/archived-event';
import type { ExportService } from '../export/domain/export-service';
import { createExportConversationsHandler } from '../export/export-conversations.handler';

function toProtoEvent(event: ArchivedEvent): ArchivedEventMessage {
  return {
    eventId: event.eventId,
    messageId: event.messageId,
    kind: event.kind,
    // An inbound message has no Waygate status.
    status: event.kind === 'inbound' ? MessageStatus.MESSAGE_STATUS_UNSPECIFIED : toProtoStatus(event.status),
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
    textBody: event.kind === 'accepted' ? (event.textBody ?? '') : event.kind === 'inbound' ? (event.text ?? '') : '',
    contentType:
      event.kind === 'accepted' && event.contentType ? toProtoContentType(event.contentType) : ContentType.CONTENT_TYPE_UNSPECIFIED,
    contentSummary: event.kind === 'accepted' ? (event.contentSummary ?? '') : '',
  };
}

/** gRPC ArchiveService: translates proto <-> domain; tenant scoping and validation are the domain's. */
export function createArchiveHandler(
  service: ArchiveService,
  tenants: TenantDirectory,
  logger: Logger,
  exportService: ExportService,
): ArchiveServiceServer {
  return {
    listMessageEvents: unaryHandler<ListMessageEventsRequest, ListMessageEventsResponse>(tenants, logger, async (request, tenant) => ({
      events: (await service.listMessageEvents(tenant.id, request.messageId)).map(toProtoEvent),
    })),
    // Issue 13's RPCs: each is filled in by its slice (conversations, search, export, analysis).
    listConversations: unimplemented,
    getTranscript: unimplemented,
    searchMessages: unimplemented,
    exportConversations: createExportConversationsHandler(exportService, tenants, logger),
    getConversationMetrics: unimplemented,
    getTenantReport: unimplemented,
  };
}

function unimplemented(_call: unknown, callback: (error: { code: number; details: string }) => void): void {
  callback({ code: GrpcStatus.UNIMPLEMENTED, details: 'not implemented yet' });
}
