import { decodeEvent } from '@waygate/contracts';
import type { Clock } from '@waygate/domain';
import { ACK, type DeliveryInfo, type HandlerOutcome } from '@waygate/nats';
import { WebhookReceived } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { ReceiptService } from '../domain/receipt-service';
import { RetryLaterError } from '../domain/retry-later-error';
import type { WebhookMetrics } from '../domain/webhook-metrics';

/** How long to wait before processing a webhook again after a dependency was unavailable: doubling, capped. */
export interface WebhookRetryPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export function retryDelayMs(policy: WebhookRetryPolicy, deliveryCount: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(Math.max(deliveryCount - 1, 0), 30));
}

/**
 * Processes queued webhook bodies and acknowledges each only after all of it was applied (statuses published or
 * held, inbound messages recorded and announced). A failure part-way is not acknowledged: the whole body is processed
 * again later, and every step it repeats is idempotent.
 */
export function createWebhooksHandler(
  service: ReceiptService,
  logger: Logger,
  retry: WebhookRetryPolicy,
  /** The clock that stamped `received_at` when the body was queued, and where the lag is recorded. */
  observe: { readonly clock: Clock; readonly metrics: WebhookMetrics },
) {
  return async (data: Uint8Array, info: DeliveryInfo): Promise<HandlerOutcome> => {
    const event = decodeEvent(WebhookReceived, data);
    if (!event || event.body.length === 0) return { kind: 'reject', reason: 'not a valid WebhookReceived' };
    let outcome;
    try {
      outcome = await service.processWebhook(event.body, {
        number: info.deliveryCount,
        // On the body's last attempt, media that still fails is given up on (the message recorded without it)
        // instead of the body being dead-lettered.
        last: info.lastDelivery,
      });
    } catch (error) {
      if (error instanceof SyntaxError) return { kind: 'reject', reason: 'webhook body is not JSON' };
      if (error instanceof RetryLaterError) {
        const delayMs = retryDelayMs(retry, info.deliveryCount);
        logger.warn({ reason: error.reason, attempt: info.deliveryCount, retry_in_ms: delayMs }, 'webhook processing postponed');
        return { kind: 'retry', delayMs, reason: error.reason };
      }
      throw error;
    }
    // received_at is optional in the contract; without it there is no arrival time to measure from.
    if (event.receivedAt) observe.metrics.processed((observe.clock.now().getTime() - event.receivedAt.getTime()) / 1000);
    if (outcome.mediaGivenUp > 0)
      logger.warn(
        { media_given_up: outcome.mediaGivenUp, attempt: info.deliveryCount },
        'inbound media given up after the last attempt; recorded without it',
      );
    logger.info(
      {
        published: outcome.published,
        held: outcome.held,
        ignored: outcome.ignored,
        inbound_messages: outcome.inboundMessages,
        inbound_recorded: outcome.inboundRecorded,
        media_unavailable: outcome.mediaUnavailable,
        media_given_up: outcome.mediaGivenUp,
        template_events: outcome.templateEvents,
        skipped: outcome.skipped,
      },
      'webhook processed',
    );
    return ACK;
  };
}
