import { decodeEvent } from '@waygate/contracts';
import { ACK, type HandlerOutcome } from '@waygate/nats';
import { MessageStatus, MessageStatusChanged } from '@waygate/proto';
import { activeTraceparent, type Logger } from '@waygate/telemetry';
import type { ReceiptService } from '../domain/receipt-service';

/** Learns wamid -> message from delivery-retry's SENT events (with the message's trace context). */
export function createDeliveryEventsHandler(service: ReceiptService, logger: Logger) {
  return async (data: Uint8Array): Promise<HandlerOutcome> => {
    const event = decodeEvent(MessageStatusChanged, data);
    if (!event) return { kind: 'reject', reason: 'not a valid MessageStatusChanged' };
    if (event.status !== MessageStatus.MESSAGE_STATUS_SENT || !event.waMessageId) return ACK;
    // The consumer runs inside the message's trace; remember it so webhook statuses can join it later.
    const traceContext = activeTraceparent();
    const released = await service.recordSentMessage({
      tenantId: event.tenantId,
      waMessageId: event.waMessageId,
      messageId: event.messageId,
      ...(event.recipient ? { recipient: event.recipient } : {}),
      ...(traceContext ? { traceContext } : {}),
    });
    logger.info({ tenant_id: event.tenantId, message_id: event.messageId, released_held_statuses: released }, 'wamid recorded');
    return ACK;
  };
}
