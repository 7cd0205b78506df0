import type { MessageStatus } from '@waygate/domain';

/** What a message says. Only text for now; templates, media and interactive content come later. */
export type MessageContent = { readonly kind: 'text'; readonly body: string; readonly previewUrl: boolean };

/** Where a status report came from. */
export type StatusSource = 'ingress' | 'delivery' | 'webhook';

/** One entry of a message's timeline. */
export interface TimelineEntry {
  /** De-duplication key: the event that reported it. */
  readonly eventId: string;
  readonly status: MessageStatus;
  readonly occurredAt: Date;
  readonly source: StatusSource;
  readonly errorCode?: number;
  readonly errorTitle?: string;
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
  readonly content: MessageContent;
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
