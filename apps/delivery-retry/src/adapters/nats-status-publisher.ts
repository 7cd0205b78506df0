import { context } from '@opentelemetry/api';
import type { JetStreamClient } from 'nats';
import { toProtoStatus } from '@waygate/contracts';
import type { Keyring } from '@waygate/keyring';
import { messageOrderKey, ORDER_KEY_HEADER, publishCustomerEvent, regionSubjects } from '@waygate/nats';
import { MessageStatusChanged, StatusSource } from '@waygate/proto';
import { contextFromTraceparent } from '@waygate/telemetry';
import type { StatusPublisher } from '../domain/delivery-engine';

/**
 * Publishes delivery outcomes as MessageStatusChanged on `waygate.<region>.events.delivery`, in the message's own
 * trace (an outbox sweep publishes long after the attempt, so the trace travels with the event), sealed under the
 * recipient's data key (the event names the customer's number).
 */
export function createNatsStatusPublisher(
  js: JetStreamClient,
  region: string,
  keyring: Pick<Keyring, 'dataKeyFor' | 'customerRef'>,
): StatusPublisher {
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
      const customer = { keyring, tenantId: event.tenantId, customer: event.recipient };
      // The message's order key: its consumers (ingress, the archive, the feed) apply its statuses in order.
      const headers = { [ORDER_KEY_HEADER]: messageOrderKey(event.tenantId, event.messageId) };
      await context.with(parent, () => publishCustomerEvent(js, subject, data, event.eventId, customer, headers));
    },
  };
}
