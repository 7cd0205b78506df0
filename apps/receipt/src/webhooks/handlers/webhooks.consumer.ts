import { decodeEvent } from '@waygate/contracts';
import { ACK, type DeliveryInfo, type HandlerOutcome } from '@waygate/nats';
import { WebhookReceived } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { ReceiptService } from '../domain/receipt-service';
import { RetryLaterError } from '../domain/retry-later-error';

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
export function createWebhooksHandler(service: ReceiptService, logger: Logger, retry: WebhookRetryPolicy) {
  return async (data: Uint8Array, info: DeliveryInfo): Promise<HandlerOutcome> => {
    const event = decodeEvent(WebhookReceived, data);
    if (!event || event.body.length === 0) return { kind: 'reject', reason: 'not a valid WebhookReceived' };
    let outcome;
    try {
      outcome = await service.processWebhook(event.body);
    } catch (error) {
      if (error instanceof SyntaxError) return { kind: 'reject', reason: 'webhook body is not JSON' };
      if (error instanceof RetryLaterError) {
        const delayMs = retryDelayMs(retry, info.deliveryCount);
        logger.warn({ reason: error.reason, attempt: info.deliveryCount, retry_in_ms: delayMs }, 'webhook processing postponed');
        return { kind: 'retry', delayMs, reason: error.reason };
      }
      throw error;
    }
    logger.info(
      {
        published: outcome.published,
        held: outcome.held,
        ignored: outcome.ignored,
        inbound_messages: outcome.inboundMessages,
        inbound_recorded: outcome.inboundRecorded,
        media_unavailable: outcome.mediaUnavailable,
        skipped: outcome.skipped,
      },
      'webhook processed',
    );
    return ACK;
  };
}
