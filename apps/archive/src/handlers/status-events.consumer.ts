import { decodeEvent, fromProtoSource, fromProtoStatus } from '@waygate/contracts';
import type { HandlerOutcome } from '@waygate/nats';
import { MessageStatusChanged } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { ArchiveService } from '../domain/archive-service';
import type { Pricing } from '../domain/transcript';
import { recordEvent } from './record-event';

/**
 * Meta's pricing as the archive keeps it. Meta announced it will drop `billable`; without it, a status is billable
 * when its PMP type is `regular` (the free types are free_customer_service and free_entry_point).
 */
function pricingOf(pricing: MessageStatusChanged['pricing']): Pricing | undefined {
  if (!pricing || (!pricing.pricingModel && !pricing.category)) return undefined;
  return {
    billable: pricing.billable ?? pricing.type === 'regular',
    ...(pricing.pricingModel ? { pricingModel: pricing.pricingModel } : {}),
    ...(pricing.type ? { type: pricing.type } : {}),
    ...(pricing.category ? { category: pricing.category } : {}),
  };
}

/** Archives MessageStatusChanged events (from delivery-retry and receipt) as 'status' events, keyed by event id, with pricing. */
export function createStatusEventsHandler(service: ArchiveService, logger: Logger) {
  return async (data: Uint8Array): Promise<HandlerOutcome> => {
    const event = decodeEvent(MessageStatusChanged, data);
    if (!event) return { kind: 'reject', reason: 'not a valid MessageStatusChanged' };
    const status = fromProtoStatus(event.status);
    const source = fromProtoSource(event.source);
    if (!status || !source || !event.occurredAt)
      return { kind: 'reject', reason: 'MessageStatusChanged without a known status, a known source and occurred_at' };
    const pricing = pricingOf(event.pricing);
    return recordEvent(service, logger, {
      eventId: event.eventId,
      tenantId: event.tenantId,
      messageId: event.messageId,
      kind: 'status',
      status,
      occurredAt: event.occurredAt,
      source,
      ...(event.waMessageId ? { waMessageId: event.waMessageId } : {}),
      ...(event.errorCode ? { errorCode: event.errorCode } : {}),
      ...(event.errorTitle ? { errorTitle: event.errorTitle } : {}),
      ...(pricing ? { pricing } : {}),
    });
  };
}
