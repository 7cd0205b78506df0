import http from 'node:http';
import https from 'node:https';
import type { SimulatorClock } from './clock';
import type { TimerRegistry } from './timer-registry';
import type { WebhookDelivery, WebhookStatusSummary } from './types';
import { computeWebhookSignature } from './webhook-signature';

/** How failed webhook POSTs are retried. */
export interface WebhookRetryPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
}

/** Short enough for tests, shaped like Meta's exponential backoff (which goes on for hours). */
export const DEFAULT_WEBHOOK_RETRY_POLICY: Readonly<WebhookRetryPolicy> = {
  initialDelayMs: 100,
  maxDelayMs: 3_000,
  maxAttempts: 8,
};

/** A receiver that has not answered within this time counts as a failed attempt. */
export const WEBHOOK_REQUEST_TIMEOUT_MS = 5_000;

/** Delay before retry number `attempt` (1-based): doubling from the initial delay, capped. */
export function webhookBackoffDelayMs(policy: WebhookRetryPolicy, attempt: number): number {
  return Math.min(policy.initialDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
}

/** A webhook waiting to be delivered. */
export interface OutgoingWebhook {
  body: string;
  statuses: WebhookStatusSummary[];
}

/** Collaborators of {@link WebhookDispatcher}. */
export interface WebhookDispatcherOptions {
  appSecret: string;
  clock: SimulatorClock;
  timers: TimerRegistry;
  /** Read before every attempt, so changing the webhook URL also redirects retries. */
  resolveUrl(): string | undefined;
  onAttempt(delivery: WebhookDelivery): void;
  retryPolicy?: WebhookRetryPolicy;
  requestTimeoutMs?: number;
}

type AttemptOutcome = { responseStatus: number } | { error: string };

function isAccepted(outcome: AttemptOutcome): boolean {
  return 'responseStatus' in outcome && outcome.responseStatus >= 200 && outcome.responseStatus < 300;
}

/**
 * POSTs signed webhooks with retries. Webhooks sharing an ordering key (a wamid) go out strictly one after
 * another, so a receiver never sees `delivered` before it accepted (or we gave up on) `sent`.
 */
export class WebhookDispatcher {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly abortController = new AbortController();
  // No keep-alive: each attempt is independent, and no idle sockets outlive stop().
  private readonly httpAgent = new http.Agent({ keepAlive: false });
  private readonly httpsAgent = new https.Agent({ keepAlive: false });
  private readonly retryPolicy: WebhookRetryPolicy;
  private readonly requestTimeoutMs: number;
  private deliveryCount = 0;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.retryPolicy = options.retryPolicy ?? DEFAULT_WEBHOOK_RETRY_POLICY;
    this.requestTimeoutMs = options.requestTimeoutMs ?? WEBHOOK_REQUEST_TIMEOUT_MS;
  }

  /** Queues a webhook behind earlier ones with the same ordering key. */
  enqueue(orderingKey: string, webhook: OutgoingWebhook): void {
    const previous = this.queues.get(orderingKey) ?? Promise.resolve();
    const current = previous.then(() => this.deliver(webhook)).catch(() => undefined);
    this.queues.set(orderingKey, current);
    void current.then(() => {
      if (this.queues.get(orderingKey) === current) this.queues.delete(orderingKey);
    });
  }

  /** Aborts in-flight requests, drops queued webhooks and waits until every queue has settled. */
  async stop(): Promise<void> {
    this.abortController.abort();
    await Promise.allSettled([...this.queues.values()]);
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private get stopped(): boolean {
    return this.abortController.signal.aborted;
  }

  private async deliver(webhook: OutgoingWebhook): Promise<void> {
    if (this.stopped) return;
    this.deliveryCount += 1;
    const deliveryId = `whd_${this.deliveryCount}`;
    const signature = computeWebhookSignature(this.options.appSecret, webhook.body);
    for (let attempt = 1; attempt <= this.retryPolicy.maxAttempts; attempt += 1) {
      const url = this.options.resolveUrl();
      if (url === undefined || this.stopped) return;
      const outcome = await this.post(url, webhook.body, signature);
      // An attempt cut short by stop() is not a real delivery outcome.
      if (this.stopped) return;
      this.options.onAttempt({
        id: deliveryId,
        url,
        body: webhook.body,
        statuses: webhook.statuses.map((status) => ({ ...status })),
        attempt,
        ...outcome,
        at: new Date(this.options.clock.nowMs()).toISOString(),
      });
      if (isAccepted(outcome) || attempt === this.retryPolicy.maxAttempts) return;
      const waited = await this.options.timers.wait(webhookBackoffDelayMs(this.retryPolicy, attempt));
      if (!waited) return;
    }
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
