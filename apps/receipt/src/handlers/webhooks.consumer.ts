import { decodeEvent } from '@waygate/contracts';
import { ACK, type HandlerOutcome } from '@waygate/nats';
import { WebhookReceived } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { ReceiptService } from '../domain/receipt-service';

/** Processes queued webhook bodies; acknowledged after every status was published or held. */
export function createWebhooksHandler(service: ReceiptService, logger: Logger) {
  return async (data: Uint8Array): Promise<HandlerOutcome> => {
    const event = decodeEvent(WebhookReceived, data);
    if (!event || event.body.length === 0) return { kind: 'reject', reason: 'not a valid WebhookReceived' };
    let outcome;
    try {
      outcome = await service.processWebhook(event.body);
    } catch (error) {
      if (error instanceof SyntaxError) return { kind: 'reject', reason: 'webhook body is not JSON' };
      throw error;
    }
    logger.info(
      {
        published: outcome.published,
        held: outcome.held,
        ignored: outcome.ignored,
        inbound_messages: outcome.inboundMessages,
        skipped: outcome.skipped,
      },
      'webhook processed',
    );
    return ACK;
  };
}
