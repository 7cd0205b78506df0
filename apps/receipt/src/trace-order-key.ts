import type { MsgHdrs } from 'nats';
import { orderKeyHeader } from '@waygate/nats';

/** W3C traceparent: version, trace id, parent span id, flags. */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The order key of an event about a message (the feed's consumers, `receipt-delivery-events`): its trace id. Every event about one message is published in the message's own
 * trace (ingress starts it at SendMessage; delivery-retry and receipt continue it, receipt's webhook statuses too, from
 * the trace recorded with the wamid), whoever the publisher and whatever order key it set, so a message's events keep
 * their order while different messages' run side by side. Without a trace, the publisher's order key; without
 * either, undefined: `startConsumer` puts those in one lane, in stream order. (The feed's rules also cope with
 * statuses out of order, as Meta sends them.)
 */
export function traceOrderKey(message: { readonly subject: string; readonly headers?: MsgHdrs }): string | undefined {
  const traceId = TRACEPARENT.exec(message.headers?.get('traceparent') ?? '')?.[1];
  if (traceId && traceId !== '0'.repeat(32)) return `trace:${traceId}`;
  return orderKeyHeader(message);
}
