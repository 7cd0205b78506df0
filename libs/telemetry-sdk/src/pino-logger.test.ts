import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createLogger } from './pino-logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, destination };
}

test('log lines carry service, region and the active trace id; secrets are redacted', () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const tracer = new BasicTracerProvider().getTracer('test');
  const { lines, destination } = capture();
  const logger = createLogger({ service: 'ingress', region: 'eu', destination });
  const span = tracer.startSpan('op');
  context.with(trace.setSpan(context.active(), span), () => {
    logger.info({ accessToken: 'secret-token', message: { body: 'hello customer', to: '+4915112345678' } }, 'sending');
  });
  span.end();
  const [line] = lines;
  assert.equal(line.service, 'ingress');
  assert.equal(line.region, 'eu');
  assert.equal(line.trace_id, span.spanContext().traceId);
  assert.equal(line.accessToken, '[redacted]');
  const text = JSON.stringify(line);
  assert.ok(!text.includes('secret-token') && !text.includes('hello customer') && !text.includes('4915112345678'), text);
  context.disable();
});
