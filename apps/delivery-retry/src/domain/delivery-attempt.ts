import { SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import { contextFromTraceparent } from '@waygate/telemetry';
import { callbackDataFor, mediaIdsOf, type Clock } from '@waygate/domain';
import { sentWrite, type DeliveryUpdate } from './delivery';
import type { DeliveryMetrics, PhoneNumberLookup, RetrySettings } from './delivery-ports';
import type { DeliveryRecorder } from './delivery-recorder';
import type { DeliveryStore, StoredDelivery } from './delivery-store';
import type { MediaResolver } from './media-resolver';
import { classifyOutcome, retryAt } from './outcome-classification';
import type { SealedParameterOpener } from './sealed-parameters';
import type { SendPacer } from './send-pacer';
import type { CloudApiSendOutcome, WhatsAppClient } from './whatsapp-client';

const tracer = trace.getTracer('@waygate/delivery-retry');

/**
 * How one attempt on a claimed delivery ended (the span's `waygate.outcome`): no call because the deadline passed
 * (`expired`), a crashed call may still be settled by its webhook (`awaiting-reconciliation`), pacing put it back
 * (`postponed`), another writer got in first (`superseded`); or a call whose outcome was recorded.
 */
export type AttemptOutcome = 'expired' | 'awaiting-reconciliation' | 'postponed' | 'superseded' | 'sent' | 'failed' | 'retry';

/** What an attempt needs; every part is a port or a pure setting, passed in at wiring time. */
export interface AttemptDeps {
  readonly store: DeliveryStore;
  readonly recorder: DeliveryRecorder;
  readonly pacer: SendPacer;
  readonly client: WhatsAppClient;
  /**
   * Uploads media sent by media-store id to Meta (once per number, cached). Without it, a message that names media by
   * id fails permanently (131053).
   */
  readonly media?: MediaResolver;
  /**
   * Opens authentication codes ingress sealed (sealed-parameters.ts) right before the call. Without it a sealed value
   * would be sent as it is, so every wiring that receives authentication messages passes one.
   */
  readonly sealed?: SealedParameterOpener;
  readonly phoneNumber: PhoneNumberLookup;
  readonly clock: Clock;
  readonly metrics: DeliveryMetrics;
  readonly settings: { readonly retry: RetrySettings; readonly reconcileGraceMs: number };
  readonly random: () => number;
  /** Waits for a reserved send slot; injectable so tests with a simulated clock do not sleep. */
  readonly waitUntil: (atMs: number) => Promise<void>;
}

function errorOf(outcome: CloudApiSendOutcome): { lastErrorCode?: number; lastErrorTitle?: string } {
  if (outcome.kind === 'error') return { lastErrorCode: outcome.code, lastErrorTitle: outcome.title };
  if (outcome.kind === 'no-answer') return { lastErrorTitle: outcome.reason };
  return {};
}

/**
 * One attempt on one claimed delivery: at most one Cloud API call. Checks that the delivery may be sent (deadline,
 * a crashed call's grace, pacing), marks the call as started (durably), calls, classifies the answer, lets the pacer
 * learn from it, and records the outcome with the event that announces it. Runs in a `delivery attempt` span in the
 * message's own trace, with `waygate.attempt`, `waygate.outcome` and `waygate.meta_error_code`.
 */
export class DeliveryAttempt {
  constructor(private readonly deps: AttemptDeps) {}

  /** Attempts the delivery; throws on store or network trouble (its lease runs out and a later pass retries it). */
  async run(stored: StoredDelivery): Promise<AttemptOutcome> {
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
      const outcome = await context.with(trace.setSpan(parent, span), () => this.attempt(stored, span));
      span.setAttribute('waygate.outcome', outcome);
      return outcome;
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  }

  private async attempt(stored: StoredDelivery, span: Span): Promise<AttemptOutcome> {
    const { delivery } = stored;
    const { clock, metrics } = this.deps;
    if (clock.now() >= delivery.expiresAt) {
      if (await this.deps.recorder.expire(stored, clock.now())) metrics.expired();
      return 'expired';
    }
    if (stored.callStartedAt) {
      const graceEndMs = stored.callStartedAt.getTime() + this.deps.settings.reconcileGraceMs;
      if (clock.now().getTime() < graceEndMs) {
        metrics.interruptedCall();
        // postpone() clears the mark: once the grace is over, the message is sent again unless a webhook settled it.
        await this.postpone(stored, graceEndMs);
        return 'awaiting-reconciliation';
      }
    }
    const attempts = delivery.attempts + 1;
    span.setAttribute('waygate.attempt', attempts);
    const number = this.deps.phoneNumber(delivery.tenantId, delivery.phoneNumberId);
    if (!number) {
      return this.record(
        stored,
        attempts,
        { kind: 'error', httpStatus: 0, code: 190, title: 'no access token configured for this phone number' },
        span,
      );
    }
    if (!delivery.content) {
      // Cannot happen for a PENDING delivery (content goes only with a settled state); fail loudly rather than guess.
      return this.record(stored, attempts, { kind: 'error', httpStatus: 0, code: 131009, title: 'message content is missing' }, span);
    }
    // Media by media-store id is uploaded (or found in the cache) before a send slot is taken: an upload can take a
    // while, and a failed one is this attempt's outcome without a send.
    const mediaIds = mediaIdsOf(delivery.content);
    let metaMediaId: ((mediaId: string) => string) | undefined;
    if (mediaIds.length > 0) {
      const resolution = this.deps.media
        ? await this.deps.media.resolve({
            tenantId: delivery.tenantId,
            phoneNumberId: delivery.phoneNumberId,
            accessToken: number.accessToken,
            mediaIds,
          })
        : ({
            kind: 'failed',
            outcome: { kind: 'error', httpStatus: 0, code: 131053, title: 'media by id is not configured here' },
          } as const);
      if (resolution.kind === 'failed') return this.record(stored, attempts, resolution.outcome, span);
      metaMediaId = resolution.metaMediaId;
    }
    // Opened before a send slot is taken, like media: a code that cannot be opened is this attempt's outcome.
    let content = delivery.content;
    if (this.deps.sealed) {
      const opening = await this.deps.sealed.open(delivery.tenantId, content);
      if (opening.kind === 'failed') return this.record(stored, attempts, opening.outcome, span);
      content = opening.content;
    }
    const slot = await this.deps.pacer.acquire(delivery, number.throughputMps);
    if (!slot.granted) {
      metrics.throttled(delivery.phoneNumberId, slot.by);
      await this.postpone(stored, slot.retryAtMs);
      return 'postponed';
    }
    await this.deps.waitUntil(slot.atMs);
    // Durable before the call: if this process dies now, the next holder knows the outcome is unknown.
    if (!(await this.deps.store.markCallStarted(delivery.tenantId, delivery.messageId, stored.version, clock.now()))) return 'superseded';
    const outcome = await this.deps.client.send({
      phoneNumberId: delivery.phoneNumberId,
      accessToken: number.accessToken,
      to: delivery.to,
      content,
      callbackData: callbackDataFor(delivery.messageId),
      ...(metaMediaId ? { metaMediaId } : {}),
    });
    return this.record(stored, attempts, outcome, span, true);
  }

  /** Classifies a call's outcome and records it with its event; `called` says whether Meta was actually asked. */
  private async record(
    stored: StoredDelivery,
    attempts: number,
    outcome: CloudApiSendOutcome,
    span: Span,
    called = false,
  ): Promise<AttemptOutcome> {
    const { delivery } = stored;
    const { metrics, recorder, settings } = this.deps;
    const outcomeClass = classifyOutcome(outcome);
    const error = errorOf(outcome);
    if (error.lastErrorCode !== undefined) span.setAttribute('waygate.meta_error_code', error.lastErrorCode);
    const pairRetryAtMs = called ? await this.deps.pacer.learn(delivery, outcomeClass) : undefined;
    const now = this.deps.clock.now();
    switch (outcomeClass.kind) {
      case 'sent': {
        metrics.attempt('sent', undefined);
        // A reaction ends here (WhatsApp reports only `sent` for it): settled in the same write, announced as SENT.
        const { update, event } = sentWrite(delivery, {
          state: 'SENT',
          attempts,
          waMessageId: outcome.kind === 'accepted' ? outcome.waMessageId : undefined,
          updatedAt: now,
        });
        // The wa_id Meta answered travels with the SENT event (ingress learns `to` -> wa_id from it).
        const recipientWaId = outcome.kind === 'accepted' ? outcome.recipientWaId : undefined;
        await recorder.write(stored, update, event && recipientWaId ? { ...event, recipientWaId } : event);
        return 'sent';
      }
      case 'permanent':
        metrics.attempt('failed', error.lastErrorCode);
        span.setStatus({ code: SpanStatusCode.ERROR, message: `meta error ${error.lastErrorCode ?? ''}` });
        await recorder.commit(stored, { state: 'FAILED', attempts, ...error, updatedAt: now });
        return 'failed';
      case 'needs-configuration':
      case 'retry': {
        const reason = outcomeClass.kind === 'retry' ? outcomeClass.reason : 'needs-configuration';
        metrics.attempt(outcomeClass.kind, error.lastErrorCode);
        metrics.retry(reason);
        span.setAttribute('waygate.retry_reason', reason);
        span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
        // An operator has to fix configuration problems, so those wait the longest interval. A call that got no answer
        // may still have reached Meta: wait for its webhook (see reconcileGraceMs) before sending it again.
        const awaitWebhookMs = outcome.kind === 'no-answer' && outcome.mayHaveArrived ? now.getTime() + settings.reconcileGraceMs : 0;
        const nextAttemptAt =
          reason === 'needs-configuration'
            ? new Date(Math.min(now.getTime() + settings.retry.maxMs, delivery.expiresAt.getTime()))
            : retryAt({
                nowMs: now.getTime(),
                expiresAt: delivery.expiresAt,
                attempts,
                reason,
                retry: settings.retry,
                random: this.deps.random,
                earliestMs: Math.max(pairRetryAtMs ?? 0, awaitWebhookMs),
              });
        await recorder.commit(stored, { state: 'PENDING', attempts, ...error, nextAttemptAt, updatedAt: now });
        return 'retry';
      }
    }
  }

  /** Puts a claimed delivery back without a call (throttled, circuit open, awaiting a webhook): no attempt is counted. */
  private async postpone(stored: StoredDelivery, untilMs: number): Promise<void> {
    const { delivery } = stored;
    // A little jitter, so that many postponed deliveries do not all come back in the same millisecond.
    const at = Math.min(untilMs + Math.round(this.deps.random() * 50), delivery.expiresAt.getTime());
    const update: DeliveryUpdate = {
      state: 'PENDING',
      attempts: delivery.attempts,
      lastErrorCode: delivery.lastErrorCode,
      lastErrorTitle: delivery.lastErrorTitle,
      nextAttemptAt: new Date(at),
      updatedAt: delivery.updatedAt,
    };
    await this.deps.store.update(delivery.tenantId, delivery.messageId, stored.version, update);
  }
}
