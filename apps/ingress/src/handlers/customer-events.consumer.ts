import { decodeEvent } from '@waygate/contracts';
import { isE164, maskPhoneNumber } from '@waygate/domain';
import { ACK, type HandlerOutcome, type SubjectHandler } from '@waygate/nats';
import { CustomerPreference, CustomerPreferenceChanged, InboundMessageReceived, MessageStatus, OptOutSource } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import { customerKeyOfBsuid, customerKeyOfWaId, type CustomerView } from '../domain/customer-view';
import type { MessageStore } from '../domain/message-store';
import type { OptOutList, OptOutSource as DomainOptOutSource } from '../domain/opt-out-list';
import { decodeStatusEvent } from './status-events.consumer';

/** Meta's error for a marketing message to a customer who stopped marketing messages. */
export const META_MARKETING_OPT_OUT_ERROR = 131050;

/** Runs handlers one after another on the same event; the first that does not acknowledge decides the outcome. */
export function inSequence(...handlers: SubjectHandler[]): SubjectHandler {
  return async (data, info) => {
    for (const handler of handlers) {
      const outcome = await handler(data, info);
      if (outcome.kind !== 'ack') return outcome;
    }
    return ACK;
  };
}

/**
 * Applies receipt's InboundMessageReceived to the customer view: the message is indexed (replies and reactions may
 * name it) and its customer-service window opened or extended. Idempotent by wamid; acknowledged after the commit.
 */
export function createInboundEventsHandler(view: CustomerView, logger: Logger) {
  return async (data: Uint8Array): Promise<HandlerOutcome> => {
    const event = decodeEvent(InboundMessageReceived, data);
    if (!event || !event.tenantId || !event.phoneNumberId || !event.waMessageId || !event.occurredAt || !event.from)
      return { kind: 'reject', reason: 'not a valid InboundMessageReceived' };
    // A sender without a phone number (Meta's business-scoped user ids) is named by that id instead.
    const byPhone = isE164(event.from);
    await view.recordInbound({
      tenantId: event.tenantId,
      phoneNumberId: event.phoneNumberId,
      waMessageId: event.waMessageId,
      customer: byPhone ? event.from : '',
      customerKey: byPhone ? customerKeyOfWaId(event.from) : customerKeyOfBsuid(event.from),
      occurredAt: event.occurredAt,
      windowClosesAt: event.serviceWindowClosesAt,
    });
    logger.debug(
      { tenant_id: event.tenantId, phone_number_id: event.phoneNumberId, window_closes_at: event.serviceWindowClosesAt },
      'customer view: inbound message recorded',
    );
    return ACK;
  };
}

/**
 * What status events teach the customer view and the opt-out list (the status itself is the status handler's): a
 * SENT from delivery-retry names the wa_id Meta answered for the recipient; a FAILED with 131050 says the customer
 * stopped marketing messages.
 */
export function createStatusLearningHandler(deps: { view: CustomerView; optOuts: OptOutList; messages: MessageStore; logger: Logger }) {
  return async (data: Uint8Array): Promise<HandlerOutcome> => {
    // A malformed event is the status handler's to reject; nothing to learn from it here.
    const event = decodeStatusEvent(data);
    if (!event || !event.tenantId || !event.occurredAt) return ACK;
    if (event.status === MessageStatus.MESSAGE_STATUS_SENT && event.recipientWaId && isE164(event.recipient)) {
      await deps.view.recordWaId(event.tenantId, event.recipient, event.recipientWaId.replace(/\D/g, ''), event.occurredAt);
    }
    if (event.status === MessageStatus.MESSAGE_STATUS_FAILED && event.errorCode === META_MARKETING_OPT_OUT_ERROR) {
      const customer = isE164(event.recipient) ? event.recipient : (await deps.messages.get(event.tenantId, event.messageId))?.to;
      if (!customer) return ACK;
      const { added } = await deps.optOuts.add({ tenantId: event.tenantId, customer, source: 'meta-131050', createdAt: event.occurredAt });
      if (added)
        deps.logger.info({ tenant_id: event.tenantId, customer: maskPhoneNumber(customer), source: 'meta-131050' }, 'opt-out added');
    }
    return ACK;
  };
}

const PREFERENCE_SOURCES: Partial<Record<OptOutSource, DomainOptOutSource>> = {
  [OptOutSource.OPT_OUT_SOURCE_STOP_KEYWORD]: 'stop-keyword',
  [OptOutSource.OPT_OUT_SOURCE_QUICK_REPLY]: 'quick-reply',
  [OptOutSource.OPT_OUT_SOURCE_USER_PREFERENCES]: 'user-preferences',
};

/**
 * Applies receipt's CustomerPreferenceChanged to the tenant's opt-out list: stopped adds the customer, resumed
 * removes them. Events are applied in stream order (one consumer), so a stop followed by a resume ends resumed.
 */
export function createPreferenceEventsHandler(optOuts: OptOutList, logger: Logger) {
  return async (data: Uint8Array): Promise<HandlerOutcome> => {
    const event = decodeEvent(CustomerPreferenceChanged, data);
    const source = event && PREFERENCE_SOURCES[event.source];
    if (!event || !event.tenantId || !event.occurredAt || !source || !isE164(event.customer))
      return { kind: 'reject', reason: 'not a valid CustomerPreferenceChanged' };
    const log = { tenant_id: event.tenantId, customer: maskPhoneNumber(event.customer), source };
    if (event.preference === CustomerPreference.CUSTOMER_PREFERENCE_MARKETING_STOPPED) {
      const { added } = await optOuts.add({ tenantId: event.tenantId, customer: event.customer, source, createdAt: event.occurredAt });
      if (added) logger.info(log, 'opt-out added');
      return ACK;
    }
    if (event.preference === CustomerPreference.CUSTOMER_PREFERENCE_MARKETING_RESUMED) {
      if (await optOuts.remove(event.tenantId, event.customer)) logger.info(log, 'opt-out removed');
      return ACK;
    }
    return { kind: 'reject', reason: 'CustomerPreferenceChanged without a preference' };
  };
}
