import { decodeEvent, fromProtoContentType } from '@waygate/contracts';
import type { HandlerOutcome } from '@waygate/nats';
import { MessageAccepted } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { ArchiveService } from '../domain/archive-service';
import { recordEvent } from './record-event';

/** Archives MessageAccepted events (from ingress) as 'accepted' events, keyed `accepted:<message id>`. */
export function createAcceptedEventsHandler(service: ArchiveService, logger: Logger) {
  return async (data: Uint8Array): Promise<HandlerOutcome> => {
    const event = decodeEvent(MessageAccepted, data);
    if (!event) return { kind: 'reject', reason: 'not a valid MessageAccepted' };
    if (!event.acceptedAt) return { kind: 'reject', reason: 'MessageAccepted without accepted_at' };
    const contentType = event.content ? event.content.$case : fromProtoContentType(event.contentType);
    return recordEvent(service, logger, {
      eventId: `accepted:${event.messageId}`,
      tenantId: event.tenantId,
      messageId: event.messageId,
      kind: 'accepted',
      status: 'ACCEPTED',
      occurredAt: event.acceptedAt,
      recipient: event.to,
      phoneNumberId: event.phoneNumberId,
      ...(event.content?.$case === 'text' ? { textBody: event.content.value.body } : {}),
      // The type is the content case (MessageAccepted.content_type says the same; the case is what was sent).
      ...(contentType ? { contentType } : {}),
      ...(event.contentSummary ? { contentSummary: event.contentSummary } : {}),
    });
  };
}
