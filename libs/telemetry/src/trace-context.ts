import { context, propagation, trace, type Context } from '@opentelemetry/api';

/**
 * The active trace as a W3C `traceparent`, to store with a record that is processed later (a retry, a webhook), so
 * that processing can join the message's trace.
 */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** The context of a stored `traceparent`; undefined when there is none or it names no valid span. */
export function contextFromTraceparent(traceparent: string | undefined): Context | undefined {
  if (!traceparent) return undefined;
  const extracted = propagation.extract(context.active(), { traceparent });
  return trace.getSpanContext(extracted) ? extracted : undefined;
}
