import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { censorSensitive, createLogger } from './pino-logger';

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

test("censoring covers the top level and one level down, never changes the caller's objects, and keeps an Error an Error", () => {
  const { lines, destination } = capture();
  const logger = createLogger({ service: 'receipt', destination });
  const request = { method: 'POST', text: 'hi there' };
  const headers = { authorization: 'Bearer abc', accept: 'json' };
  const error = Object.assign(new Error('upload refused'), { body: 'customer payload', status: 413 });
  logger.warn(
    { request, headers, err: error, recipient: '+4915112345678', tenant_id: 'acme', nested: { deeper: { to: 'kept: two levels only' } } },
    'x',
  );
  type Line = Record<string, string> & { headers: Record<string, string>; request: Record<string, string> };
  type ErrorLine = { err: Record<string, unknown>; nested: { deeper: Record<string, string> } };
  const line = lines[0] as unknown as Line & ErrorLine;
  assert.equal(line.recipient, '[redacted]');
  assert.equal(line.headers.authorization, '[redacted]');
  assert.equal(line.headers.accept, 'json');
  assert.equal(line.request.text, '[redacted]');
  assert.equal(line.err.message, 'upload refused');
  assert.equal(line.err.type, 'Error', "pino's error serializer still sees an Error");
  assert.equal(line.err.body, '[redacted]');
  assert.equal(line.err.status, 413);
  assert.equal(line.tenant_id, 'acme');
  assert.equal(line.nested.deeper.to, 'kept: two levels only');
  // The caller's objects are untouched.
  assert.equal(request.text, 'hi there');
  assert.equal(error.body, 'customer payload');
  // Child bindings are censored too, and a grandchild keeps its parent's bindings.
  const child = logger.child({ to: '+4915112345678', component: 'intake' });
  child.info('bound');
  child.child({ recipient: '+4915100000000', step: 2 }).info('grandchild');
  assert.equal(lines[1].to, '[redacted]');
  assert.equal(lines[1].component, 'intake');
  assert.equal(lines[2].component, 'intake');
  assert.equal(lines[2].step, 2);
  assert.equal(lines[2].recipient, '[redacted]');
  assert.ok(!JSON.stringify(lines).includes('4915100000000') && !JSON.stringify(lines).includes('4915112345678'));
});

test('censorSensitive copies nothing when nothing is sensitive', () => {
  const object = { tenant_id: 'acme', ids: ['a'], outcome: { published: 1 } };
  assert.equal(censorSensitive(object), object);
  const censored = censorSensitive({ ...object, to: '+49' });
  assert.notEqual(censored, object);
  assert.equal(censored.to, '[redacted]');
  // An undefined value stays absent, as with pino's redaction.
  assert.equal(censorSensitive({ to: undefined }).to, undefined);
  // Arrays and buffers are not walked (their keys are indexes).
  const large = { ids: Array.from({ length: 100_000 }, (_, i) => `id-${i}`), payload: Buffer.alloc(1 << 20) };
  assert.equal(censorSensitive(large), large);
});
