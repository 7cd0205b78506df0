import { SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import type { JetStreamClient } from 'nats';
import { toProtoStatus } from '@waygate/contracts';
import { sealPayload, type Keyring } from '@waygate/keyring';
import { messageOrderKey, ORDER_KEY_HEADER, regionSubjects, SEALED_HEADER, traceHeaders } from '@waygate/nats';
import { MessageStatusChanged, StatusSource } from '@waygate/proto';
import { contextFromTraceparent } from '@waygate/telemetry';
import type { ResolvedStatus, ResolvedStatusPublisher, StatusAnnouncement } from '../domain/receipt-service';

const tracer = trace.getTracer('@waygate/receipt');

function encode(resolved: ResolvedStatus): Uint8Array {
  return MessageStatusChanged.encode({
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
}

/** An announcement ready to go on the wire: its bytes (sealed when the recipient is known) and its span. */
interface PreparedStatus {
  readonly resolved: ResolvedStatus;
  readonly payload: Uint8Array;
  readonly sealed: boolean;
  readonly span: Span;
  readonly spanContext: ReturnType<typeof context.active>;
}

/**
 * Publishes resolved webhook statuses on `waygate.<region>.events.receipt`. The announcement continues the
 * message's own trace (recorded when it was sent) and links the webhook request's trace, so an SRE following the
 * message sees its receipts, and one following the webhook sees what it touched. Sealed under the recipient's data key
 * when the recipient is known (the event names the customer's number).
 *
 * A batch (the statuses of one webhook body) is pipelined (issue 15): every status is encoded and sealed first (the
 * keyring lookups in parallel), then all are sent in the batch's order in one synchronous pass (one socket write,
 * stream order = body order), and only then are the PubAcks awaited, together. A status whose preparation failed is
 * not sent, and neither is any later status of the same wamid, so a message's statuses never overtake each other.
 */
export function createNatsResolvedStatusPublisher(
  js: JetStreamClient,
  region: string,
  keyring: Pick<Keyring, 'dataKeyFor' | 'customerRef'>,
): ResolvedStatusPublisher {
  const subject = regionSubjects(region).receiptEvents;

  async function prepare(announcement: StatusAnnouncement, webhookContext: ReturnType<typeof context.active>): Promise<PreparedStatus> {
    const { status: resolved, traceContext } = announcement;
    const parent = contextFromTraceparent(traceContext) ?? webhookContext;
    const webhookSpan = trace.getSpanContext(webhookContext);
    const span = tracer.startSpan(
      'receipt status',
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'waygate.message_id': resolved.messageId,
          'waygate.status': resolved.status.status,
          'messaging.system': 'nats',
          'messaging.destination.name': subject,
          'messaging.message.id': resolved.eventId,
        },
        links: webhookSpan ? [{ context: webhookSpan }] : [],
      },
      parent,
    );
    try {
      const data = encode(resolved);
      const customer = resolved.recipient ?? '';
      if (customer === '') return { resolved, payload: data, sealed: false, span, spanContext: trace.setSpan(parent, span) };
      const customerRef = await keyring.customerRef(resolved.tenantId, customer);
      const payload = await sealPayload(keyring, { tenantId: resolved.tenantId, customerRef }, data);
      return { resolved, payload, sealed: true, span, spanContext: trace.setSpan(parent, span) };
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      throw error;
    }
  }

  function send(prepared: PreparedStatus): Promise<void> {
    // The headers carry the status span's context: consumers continue the message's trace.
    const headers = traceHeaders(prepared.spanContext);
    if (prepared.sealed) headers.set(SEALED_HEADER, 'v1');
    // The same order key delivery-retry gives the message's status events: ingress and the archive apply a message's
    // statuses in order, whichever service published them.
    headers.set(ORDER_KEY_HEADER, messageOrderKey(prepared.resolved.tenantId, prepared.resolved.messageId));
    return js.publish(subject, prepared.payload, { msgID: prepared.resolved.eventId, headers }).then(
      () => prepared.span.end(),
      (error: unknown) => {
        prepared.span.recordException(error as Error);
        prepared.span.setStatus({ code: SpanStatusCode.ERROR });
        prepared.span.end();
        throw error;
      },
    );
  }

  return {
    async publishAll(announcements) {
      const webhookContext = context.active();
      const prepared = await Promise.allSettled(announcements.map((announcement) => prepare(announcement, webhookContext)));
      const failedWamids = new Set<string>();
      // Sent synchronously, in order: nats.js writes everything queued in this turn in one go.
      const acks = prepared.map((outcome, index): Promise<void> => {
        const wamid = announcements[index].status.status.waMessageId;
        if (outcome.status === 'rejected') {
          failedWamids.add(wamid);
          return Promise.reject(outcome.reason);
        }
        if (failedWamids.has(wamid)) {
          outcome.value.span.end();
          return Promise.reject(new Error('not sent: an earlier status of the same message could not be prepared'));
        }
        return send(outcome.value);
      });
      return Promise.allSettled(acks);
    },
  };
}
