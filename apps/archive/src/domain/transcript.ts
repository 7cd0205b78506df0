import { createHash } from 'node:crypto';
import type { MessageStatus } from '@waygate/domain';

/**
 * The archive's read model (issue 13): what a transcript, a search hit, an export and the analysis see of a message.
 * It is built from the append-only archived events (archived-event.ts): a message's record plus its statuses.
 * Plain data, no transport types: the gRPC handlers translate it to waygate.archive.v1.TranscriptMessage.
 */

/** Who sent a message. */
export type Direction = 'inbound' | 'outbound';

/** Meta's pricing of a message as its status webhook reported it (Meta reports no amount). */
export interface Pricing {
  readonly billable: boolean;
  /** PMP (per-message pricing) or CBP (before July 2025). */
  readonly pricingModel?: string;
  /** regular, free_customer_service, free_entry_point ... */
  readonly type?: string;
  /** marketing, utility, authentication, authentication-international, service ... */
  readonly category?: string;
}

/** One status of an outbound message. */
export interface TranscriptStatus {
  readonly status: MessageStatus;
  readonly occurredAt: Date;
  readonly errorCode?: number;
  readonly errorTitle?: string;
  readonly pricing?: Pricing;
}

/** Polarity of a scored text. */
export type SentimentLabel = 'positive' | 'neutral' | 'negative';

/**
 * Language and sentiment of one customer text. `label` and `score` are absent when the text was not scored (no text,
 * or a language the sentiment library does not support: it is never scored as if it were English).
 */
export interface Sentiment {
  /** ISO 639-1, when detected. */
  readonly language?: string;
  readonly score?: number;
  readonly label?: SentimentLabel;
}

/** The key of a conversation: one tenant's business number and one customer. */
export interface ConversationKey {
  readonly tenantId: string;
  readonly phoneNumberId: string;
  /** E.164. Personal data: never logged. */
  readonly customer: string;
}

/** One archived message, both directions. */
export interface TranscriptEntry {
  /** The archive's record id: the event id of the message's record (accepted or inbound event). */
  readonly recordId: string;
  readonly tenantId: string;
  readonly conversationId: string;
  /** Waygate's message id (outbound) or WhatsApp's id (inbound). */
  readonly messageId: string;
  /** WhatsApp's id of the message, when known (outbound: from its SENT status). */
  readonly waMessageId?: string;
  readonly direction: Direction;
  /**
   * WhatsApp's type: text, template, image, video, audio, document, sticker, interactive, location, contacts,
   * reaction, button, order, edit, revoke, nfm_reply, system, unsupported ...
   */
  readonly type: string;
  /** Accepted by ingress (outbound) or WhatsApp's timestamp (inbound). */
  readonly occurredAt: Date;
  /** The searchable text: body, caption, template parameters, interactive titles, filename. Never logged. */
  readonly text?: string;
  /** Full-fidelity content as JSON. Never logged. */
  readonly contentJson?: string;
  /** media-store ids the message carries. */
  readonly mediaIds: readonly string[];
  readonly templateName?: string;
  /** MARKETING | UTILITY | AUTHENTICATION, for templates. */
  readonly templateCategory?: string;
  /** The wamid this message replies to, reacts to, edits or revokes. */
  readonly contextWaMessageId?: string;
  /** Outbound: every status, oldest first (empty for inbound). */
  readonly statuses: readonly TranscriptStatus[];
  /** Outbound: the latest status. */
  readonly status?: MessageStatus;
  /** Inbound text: language and sentiment, once analysed. */
  readonly sentiment?: Sentiment;
}

/**
 * The conversation id of a key: opaque and stable (the same key always gives the same id, in every store), so that
 * an id names one conversation without spelling out the customer's number.
 */
export function conversationIdOf(key: ConversationKey): string {
  const digest = createHash('sha256').update(`${key.tenantId}\u0000${key.phoneNumberId}\u0000${key.customer}`).digest('base64url');
  return `cv_${digest.slice(0, 26)}`;
}

/** Whether `id` has the shape of a conversation id (`cv_` and 26 base64url characters, see conversationIdOf). */
export function isConversationId(id: string): boolean {
  return /^cv_[A-Za-z0-9_-]{26}$/.test(id);
}
