import type { ContentKind, MessageStatus, TemplateCategory } from '@waygate/domain';
import type { Pricing, Sentiment } from './transcript';

/** Which part of the platform observed a status (mirrors the wire enum without importing generated types). */
export type StatusSource = 'delivery' | 'webhook';

/** Fields every archived event has. */
interface ArchivedEventBase {
  /** De-duplication key within the tenant: recording it again has no effect. */
  readonly eventId: string;
  readonly tenantId: string;
  /** Waygate's message id; for an inbound message, WhatsApp's id of it (wamid), the only id it has. */
  readonly messageId: string;
  /** When it happened (ingress's acceptance time, the status's own time, or WhatsApp's time of an inbound message). */
  readonly occurredAt: Date;
  /** When the archive first recorded it; a duplicate keeps the first time. */
  readonly recordedAt: Date;
}

/** Ingress accepted the message (from MessageAccepted). The archive is the tenant's own, so it keeps content. */
export interface AcceptedArchivedEvent extends ArchivedEventBase {
  readonly kind: 'accepted';
  readonly status: 'ACCEPTED';
  /** E.164. Personal data: never logged. */
  readonly recipient: string;
  readonly phoneNumberId: string;
  /** The text sent (text messages only). Personal data: never logged. */
  readonly textBody?: string;
  /** What the message carries; undefined for events archived before content types existed. */
  readonly contentType?: ContentKind;
  /** ingress's content summary (bounded, never an authentication code). Personal data: never logged. */
  readonly contentSummary?: string;
  /**
   * The whole content as accepted: the domain MessageContent as JSON (see message-record.ts). An AUTHENTICATION
   * template keeps its name and language only, never its parameters (one-time codes). Absent for events archived
   * before content was kept. Personal data: never logged.
   */
  readonly contentJson?: string;
  /** The searchable text derived from the content (see searchableTextOf). Personal data: never logged. */
  readonly text?: string;
  /** Templates: the template's name and its category from the catalog at acceptance. */
  readonly templateName?: string;
  readonly templateCategory?: TemplateCategory;
  /** The wamid the message replies to (or, for a reaction, reacts to). */
  readonly contextWaMessageId?: string;
  /** media-store ids the content names, in order, distinct. */
  readonly mediaIds?: readonly string[];
}

/** A status observed by delivery-retry or receipt (from MessageStatusChanged). */
export interface StatusArchivedEvent extends ArchivedEventBase {
  readonly kind: 'status';
  readonly status: MessageStatus;
  readonly source: StatusSource;
  readonly waMessageId?: string;
  readonly errorCode?: number;
  readonly errorTitle?: string;
  /** Meta's pricing of the message, as this status's webhook reported it. */
  readonly pricing?: Pricing;
}

/**
 * A message a customer sent to one of the tenant's numbers (from InboundMessageReceived), keyed by its wamid. It has
 * no Waygate status. The archive keeps its content, as for accepted messages; media stays in media-store (by id).
 */
export interface InboundArchivedEvent extends ArchivedEventBase {
  readonly kind: 'inbound';
  /** The tenant's business phone number id the customer wrote to. */
  readonly phoneNumberId: string;
  /** The customer, E.164. Personal data: never logged. */
  readonly from: string;
  /** WhatsApp's message type (text, image, button, location, ...). */
  readonly messageType: string;
  /** Text body, media caption or reply title. Personal data: never logged. */
  readonly text?: string;
  /** The id of a button or list reply, or a quick-reply payload. */
  readonly replyId?: string;
  /** media-store's id of the message's media. */
  readonly mediaId?: string;
  readonly mimeType?: string;
  /** The wamid this message replies or reacts to. */
  readonly contextWaMessageId?: string;
  /** The whole parsed content as JSON (location, contacts, order, ...). Personal data: never logged. */
  readonly contentJson?: string;
  /** The searchable text: `text` plus a document's filename (see inboundSearchTextOf). Personal data: never logged. */
  readonly searchText?: string;
  /** Language and sentiment of `text`, when the archive was given an analyser and it answered. */
  readonly sentiment?: Sentiment;
}

/** One recorded event about a message. */
export type ArchivedEvent = AcceptedArchivedEvent | StatusArchivedEvent | InboundArchivedEvent;

/** What an event looks like before the archive stamps `recordedAt` on it. */
export type IncomingEvent =
  | DistributiveOmit<AcceptedArchivedEvent, 'recordedAt'>
  | DistributiveOmit<StatusArchivedEvent, 'recordedAt'>
  | DistributiveOmit<InboundArchivedEvent, 'recordedAt'>;

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
