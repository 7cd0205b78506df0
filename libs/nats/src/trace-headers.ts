import { context, propagation, type Context, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { headers as createHeaders, type MsgHdrs } from 'nats';

const natsHeaderSetter: TextMapSetter<MsgHdrs> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

const natsHeaderGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => (carrier ? carrier.keys() : []),
  get: (carrier, key) => (carrier?.has(key) ? carrier.get(key) : undefined),
};

/** NATS headers carrying the given (default: active) trace context as W3C `traceparent`/`tracestate`. */
export function traceHeaders(activeContext: Context = context.active()): MsgHdrs {
  const headers = createHeaders();
  propagation.inject(activeContext, headers, natsHeaderSetter);
  return headers;
}

/** The trace context a publisher put into NATS headers (the root context when there is none). */
export function extractTraceContext(headers: MsgHdrs | undefined): Context {
  return propagation.extract(context.active(), headers, natsHeaderGetter);
}
