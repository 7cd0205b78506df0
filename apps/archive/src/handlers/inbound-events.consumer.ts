import { decodeEvent, inboundMessageFields } from '@waygate/contracts';
import type { HandlerOutcome } from '@waygate/nats';
import { InboundMessageReceived } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { ArchiveService } from '../domain/archive-service';
import { inboundSearchTextOf } from '../domain/message-record';
import { recordEvent } from './record-event';

/**
 * Archives InboundMessageReceived events (from receipt) as 'inbound' events, keyed by their event id and listed under
 * the message's wamid. The text, sender and content are stored, never logged.
 */
export function createInboundEventsHandler(service: ArchiveService, logger: Logger) {
  return async (data: Uint8Array): Promise<HandlerOutcome> => {
    const event = decodeEvent(InboundMessageReceived, data);
    if (!event) return { kind: 'reject', reason: 'not a valid InboundMessageReceived' };
    if (!event.occurredAt) return { kind: 'reject', reason: 'InboundMessageReceived without occurred_at' };
    const fields = inboundMessageFields(event);
    const searchText = inboundSearchTextOf(fields.text, fields.contentJson);
    return recordEvent(service, logger, {
      eventId: event.eventId,
      tenantId: event.tenantId,
      messageId: event.waMessageId,
      kind: 'inbound',
      occurredAt: event.occurredAt,
      phoneNumberId: event.phoneNumberId,
      from: event.from,
      messageType: event.type || 'unknown',
      ...fields,
      ...(searchText !== undefined && searchText !== fields.text ? { searchText } : {}),
    });
  };
}
