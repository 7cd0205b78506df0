import type { JetStreamClient } from 'nats';
import { toProtoStatus } from '@waygate/contracts';
import { publishEvent, regionSubjects } from '@waygate/nats';
import { MessageStatusChanged, StatusSource } from '@waygate/proto';
import type { StatusPublisher } from '../domain/delivery-service';

/** Publishes delivery outcomes as MessageStatusChanged on `waygate.<region>.events.delivery`. */
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
        attempt: 0,
        nextAttemptAt: undefined,
        recipient: '',
      }).finish();
      await publishEvent(js, subject, data, event.eventId);
    },
  };
}
