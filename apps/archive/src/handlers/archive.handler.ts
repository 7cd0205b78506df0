import { toProtoContentType, toProtoStatus } from '@waygate/contracts';
import { unaryHandler } from '@waygate/grpc';
import {
  ContentType,
  MessageStatus,
  type ArchivedEvent as ArchivedEventMessage,
  type ArchiveServiceServer,
  type GetTranscriptRequest,
  type GetTranscriptResponse,
  type ListConversationsRequest,
  type ListConversationsResponse,
  type ListMessageEventsRequest,
  type ListMessageEventsResponse,
} from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { AnalysisService } from '../analysis/analysis-service';
import type { ArchiveService } from '../domain/archive-service';
import type { ConversationSummary } from '../domain/conversation';
import type { ArchivedEvent } from '../domain/archived-event';
import type { MessageSearch } from '../search/search-messages';
import { createAnalysisHandlers } from './analysis.handler';
import { createSearchMessagesHandler } from './search-messages.handler';
import { fromProtoSentimentLabel, toProtoConversation, toProtoTranscriptMessage } from './transcript-proto';
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

/** What the ArchiveService handlers translate to and from: one domain service per group of RPCs. */
export interface ArchiveHandlerDeps {
  /** Recording and reading: ListMessageEvents, ListConversations, GetTranscript. */
  readonly service: ArchiveService;
  readonly tenants: TenantDirectory;
  readonly logger: Logger;
  /** GetConversationMetrics and GetTenantReport. */
  readonly analysis: AnalysisService<ConversationSummary>;
  /** ExportConversations. */
  readonly exportService: ExportService;
  /** SearchMessages. */
  readonly search: MessageSearch;
}

/** gRPC ArchiveService: translates proto <-> domain; tenant scoping and validation are the domain's. */
export function createArchiveHandler(deps: ArchiveHandlerDeps): ArchiveServiceServer {
  const { service, tenants, logger, analysis, exportService, search } = deps;
  return {
    listMessageEvents: unaryHandler<ListMessageEventsRequest, ListMessageEventsResponse>(tenants, logger, async (request, tenant) => ({
      events: (await service.listMessageEvents(tenant.id, request.messageId)).map(toProtoEvent),
    })),
    listConversations: unaryHandler<ListConversationsRequest, ListConversationsResponse>(tenants, logger, async (request, tenant) => {
      const sentiment = fromProtoSentimentLabel(request.sentiment);
      const page = await service.listConversations(tenant.id, {
        customer: request.customer,
        phoneNumberId: request.phoneNumberId,
        ...(request.from ? { from: request.from } : {}),
        ...(request.to ? { to: request.to } : {}),
        hasUnanswered: request.hasUnanswered,
        ...(sentiment ? { sentiment } : {}),
        pageSize: request.pageSize,
        pageToken: request.pageToken,
      });
      return { conversations: page.conversations.map(toProtoConversation), nextPageToken: page.nextPageToken ?? '' };
    }),
    getTranscript: unaryHandler<GetTranscriptRequest, GetTranscriptResponse>(tenants, logger, async (request, tenant) => {
      const page = await service.getTranscript(tenant.id, {
        conversationId: request.conversationId,
        ...(request.from ? { from: request.from } : {}),
        ...(request.to ? { to: request.to } : {}),
        pageSize: request.pageSize,
        pageToken: request.pageToken,
      });
      return {
        conversation: toProtoConversation(page.conversation),
        messages: page.messages.map(toProtoTranscriptMessage),
        nextPageToken: page.nextPageToken ?? '',
      };
    }),
    searchMessages: createSearchMessagesHandler(search, tenants, logger),
    exportConversations: createExportConversationsHandler(exportService, tenants, logger),
    ...createAnalysisHandlers(analysis, tenants, logger),
  };
}
