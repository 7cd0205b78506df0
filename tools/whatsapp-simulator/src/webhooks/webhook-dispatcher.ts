import http from 'node:http';
import https from 'node:https';
import type { Scheduler } from '../time/scheduler';
import type { SimulatorClock } from '../time/simulated-clock';
import type { WebhookDelivery, WebhookRetryPolicy } from '../types';
import { buildAccountChangesPayload, buildWebhookPayload, type WebhookBusinessNumber, type WebhookItems } from './webhook-envelope';
import { computeWebhookSignature } from './webhook-signature';

/** Meta retries with decreasing frequency for up to 7 days; these numbers keep that shape. */
export const DEFAULT_WEBHOOK_RETRY_POLICY: Readonly<WebhookRetryPolicy> = {
  initialDelayMs: 5_000,
  maxDelayMs: 60 * 60 * 1000,
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
};

/** Statuses and messages per POST unless configured; Meta batches under load. */
export const DEFAULT_WEBHOOK_BATCH_SIZE = 25;

/** A receiver that has not answered within this (real) time counts as a failed attempt. */
export const WEBHOOK_REQUEST_TIMEOUT_MS = 5_000;

// Parallel POSTs; ordering is kept per key, not globally, as with Meta.
const MAX_CONCURRENT_REQUESTS = 8;

/** Delay before retry number `retry` (1-based): doubling from the initial delay, capped. */
export function webhookRetryDelayMs(policy: WebhookRetryPolicy, retry: number): number {
  return Math.min(policy.initialDelayMs * 2 ** Math.min(retry - 1, 40), policy.maxDelayMs);
}

/** One status or inbound message waiting to be delivered. */
export interface WebhookEvent {
  number: WebhookBusinessNumber;
  /** Events with the same key go out in order: a later one waits until the earlier one was accepted or dropped. */
  orderingKey: string;
  /** The customer it concerns (for fault rules). */
  waId: string;
  items: WebhookItems;
  /** Set on an injected duplicate: the delivery id it repeats. */
  duplicateOf?: string;
}

/** Collaborators of {@link WebhookDispatcher}. */
export interface WebhookDispatcherOptions {
  clock: SimulatorClock;
  scheduler: Scheduler;
  appSecretFor(wabaId: string): string;
  /**
   * Where webhooks of this WABA go (its override URL, else the app's URL). Read before every attempt, so changing the
   * webhook URL also redirects retries.
   */
  resolveUrl(wabaId: string): string | undefined;
  onAttempt(delivery: WebhookDelivery): void;
  /** Called once a POST was accepted, with its events. */
  onAccepted(deliveryId: string, events: readonly WebhookEvent[]): void;
  retryPolicy: WebhookRetryPolicy;
  batchSize: number;
  requestTimeoutMs?: number;
}

interface Batch {
  id: string;
  events: WebhookEvent[];
  body: string;
  signature: string;
  firstAttemptMs: number;
  generation: number;
}

type AttemptOutcome = { responseStatus: number } | { error: string };

function isAccepted(outcome: AttemptOutcome): boolean {
  return 'responseStatus' in outcome && outcome.responseStatus >= 200 && outcome.responseStatus < 300;
}

function batchGroup(event: WebhookEvent): string {
  // Account-level changes (templates) go out in POSTs of their own, as Meta sends them.
  return `${event.number.wabaId}|${event.duplicateOf ?? ''}|${event.items.accountChanges?.length ? 'account' : 'messages'}`;
}

/**
 * POSTs signed webhooks the way Meta does: events ready at the same moment are batched (one entry per WABA, one
 * change per number), a POST that is not answered 2xx is retried with growing delays for up to 7 days of simulated
 * time and then dropped, and events sharing an ordering key (a wamid) never overtake each other.
 */
export class WebhookDispatcher {
  private readonly ready: WebhookEvent[] = [];
  private readonly busyKeys = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private abortController = new AbortController();
  // No keep-alive: each attempt is independent, and no idle sockets outlive stop().
  private readonly httpAgent = new http.Agent({ keepAlive: false });
  private readonly httpsAgent = new https.Agent({ keepAlive: false });
  private readonly requestTimeoutMs: number;
  private flushPending = false;
  private inFlight = 0;
  private batchCount = 0;
  private generation = 0;
  private stopped = false;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? WEBHOOK_REQUEST_TIMEOUT_MS;
  }

  /** Queues an event; it goes out with whatever else is ready, after earlier events with its key. */
  enqueue(event: WebhookEvent): void {
    if (this.stopped) return;
    this.ready.push(event);
    this.requestFlush();
  }

  /** Drops queued and retrying webhooks and aborts requests in flight; later events are delivered normally. */
  reset(): void {
    this.generation += 1;
    this.abortController.abort();
    this.abortController = new AbortController();
    this.ready.length = 0;
    this.busyKeys.clear();
    this.inFlight = 0;
  }

  /** Aborts in-flight requests, drops queued webhooks and waits for running attempts to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.reset();
    await Promise.allSettled([...this.running]);
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private requestFlush(): void {
    if (this.flushPending) return;
    this.flushPending = true;
    // Everything enqueued in this turn of the event loop lands in the same batch, as simultaneous events do at Meta.
    setImmediate(() => {
      this.flushPending = false;
      this.flush();
    });
  }

  private flush(): void {
    while (!this.stopped && this.inFlight < MAX_CONCURRENT_REQUESTS) {
      const events = this.takeBatch();
      if (events.length === 0) return;
      this.inFlight += 1;
      for (const event of events) this.busyKeys.set(event.orderingKey, (this.busyKeys.get(event.orderingKey) ?? 0) + 1);
      this.startBatch(events);
    }
  }

  /** The oldest sendable events of one group, keeping every key's order. */
  private takeBatch(): WebhookEvent[] {
    const blocked = new Set(this.busyKeys.keys());
    const taken: number[] = [];
    let group: string | undefined;
    for (let index = 0; index < this.ready.length && taken.length < this.options.batchSize; index += 1) {
      const event = this.ready[index] as WebhookEvent;
      const eligible = !blocked.has(event.orderingKey) && (group === undefined || group === batchGroup(event));
      if (!eligible) {
        // A later event with this key must not overtake the one left behind.
        blocked.add(event.orderingKey);
        continue;
      }
      group ??= batchGroup(event);
      taken.push(index);
    }
    const events = taken.map((index) => this.ready[index] as WebhookEvent);
    for (const index of taken.reverse()) this.ready.splice(index, 1);
    return events;
  }

  private startBatch(events: WebhookEvent[]): void {
    const numbers = new Map<string, { number: WebhookBusinessNumber; items: Required<Omit<WebhookItems, 'accountChanges'>> }>();
    for (const event of events) {
      const entry = numbers.get(event.number.phoneNumberId) ?? {
        number: event.number,
        items: { statuses: [], contacts: [], messages: [], errors: [], userPreferences: [] },
      };
      entry.items.statuses.push(...(event.items.statuses ?? []));
      entry.items.contacts.push(...(event.items.contacts ?? []));
      entry.items.messages.push(...(event.items.messages ?? []));
      entry.items.errors.push(...(event.items.errors ?? []));
      entry.items.userPreferences.push(...(event.items.userPreferences ?? []));
      numbers.set(event.number.phoneNumberId, entry);
    }
    const first = events[0] as WebhookEvent;
    const body = first.items.accountChanges?.length
      ? JSON.stringify(
          buildAccountChangesPayload(
            first.number.wabaId,
            events.flatMap((event) => event.items.accountChanges ?? []),
            Math.floor(this.options.clock.nowMs() / 1000),
          ),
        )
      : JSON.stringify(buildWebhookPayload([...numbers.values()]));
    this.batchCount += 1;
    const batch: Batch = {
      id: `whd_${this.batchCount}`,
      events,
      body,
      signature: computeWebhookSignature(this.options.appSecretFor((events[0] as WebhookEvent).number.wabaId), body),
      firstAttemptMs: this.options.clock.nowMs(),
      generation: this.generation,
    };
    this.track(this.attempt(batch, 1));
  }

  private track(run: Promise<void>): void {
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  private async attempt(batch: Batch, attempt: number): Promise<void> {
    const url = this.options.resolveUrl((batch.events[0] as WebhookEvent).number.wabaId);
    if (url === undefined) {
      // Nobody subscribed: Meta has nowhere to send it, so the event is simply not delivered.
      this.release(batch);
      return;
    }
    const outcome = await this.post(url, batch.body, batch.signature);
    if (batch.generation !== this.generation) return; // reset or stopped meanwhile
    const accepted = isAccepted(outcome);
    const retryDelayMs = webhookRetryDelayMs(this.options.retryPolicy, attempt);
    const ageAtRetryMs = this.options.clock.nowMs() + retryDelayMs - batch.firstAttemptMs;
    const gaveUp = !accepted && ageAtRetryMs > this.options.retryPolicy.maxAgeMs;
    this.options.onAttempt(this.describe(batch, url, attempt, outcome, gaveUp));
    if (accepted || gaveUp) {
      this.release(batch);
      if (accepted) this.options.onAccepted(batch.id, batch.events);
      return;
    }
    // While waiting for its retry the batch holds its keys but not a request slot.
    this.inFlight -= 1;
    this.requestFlush();
    this.options.scheduler.schedule(async () => {
      if (batch.generation !== this.generation) return;
      this.inFlight += 1;
      const retry = this.attempt(batch, attempt + 1);
      this.track(retry);
      await retry;
    }, retryDelayMs);
  }

  private release(batch: Batch): void {
    if (batch.generation !== this.generation) return;
    this.inFlight -= 1;
    for (const event of batch.events) {
      const count = (this.busyKeys.get(event.orderingKey) ?? 1) - 1;
      if (count <= 0) this.busyKeys.delete(event.orderingKey);
      else this.busyKeys.set(event.orderingKey, count);
    }
    this.requestFlush();
  }

  private describe(batch: Batch, url: string, attempt: number, outcome: AttemptOutcome, gaveUp: boolean): WebhookDelivery {
    const duplicateOf = batch.events[0]?.duplicateOf;
    return {
      id: batch.id,
      url,
      body: batch.body,
      statuses: batch.events.flatMap((event) => (event.items.statuses ?? []).map(({ id, status }) => ({ id, status }))),
      messages: batch.events.flatMap((event) => (event.items.messages ?? []).map(({ id, type }) => ({ id, type }))),
      attempt,
      ...outcome,
      ...(gaveUp ? { gaveUp } : {}),
      ...(duplicateOf === undefined ? {} : { duplicateOf }),
      at: new Date(this.options.clock.nowMs()).toISOString(),
    };
  }

  private post(url: string, body: string, signature: string): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      const target = new URL(url);
      const isHttps = target.protocol === 'https:';
      const request = (isHttps ? https : http).request(target, {
        method: 'POST',
        agent: isHttps ? this.httpsAgent : this.httpAgent,
        signal: this.abortController.signal,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          'X-Hub-Signature-256': signature,
          'User-Agent': 'facebookexternalua',
        },
      });
      request.setTimeout(this.requestTimeoutMs, () => {
        request.destroy(new Error(`no response within ${this.requestTimeoutMs} ms`));
      });
      request.on('response', (response) => {
        response.resume(); // the receiver's answer body is irrelevant; drain it so the socket closes
        resolve({ responseStatus: response.statusCode ?? 0 });
      });
      request.on('error', (error) => resolve({ error: error.message }));
      request.end(body);
    });
  }
}
