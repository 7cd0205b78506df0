import { SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import { contextFromTraceparent } from '@waygate/telemetry';
import { MIN_RETRY_DELAY_MS, classifyMetaError, type Clock, type OutcomeClass, type RetryReason } from '@waygate/domain';
import { applyUpdate, eventFor, type Delivery, type DeliveryContent, type DeliveryEvent, type DeliveryUpdate } from './delivery';
import type { DeliveryStore, StoredDelivery } from './delivery-store';
import { numberLimiterKey, pairLimiterKey, type LimiterChange } from './limiter-state';
import { classifyOutcome, retryDelayMs } from './outcome-classification';
import {
  circuitView,
  claimProbe,
  numberIntervalMs,
  onNeedsConfiguration,
  onPairRateExceeded,
  onPairSent,
  onThroughputExceeded,
  onUpstreamAnswered,
  onUpstreamFailure,
  refundSlot,
  reserveSlot,
  type GovernorSettings,
  type Reservation,
} from './throughput-governor';
import type { CloudApiSendOutcome, WhatsAppClient } from './whatsapp-client';

const tracer = trace.getTracer('@waygate/delivery-retry');

/**
 * Sends carry `biz_opaque_callback_data: "waygate:<message id>"`; Meta echoes it in every status webhook, so receipt
 * can name the message of a send whose answer was lost. The prefix keeps it apart from any other use of the field.
 */
export const CALLBACK_DATA_PREFIX = 'waygate:';

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

export interface EngineSettings {
  /** This replica's name, for leases. */
  readonly owner: string;
  /** Attempts in flight at once in this replica. */
  readonly concurrency: number;
  /** How often an idle replica looks for due work (new messages wake it at once). */
  readonly pollIntervalMs: number;
  /** How long a claimed delivery stays with this replica; longer than an attempt can take. */
  readonly leaseMs: number;
  readonly retry: { readonly baseMs: number; readonly maxMs: number };
  readonly governor: GovernorSettings;
  /**
   * How long a delivery whose call was interrupted by a crash waits before it is sent again. Meta may have accepted
   * it: its `sent` webhook (which carries the message id in `biz_opaque_callback_data`) settles it meanwhile, and only
   * if none arrives is it sent again. This keeps duplicates after a crash to the calls whose webhook got lost.
   */
  readonly reconcileGraceMs: number;
}

export type CancelOutcome =
  | { readonly kind: 'canceled'; readonly delivery: Delivery }
  | { readonly kind: 'settled'; readonly delivery: Delivery }
  | { readonly kind: 'in-flight'; readonly delivery: Delivery };

export interface DeliveryEngine {
  /** Records an accepted message durably (idempotent); it is attempted by the scheduler. */
  intake(message: AcceptedMessage): Promise<Delivery>;
  /** One scheduler pass: expire what is overdue, attempt what is due (waiting for the attempts), publish the outbox. */
  runOnce(): Promise<{ attempted: number; expired: number; announced: number }>;
  /** Runs passes continuously until stop(). */
  start(): void;
  stop(): Promise<void>;
  /** Wakes an idle scheduler (new work arrived). */
  wake(): void;
  cancel(tenantId: string, messageId: string): Promise<CancelOutcome>;
  applyWebhookStatus(report: WebhookStatusReport): Promise<'applied' | 'ignored'>;
  get(tenantId: string, messageId: string): Promise<Delivery | undefined>;
}

/** Optimistic-concurrency retries for writes that race a claim or another replica. */
const MAX_WRITE_ATTEMPTS = 5;
const EXPIRY_BATCH = 200;
const ANNOUNCE_BATCH = 200;
const ANNOUNCE_LEASE_MS = 30_000;

function errorOf(outcome: CloudApiSendOutcome): { lastErrorCode?: number; lastErrorTitle?: string } {
  if (outcome.kind === 'error') return { lastErrorCode: outcome.code, lastErrorTitle: outcome.title };
  if (outcome.kind === 'no-answer') return { lastErrorTitle: outcome.reason };
  return {};
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createDeliveryEngine(deps: {
  store: DeliveryStore;
  client: WhatsAppClient;
  publisher: StatusPublisher;
  phoneNumber: PhoneNumberLookup;
  clock: Clock;
  settings: EngineSettings;
  metrics: DeliveryMetrics;
  events?: EngineEvents;
  random?: () => number;
  /** Waits for a reserved send slot; injectable so tests with a simulated clock do not sleep. */
  waitUntil?: (atMs: number) => Promise<void>;
}): DeliveryEngine {
  const { store, client, publisher, clock, settings, metrics } = deps;
  const governor = settings.governor;
  const random = deps.random ?? Math.random;
  const waitUntil = deps.waitUntil ?? (async (atMs: number) => sleep(Math.max(0, atMs - clock.now().getTime())));
  const nowMs = () => clock.now().getTime();

  const changeLimiter = async <R>(key: string, change: LimiterChange<R>): Promise<R> => (await store.changeLimiters([{ key, change }]))[0];

  /** Publishes a delivery's pending events and clears them; the outbox sweep retries whatever fails here. */
  async function announce(tenantId: string, messageId: string, events: readonly DeliveryEvent[]): Promise<number> {
    const published: string[] = [];
    for (const event of events) {
      await publisher.publish(event);
      published.push(event.eventId);
    }
    if (published.length > 0) await store.markAnnounced(tenantId, messageId, published);
    return published.length;
  }

  /** Writes an update with its event, then announces it (best effort: the outbox keeps it if this fails). */
  async function commit(stored: StoredDelivery, update: DeliveryUpdate): Promise<Delivery | undefined> {
    const next = applyUpdate(stored.delivery, update);
    const event = eventFor(next);
    const written = await store.update(next.tenantId, next.messageId, stored.version, update, event);
    if (!written) return undefined;
    if (event) await announce(next.tenantId, next.messageId, [event]).catch(() => undefined);
    return next;
  }

  /** When to try again after a retryable outcome: backoff, at least the reason's minimum, never past the deadline. */
  function retryAt(delivery: Delivery, attempts: number, reason: RetryReason, earliestMs = 0): Date {
    const backoff = retryDelayMs(attempts, settings.retry, random);
    const at = Math.max(nowMs() + Math.max(backoff, MIN_RETRY_DELAY_MS[reason] ?? 0), earliestMs);
    return new Date(Math.min(at, delivery.expiresAt.getTime()));
  }

  async function expire(stored: StoredDelivery): Promise<boolean> {
    const { delivery } = stored;
    const committed = await commit(stored, {
      state: 'EXPIRED',
      attempts: delivery.attempts,
      lastErrorCode: delivery.lastErrorCode,
      lastErrorTitle: delivery.lastErrorTitle,
      updatedAt: clock.now(),
    });
    if (committed) metrics.expired();
    return committed !== undefined;
  }

  /** Puts a claimed delivery back without an attempt (throttled, circuit open): no attempt is counted. */
  async function postpone(stored: StoredDelivery, untilMs: number, by: 'number' | 'pair' | 'circuit' | undefined): Promise<void> {
    const { delivery } = stored;
    if (by) metrics.throttled(delivery.phoneNumberId, by);
    // A little jitter, so that many postponed deliveries do not all come back in the same millisecond.
    const at = Math.min(untilMs + Math.round(random() * 50), delivery.expiresAt.getTime());
    await store.update(delivery.tenantId, delivery.messageId, stored.version, {
      state: 'PENDING',
      attempts: delivery.attempts,
      lastErrorCode: delivery.lastErrorCode,
      lastErrorTitle: delivery.lastErrorTitle,
      nextAttemptAt: new Date(at),
      updatedAt: delivery.updatedAt,
    });
  }

  /** Shared pacing before a call: circuit, pair rate, number rate. Returns the granted send time or postpones. */
  async function acquireSendSlot(stored: StoredDelivery, throughputMps: number): Promise<number | undefined> {
    const { delivery } = stored;
    const numberKey = numberLimiterKey(delivery.phoneNumberId);
    const pairKey = pairLimiterKey(delivery.phoneNumberId, delivery.to);
    const probe = await changeLimiter(numberKey, (state) => claimProbe(state, nowMs(), governor));
    if (!probe.granted) {
      await postpone(stored, probe.retryAtMs, 'circuit');
      return undefined;
    }
    const pairRule = { intervalMs: governor.pairIntervalMs, burst: governor.pairBurst, horizonMs: 0 };
    const pair = await changeLimiter<Reservation>(pairKey, (state) => reserveSlot(state, nowMs(), pairRule));
    if (!pair.granted) {
      await postpone(stored, pair.retryAtMs, 'pair');
      return undefined;
    }
    const slot = await changeLimiter<Reservation>(numberKey, (state) => {
      const now = nowMs();
      const rule = {
        intervalMs: numberIntervalMs(state, now, throughputMps, governor),
        burst: 1,
        horizonMs: governor.reservationHorizonMs,
      };
      return reserveSlot(state, now, rule);
    });
    if (!slot.granted) {
      await changeLimiter(pairKey, (state) => ({ next: refundSlot(state, governor.pairIntervalMs), result: undefined }));
      await postpone(stored, slot.retryAtMs, 'number');
      return undefined;
    }
    return slot.atMs;
  }

  /** Records what the number's limiter must learn from an outcome. */
  async function learn(delivery: Delivery, outcomeClass: OutcomeClass): Promise<number | undefined> {
    const numberKey = numberLimiterKey(delivery.phoneNumberId);
    const pairKey = pairLimiterKey(delivery.phoneNumberId, delivery.to);
    const now = nowMs();
    if (outcomeClass.kind === 'needs-configuration') {
      await changeLimiter(numberKey, (state) => ({ next: onNeedsConfiguration(state, now, governor), result: undefined }));
      return undefined;
    }
    if (outcomeClass.kind === 'retry' && outcomeClass.reason === 'upstream') {
      await changeLimiter(numberKey, (state) => ({ next: onUpstreamFailure(state, now, governor), result: undefined }));
      return undefined;
    }
    await changeLimiter(numberKey, (state) => ({
      next:
        outcomeClass.kind === 'retry' && outcomeClass.reason === 'throughput'
          ? onThroughputExceeded(onUpstreamAnswered(state), now, governor)
          : onUpstreamAnswered(state),
      result: undefined,
    }));
    if (outcomeClass.kind === 'retry' && outcomeClass.reason === 'pair-rate') {
      return changeLimiter(pairKey, (state) => {
        const { next, retryAtMs } = onPairRateExceeded(state, now, governor);
        return { next, result: retryAtMs };
      });
    }
    if (outcomeClass.kind === 'sent') await changeLimiter(pairKey, (state) => ({ next: onPairSent(state), result: undefined }));
    return undefined;
  }

  async function attempt(stored: StoredDelivery, span: Span): Promise<void> {
    const { delivery } = stored;
    if (clock.now() >= delivery.expiresAt) {
      await expire(stored);
      span.setAttribute('waygate.outcome', 'expired');
      return;
    }
    if (stored.callStartedAt) {
      const waitUntilMs = stored.callStartedAt.getTime() + settings.reconcileGraceMs;
      if (nowMs() < waitUntilMs) {
        metrics.interruptedCall();
        span.setAttribute('waygate.outcome', 'awaiting-reconciliation');
        // postpone() clears the mark: once the grace is over, the message is sent again unless a webhook settled it.
        await postpone(stored, waitUntilMs, undefined);
        return;
      }
    }
    const number = deps.phoneNumber(delivery.tenantId, delivery.phoneNumberId);
    const attempts = delivery.attempts + 1;
    span.setAttribute('waygate.attempt', attempts);
    let outcome: CloudApiSendOutcome;
    if (!number) {
      outcome = { kind: 'error', httpStatus: 0, code: 190, title: 'no access token configured for this phone number' };
    } else if (!delivery.content) {
      // Cannot happen for a PENDING delivery (content goes only with a settled state); fail loudly rather than guess.
      outcome = { kind: 'error', httpStatus: 0, code: 131009, title: 'message content is missing' };
    } else {
      const slotAt = await acquireSendSlot(stored, number.throughputMps);
      if (slotAt === undefined) {
        span.setAttribute('waygate.outcome', 'postponed');
        return;
      }
      await waitUntil(slotAt);
      // Durable before the call: if this process dies now, the next holder knows the outcome is unknown.
      if (!(await store.markCallStarted(delivery.tenantId, delivery.messageId, stored.version, clock.now()))) {
        span.setAttribute('waygate.outcome', 'superseded');
        return;
      }
      outcome = await client.send({
        phoneNumberId: delivery.phoneNumberId,
        accessToken: number.accessToken,
        to: delivery.to,
        content: delivery.content,
        callbackData: `${CALLBACK_DATA_PREFIX}${delivery.messageId}`,
      });
    }
    const outcomeClass = classifyOutcome(outcome);
    const error = errorOf(outcome);
    if (error.lastErrorCode !== undefined) span.setAttribute('waygate.meta_error_code', error.lastErrorCode);
    const pairRetryAtMs = number ? await learn(delivery, outcomeClass) : undefined;
    const now = clock.now();
    switch (outcomeClass.kind) {
      case 'sent':
        metrics.attempt('sent', undefined);
        span.setAttribute('waygate.outcome', 'sent');
        await commit(stored, {
          state: 'SENT',
          attempts,
          waMessageId: outcome.kind === 'accepted' ? outcome.waMessageId : undefined,
          updatedAt: now,
        });
        return;
      case 'permanent':
        metrics.attempt('failed', error.lastErrorCode);
        span.setAttribute('waygate.outcome', 'failed');
        span.setStatus({ code: SpanStatusCode.ERROR, message: `meta error ${error.lastErrorCode ?? ''}` });
        await commit(stored, { state: 'FAILED', attempts, ...error, updatedAt: now });
        return;
      case 'needs-configuration':
      case 'retry': {
        const reason = outcomeClass.kind === 'retry' ? outcomeClass.reason : 'needs-configuration';
        metrics.attempt(outcomeClass.kind, error.lastErrorCode);
        metrics.retry(reason);
        span.setAttribute('waygate.outcome', 'retry');
        span.setAttribute('waygate.retry_reason', reason);
        span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
        // An operator has to fix configuration problems, so those wait the longest interval. A call that got no answer
        // may still have reached Meta: wait for its webhook (see reconcileGraceMs) before sending it again.
        const awaitWebhook = outcome.kind === 'no-answer' && outcome.mayHaveArrived ? now.getTime() + settings.reconcileGraceMs : 0;
        const nextAttemptAt =
          reason === 'needs-configuration'
            ? new Date(Math.min(now.getTime() + settings.retry.maxMs, delivery.expiresAt.getTime()))
            : retryAt(delivery, attempts, reason, Math.max(pairRetryAtMs ?? 0, awaitWebhook));
        await commit(stored, { state: 'PENDING', attempts, ...error, nextAttemptAt, updatedAt: now });
        return;
      }
    }
  }

  async function attemptInSpan(stored: StoredDelivery): Promise<void> {
    const { delivery } = stored;
    const parent = contextFromTraceparent(delivery.traceContext) ?? context.active();
    const span = tracer.startSpan(
      'delivery attempt',
      {
        kind: SpanKind.INTERNAL,
        attributes: { 'waygate.message_id': delivery.messageId, 'waygate.phone_number_id': delivery.phoneNumberId },
      },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), () => attempt(stored, span));
    } catch (error) {
      // The lease runs out and another pass retries it; nothing is lost.
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  }

  async function openCircuits(): Promise<string[]> {
    const now = nowMs();
    return (await store.listLimiters('number:'))
      .filter(({ state }) => circuitView(state, now).kind === 'open')
      .map(({ key }) => key.slice('number:'.length));
  }

  async function claim(limit: number): Promise<StoredDelivery[]> {
    if (limit <= 0) return [];
    return store.claimDue({
      now: clock.now(),
      limit,
      owner: settings.owner,
      leaseMs: settings.leaseMs,
      excludePhoneNumberIds: await openCircuits(),
    });
  }

  async function expireOverdue(): Promise<number> {
    let expired = 0;
    for (const stored of await store.listExpired(clock.now(), EXPIRY_BATCH)) if (await expire(stored)) expired++;
    return expired;
  }

  async function flushOutbox(): Promise<number> {
    let announced = 0;
    for (const pending of await store.claimAnnouncements({ now: clock.now(), limit: ANNOUNCE_BATCH, leaseMs: ANNOUNCE_LEASE_MS })) {
      announced += await announce(pending.tenantId, pending.messageId, pending.events);
    }
    return announced;
  }

  /** Runs a write that must see the latest version, retrying when another writer got in between. */
  async function withLatest<T>(
    tenantId: string,
    messageId: string,
    write: (stored: StoredDelivery | undefined) => Promise<T | 'conflict'>,
  ): Promise<T> {
    for (let i = 0; i < MAX_WRITE_ATTEMPTS; i++) {
      const result = await write(await store.get(tenantId, messageId));
      if (result !== 'conflict') return result;
    }
    throw new Error(`delivery ${messageId} kept changing; try again`);
  }

  // The continuous loop: keeps up to `concurrency` attempts in flight, sleeps when idle until woken or polled.
  let running = false;
  let loop: Promise<void> | undefined;
  const inFlight = new Set<Promise<void>>();
  let wakeUp: (() => void) | undefined;
  let lastHousekeeping = 0;

  async function pump(): Promise<void> {
    while (running) {
      try {
        if (nowMs() - lastHousekeeping >= settings.pollIntervalMs) {
          lastHousekeeping = nowMs();
          await expireOverdue();
          await flushOutbox();
        }
        const claimed = await claim(settings.concurrency - inFlight.size);
        for (const stored of claimed) {
          const work: Promise<void> = attemptInSpan(stored)
            .catch((error: unknown) => deps.events?.attemptCrashed(stored.delivery, error))
            .finally(() => {
              inFlight.delete(work);
              wakeUp?.();
            });
          inFlight.add(work);
        }
        if (claimed.length > 0 && inFlight.size < settings.concurrency) continue;
      } catch (error) {
        // Store or NATS briefly unavailable: back off one poll interval; leases keep the work safe meanwhile.
        deps.events?.passFailed(error);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, settings.pollIntervalMs);
        wakeUp = () => {
          clearTimeout(timer);
          wakeUp = undefined;
          resolve();
        };
      });
    }
    await Promise.allSettled([...inFlight]);
  }

  return {
    async intake(message) {
      const { stored } = await store.insertIfAbsent({
        tenantId: message.tenantId,
        messageId: message.messageId,
        phoneNumberId: message.phoneNumberId,
        to: message.to,
        laneSeq: message.laneSeq,
        content: message.content,
        state: 'PENDING',
        attempts: 0,
        nextAttemptAt: message.acceptedAt,
        acceptedAt: message.acceptedAt,
        expiresAt: message.expiresAt,
        updatedAt: message.acceptedAt,
        ...(message.traceContext ? { traceContext: message.traceContext } : {}),
      });
      wakeUp?.();
      return stored.delivery;
    },

    async runOnce() {
      const expired = await expireOverdue();
      const claimed = await claim(settings.concurrency);
      await Promise.all(claimed.map((stored) => attemptInSpan(stored)));
      const announced = await flushOutbox();
      return { attempted: claimed.length, expired, announced };
    },

    start() {
      if (running) return;
      running = true;
      loop = pump();
    },

    async stop() {
      running = false;
      wakeUp?.();
      await loop;
    },

    wake: () => wakeUp?.(),

    cancel(tenantId, messageId) {
      return withLatest(tenantId, messageId, async (stored): Promise<CancelOutcome | 'conflict'> => {
        const now = clock.now();
        if (!stored) {
          // Not seen yet (MessageAccepted still queued): a tombstone makes the later intake a no-op.
          const tombstone: Delivery = {
            tenantId,
            messageId,
            phoneNumberId: '',
            to: '',
            laneSeq: 0,
            state: 'CANCELED',
            attempts: 0,
            acceptedAt: now,
            expiresAt: now,
            updatedAt: now,
          };
          const { inserted, stored: after } = await store.insertIfAbsent(tombstone, eventFor(tombstone));
          if (!inserted) return 'conflict';
          await flushOutbox().catch(() => undefined);
          return { kind: 'canceled', delivery: after.delivery };
        }
        const { delivery } = stored;
        if (delivery.state === 'CANCELED') return { kind: 'canceled', delivery };
        if (delivery.state !== 'PENDING') return { kind: 'settled', delivery };
        if (stored.leaseUntil && stored.leaseUntil > now) return { kind: 'in-flight', delivery };
        const committed = await commit(stored, {
          state: 'CANCELED',
          attempts: delivery.attempts,
          lastErrorCode: delivery.lastErrorCode,
          lastErrorTitle: delivery.lastErrorTitle,
          updatedAt: now,
        });
        return committed ? { kind: 'canceled', delivery: committed } : 'conflict';
      });
    },

    applyWebhookStatus(report) {
      return withLatest(report.tenantId, report.messageId, async (stored) => {
        if (!stored) return 'ignored' as const;
        const { delivery } = stored;
        const now = clock.now();
        if (delivery.state === 'PENDING' && report.status !== 'FAILED' && report.waMessageId) {
          // WhatsApp has the message although no answer was recorded (a crash mid-call, or the webhook beat the answer).
          const committed = await commit(stored, {
            state: 'SENT',
            attempts: delivery.attempts + 1,
            waMessageId: report.waMessageId,
            updatedAt: now,
          });
          if (!committed) return 'conflict' as const;
          if (report.status === 'SENT') return 'applied' as const;
          const sent = await store.get(delivery.tenantId, delivery.messageId);
          if (!sent) return 'applied' as const;
          await store.update(delivery.tenantId, delivery.messageId, sent.version, {
            state: 'DELIVERED',
            attempts: sent.delivery.attempts,
            updatedAt: now,
          });
          return 'applied' as const;
        }
        // Only the wamid of the current send counts: a report about an earlier send of a re-sent message is history.
        if (
          report.status === 'SENT' ||
          delivery.state !== 'SENT' ||
          (report.waMessageId && delivery.waMessageId && report.waMessageId !== delivery.waMessageId)
        ) {
          return 'ignored' as const;
        }
        if (report.status !== 'FAILED') {
          const written = await store.update(delivery.tenantId, delivery.messageId, stored.version, {
            state: 'DELIVERED',
            attempts: delivery.attempts,
            updatedAt: now,
          });
          return written ? ('applied' as const) : ('conflict' as const);
        }
        const outcomeClass = classifyMetaError(report.errorCode ?? 0);
        const error = { lastErrorCode: report.errorCode, lastErrorTitle: report.errorTitle };
        if (outcomeClass.kind === 'retry' && now < delivery.expiresAt) {
          metrics.retry(outcomeClass.reason);
          // Meta failed it after accepting: send it again later (e.g. 131049 after 24 hours).
          const committed = await commit(stored, {
            state: 'PENDING',
            attempts: delivery.attempts,
            ...error,
            nextAttemptAt: retryAt(delivery, delivery.attempts, outcomeClass.reason),
            updatedAt: now,
          });
          return committed ? ('applied' as const) : ('conflict' as const);
        }
        // Final: receipt already announced the failure; record it (and delete the content) without a second event.
        const written = await store.update(delivery.tenantId, delivery.messageId, stored.version, {
          state: 'FAILED',
          attempts: delivery.attempts,
          ...error,
          updatedAt: now,
        });
        return written ? ('applied' as const) : ('conflict' as const);
      });
    },

    async get(tenantId, messageId) {
      return (await store.get(tenantId, messageId))?.delivery;
    },
  };
}
