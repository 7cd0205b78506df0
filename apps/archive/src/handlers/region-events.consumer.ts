import { ACK, type DeliveryInfo, type HandlerOutcome } from '@waygate/nats';
import type { Logger } from '@waygate/telemetry';

type EventHandler = (data: Uint8Array) => Promise<HandlerOutcome>;

/**
 * The archive's one consumer of `waygate.<region>.events.>` hands each event to the handler of its subject: status
 * events (delivery-retry, receipt) and inbound messages (receipt) are different messages and must never be decoded as
 * each other. An event on a subject the archive does not know yet is acknowledged and skipped, not rejected.
 */
export function createRegionEventsHandler(
  subjects: { deliveryEvents: string; receiptEvents: string; inboundEvents: string },
  handlers: { status: EventHandler; inbound: EventHandler },
  logger: Logger,
) {
  return async (data: Uint8Array, info: DeliveryInfo): Promise<HandlerOutcome> => {
    if (info.subject === subjects.deliveryEvents || info.subject === subjects.receiptEvents) return handlers.status(data);
    if (info.subject === subjects.inboundEvents) return handlers.inbound(data);
    logger.debug({ subject: info.subject, seq: info.streamSequence }, 'event on a subject the archive does not keep; skipped');
    return ACK;
  };
}
