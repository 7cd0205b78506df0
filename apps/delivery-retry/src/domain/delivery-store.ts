import type { CustomerDataSubject } from '@waygate/domain';
import type { Delivery, DeliveryEvent, DeliveryUpdate } from './delivery';
import type { LimiterChange, LimiterState } from './limiter-state';

/** A delivery as stored, with the version every conditional write checks. */
export interface StoredDelivery {
  readonly delivery: Delivery;
  /** Bumped by every state change (claims included); a write with an older version changes nothing. */
  readonly version: number;
  /** Set while a replica works on the delivery; another replica may take it over once `leaseUntil` has passed. */
  readonly leaseOwner?: string;
  readonly leaseUntil?: Date;
  /**
   * Set just before a Cloud API call and cleared by the update that records its outcome. Found set on a delivery
   * whose lease ran out, it means the holder died mid-call: Meta may or may not have the message.
   */
  readonly callStartedAt?: Date;
}

/** Events recorded by a state change and not yet published (the outbox). */
export interface PendingAnnouncements {
  readonly tenantId: string;
  readonly messageId: string;
  readonly events: readonly DeliveryEvent[];
}

/** Counts for the queue-depth and oldest-pending metrics. */
export interface DeliveryBacklog {
  readonly pending: number;
  /** Acceptance time of the oldest PENDING delivery. */
  readonly oldestPendingAcceptedAt?: Date;
  readonly unannounced: number;
}

/**
 * delivery-retry's storage port: deliveries (the durable schedule: nothing lives only in a timer), their outbox of
 * events, and the limiter states replicas share. Every write is durable when its promise resolves.
 */
export interface DeliveryStore {
  /** Stores a delivery unless one exists for the message (possibly a CANCELED tombstone); returns the stored one. */
  insertIfAbsent(delivery: Delivery, event?: DeliveryEvent): Promise<{ inserted: boolean; stored: StoredDelivery }>;
  get(tenantId: string, messageId: string): Promise<StoredDelivery | undefined>;

  /**
   * Leases up to `limit` deliveries that are due now: PENDING, next attempt due, not leased by anyone, phone number
   * not in `excludePhoneNumberIds`, and first in their lane (no PENDING delivery from the same number to the same
   * recipient with a smaller laneSeq). Most overdue first. Each claim bumps the version. A lane whose first delivery
   * is not due hides no other lane, however many deliveries wait behind it.
   */
  claimDue(options: {
    now: Date;
    limit: number;
    owner: string;
    leaseMs: number;
    excludePhoneNumberIds: readonly string[];
  }): Promise<StoredDelivery[]>;

  /**
   * Applies `update` (and records `event` in the outbox) if the delivery is still at `expectedVersion`; clears any
   * lease. Content is deleted with it when the new state needs none. An event whose id the outbox already holds is
   * not recorded again (the first one stays). False, and nothing written, if the version moved on.
   */
  update(tenantId: string, messageId: string, expectedVersion: number, update: DeliveryUpdate, event?: DeliveryEvent): Promise<boolean>;

  /** Marks a Cloud API call as started (see StoredDelivery.callStartedAt); false if the version moved on. */
  markCallStarted(tenantId: string, messageId: string, expectedVersion: number, at: Date): Promise<boolean>;

  /** PENDING or SENT deliveries whose deadline has passed and that nobody holds a lease on, oldest deadline first. */
  listExpired(now: Date, limit: number): Promise<StoredDelivery[]>;

  /** Leases up to `limit` deliveries with unpublished events (outbox), for `leaseMs`. */
  claimAnnouncements(options: { now: Date; limit: number; leaseMs: number }): Promise<PendingAnnouncements[]>;
  /** Removes published events from a delivery's outbox. */
  markAnnounced(tenantId: string, messageId: string, eventIds: readonly string[]): Promise<void>;

  /** Applies each change atomically per key (all in one transaction where the backend can). */
  changeLimiters<R>(changes: readonly { key: string; change: LimiterChange<R> }[]): Promise<R[]>;
  /** Limiter states whose key starts with `prefix`. */
  listLimiters(prefix: string): Promise<{ key: string; state: LimiterState }[]>;

  /**
   * Deletes limiter states under `prefix` that carry no information any more (their GCRA time is before
   * `idleBefore` and no backoff is active), so pair states do not pile up for every customer ever messaged.
   */
  pruneLimiters(prefix: string, idleBefore: Date): Promise<number>;

  backlog(): Promise<DeliveryBacklog>;

  /** Erasure and export: a page of the tenant's deliveries to `to` (E.164 or a customer reference), by message id. */
  listForCustomer(
    tenantId: string,
    to: string,
    page: { readonly afterMessageId?: string; readonly limit: number },
  ): Promise<StoredDelivery[]>;
  /**
   * Erasure (issue 14): every delivery of the tenant to `subject.customer` loses its content, and its recipient (in
   * the row and in unpublished outbox events) becomes `subject.customerRef`; the pair pacing states naming the number
   * are deleted. State, attempts, errors, wamids and times stay (billing, audit). The version is not bumped: an
   * outcome being recorded for a send in flight still lands. Idempotent; returns how many rows it changed.
   */
  eraseCustomer(subject: CustomerDataSubject): Promise<number>;
  /** Makes deletions reach the files (SQLite: WAL checkpoint with TRUNCATE; nothing where the backend needs nothing). */
  flushDeleted(): Promise<void>;
  close(): Promise<void>;
}
