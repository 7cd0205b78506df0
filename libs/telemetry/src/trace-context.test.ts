import { test } from 'node:test';
import assert from 'node:assert/strict';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { activeTraceparent, contextFromTraceparent } from './trace-context';

propagation.setGlobalPropagator(new W3CTraceContextPropagator());
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const tracer = new BasicTracerProvider().getTracer('test');

test('a stored traceparent brings back the trace it was taken in; none or an invalid one gives no context', () => {
  const span = tracer.startSpan('message');
  const traceparent = context.with(trace.setSpan(context.active(), span), () => activeTraceparent());
  span.end();
  assert.match(traceparent ?? '', new RegExp(`^00-${span.spanContext().traceId}-${span.spanContext().spanId}-01$`));
  const restored = contextFromTraceparent(traceparent);
  assert.equal(trace.getSpanContext(restored ?? context.active())?.traceId, span.spanContext().traceId);
  assert.equal(contextFromTraceparent(undefined), undefined);
  assert.equal(contextFromTraceparent('not-a-traceparent'), undefined);
  assert.equal(activeTraceparent(), undefined, 'outside any span there is nothing to store');
});
