import type { ContentKind, MessageContent, MessageStatus, StatusSource, TemplateCategory } from '@waygate/domain';

export type { ContentKind, MessageContent, StatusSource };

/** One entry of a message's timeline. */
export interface TimelineEntry {
  /** De-duplication key: the event that reported it. */
  readonly eventId: string;
  readonly status: MessageStatus;
  /** When it happened according to the reporter (WhatsApp's timestamp for webhook statuses), not when it arrived. */
  readonly occurredAt: Date;
  readonly source: StatusSource;
  readonly errorCode?: number;
  readonly errorTitle?: string;
  /** Delivery entries: which call to the Cloud API this was (1 for the first). */
  readonly attempt?: number;
  /** For an attempt that will be retried: when the next one is due. */
  readonly nextAttemptAt?: Date;
}

/** A message as ingress stores it; ingress owns message status and timeline. */
export interface OutboundMessage {
  readonly tenantId: string;
  readonly messageId: string;
  readonly idempotencyKey: string;
  /** SHA-256 over the normalized request, to tell a retry from a different request with a reused key. */
  readonly requestHash: string;
  readonly to: string;
  readonly phoneNumberId: string;
  /** Undefined once deleted: a message that reached FAILED, EXPIRED or CANCELED keeps only its metadata. */
  readonly content: MessageContent | undefined;
  /** What the content is; stays after the content is deleted. */
  readonly contentType: ContentKind;
  /** A short description of the content (see content-summary.ts); stays after the content is deleted. */
  readonly contentSummary: string;
  /** The wamid this message quotes (Meta's context.message_id), resolved from the request's `reply_to`. */
  readonly replyToWaMessageId?: string;
  /** Templates: the category the catalog gave at acceptance. */
  readonly templateCategory?: TemplateCategory;
  readonly status: MessageStatus;
  readonly waMessageId?: string;
  readonly acceptedAt: Date;
  readonly expiresAt: Date;
  /** Whether MessageAccepted reached JetStream (the outbox flag). */
  readonly published: boolean;
  /** Optimistic-concurrency version, bumped by every status change. */
  readonly version: number;
  /** Oldest first. */
  readonly timeline: readonly TimelineEntry[];
}

/** A message that still has its content, so it can be handed to delivery. */
export type DeliverableMessage = OutboundMessage & { readonly content: MessageContent };

/** Whether the message still has content to deliver (it is deleted when the message ends FAILED, EXPIRED or CANCELED). */
export function isDeliverable(message: OutboundMessage): message is DeliverableMessage {
  return message.content !== undefined;
}
