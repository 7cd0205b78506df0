import { decodeEvent } from '@waygate/contracts';
import { ACK, type DeliveryInfo, type HandlerOutcome } from '@waygate/nats';
import { MessageAccepted } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { DeliveryService } from '../domain/delivery-service';

/** Consumes MessageAccepted and delivers each message; a retry becomes a delayed redelivery by JetStream. */
export function createAcceptedMessagesHandler(service: DeliveryService, logger: Logger) {
  return async (data: Uint8Array, info: DeliveryInfo): Promise<HandlerOutcome> => {
    const event = decodeEvent(MessageAccepted, data);
    if (!event || event.content?.$case !== 'text' || !event.expiresAt || !event.messageId || !event.tenantId) {
      return { kind: 'reject', reason: 'not a valid MessageAccepted' };
    }
    const decision = await service.deliver({
      tenantId: event.tenantId,
      messageId: event.messageId,
      to: event.to,
      phoneNumberId: event.phoneNumberId,
      content: { kind: 'text', body: event.content.value.body, previewUrl: event.content.value.previewUrl },
      expiresAt: event.expiresAt,
    });
    const { delivery } = decision;
    const fields = {
      tenant_id: event.tenantId,
      message_id: event.messageId,
      state: delivery.state,
      attempts: delivery.attempts,
      error_code: delivery.lastErrorCode,
      redelivery: info.deliveryCount,
    };
    if (decision.kind === 'done') {
      logger.info(fields, 'delivery settled');
      return ACK;
    }
    logger.warn({ ...fields, retry_in_ms: decision.delayMs, reason: decision.reason }, 'delivery attempt failed; retrying later');
    return { kind: 'retry', delayMs: decision.delayMs, reason: decision.reason };
  };
}
