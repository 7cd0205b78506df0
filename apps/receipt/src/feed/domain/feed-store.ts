import type { ContentKind, MessageStatus } from '@waygate/domain';
import type { MessageFeedState } from './feed-rules';
import type { NewTenantEvent, TenantEvent, TenantEventType } from './tenant-event';

/** Which events a reader wants; every set filter must match (values within one filter are alternatives). */
export interface EventFilter {
  readonly messageIds?: readonly string[];
  /** Customers (E.164): recipients of status events, senders of inbound messages. */
  readonly customers?: readonly string[];
  readonly types?: readonly TenantEventType[];
}

export interface EventQuery {
  /** Events with a greater sequence ... */
  readonly after: number;
  /** ... up to and including this one (default: no bound) ... */
  readonly upTo?: number;
  /** ... at most this many, in sequence order. */
  readonly limit: number;
  readonly filter?: EventFilter;
}

/** What to do with a message: its new state and the events to append (in order). */
export interface MessageDecision {
  readonly state: MessageFeedState;
  readonly events: readonly NewTenantEvent[];
}

/** A tenant event queued for one callback endpoint (the outbox). */
export interface CallbackDeliveryDraft {
  readonly eventId: string;
  readonly sequence: number;
  /** Deliveries with the same key go out in sequence order. */
  readonly messageKey: string;
  /** The exact JSON body to post. */
  readonly body: string;
  readonly queuedAt: Date;
}

export type CallbackDeliveryState = 'pending' | 'delivered' | 'dead';

export interface CallbackDelivery extends CallbackDeliveryDraft {
  readonly tenantId: string;
  readonly endpointId: string;
  readonly state: CallbackDeliveryState;
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  readonly lastError?: string;
  readonly deliveredAt?: Date;
  readonly deadAt?: Date;
  /** Set from a claim until the delivery's outcome is recorded (it may have run out meanwhile). */
  readonly leaseUntil?: Date;
}

/** How an attempt ended. */
export type DeliveryOutcome =
  | { readonly kind: 'delivered'; readonly at: Date }
  | { readonly kind: 'retry'; readonly at: Date; readonly error: string; readonly nextAttemptAt: Date }
  | { readonly kind: 'dead'; readonly at: Date; readonly error: string };

/** A callback endpoint's shared state: how far its outbox was filled from the log, and its circuit breaker. */
export interface EndpointState {
  /** The last log sequence queued for the endpoint. */
  readonly cursor: number;
  readonly consecutiveFailures: number;
  /** Set while the breaker is open: no calls before this time; after it, one probe. */
  readonly openUntil?: Date;
}

/**
 * The tenant feed's storage port: per-tenant event logs, the feed's view of each message, and the callback outbox.
 * Every method is scoped by tenant. Contract: apps/receipt/src/feed/adapters/feed-store.contract.test.ts.
 */
export interface TenantFeedStore {
  /**
   * Atomically reads the message's state, lets `decide` (pure; it may run more than once) choose the new state and
   * the events to append, stores the state and appends the events in order with the tenant's next sequences. An
   * event whose id the tenant's log already has is skipped. `at` dates the state (pruning forgets states not touched
   * within the retention). Returns the events appended by this call.
   */
  applyToMessage(
    tenantId: string,
    messageId: string,
    at: Date,
    decide: (state: MessageFeedState | undefined) => MessageDecision | undefined,
  ): Promise<TenantEvent[]>;
  /** Appends one event with the tenant's next sequence, unless its id is already in the log (then `undefined`). */
  appendEvent(event: NewTenantEvent): Promise<TenantEvent | undefined>;
  /**
   * The highest sequence of the tenant (0 for none). Every event up to it is readable: sequences become visible in
   * order, never with a gap that fills later.
   */
  lastSequence(tenantId: string): Promise<number>;
  /** The lowest retained sequence, if any. */
  firstSequence(tenantId: string): Promise<number | undefined>;
  readEvents(tenantId: string, query: EventQuery): Promise<TenantEvent[]>;
  /**
   * Erasure of one customer (issue 14): each of the tenant's events about them is rewritten by erasedEventOf (content
   * gone, the customer pseudonymised, the log's sequences and ids unchanged), their callback deliveries (whose bodies
   * hold the content) are deleted whatever their state, and the feed's view of their messages names `customerRef` and
   * loses its content summary. Idempotent.
   */
  eraseCustomer(tenantId: string, customer: string, customerRef: string): Promise<{ events: number; deliveries: number }>;
  /**
   * Deletes events recorded before `before` (each tenant's last event is kept, so sequences never restart), and
   * delivered or dead callback deliveries that ended before it. Returns how many events were deleted.
   */
  prune(before: Date): Promise<number>;

  /** The endpoint's state, created with `cursor` at the tenant's current last sequence if it is new. */
  initEndpoint(tenantId: string, endpointId: string): Promise<EndpointState>;
  getEndpoint(tenantId: string, endpointId: string): Promise<EndpointState | undefined>;
  /** Queues deliveries (idempotent by event id) and advances the endpoint's cursor to `cursor` (never backwards). */
  enqueueDeliveries(tenantId: string, endpointId: string, deliveries: readonly CallbackDeliveryDraft[], cursor: number): Promise<void>;
  /**
   * Leases up to `limit` due pending deliveries of the endpoint (not leased by anyone else), oldest sequence first,
   * only the earliest pending delivery of each message key. A lease keeps other claimers off until `leaseUntil`.
   */
  claimDeliveries(
    tenantId: string,
    endpointId: string,
    options: { now: Date; limit: number; leaseToken: string; leaseUntil: Date },
  ): Promise<CallbackDelivery[]>;
  /** Records an attempt's outcome and ends the lease; false (and no change) if the lease is no longer `leaseToken`'s. */
  completeDelivery(tenantId: string, endpointId: string, eventId: string, leaseToken: string, outcome: DeliveryOutcome): Promise<boolean>;
  /** When the endpoint's next delivery is due (counting only the earliest pending delivery of each message). */
  nextAttemptAt(tenantId: string, endpointId: string): Promise<Date | undefined>;
  /** Parks unleased pending deliveries queued before `queuedBefore` as dead. Returns how many. */
  parkExpired(tenantId: string, endpointId: string, options: { queuedBefore: Date; at: Date; error: string }): Promise<number>;
  getDelivery(tenantId: string, endpointId: string, eventId: string): Promise<CallbackDelivery | undefined>;
  /** Closes the endpoint's breaker and resets its failure count. */
  recordEndpointSuccess(tenantId: string, endpointId: string): Promise<void>;
  /** Counts a failure; from `threshold` consecutive failures on, the breaker is (re)opened until `openUntil`. */
  recordEndpointFailure(tenantId: string, endpointId: string, options: { threshold: number; openUntil: Date }): Promise<EndpointState>;
  /** Takes the one probe of an open breaker whose cooldown is over: atomically moves `openUntil` from ≤ now to `until`. */
  tryTakeProbe(tenantId: string, endpointId: string, options: { now: Date; until: Date }): Promise<boolean>;
  /** Dead deliveries ordered by endpoint id, then sequence, starting after `after`. */
  listDeadLetters(
    tenantId: string,
    options: { endpointId?: string; after?: { endpointId: string; sequence: number }; limit: number },
  ): Promise<CallbackDelivery[]>;
  /** Makes dead deliveries pending again, due now, with a fresh retry period and attempt count. Returns how many. */
  replayDeadLetters(tenantId: string, endpointId: string, eventIds: readonly string[] | 'all', now: Date): Promise<number>;
  close(): Promise<void>;
}

// The rules both TenantFeedStore adapters apply, written once: what each transition of a callback delivery changes,
// and how a message's stored state reads back. The adapters only translate them into SQL or a MongoDB update; which
// deliveries a transition applies to (its conditions) is each adapter's query, held alike by the contract suite.

/**
 * The fields one transition of a callback delivery sets. An absent field is left as it is; `null` clears it;
 * `attempts: 'increment'` counts one more attempt; `lastError: { keepOr }` keeps the last error if there is one.
 * `lease` is the claim's lease, or `null`: every transition but a claim ends the lease.
 */
export interface CallbackDeliveryChange {
  readonly state?: CallbackDeliveryState;
  readonly attempts?: 'increment' | 0;
  readonly queuedAt?: Date;
  readonly nextAttemptAt?: Date;
  readonly deliveredAt?: Date | null;
  readonly deadAt?: Date | null;
  readonly lastError?: string | null | { readonly keepOr: string };
  readonly lease: { readonly token: string; readonly until: Date } | null;
}

/** A claim leases a due delivery to one claimer until `until`. */
export function claimChange(token: string, until: Date): CallbackDeliveryChange {
  return { lease: { token, until } };
}

/** An attempt's outcome: delivered (the last error cleared), retried later, or dead; each counts as an attempt. */
export function completionChange(outcome: DeliveryOutcome): CallbackDeliveryChange {
  switch (outcome.kind) {
    case 'delivered':
      return { state: 'delivered', deliveredAt: outcome.at, attempts: 'increment', lastError: null, lease: null };
    case 'retry':
      return { nextAttemptAt: outcome.nextAttemptAt, attempts: 'increment', lastError: outcome.error, lease: null };
    case 'dead':
      return { state: 'dead', deadAt: outcome.at, attempts: 'increment', lastError: outcome.error, lease: null };
  }
}

/** Parking a delivery whose retry period ran out: dead, not an attempt, keeping the error of its last attempt if any. */
export function parkChange(at: Date, error: string): CallbackDeliveryChange {
  return { state: 'dead', deadAt: at, lastError: { keepOr: error }, lease: null };
}

/** A replayed dead letter is due now, with a fresh retry period and attempt count (its last error stays, for context). */
export function replayChange(now: Date): CallbackDeliveryChange {
  return { state: 'pending', attempts: 0, queuedAt: now, nextAttemptAt: now, deadAt: null, lease: null };
}

/** A message's feed state as stored (`null` or absent for an unknown wamid or recipient). */
export interface StoredFeedState {
  readonly status: string;
  readonly waMessageId?: string | null;
  readonly recipient?: string | null;
  readonly failureSurfaced: boolean;
  readonly contentType?: string | null;
  readonly contentSummary?: string | null;
}

/** The stored form of a feed state: exactly the decided state, absent fields stored as `null` (so they clear). */
export function toStoredFeedState(state: MessageFeedState): Required<StoredFeedState> {
  return {
    status: state.status,
    waMessageId: state.waMessageId ?? null,
    recipient: state.recipient ?? null,
    failureSurfaced: state.failureSurfaced,
    contentType: state.contentType ?? null,
    contentSummary: state.contentSummary ?? null,
  };
}

/** Reads a stored feed state back: exactly what `toStoredFeedState` stored. */
export function fromStoredFeedState(stored: StoredFeedState): MessageFeedState {
  return {
    status: stored.status as MessageStatus,
    failureSurfaced: stored.failureSurfaced,
    ...(stored.waMessageId !== null && stored.waMessageId !== undefined ? { waMessageId: stored.waMessageId } : {}),
    ...(stored.recipient !== null && stored.recipient !== undefined ? { recipient: stored.recipient } : {}),
    ...(stored.contentType !== null && stored.contentType !== undefined ? { contentType: stored.contentType as ContentKind } : {}),
    ...(stored.contentSummary !== null && stored.contentSummary !== undefined ? { contentSummary: stored.contentSummary } : {}),
  };
}
