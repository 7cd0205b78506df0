import { activeTraceparent, type Logger } from '@waygate/telemetry';
import { decodeEvent, fromProtoContent } from '@waygate/contracts';
import { ACK, type DeliveryInfo, type HandlerOutcome } from '@waygate/nats';
import { MessageAccepted } from '@waygate/proto';
import type { DeliveryEngine } from '../domain/delivery-engine';

/**
 * Takes MessageAccepted into the durable schedule and acknowledges once it is stored; the scheduler does the rest.
 * Runs one lane (number -> customer, ingress's order key) at a time so that messages enter their lanes in acceptance
 * (stream) order; different lanes run in parallel.
 */
export function createAcceptedMessagesHandler(engine: DeliveryEngine, logger: Logger) {
  return async (data: Uint8Array, info: DeliveryInfo): Promise<HandlerOutcome> => {
    const event = decodeEvent(MessageAccepted, data);
    const decoded = event ? fromProtoContent(event.content) : undefined;
    if (!event || !decoded?.ok || !decoded.content || !event.expiresAt || !event.messageId || !event.tenantId) {
      return { kind: 'reject', reason: 'not a valid MessageAccepted' };
    }
    // The consumer span continues the message's trace; keep it so every attempt, however much later, joins it.
    const delivery = await engine.intake({
      tenantId: event.tenantId,
      messageId: event.messageId,
      to: event.to,
      phoneNumberId: event.phoneNumberId,
      content: event.replyToWaMessageId ? { ...decoded.content, contextWaMessageId: event.replyToWaMessageId } : decoded.content,
      acceptedAt: event.acceptedAt ?? new Date(),
      expiresAt: event.expiresAt,
      laneSeq: info.streamSequence,
      traceContext: activeTraceparent(),
    });
    logger.debug({ tenant_id: event.tenantId, message_id: event.messageId, state: delivery.state }, 'delivery scheduled');
    return ACK;
  };
}
