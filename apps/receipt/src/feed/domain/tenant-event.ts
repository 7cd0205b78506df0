import type { ContentKind, MessageStatus } from '@waygate/domain';

/** What a tenant event reports: a status change of a message the tenant sent, or a message a customer sent. */
export type TenantEventType = 'status' | 'inbound';

export const TENANT_EVENT_TYPES: readonly TenantEventType[] = ['status', 'inbound'];

/** A status change of one of the tenant's messages. */
export interface MessageStatusChange {
  readonly messageId: string;
  readonly waMessageId?: string;
  /** The recipient in E.164 form, once known (delivery-retry reports it). */
  readonly recipient?: string;
  /** What happened. */
  readonly status: MessageStatus;
  /** The message's status after it (differs from `status` only for a failure surfaced after delivery). */
  readonly messageStatus: MessageStatus;
  readonly errorCode?: number;
  readonly errorTitle?: string;
  /** A DELIVERED inferred from a READ that arrived first. */
  readonly implied?: boolean;
  /** What the message carries, once the feed has seen its acceptance. */
  readonly contentType?: ContentKind;
  /** ingress's content summary, once the feed has seen its acceptance. */
  readonly contentSummary?: string;
}

/** A message a customer sent to one of the tenant's numbers. */
export interface InboundMessage {
  readonly waMessageId: string;
  readonly phoneNumberId: string;
  /** The customer, E.164. */
  readonly from: string;
  readonly type: string;
  readonly text?: string;
  readonly replyId?: string;
  readonly mediaId?: string;
  readonly mimeType?: string;
  readonly contextWaMessageId?: string;
  readonly contentJson?: string;
  readonly serviceWindowClosesAt?: Date;
}

interface EventBase {
  readonly tenantId: string;
  /** Stable id: the same fact always gets the same id, which is what makes appending idempotent. */
  readonly eventId: string;
  /** WhatsApp's time for what WhatsApp reported; Waygate's for what Waygate observed. */
  readonly occurredAt: Date;
  readonly recordedAt: Date;
}

/** An event about to be appended to a tenant's log (the store assigns its sequence). */
export type NewTenantEvent =
  | (EventBase & { readonly type: 'status'; readonly status: MessageStatusChange })
  | (EventBase & { readonly type: 'inbound'; readonly inbound: InboundMessage });

/** An entry of a tenant's log. */
export type TenantEvent = NewTenantEvent & {
  /** Position in the tenant's log: 1, 2, 3, ... with no gaps. */
  readonly sequence: number;
};

/** The id of the event reporting `status` for a message: one per message and status, so re-deriving it de-duplicates. */
export function statusEventId(messageId: string, status: MessageStatus): string {
  return `status.${messageId}.${status.toLowerCase()}`;
}

export function inboundEventId(waMessageId: string): string {
  return `inbound.${waMessageId}`;
}

/** What callback ordering is per: a message's events are delivered in order; each inbound message stands alone. */
export function messageKeyOf(event: NewTenantEvent): string {
  return event.type === 'status' ? `message:${event.status.messageId}` : `inbound:${event.inbound.waMessageId}`;
}

/** The customer an event is about: the recipient of a status event, the sender of an inbound message. */
export function customerOf(event: NewTenantEvent): string | undefined {
  return event.type === 'status' ? event.status.recipient : event.inbound.from;
}

/** The Waygate message an event is about (status events only). */
export function messageIdOf(event: NewTenantEvent): string | undefined {
  return event.type === 'status' ? event.status.messageId : undefined;
}

/**
 * An event of an erased customer (issue 14), as the tenant's log keeps it: the customer becomes `customerRef`, and
 * everything they or the message said goes (an inbound message's text, content, reply id and media; a status's content
 * summary). Ids, types, statuses, errors and times stay: the tenant's history and billing. Pure.
 */
export function erasedEventOf<E extends NewTenantEvent>(event: E, customerRef: string): E {
  if (event.type === 'status') {
    const { contentSummary: _summary, ...status } = event.status;
    return { ...event, status: { ...status, ...(status.recipient !== undefined ? { recipient: customerRef } : {}) } };
  }
  const { text: _text, contentJson: _content, replyId: _reply, mediaId: _media, ...inbound } = event.inbound;
  return { ...event, inbound: { ...inbound, from: customerRef } };
}
