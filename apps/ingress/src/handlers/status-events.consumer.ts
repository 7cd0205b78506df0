import { decodeEvent, fromProtoSource, fromProtoStatus } from '@waygate/contracts';
import { ACK, type HandlerOutcome } from '@waygate/nats';
import { MessageStatusChanged } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { MessagingService } from '../domain/messaging-service';

const decodedStatusEvents = new WeakMap<Uint8Array, MessageStatusChanged | null>();

/**
 * Decodes a MessageStatusChanged once per delivered payload: the status-learning handler and the status handler
 * both read the same event (issue 15: no repeated protobuf work per event); undefined when it is not one.
 */
export function decodeStatusEvent(data: Uint8Array): MessageStatusChanged | undefined {
  const known = decodedStatusEvents.get(data);
  if (known !== undefined) return known ?? undefined;
  const event = decodeEvent(MessageStatusChanged, data);
  decodedStatusEvents.set(data, event ?? null);
  return event;
}

/**
 * Applies MessageStatusChanged events (from delivery-retry and receipt) to the message store. Idempotent by event
 * id; acknowledged only after the store committed. Routed here from ingress's `events.>` consumer for the
 * delivery and receipt status subjects (server.ts).
 */
export function createStatusEventsHandler(
  service: MessagingService,
  logger: Logger,
  /**
   * Runs after a FAILED report was applied (also for a duplicate, so a redelivery after a crash in between still
   * runs it): the verification of a code whose message failed becomes UNDELIVERABLE. Idempotent.
   */
  afterFailed?: (tenantId: string, messageId: string) => Promise<void>,
) {
  return async (data: Uint8Array): Promise<HandlerOutcome> => {
    const event = decodeStatusEvent(data);
    const status = event && fromProtoStatus(event.status);
    const source = event && fromProtoSource(event.source);
    if (!event || !status || !source || !event.occurredAt || !event.eventId)
      return { kind: 'reject', reason: 'not a valid MessageStatusChanged' };
    const outcome = await service.applyStatusReport({
      eventId: event.eventId,
      tenantId: event.tenantId,
      messageId: event.messageId,
      status,
      waMessageId: event.waMessageId || undefined,
      occurredAt: event.occurredAt,
      source,
      errorCode: event.errorCode || undefined,
      errorTitle: event.errorTitle || undefined,
      attempt: event.attempt || undefined,
      nextAttemptAt: event.nextAttemptAt,
    });
    if (afterFailed && status === 'FAILED' && outcome !== 'unknown-message') await afterFailed(event.tenantId, event.messageId);
    const log = outcome === 'unknown-message' ? logger.warn.bind(logger) : logger.info.bind(logger);
    log(
      { tenant_id: event.tenantId, message_id: event.messageId, status, source, attempt: event.attempt || undefined, outcome },
      'status report',
    );
    return ACK;
  };
}
