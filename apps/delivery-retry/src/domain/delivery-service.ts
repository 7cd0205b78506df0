import type { Clock } from '@waygate/domain';
import { withAttempt, type AttemptRecord, type Delivery, type DeliveryContent, type DeliveryState } from './delivery';
import type { DeliveryStore } from './delivery-store';
import { classifyOutcome, retryDelayMs } from './outcome-classification';
import type { WhatsAppClient } from './whatsapp-client';

/** A message ingress accepted, as delivery-retry receives it. */
export interface AcceptedMessage {
  readonly tenantId: string;
  readonly messageId: string;
  readonly to: string;
  readonly phoneNumberId: string;
  readonly content: DeliveryContent;
  readonly expiresAt: Date;
}

/** A delivery outcome other services need to know about. */
export interface DeliveryStatusEvent {
  /** Stable per message and outcome, so re-announcing is idempotent downstream. */
  readonly eventId: string;
  readonly tenantId: string;
  readonly messageId: string;
  readonly status: 'SENT' | 'FAILED' | 'EXPIRED';
  readonly waMessageId?: string;
  readonly occurredAt: Date;
  readonly errorCode?: number;
  readonly errorTitle?: string;
}

export interface StatusPublisher {
  /** Durable when it resolves; safe to repeat with the same event id. */
  publish(event: DeliveryStatusEvent): Promise<void>;
}

/** Finds the Cloud API token for a tenant's business number (undefined if it is not configured). */
export type AccessTokenLookup = (tenantId: string, phoneNumberId: string) => string | undefined;

/** What the caller (the queue consumer) should do with the message now, with the delivery as recorded. */
export type DeliveryDecision =
  | { readonly kind: 'done'; readonly delivery: Delivery }
  | { readonly kind: 'retry-later'; readonly delivery: Delivery; readonly delayMs: number; readonly reason: string };

export interface RetryPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

const TERMINAL_STATUS: Readonly<Record<Exclude<DeliveryState, 'PENDING'>, DeliveryStatusEvent['status']>> = {
  SENT: 'SENT',
  FAILED: 'FAILED',
  EXPIRED: 'EXPIRED',
};

function statusEventFor(delivery: Delivery): DeliveryStatusEvent | undefined {
  if (delivery.state === 'PENDING') return undefined;
  const status = TERMINAL_STATUS[delivery.state];
  return {
    eventId: `${delivery.messageId}:delivery:${status.toLowerCase()}`,
    tenantId: delivery.tenantId,
    messageId: delivery.messageId,
    status,
    waMessageId: delivery.waMessageId,
    occurredAt: delivery.updatedAt,
    errorCode: delivery.lastErrorCode,
    errorTitle: delivery.lastErrorTitle,
  };
}

export interface DeliveryService {
  /**
   * Delivers one accepted message: records the outcome durably, then announces it. Safe to call again for the same
   * message (after a crash or redelivery): a message already handed to WhatsApp is never sent twice from here, only
   * its outcome announced again.
   */
  deliver(message: AcceptedMessage): Promise<DeliveryDecision>;
  get(tenantId: string, messageId: string): Promise<Delivery | undefined>;
}

export function createDeliveryService(deps: {
  store: DeliveryStore;
  client: WhatsAppClient;
  publisher: StatusPublisher;
  accessToken: AccessTokenLookup;
  clock: Clock;
  retry: RetryPolicy;
  random?: () => number;
}): DeliveryService {
  const { store, client, publisher, clock, retry } = deps;

  /** Announces a settled delivery (again, after a redelivery: the event id makes that harmless). */
  async function finish(delivery: Delivery): Promise<DeliveryDecision> {
    const event = statusEventFor(delivery);
    if (event) await publisher.publish(event);
    return { kind: 'done', delivery };
  }

  /** Records an attempt durably and returns the delivery as now stored, without reading it back. */
  async function record(delivery: Delivery, attempt: AttemptRecord): Promise<Delivery> {
    await store.recordAttempt(delivery.tenantId, delivery.messageId, attempt);
    return withAttempt(delivery, attempt);
  }

  return {
    async deliver(message) {
      const now = clock.now();
      const delivery = await store.insertIfAbsent({ ...message, state: 'PENDING', attempts: 0, updatedAt: now });
      if (delivery.state !== 'PENDING') return finish(delivery);

      if (now >= delivery.expiresAt) {
        return finish(
          await record(delivery, {
            state: 'EXPIRED',
            attempts: delivery.attempts,
            lastErrorCode: delivery.lastErrorCode,
            lastErrorTitle: delivery.lastErrorTitle,
            updatedAt: now,
          }),
        );
      }

      const attempts = delivery.attempts + 1;
      const accessToken = deps.accessToken(delivery.tenantId, delivery.phoneNumberId);
      const outcome = accessToken
        ? await client.sendText({
            phoneNumberId: delivery.phoneNumberId,
            accessToken,
            to: delivery.to,
            body: delivery.content.body,
            previewUrl: delivery.content.previewUrl,
          })
        : ({ kind: 'error', httpStatus: 0, code: 190, title: 'no access token configured for this phone number' } as const);
      const completedAt = clock.now();
      const error =
        outcome.kind === 'error'
          ? { lastErrorCode: outcome.code, lastErrorTitle: outcome.title }
          : outcome.kind === 'no-answer'
            ? { lastErrorTitle: outcome.reason }
            : {};

      const outcomeClass = classifyOutcome(outcome);
      switch (outcomeClass) {
        case 'sent':
          return finish(
            await record(delivery, {
              state: 'SENT',
              attempts,
              waMessageId: outcome.kind === 'accepted' ? outcome.waMessageId : undefined,
              updatedAt: completedAt,
            }),
          );
        case 'permanent':
          return finish(await record(delivery, { state: 'FAILED', attempts, ...error, updatedAt: completedAt }));
        case 'retry':
        case 'needs-configuration': {
          // An operator has to fix configuration problems, so those wait the longest interval between attempts.
          const wanted =
            outcomeClass === 'retry'
              ? retryDelayMs(attempts, { baseMs: retry.baseDelayMs, maxMs: retry.maxDelayMs }, deps.random)
              : retry.maxDelayMs;
          // Never wait past the deadline: the attempt after it records the expiry.
          const delayMs = Math.max(0, Math.min(wanted, delivery.expiresAt.getTime() - completedAt.getTime()));
          const pending = await record(delivery, {
            state: 'PENDING',
            attempts,
            ...error,
            nextAttemptAt: new Date(completedAt.getTime() + delayMs),
            updatedAt: completedAt,
          });
          return {
            kind: 'retry-later',
            delivery: pending,
            delayMs,
            reason: error.lastErrorCode ? `meta error ${error.lastErrorCode}` : (error.lastErrorTitle ?? 'unknown'),
          };
        }
      }
    },

    get: (tenantId, messageId) => store.get(tenantId, messageId),
  };
}
