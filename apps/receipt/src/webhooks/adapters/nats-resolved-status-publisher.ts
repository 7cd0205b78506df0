import { SpanKind, context, trace } from '@opentelemetry/api';
import type { JetStreamClient } from 'nats';
import { toProtoStatus } from '@waygate/contracts';
import type { Keyring } from '@waygate/keyring';
import { publishCustomerEvent, regionSubjects } from '@waygate/nats';
import { MessageStatusChanged, StatusSource } from '@waygate/proto';
import { contextFromTraceparent } from '@waygate/telemetry';
import type { ResolvedStatusPublisher } from '../domain/receipt-service';

const tracer = trace.getTracer('@waygate/receipt');

/**
 * Publishes resolved webhook statuses on `waygate.<region>.events.receipt`. The announcement continues the
 * message's own trace (recorded when it was sent) and links the webhook request's trace, so an SRE following the
 * message sees its receipts, and one following the webhook sees what it touched. Sealed under the recipient's data key
 * when the recipient is known (the event names the customer's number).
 */
export function createNatsResolvedStatusPublisher(
  js: JetStreamClient,
  region: string,
  keyring: Pick<Keyring, 'dataKeyFor' | 'customerRef'>,
): ResolvedStatusPublisher {
  const subject = regionSubjects(region).receiptEvents;
  return {
    async publish(resolved, traceContext) {
      const data = MessageStatusChanged.encode({
        eventId: resolved.eventId,
        tenantId: resolved.tenantId,
        messageId: resolved.messageId,
        status: toProtoStatus(resolved.status.status),
        waMessageId: resolved.status.waMessageId,
        occurredAt: resolved.status.occurredAt,
        source: StatusSource.STATUS_SOURCE_WEBHOOK,
        errorCode: resolved.status.errorCode ?? 0,
        errorTitle: resolved.status.errorTitle ?? '',
        attempt: 0,
        nextAttemptAt: undefined,
        recipient: resolved.recipient ?? '',
        recipientWaId: '',
        pricing: resolved.status.pricing
          ? {
              ...(resolved.status.pricing.billable !== undefined ? { billable: resolved.status.pricing.billable } : {}),
              pricingModel: resolved.status.pricing.pricingModel,
              type: resolved.status.pricing.type ?? '',
              category: resolved.status.pricing.category,
            }
          : undefined,
      }).finish();
      const parent = contextFromTraceparent(traceContext) ?? context.active();
      const webhookSpan = trace.getSpanContext(context.active());
      const span = tracer.startSpan(
        'receipt status',
        {
          kind: SpanKind.INTERNAL,
          attributes: { 'waygate.message_id': resolved.messageId, 'waygate.status': resolved.status.status },
          links: webhookSpan ? [{ context: webhookSpan }] : [],
        },
        parent,
      );
      try {
        const customer = { keyring, tenantId: resolved.tenantId, customer: resolved.recipient ?? '' };
        await context.with(trace.setSpan(parent, span), () => publishCustomerEvent(js, subject, data, resolved.eventId, customer));
      } finally {
        span.end();
      }
    },
  };
}
