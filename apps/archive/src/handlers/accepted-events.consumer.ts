import { decodeEvent } from '@waygate/contracts';
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
    return recordEvent(service, logger, {
      eventId: `accepted:${event.messageId}`,
      tenantId: event.tenantId,
      messageId: event.messageId,
      kind: 'accepted',
      status: 'ACCEPTED',
      occurredAt: event.acceptedAt,
      recipient: event.to,
      phoneNumberId: event.phoneNumberId,
      // Content kinds added later are still archived as accepted, without a body, until the archive learns them.
      ...(event.content?.$case === 'text' ? { textBody: event.content.value.body } : {}),
    });
  };
}
