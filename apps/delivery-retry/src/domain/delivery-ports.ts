import type { RetryReason } from '@waygate/domain';
import type { Delivery, DeliveryContent, DeliveryEvent } from './delivery';
import type { GovernorSettings } from './throughput-governor';

/** A message ingress accepted, as delivery-retry receives it. */
export interface AcceptedMessage {
  readonly tenantId: string;
  readonly messageId: string;
  readonly to: string;
  readonly phoneNumberId: string;
  readonly content: DeliveryContent;
  readonly acceptedAt: Date;
  readonly expiresAt: Date;
  /** Acceptance order (the stream sequence). */
  readonly laneSeq: number;
  readonly traceContext?: string;
}

/** A status WhatsApp reported by webhook for a message delivery-retry sent (via receipt). */
export interface WebhookStatusReport {
  readonly tenantId: string;
  readonly messageId: string;
  readonly status: 'SENT' | 'DELIVERED' | 'READ' | 'FAILED';
  readonly waMessageId?: string;
  readonly errorCode?: number;
  readonly errorTitle?: string;
  readonly occurredAt: Date;
}

/** Publishes delivery-retry's events (MessageStatusChanged with source delivery). */
export interface StatusPublisher {
  /** Durable when it resolves; safe to repeat with the same event id. */
  publish(event: DeliveryEvent): Promise<void>;
}

/** The Cloud API credentials and tier of a tenant's business number (undefined if not configured here). */
export type PhoneNumberLookup = (tenantId: string, phoneNumberId: string) => { accessToken: string; throughputMps: number } | undefined;

/** What delivery-retry counts; the adapter turns it into OpenTelemetry metrics. */
export interface DeliveryMetrics {
  attempt(outcome: 'sent' | 'retry' | 'failed' | 'needs-configuration', errorCode: number | undefined): void;
  retry(reason: RetryReason | 'needs-configuration'): void;
  expired(): void;
  throttled(phoneNumberId: string, by: 'number' | 'pair' | 'circuit'): void;
  /** A call found interrupted by a crash (its outcome unknown): the delivery waits for webhook evidence first. */
  interruptedCall(): void;
}

/** Logging hooks, so the domain reports trouble without depending on a logger. */
export interface EngineEvents {
  /** An attempt threw (store or network trouble); its lease runs out and another pass retries it. */
  attemptCrashed(delivery: Delivery, error: unknown): void;
  /** A scheduler pass failed as a whole; the loop goes on after one poll interval. */
  passFailed(error: unknown): void;
}

/** Exponential backoff bounds for retries (full jitter, capped). */
export interface RetrySettings {
  readonly baseMs: number;
  readonly maxMs: number;
}

export interface EngineSettings {
  /** This replica's name, for leases. */
  readonly owner: string;
  /** Attempts in flight at once in this replica. */
  readonly concurrency: number;
  /** How often an idle replica looks for due work (new messages wake it at once). */
  readonly pollIntervalMs: number;
  /** How long a claimed delivery stays with this replica; longer than an attempt can take. */
  readonly leaseMs: number;
  readonly retry: RetrySettings;
  readonly governor: GovernorSettings;
  /**
   * How long a delivery whose call was interrupted by a crash waits before it is sent again. Meta may have accepted
   * it: its `sent` webhook (which carries the message id in `biz_opaque_callback_data`) settles it meanwhile, and only
   * if none arrives is it sent again. This keeps duplicates after a crash to the calls whose webhook got lost.
   */
  readonly reconcileGraceMs: number;
}
