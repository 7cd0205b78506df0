import type { MessageContent } from '@waygate/domain';

/**
 * What delivery-retry delivers: any content kind (a reaction already names the wamid it reacts to), with the wamid
 * the message quotes (Meta's `context.message_id`), which is deleted with the content.
 */
export type DeliveryContent = MessageContent & {
  /** From MessageAccepted.reply_to_wa_message_id; absent when the message quotes nothing. */
  readonly contextWaMessageId?: string;
};

/**
 * Where delivery of one message stands, as delivery-retry tracks it:
 * PENDING (waiting for an attempt) -> SENT (Meta returned a wamid) -> DELIVERED (a webhook confirmed delivery or
 * read). FAILED, EXPIRED and CANCELED end it. Only PENDING (and SENT, for a failure Meta reports later that is worth
 * another attempt) can still change.
 */
export type DeliveryState = 'PENDING' | 'SENT' | 'DELIVERED' | 'FAILED' | 'EXPIRED' | 'CANCELED';

/** States after which the content is never needed again, so it is deleted. */
export const CONTENT_FREE_STATES: ReadonlySet<DeliveryState> = new Set(['DELIVERED', 'FAILED', 'EXPIRED', 'CANCELED']);

/** delivery-retry's record of one message: the source of truth for whether and when it is (re)sent. */
export interface Delivery {
  readonly tenantId: string;
  readonly messageId: string;
  readonly phoneNumberId: string;
  /** Recipient, E.164. */
  readonly to: string;
  /**
   * Acceptance order (the MessageAccepted stream sequence): messages from one number to one recipient go out in this
   * order, each waiting until the one before it is no longer PENDING.
   */
  readonly laneSeq: number;
  /** Undefined once deleted (see CONTENT_FREE_STATES). */
  readonly content?: DeliveryContent;
  readonly state: DeliveryState;
  /** Calls made to the Cloud API. */
  readonly attempts: number;
  readonly waMessageId?: string;
  readonly lastErrorCode?: number;
  readonly lastErrorTitle?: string;
  /** When the next attempt is due (PENDING only). */
  readonly nextAttemptAt?: Date;
  readonly acceptedAt: Date;
  readonly expiresAt: Date;
  readonly updatedAt: Date;
  /** W3C traceparent of the message's trace, so each attempt joins it. */
  readonly traceContext?: string;
}

/** A delivery outcome other services need to know about (published through the store's outbox). */
export interface DeliveryEvent {
  /** Stable per message and outcome, so re-publishing after a crash is idempotent downstream. */
  readonly eventId: string;
  readonly tenantId: string;
  readonly messageId: string;
  /** ACCEPTED reports an attempt that will be retried (the status does not change). */
  readonly status: 'ACCEPTED' | 'SENT' | 'FAILED' | 'EXPIRED' | 'CANCELED';
  readonly recipient: string;
  readonly attempt: number;
  readonly waMessageId?: string;
  readonly occurredAt: Date;
  readonly errorCode?: number;
  readonly errorTitle?: string;
  readonly nextAttemptAt?: Date;
  readonly traceContext?: string;
  /** SENT: the customer's wa_id from Meta's answer (contacts[].wa_id), for ingress's customer view. */
  readonly recipientWaId?: string;
}

/** The state change one attempt (or expiry, cancel, webhook) makes, recorded with its events in one write. */
export interface DeliveryUpdate {
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly waMessageId?: string;
  /** Undefined clears the last error. */
  readonly lastErrorCode?: number;
  readonly lastErrorTitle?: string;
  readonly nextAttemptAt?: Date;
  readonly updatedAt: Date;
}

/**
 * Whether this is the CANCELED placeholder a cancel left for a message delivery-retry had not seen yet: it has no
 * phone number or recipient until ingress's MessageAccepted meets it at intake.
 */
export function isCancelTombstone(delivery: Delivery): boolean {
  return delivery.state === 'CANCELED' && delivery.phoneNumberId === '';
}

/** The delivery after `update` is recorded, exactly as the store records it. */
export function applyUpdate(delivery: Delivery, update: DeliveryUpdate): Delivery {
  const waMessageId = update.waMessageId ?? delivery.waMessageId;
  const content = CONTENT_FREE_STATES.has(update.state) ? undefined : delivery.content;
  return {
    tenantId: delivery.tenantId,
    messageId: delivery.messageId,
    phoneNumberId: delivery.phoneNumberId,
    to: delivery.to,
    laneSeq: delivery.laneSeq,
    acceptedAt: delivery.acceptedAt,
    expiresAt: delivery.expiresAt,
    state: update.state,
    attempts: update.attempts,
    updatedAt: update.updatedAt,
    ...(content !== undefined ? { content } : {}),
    ...(waMessageId !== undefined ? { waMessageId } : {}),
    ...(update.lastErrorCode !== undefined ? { lastErrorCode: update.lastErrorCode } : {}),
    ...(update.lastErrorTitle !== undefined ? { lastErrorTitle: update.lastErrorTitle } : {}),
    ...(update.state === 'PENDING' && update.nextAttemptAt !== undefined ? { nextAttemptAt: update.nextAttemptAt } : {}),
    ...(delivery.traceContext !== undefined ? { traceContext: delivery.traceContext } : {}),
  };
}

/** The event that announces a delivery's current state (undefined for DELIVERED: receipt announced that already). */
export function eventFor(delivery: Delivery): DeliveryEvent | undefined {
  if (delivery.state === 'DELIVERED') return undefined;
  const common = {
    tenantId: delivery.tenantId,
    messageId: delivery.messageId,
    recipient: delivery.to,
    attempt: delivery.attempts,
    occurredAt: delivery.updatedAt,
    ...(delivery.lastErrorCode !== undefined ? { errorCode: delivery.lastErrorCode } : {}),
    ...(delivery.lastErrorTitle !== undefined ? { errorTitle: delivery.lastErrorTitle } : {}),
    ...(delivery.traceContext !== undefined ? { traceContext: delivery.traceContext } : {}),
  };
  switch (delivery.state) {
    case 'PENDING':
      // One per attempt: an attempt that will be retried.
      return {
        ...common,
        eventId: `${delivery.messageId}:delivery:attempt:${delivery.attempts}`,
        status: 'ACCEPTED',
        nextAttemptAt: delivery.nextAttemptAt,
      };
    case 'SENT':
      // Per attempt too: a message Meta failed later may be sent again and get another wamid.
      return {
        ...common,
        eventId: `${delivery.messageId}:delivery:sent:${delivery.attempts}`,
        status: 'SENT',
        waMessageId: delivery.waMessageId,
      };
    default:
      return { ...common, eventId: `${delivery.messageId}:delivery:${delivery.state.toLowerCase()}`, status: delivery.state };
  }
}

/**
 * Whether WhatsApp reports nothing after `sent` for this content: a reaction gets only a `sent` status, never
 * delivered or read. Such a delivery is settled when it is sent (stored as DELIVERED: content deleted, nothing left
 * to wait for or expire) and announced as SENT, which is where the message ends.
 */
export function endsAtSent(content: DeliveryContent | undefined): boolean {
  return content?.kind === 'reaction';
}

/**
 * The write recording a send WhatsApp accepted (`sent` is a SENT update): SENT announced; for content that
 * {@link endsAtSent}, settled in the same write, still announced as SENT.
 */
export function sentWrite(delivery: Delivery, sent: DeliveryUpdate): { readonly update: DeliveryUpdate; readonly event?: DeliveryEvent } {
  const event = eventFor(applyUpdate(delivery, sent));
  return endsAtSent(delivery.content) ? { update: { ...sent, state: 'DELIVERED' }, event } : { update: sent, event };
}
