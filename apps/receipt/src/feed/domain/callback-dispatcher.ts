import { newId, type Clock } from '@waygate/domain';
import type { CallbackEndpoint, Tenant, TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import { afterFailure, breakerVerdict, type CallbackPolicy } from './callback-policy';
import type { FeedWakeups } from './feed-wakeups';
import type { CallbackDelivery, TenantFeedStore } from './feed-store';
import { messageKeyOf, type TenantEvent } from './tenant-event';

/** Posts one callback. Never throws: a failure is a result. */
export interface CallbackSender {
  send(
    endpoint: CallbackEndpoint,
    delivery: { eventId: string; body: string },
    sentAt: Date,
  ): Promise<{ ok: true } | { ok: false; error: string }>;
}

/** What the callback lanes count, by tenant id (never a phone number). */
export interface CallbackMetrics {
  /** `count` callback deliveries of the tenant were given up on (parked as dead letters). */
  deadLettered(tenantId: string, count: number): void;
}

export interface CallbackDispatcherSettings extends CallbackPolicy {
  /** Deliveries in flight at once per endpoint (never two of one message). */
  readonly concurrency: number;
  /** How long a claimed delivery is reserved for one replica; longer than a call can take. */
  readonly leaseMs: number;
  /** Longest idle wait before an endpoint's lane looks again (covers other replicas' work and lost wake-ups). */
  readonly recheckMs: number;
}

/** Events copied from the log into an endpoint's outbox per round. */
const ENQUEUE_BATCH = 200;

export interface CallbackDispatcher {
  /** Creates the state of every configured endpoint (a new endpoint starts at the end of the log). */
  init(): Promise<void>;
  /** Starts one independent lane per endpoint. */
  start(): void;
  /** Stops the lanes after their calls in flight finished. */
  stop(): Promise<void>;
}

/**
 * Delivers every tenant event to each of the tenant's callback endpoints, at least once, through a durable outbox.
 * Each endpoint has its own lane, so a slow or dead endpoint only ever delays itself. A lane copies new log events
 * into the endpoint's outbox (cursor-based, idempotent), leases due deliveries (the store only hands out the
 * earliest pending one of each message, so a message's events arrive in order), posts them, and records the
 * outcome: delivered, retried with backoff, or parked as a dead letter when the retry period is over. The
 * endpoint's circuit breaker (shared by replicas through the store) stops calls after repeated failures and lets
 * one probe through after the cooldown.
 */
export function createCallbackDispatcher(deps: {
  store: TenantFeedStore;
  sender: CallbackSender;
  clock: Clock;
  wakeups: FeedWakeups;
  tenants: TenantDirectory;
  region: string;
  settings: CallbackDispatcherSettings;
  /** The JSON body of an event. */
  render: (event: TenantEvent) => string;
  logger: Logger;
  metrics: CallbackMetrics;
  random?: () => number;
}): CallbackDispatcher {
  const { store, sender, clock, wakeups, settings, render, logger, metrics } = deps;
  const random = deps.random ?? Math.random;
  const stopping = new AbortController();
  /** One lane per endpoint of a tenant homed here, keyed `tenant id/endpoint id`; re-planned when the tenants change. */
  const lanes = new Map<string, { stop: AbortController; done: Promise<void> }>();
  let started = false;

  const laneKey = (tenantId: string, endpointId: string) => `${tenantId}/${endpointId}`;
  const currentEndpoints = () =>
    deps.tenants.homedIn(deps.region).flatMap((tenant) => tenant.callbacks.map((endpoint) => ({ tenant, endpoint })));
  /** The endpoint as the tenants file has it now (its URL or secret may have changed); undefined once removed. */
  const lookup = (tenantId: string, endpointId: string) => {
    const tenant = deps.tenants.get(tenantId);
    const endpoint = tenant?.homeRegion === deps.region ? tenant.callbacks.find((e) => e.id === endpointId) : undefined;
    return tenant && endpoint ? { tenant, endpoint } : undefined;
  };

  /** Starts lanes for endpoints that have none and stops the lanes of endpoints no longer configured. */
  async function planLanes(): Promise<void> {
    const wanted = currentEndpoints();
    const wantedKeys = new Set(wanted.map(({ tenant, endpoint }) => laneKey(tenant.id, endpoint.id)));
    for (const [key, lane] of lanes) {
      if (wantedKeys.has(key)) continue;
      lane.stop.abort();
      lanes.delete(key);
      logger.info({ lane: key }, 'callback endpoint removed from the tenants file; its deliveries stop');
    }
    for (const { tenant, endpoint } of wanted) {
      const key = laneKey(tenant.id, endpoint.id);
      if (lanes.has(key) || stopping.signal.aborted) continue;
      const stop = new AbortController();
      lanes.set(key, { stop, done: Promise.resolve() });
      await store.initEndpoint(tenant.id, endpoint.id);
      if (!stop.signal.aborted && !stopping.signal.aborted)
        lanes.set(key, { stop, done: runLane(tenant.id, endpoint.id, AbortSignal.any([stopping.signal, stop.signal])) });
    }
  }

  /** Copies events after the endpoint's cursor into its outbox; returns how many. */
  async function fillOutbox(tenantId: string, endpointId: string): Promise<number> {
    const state = (await store.getEndpoint(tenantId, endpointId)) ?? (await store.initEndpoint(tenantId, endpointId));
    const events = await store.readEvents(tenantId, { after: state.cursor, limit: ENQUEUE_BATCH });
    const last = events.at(-1);
    if (!last) return 0;
    const queuedAt = clock.now();
    await store.enqueueDeliveries(
      tenantId,
      endpointId,
      events.map((event) => ({
        eventId: event.eventId,
        sequence: event.sequence,
        messageKey: messageKeyOf(event),
        body: render(event),
        queuedAt,
      })),
      last.sequence,
    );
    return events.length;
  }

  async function attempt(tenant: Tenant, endpoint: CallbackEndpoint, delivery: CallbackDelivery, leaseToken: string): Promise<void> {
    const ids = { tenant_id: tenant.id, endpoint_id: endpoint.id, event_id: delivery.eventId };
    const result = await sender.send(endpoint, { eventId: delivery.eventId, body: delivery.body }, clock.now());
    const at = clock.now();
    if (result.ok) {
      await store.completeDelivery(tenant.id, endpoint.id, delivery.eventId, leaseToken, { kind: 'delivered', at });
      await store.recordEndpointSuccess(tenant.id, endpoint.id);
      logger.debug({ ...ids, attempt: delivery.attempts + 1 }, 'callback delivered');
      return;
    }
    const next = afterFailure(settings, delivery, at, random());
    const completed = await store.completeDelivery(
      tenant.id,
      endpoint.id,
      delivery.eventId,
      leaseToken,
      next.kind === 'dead'
        ? { kind: 'dead', at, error: result.error }
        : { kind: 'retry', at, error: result.error, nextAttemptAt: next.nextAttemptAt },
    );
    if (next.kind === 'dead') {
      // Counted only if this lane still held the lease: otherwise another replica owns the delivery and its outcome.
      if (completed) metrics.deadLettered(tenant.id, 1);
      logger.warn({ ...ids, attempts: delivery.attempts + 1, error: result.error }, 'callback parked as dead letter');
    } else
      logger.info(
        { ...ids, attempt: delivery.attempts + 1, error: result.error, next_attempt_at: next.nextAttemptAt },
        'callback failed; will retry',
      );
    const breaker = await store.recordEndpointFailure(tenant.id, endpoint.id, {
      threshold: settings.breakerFailures,
      openUntil: new Date(at.getTime() + settings.breakerCooldownMs),
    });
    if (breaker.consecutiveFailures === settings.breakerFailures) {
      logger.warn({ tenant_id: tenant.id, endpoint_id: endpoint.id, open_until: breaker.openUntil }, 'callback endpoint circuit opened');
    }
  }

  /** One round of deliveries for an endpoint; returns how many were attempted and when work is due next. */
  async function deliverRound(tenant: Tenant, endpoint: CallbackEndpoint): Promise<{ attempted: number; dueAt?: Date }> {
    const now = clock.now();
    const state = (await store.getEndpoint(tenant.id, endpoint.id)) ?? (await store.initEndpoint(tenant.id, endpoint.id));
    const verdict = breakerVerdict(state, now);
    if (verdict.kind === 'open') {
      // No calls while open; deliveries whose retry period ran out meanwhile are parked without one.
      const parked = await store.parkExpired(tenant.id, endpoint.id, {
        queuedBefore: new Date(now.getTime() - settings.retryForMs),
        at: now,
        error: 'circuit open: endpoint kept failing',
      });
      if (parked > 0) {
        metrics.deadLettered(tenant.id, parked);
        logger.warn({ tenant_id: tenant.id, endpoint_id: endpoint.id, parked }, 'callbacks parked as dead letters while circuit open');
      }
      return { attempted: 0, dueAt: verdict.until };
    }
    if (verdict.kind === 'probe') {
      const until = new Date(now.getTime() + settings.breakerCooldownMs);
      if (!(await store.tryTakeProbe(tenant.id, endpoint.id, { now, until }))) return { attempted: 0, dueAt: until };
    }
    const leaseToken = newId('lease', now);
    const claimed = await store.claimDeliveries(tenant.id, endpoint.id, {
      now,
      limit: verdict.kind === 'probe' ? 1 : settings.concurrency,
      leaseToken,
      leaseUntil: new Date(now.getTime() + settings.leaseMs),
    });
    if (claimed.length === 0) {
      const dueAt = await store.nextAttemptAt(tenant.id, endpoint.id);
      return dueAt ? { attempted: 0, dueAt } : { attempted: 0 };
    }
    if (verdict.kind === 'probe') logger.info({ tenant_id: tenant.id, endpoint_id: endpoint.id }, 'callback endpoint probe');
    await Promise.all(claimed.map((delivery) => attempt(tenant, endpoint, delivery, leaseToken)));
    return { attempted: claimed.length };
  }

  async function runLane(tenantId: string, endpointId: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const configured = lookup(tenantId, endpointId);
      if (!configured) return;
      const { tenant, endpoint } = configured;
      const seen = wakeups.version(tenant.id);
      let idleMs = settings.recheckMs;
      try {
        const queued = await fillOutbox(tenant.id, endpoint.id);
        const round = await deliverRound(tenant, endpoint);
        if (queued > 0 || round.attempted > 0) continue;
        const untilDue = round.dueAt ? round.dueAt.getTime() - clock.now().getTime() : Number.POSITIVE_INFINITY;
        if (untilDue > 0) idleMs = Math.min(idleMs, untilDue);
      } catch (error) {
        logger.error({ err: error, tenant_id: tenant.id, endpoint_id: endpoint.id }, 'callback lane failed; retrying');
      }
      await wakeups.waitBeyond(tenant.id, seen, idleMs, signal);
    }
  }

  // A reloaded tenants file adds and removes lanes; changed URLs and secrets are read by each lane's next round.
  const unsubscribe = deps.tenants.onChange(() => {
    if (!started) return;
    planLanes().catch((error: unknown) => logger.error({ err: error }, 'could not re-plan callback lanes after a tenants reload'));
  });

  return {
    async init() {
      for (const { tenant, endpoint } of currentEndpoints()) await store.initEndpoint(tenant.id, endpoint.id);
    },
    start() {
      started = true;
      planLanes().catch((error: unknown) => logger.error({ err: error }, 'could not start callback lanes'));
    },
    async stop() {
      unsubscribe();
      stopping.abort();
      await Promise.allSettled([...lanes.values()].map((lane) => lane.done));
    },
  };
}
