import { toProtoStatus } from '@waygate/contracts';
import { unaryHandler } from '@waygate/grpc';
import type {
  ArchivedEvent as ArchivedEventMessage,
  ArchiveServiceServer,
  ListMessageEventsRequest,
  ListMessageEventsResponse,
} from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { ArchiveService } from '../domain/archive-service';
import type { ArchivedEvent } from '../domain/archived-event';

function toProtoEvent(event: ArchivedEvent): ArchivedEventMessage {
  return {
    eventId: event.eventId,
    messageId: event.messageId,
    kind: event.kind,
    status: toProtoStatus(event.status),
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
    textBody: event.kind === 'accepted' ? (event.textBody ?? '') : '',
  };
}

/** gRPC ArchiveService: translates proto <-> domain; tenant scoping and validation are the domain's. */
export function createArchiveHandler(service: ArchiveService, tenants: TenantDirectory, logger: Logger): ArchiveServiceServer {
  return {
    listMessageEvents: unaryHandler<ListMessageEventsRequest, ListMessageEventsResponse>(tenants, logger, async (request, tenant) => ({
      events: (await service.listMessageEvents(tenant.id, request.messageId)).map(toProtoEvent),
    })),
  };
}
