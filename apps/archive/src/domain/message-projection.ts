import { orderStatusEvents, type MessageStatus } from '@waygate/domain';
import type { AcceptedArchivedEvent, InboundArchivedEvent, StatusArchivedEvent } from './archived-event';
import { conversationIdOf, type Direction, type Sentiment, type TranscriptStatus } from './transcript';

/**
 * One message as the stores keep it beside the events (the "per-message row"): built from its accepted or inbound
 * event alone, so that building it again gives the same row. Its status and wamid come from its status events
 * (outboundStatusOf), whichever arrived first.
 */
export interface MessageRow {
  readonly tenantId: string;
  readonly messageId: string;
  /** The event id of its accepted or inbound event. */
  readonly recordId: string;
  readonly conversationId: string;
  readonly phoneNumberId: string;
  /** E.164. Personal data: never logged. */
  readonly customer: string;
  readonly direction: Direction;
  readonly type: string;
  readonly occurredAt: Date;
  readonly text?: string;
  readonly contentJson?: string;
  readonly mediaIds: readonly string[];
  readonly templateName?: string;
  readonly templateCategory?: string;
  readonly contextWaMessageId?: string;
  /** Inbound: WhatsApp's id is the message id. Outbound: from a status, later. */
  readonly waMessageId?: string;
  readonly sentiment?: Sentiment;
}

/** The events that make a message (the others are its statuses). */
export type MessageEvent = AcceptedArchivedEvent | InboundArchivedEvent;

/** The per-message row of an accepted or inbound event. Pure. */
export function messageRowOf(event: MessageEvent): MessageRow {
  const { customer, text, ...own } = event.kind === 'inbound' ? inboundPartOf(event) : outboundPartOf(event);
  return {
    tenantId: event.tenantId,
    messageId: event.messageId,
    recordId: event.eventId,
    occurredAt: event.occurredAt,
    conversationId: conversationIdOf({ tenantId: event.tenantId, phoneNumberId: event.phoneNumberId, customer }),
    phoneNumberId: event.phoneNumberId,
    customer,
    ...own,
    ...(text !== undefined ? { text } : {}),
    ...(event.contentJson !== undefined ? { contentJson: event.contentJson } : {}),
    ...(event.contextWaMessageId !== undefined ? { contextWaMessageId: event.contextWaMessageId } : {}),
  };
}

/** What a row takes from one direction's event beyond the fields both kinds share. */
type DirectionPart = Pick<MessageRow, 'customer' | 'direction' | 'type' | 'text' | 'mediaIds'> &
  Partial<Pick<MessageRow, 'templateName' | 'templateCategory' | 'waMessageId' | 'sentiment'>>;

function inboundPartOf(event: InboundArchivedEvent): DirectionPart {
  const text = event.searchText ?? event.text;
  return {
    customer: event.from,
    direction: 'inbound',
    type: event.messageType,
    ...(text !== undefined ? { text } : {}),
    mediaIds: event.mediaId ? [event.mediaId] : [],
    waMessageId: event.messageId,
    ...(event.sentiment !== undefined ? { sentiment: event.sentiment } : {}),
  };
}

function outboundPartOf(event: AcceptedArchivedEvent): DirectionPart {
  // Events archived before content was kept have the text body (text messages) at most.
  const text = event.text ?? event.textBody;
  return {
    customer: event.recipient,
    direction: 'outbound',
    type: event.contentType ?? (event.textBody !== undefined ? 'text' : 'unknown'),
    ...(text !== undefined ? { text } : {}),
    mediaIds: event.mediaIds ?? [],
    ...(event.templateName !== undefined ? { templateName: event.templateName } : {}),
    ...(event.templateCategory !== undefined ? { templateCategory: event.templateCategory } : {}),
  };
}

/** An outbound message's statuses for a transcript, oldest first (for people: see orderStatusEvents). */
export function transcriptStatusesOf(events: readonly StatusArchivedEvent[]): TranscriptStatus[] {
  return orderStatusEvents(events).map((event) => ({
    status: event.status,
    occurredAt: event.occurredAt,
    ...(event.errorCode !== undefined ? { errorCode: event.errorCode } : {}),
    ...(event.errorTitle !== undefined ? { errorTitle: event.errorTitle } : {}),
    ...(event.pricing !== undefined ? { pricing: event.pricing } : {}),
  }));
}

/**
 * An outbound message's latest status (ACCEPTED while it has none) and its wamid (the first status that names one),
 * from its status events in any order of arrival. Pure.
 */
export function outboundStatusOf(events: readonly Pick<StatusArchivedEvent, 'status' | 'occurredAt' | 'waMessageId'>[]): {
  status: MessageStatus;
  waMessageId?: string;
} {
  const ordered = orderStatusEvents(events);
  const waMessageId = ordered.find((event) => event.waMessageId)?.waMessageId;
  return { status: ordered.at(-1)?.status ?? 'ACCEPTED', ...(waMessageId ? { waMessageId } : {}) };
}
