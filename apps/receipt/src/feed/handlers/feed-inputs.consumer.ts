import { decodeEvent, fromProtoSource, fromProtoStatus, inboundMessageFields } from '@waygate/contracts';
import { ACK, type DeliveryInfo, type HandlerOutcome } from '@waygate/nats';
import { InboundMessageReceived, MessageStatusChanged } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { FeedBuilder, RecordOutcome } from '../domain/feed-builder';

/**
 * Feeds the tenants' event logs from `waygate.<region>.events.>`: MessageStatusChanged from delivery-retry and
 * receipt, InboundMessageReceived from receipt. Acknowledged once the log committed (or the event is not a tenant
 * event); a store failure throws, so the consumer retries. Logs ids only: never texts or phone numbers.
 */
export function createFeedInputsHandler(
  builder: FeedBuilder,
  subjects: { deliveryEvents: string; receiptEvents: string; inboundEvents: string },
  logger: Logger,
) {
  function logged(outcome: RecordOutcome, ids: Record<string, string>): HandlerOutcome {
    if (outcome.kind === 'not-ours') logger.warn(ids, `feed input for ${outcome.reason}; skipped`);
    else if (outcome.kind === 'appended') {
      logger.info(
        { ...ids, sequences: outcome.events.map((e) => e.sequence), event_ids: outcome.events.map((e) => e.eventId) },
        'tenant events appended',
      );
    }
    return ACK;
  }

  return async (data: Uint8Array, info: DeliveryInfo): Promise<HandlerOutcome> => {
    if (info.subject === subjects.inboundEvents) {
      const event = decodeEvent(InboundMessageReceived, data);
      if (!event || !event.tenantId || !event.waMessageId || !event.from || !event.occurredAt) {
        return { kind: 'reject', reason: 'not a valid InboundMessageReceived' };
      }
      const outcome = await builder.recordInbound({
        tenantId: event.tenantId,
        occurredAt: event.occurredAt,
        message: {
          waMessageId: event.waMessageId,
          phoneNumberId: event.phoneNumberId,
          from: event.from,
          type: event.type || 'unknown',
          ...inboundMessageFields(event),
          ...(event.serviceWindowClosesAt ? { serviceWindowClosesAt: event.serviceWindowClosesAt } : {}),
        },
      });
      return logged(outcome, { tenant_id: event.tenantId, input_event_id: event.eventId });
    }
    // Other event kinds may appear on events.> later; they are not tenant events (yet).
    if (info.subject !== subjects.deliveryEvents && info.subject !== subjects.receiptEvents) return ACK;
    const event = decodeEvent(MessageStatusChanged, data);
    if (!event) return { kind: 'reject', reason: 'not a valid MessageStatusChanged' };
    const status = fromProtoStatus(event.status);
    const source = fromProtoSource(event.source);
    if (!status || !source || !event.tenantId || !event.messageId || !event.occurredAt) {
      return { kind: 'reject', reason: 'MessageStatusChanged without tenant, message, a known status and source, and occurred_at' };
    }
    const outcome = await builder.recordStatus({
      tenantId: event.tenantId,
      messageId: event.messageId,
      status,
      source,
      occurredAt: event.occurredAt,
      ...(event.waMessageId ? { waMessageId: event.waMessageId } : {}),
      ...(event.recipient ? { recipient: event.recipient } : {}),
      ...(event.errorCode ? { errorCode: event.errorCode } : {}),
      ...(event.errorTitle ? { errorTitle: event.errorTitle } : {}),
    });
    return logged(outcome, { tenant_id: event.tenantId, message_id: event.messageId, input_event_id: event.eventId });
  };
}
