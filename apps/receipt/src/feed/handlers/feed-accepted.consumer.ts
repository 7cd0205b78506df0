import { decodeEvent, fromProtoContentType } from '@waygate/contracts';
import { ACK, type HandlerOutcome } from '@waygate/nats';
import { MessageAccepted } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { FeedBuilder } from '../domain/feed-builder';

/**
 * Takes what each accepted message carries (its content type and ingress's summary) from MessageAccepted on
 * `waygate.<region>.outbound.accepted`, so the message's status events in the tenant feed show them. The content
 * itself is not kept. Logs ids only.
 */
export function createFeedAcceptedHandler(builder: FeedBuilder, logger: Logger) {
  return async (data: Uint8Array): Promise<HandlerOutcome> => {
    const event = decodeEvent(MessageAccepted, data);
    if (!event || !event.tenantId || !event.messageId) return { kind: 'reject', reason: 'not a valid MessageAccepted' };
    // The content case is what was sent; content_type says the same (and is all an unknown future case leaves).
    const contentType = event.content ? event.content.$case : fromProtoContentType(event.contentType);
    if (!contentType) return ACK;
    const outcome = await builder.recordAccepted({
      tenantId: event.tenantId,
      messageId: event.messageId,
      contentType,
      contentSummary: event.contentSummary,
    });
    if (outcome.kind === 'not-ours') logger.warn({ message_id: event.messageId }, `accepted message for ${outcome.reason}; skipped`);
    return ACK;
  };
}
