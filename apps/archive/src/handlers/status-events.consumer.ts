import { decodeEvent, fromProtoSource, fromProtoStatus } from '@waygate/contracts';
import type { HandlerOutcome } from '@waygate/nats';
import { MessageStatusChanged } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { ArchiveService } from '../domain/archive-service';
import { recordEvent } from './record-event';

/** Archives MessageStatusChanged events (from delivery-retry and receipt) as 'status' events, keyed by event id. */
export function createStatusEventsHandler(service: ArchiveService, logger: Logger) {
  return async (data: Uint8Array): Promise<HandlerOutcome> => {
    const event = decodeEvent(MessageStatusChanged, data);
    if (!event) return { kind: 'reject', reason: 'not a valid MessageStatusChanged' };
    const status = fromProtoStatus(event.status);
    const source = fromProtoSource(event.source);
    if (!status || !source || !event.occurredAt)
      return { kind: 'reject', reason: 'MessageStatusChanged without a known status, a known source and occurred_at' };
    return recordEvent(service, logger, {
      eventId: event.eventId,
      tenantId: event.tenantId,
      messageId: event.messageId,
      kind: 'status',
      status,
      occurredAt: event.occurredAt,
      source,
      ...(event.waMessageId ? { waMessageId: event.waMessageId } : {}),
      ...(event.errorCode ? { errorCode: event.errorCode } : {}),
      ...(event.errorTitle ? { errorTitle: event.errorTitle } : {}),
    });
  };
}
