import { decodeEvent, inboundMessageFields } from '@waygate/contracts';
import type { HandlerOutcome } from '@waygate/nats';
import { InboundMessageReceived } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { ArchiveService } from '../domain/archive-service';
import { inboundDetailsOf, inboundSearchTextOf } from '../domain/message-record';
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
    // Edits, revokes and Flows replies: their type, text and the message they refer to live in the content JSON.
    const details = inboundDetailsOf(event.type || 'unknown', fields.contentJson);
    const text = fields.text ?? details.text;
    const contextWaMessageId = fields.contextWaMessageId ?? details.contextWaMessageId;
    const searchText = inboundSearchTextOf(text, fields.contentJson);
    return recordEvent(service, logger, {
      eventId: event.eventId,
      tenantId: event.tenantId,
      messageId: event.waMessageId,
      kind: 'inbound',
      occurredAt: event.occurredAt,
      phoneNumberId: event.phoneNumberId,
      from: event.from,
      messageType: details.type,
      ...fields,
      ...(text !== undefined ? { text } : {}),
      ...(contextWaMessageId !== undefined ? { contextWaMessageId } : {}),
      ...(searchText !== undefined && searchText !== text ? { searchText } : {}),
    });
  };
}
