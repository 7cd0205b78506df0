import { context } from '@opentelemetry/api';
import type { JetStreamClient } from 'nats';
import { toProtoStatus } from '@waygate/contracts';
import { publishEvent, regionSubjects } from '@waygate/nats';
import { MessageStatusChanged, StatusSource } from '@waygate/proto';
import { contextFromTraceparent } from '@waygate/telemetry';
import type { StatusPublisher } from '../domain/delivery-engine';

/**
 * Publishes delivery outcomes as MessageStatusChanged on `waygate.<region>.events.delivery`, in the message's own
 * trace (an outbox sweep publishes long after the attempt, so the trace travels with the event).
 */
export function createNatsStatusPublisher(js: JetStreamClient, region: string): StatusPublisher {
  const subject = regionSubjects(region).deliveryEvents;
  return {
    async publish(event) {
      const data = MessageStatusChanged.encode({
        eventId: event.eventId,
        tenantId: event.tenantId,
        messageId: event.messageId,
        status: toProtoStatus(event.status),
        waMessageId: event.waMessageId ?? '',
        occurredAt: event.occurredAt,
        source: StatusSource.STATUS_SOURCE_DELIVERY,
        errorCode: event.errorCode ?? 0,
        errorTitle: event.errorTitle ?? '',
        attempt: event.attempt,
        nextAttemptAt: event.nextAttemptAt,
        recipient: event.recipient,
        recipientWaId: event.recipientWaId ?? '',
        pricing: undefined,
      }).finish();
      const parent = contextFromTraceparent(event.traceContext) ?? context.active();
      await context.with(parent, () => publishEvent(js, subject, data, event.eventId));
    },
  };
}
