import type { Logger } from '@waygate/telemetry';
import { decodeEvent, fromProtoSource, fromProtoStatus } from '@waygate/contracts';
import { ACK, type HandlerOutcome } from '@waygate/nats';
import { MessageStatusChanged } from '@waygate/proto';
import type { DeliveryEngine } from '../domain/delivery-engine';

/**
 * Learns from receipt's webhook statuses (the decision: domain/webhook-reconciliation.ts). SENT/DELIVERED/READ for a
 * message still PENDING (a call interrupted by a crash, recognised through `biz_opaque_callback_data`) record the send
 * instead of repeating it; DELIVERED/READ settle a delivery (its content is deleted, it can no longer expire); FAILED
 * either ends it or — for codes Meta says to retry, like 131049 — schedules another send, or, once the message's
 * validity has ended, expires it (announced by delivery-retry).
 */
export function createWebhookStatusesHandler(engine: DeliveryEngine, logger: Logger) {
  return async (data: Uint8Array): Promise<HandlerOutcome> => {
    const event = decodeEvent(MessageStatusChanged, data);
    if (!event || !event.messageId || !event.tenantId) return { kind: 'reject', reason: 'not a valid MessageStatusChanged' };
    const status = fromProtoStatus(event.status);
    if (
      fromProtoSource(event.source) !== 'webhook' ||
      (status !== 'SENT' && status !== 'DELIVERED' && status !== 'READ' && status !== 'FAILED')
    ) {
      return ACK;
    }
    const outcome = await engine.applyWebhookStatus({
      tenantId: event.tenantId,
      messageId: event.messageId,
      status,
      waMessageId: event.waMessageId || undefined,
      errorCode: event.errorCode || undefined,
      errorTitle: event.errorTitle || undefined,
      occurredAt: event.occurredAt ?? new Date(),
    });
    logger.debug({ tenant_id: event.tenantId, message_id: event.messageId, status, outcome }, 'webhook status applied');
    return ACK;
  };
}
