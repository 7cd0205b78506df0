/**
 * The Cloud API client against the WhatsApp simulator over loopback (and, for answers Meta would not give, a plain
 * HTTP server): sends, Meta's error bodies, timeouts, refused and dropped connections, media, mark-as-read, spans.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { freePort, waitFor } from '@waygate/testing';
import { startSimulator, type WhatsAppSimulator } from '@waygate/whatsapp-simulator';
import { createCloudApiClient, type CloudApiClient } from './cloud-api-client';
import { isCloudApiError, isMediaTooLargeError, type CloudApiError } from './cloud-api-error';

const spans = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const NUMBER = {
  id: '106540352242922',
  displayPhoneNumber: '+15550102030',
  accessToken: 'EAAtoken-main',
  wabaId: '102290129340398',
  throughputMps: 80,
};
// One message per second on a frozen clock: the second send in a row is over Meta's throughput.
const SLOW_NUMBER = {
  id: '106540352242923',
  displayPhoneNumber: '+15550102031',
  accessToken: 'EAAtoken-slow',
  wabaId: '102290129340398',
  throughputMps: 1,
};
const RECIPIENT = '+4915112345678';
const CUSTOMER = '4915112345678';
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(2048, 7)]);

let simulator: WhatsAppSimulator;
let client: CloudApiClient;

before(async () => {
  simulator = await startSimulator({
    appSecret: 'secret',
    phoneNumbers: [NUMBER, SLOW_NUMBER],
    seed: 1,
    timeScale: 0,
    enforceCustomerServiceWindow: false,
    pairRateLimit: false,
  });
  client = createCloudApiClient({ baseUrl: simulator.url, version: 'v23.0', timeoutMs: 2000 });
});
after(() => simulator.stop());
beforeEach(async () => {
  await simulator.reset();
  simulator.clearSendFailures();
  spans.reset();
});

/** Runs `call`, which must fail with a CloudApiError, and returns that error. */
async function failure(call: () => Promise<unknown>): Promise<CloudApiError> {
  try {
    await call();
  } catch (error) {
    assert.ok(isCloudApiError(error), `expected a CloudApiError, got ${String(error)}`);
    return error;
  }
  assert.fail('the call succeeded');
}

function finished(name: string): ReadableSpan[] {
  return spans.getFinishedSpans().filter((span) => span.name === name);
}

/** No span attribute or status carries the token, the recipient or the text. */
function assertNothingSecretRecorded(secrets: string[]): void {
  for (const span of spans.getFinishedSpans()) {
    const recorded = JSON.stringify({ attributes: span.attributes, status: span.status, events: span.events });
    for (const secret of secrets) assert.ok(!recorded.includes(secret), `span ${span.name} recorded ${secret}`);
  }
}

const send = (overrides: Partial<Parameters<CloudApiClient['sendMessage']>[0]> = {}) =>
  client.sendMessage({
    phoneNumberId: NUMBER.id,
    accessToken: NUMBER.accessToken,
    to: RECIPIENT,
    content: { kind: 'text', body: 'Your order shipped', previewUrl: false },
    ...overrides,
  });

describe('sendMessage', () => {
  test('sends the text to the number and resolves with the wamid, in one CLIENT span without secrets', async () => {
    const sent = await send({ callbackData: 'msg_1' });

    const [message] = simulator.sentMessages();
    assert.equal(sent.waMessageId, message.wamid);
    assert.match(sent.waMessageId, /^wamid\./);
    assert.deepEqual(message.body, {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: RECIPIENT,
      type: 'text',
      text: { body: 'Your order shipped', preview_url: false },
      biz_opaque_callback_data: 'msg_1',
    });
    const [span] = finished('POST whatsapp /messages');
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.deepEqual(span.attributes, {
      'http.request.method': 'POST',
      'server.address': '127.0.0.1',
      'waygate.phone_number_id': NUMBER.id,
      'http.response.status_code': 200,
    });
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assertNothingSecretRecorded([NUMBER.accessToken, RECIPIENT, CUSTOMER, 'Your order shipped']);
  });

  test("Meta's error body is read whole: status, code, type, message, details and fbtrace_id (131026 injected)", async () => {
    simulator.injectSendFailures({ count: 1, httpStatus: 400, code: 131026 });
    const error = await failure(() => send());

    assert.equal(error.kind, 'meta-error');
    assert.equal(error.httpStatus, 400);
    assert.equal(error.code, 131026);
    assert.equal(error.type, 'OAuthException');
    assert.equal(error.title, '(#131026) Message undeliverable');
    assert.equal(error.details, 'Message undeliverable');
    assert.match(error.fbtraceId ?? '', /^\S{8,}$/);
    assert.equal(error.mayHaveReachedMeta, true);
    assert.equal(error.message, 'Cloud API error 131026 (HTTP 400): (#131026) Message undeliverable');
    const [span] = finished('POST whatsapp /messages');
    assert.equal(span.attributes['http.response.status_code'], 400);
    assert.equal(span.attributes['waygate.meta_error_code'], 131026);
    assert.deepEqual(span.status, { code: SpanStatusCode.ERROR, message: 'meta error 131026' });
  });

  test('over the number throughput Meta answers 429 with 130429', async () => {
    const slow = { phoneNumberId: SLOW_NUMBER.id, accessToken: SLOW_NUMBER.accessToken };
    await send(slow);
    const error = await failure(() => send(slow));
    assert.deepEqual([error.kind, error.httpStatus, error.code], ['meta-error', 429, 130429]);
  });

  test('an unknown phone_number_id is 400/100 with error_subcode 33; a wrong token is 401/190', async () => {
    const unknown = await failure(() => send({ phoneNumberId: '999999999999999' }));
    assert.deepEqual([unknown.httpStatus, unknown.code, unknown.subcode, unknown.type], [400, 100, 33, 'GraphMethodException']);

    const refused = await failure(() => send({ accessToken: 'EAAwrong' }));
    assert.deepEqual([refused.kind, refused.httpStatus, refused.code], ['meta-error', 401, 190]);
    assertNothingSecretRecorded(['EAAwrong']);
  });

  test('no answer within the timeout is a timeout that may have reached Meta', async () => {
    simulator.injectSendFailures({ count: 1, mode: 'timeout' });
    const impatient = createCloudApiClient({ baseUrl: simulator.url, version: 'v23.0', timeoutMs: 200 });
    const started = Date.now();
    const error = await failure(() =>
      impatient.sendMessage({
        phoneNumberId: NUMBER.id,
        accessToken: NUMBER.accessToken,
        to: RECIPIENT,
        content: { kind: 'text', body: 'x', previewUrl: false },
      }),
    );

    assert.ok(Date.now() - started < 1900, 'gave up after its own timeout');
    assert.deepEqual([error.kind, error.httpStatus, error.code, error.mayHaveReachedMeta], ['timeout', undefined, undefined, true]);
    assert.equal(error.message, 'no answer within 200 ms');
    const [span] = finished('POST whatsapp /messages');
    assert.deepEqual(span.status, { code: SpanStatusCode.ERROR, message: 'no answer within 200 ms' });
    assert.equal(span.attributes['http.response.status_code'], undefined);
  });

  test('a refused connection certainly never reached Meta', async () => {
    const port = await freePort();
    const offline = createCloudApiClient({ baseUrl: `http://127.0.0.1:${port}`, version: 'v23.0', timeoutMs: 2000 });
    const error = await failure(() =>
      offline.sendMessage({
        phoneNumberId: NUMBER.id,
        accessToken: NUMBER.accessToken,
        to: RECIPIENT,
        content: { kind: 'text', body: 'x', previewUrl: false },
      }),
    );

    assert.deepEqual([error.kind, error.networkCode, error.mayHaveReachedMeta], ['not-connected', 'ECONNREFUSED', false]);
    assert.equal(error.title, 'connection failed: ECONNREFUSED');
    assert.equal(error.answered, false);
  });

  test('a connection cut before the answer may have reached Meta', async () => {
    simulator.injectSendFailures({ count: 1, mode: 'drop' });
    const error = await failure(() => send());
    assert.equal(error.kind, 'connection-lost');
    assert.equal(error.mayHaveReachedMeta, true);
    assert.match(error.title, /^connection failed: /);
  });

  test('the CLIENT span is a child of the caller span and carries its trace to Meta', async () => {
    const parent = trace.getTracer('test').startSpan('delivery attempt');
    await context.with(trace.setSpan(context.active(), parent), () => send());
    parent.end();
    const [call] = finished('POST whatsapp /messages');
    assert.equal(call.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.equal(call.spanContext().traceId, parent.spanContext().traceId);
  });
});

describe('media', () => {
  test('retrieveMedia locates inbound media and downloadMedia reads its bytes with the bearer token, checked by sha256', async () => {
    const { mediaId } = simulator.sendInbound({
      type: 'image',
      from: CUSTOMER,
      media: { base64: PNG.toString('base64'), mimeType: 'image/png' },
    });
    assert.ok(mediaId);

    const media = await client.retrieveMedia({ mediaId, accessToken: NUMBER.accessToken });
    assert.equal(media.mimeType, 'image/png');
    assert.equal(media.sha256, createHash('sha256').update(PNG).digest('hex'));
    assert.equal(media.fileSize, PNG.length);
    const downloaded = await client.downloadMedia({ media, accessToken: NUMBER.accessToken, maxBytes: 1024 * 1024 });
    assert.deepEqual(downloaded, { bytes: PNG, mimeType: 'image/png' });

    assert.deepEqual(
      spans.getFinishedSpans().map((span) => [span.name, span.kind, span.attributes['http.response.status_code']]),
      [
        ['GET whatsapp /{media-id}', SpanKind.CLIENT, 200],
        ['GET whatsapp media download', SpanKind.CLIENT, 200],
      ],
    );
    assertNothingSecretRecorded([NUMBER.accessToken, media.url, new URL(media.url).search]);
  });

  test("uploadMedia posts the file as multipart and resolves with Meta's media id, usable by that number; a refused type is Meta's error", async () => {
    const { metaMediaId } = await client.uploadMedia({
      phoneNumberId: NUMBER.id,
      accessToken: NUMBER.accessToken,
      bytes: PNG,
      mimeType: 'image/png',
      filename: 'receipt.png',
    });
    assert.match(metaMediaId, /^\d+$/);
    const media = await client.retrieveMedia({ mediaId: metaMediaId, accessToken: NUMBER.accessToken });
    assert.equal(media.sha256, createHash('sha256').update(PNG).digest('hex'));
    assert.deepEqual(
      finished('POST whatsapp /media').map((span) => [span.kind, span.attributes['http.response.status_code']]),
      [[SpanKind.CLIENT, 200]],
    );

    const refused = await failure(() =>
      client.uploadMedia({ phoneNumberId: NUMBER.id, accessToken: NUMBER.accessToken, bytes: PNG, mimeType: 'application/x-msdownload' }),
    );
    assert.equal(refused.httpStatus, 400);
    assert.equal(refused.code, 100);
    assertNothingSecretRecorded([NUMBER.accessToken]);
  });

  test('media over the limit is refused without reading it', async () => {
    const { mediaId } = simulator.sendInbound({
      type: 'image',
      from: CUSTOMER,
      media: { base64: PNG.toString('base64'), mimeType: 'image/png' },
    });
    const media = await client.retrieveMedia({ mediaId: mediaId ?? '', accessToken: NUMBER.accessToken });
    spans.reset();

    await assert.rejects(client.downloadMedia({ media, accessToken: NUMBER.accessToken, maxBytes: 100 }), (error) => {
      assert.ok(isMediaTooLargeError(error));
      assert.equal(error.limitBytes, 100);
      return true;
    });
    assert.equal(spans.getFinishedSpans().length, 0, 'no download was started');
    // Without the size in the media object, the declared content-length refuses it.
    await assert.rejects(
      client.downloadMedia({ media: { url: media.url, mimeType: media.mimeType }, accessToken: NUMBER.accessToken, maxBytes: 100 }),
      (error) => isMediaTooLargeError(error),
    );
  });

  test('an unknown media id and a download with the wrong token are Meta errors', async () => {
    const unknown = await failure(() => client.retrieveMedia({ mediaId: '424242424242', accessToken: NUMBER.accessToken }));
    assert.equal(unknown.kind, 'meta-error');
    assert.equal(typeof unknown.code, 'number');
    assert.ok((unknown.httpStatus ?? 0) >= 400);

    const { mediaId } = simulator.sendInbound({
      type: 'image',
      from: CUSTOMER,
      media: { base64: PNG.toString('base64'), mimeType: 'image/png' },
    });
    const media = await client.retrieveMedia({ mediaId: mediaId ?? '', accessToken: NUMBER.accessToken });
    const refused = await failure(() => client.downloadMedia({ media, accessToken: 'EAAwrong', maxBytes: 1024 * 1024 }));
    assert.deepEqual([refused.kind, refused.httpStatus, refused.code], ['meta-error', 401, 190]);
  });
});

describe('markRead', () => {
  test('marks an inbound message read, with the typing indicator when asked', async () => {
    const first = simulator.sendInbound({ type: 'text', from: CUSTOMER, text: 'Hi' });
    const second = simulator.sendInbound({ type: 'text', from: CUSTOMER, text: 'Anyone?' });

    await client.markRead({
      phoneNumberId: NUMBER.id,
      accessToken: NUMBER.accessToken,
      waMessageId: first.messageId,
      typingIndicator: false,
    });
    await client.markRead({
      phoneNumberId: NUMBER.id,
      accessToken: NUMBER.accessToken,
      waMessageId: second.messageId,
      typingIndicator: true,
    });

    assert.deepEqual(
      simulator.readMarks().map((mark) => [mark.phoneNumberId, mark.messageId, mark.typingIndicator]),
      [
        [NUMBER.id, first.messageId, false],
        [NUMBER.id, second.messageId, true],
      ],
    );
    const calls = finished('POST whatsapp /messages (read)');
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[0].attributes, {
      'http.request.method': 'POST',
      'server.address': '127.0.0.1',
      'http.response.status_code': 200,
    });
  });

  test('a message the number never received is 400/131009 with details', async () => {
    const error = await failure(() =>
      client.markRead({ phoneNumberId: NUMBER.id, accessToken: NUMBER.accessToken, waMessageId: 'wamid.unknown', typingIndicator: false }),
    );
    assert.deepEqual([error.kind, error.httpStatus, error.code], ['meta-error', 400, 131009]);
    assert.ok(error.details && error.details.length > 0);
  });

  test('mark-as-read suffers injected failures like any call to /messages', async () => {
    const { messageId } = simulator.sendInbound({ type: 'text', from: CUSTOMER, text: 'Hi' });
    simulator.injectSendFailures({ count: 1, httpStatus: 503, code: 131016 });
    const error = await failure(() =>
      client.markRead({ phoneNumberId: NUMBER.id, accessToken: NUMBER.accessToken, waMessageId: messageId, typingIndicator: true }),
    );
    assert.deepEqual([error.httpStatus, error.code], [503, 131016]);
    assert.deepEqual(simulator.readMarks(), []);
  });
});

/** Answers Meta would not give (or not on purpose), from a plain loopback HTTP server. */
describe('answers the client cannot use', () => {
  let server: http.Server;
  let answer: (request: http.IncomingMessage, response: http.ServerResponse) => void;
  let seen: http.IncomingHttpHeaders | undefined;
  let odd: CloudApiClient;

  before(async () => {
    server = http.createServer((request, response) => {
      seen = request.headers;
      request.resume();
      request.on('end', () => answer(request, response));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    odd = createCloudApiClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      version: 'v23.0',
      timeoutMs: 2000,
    });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const sendOdd = () =>
    odd.sendMessage({
      phoneNumberId: NUMBER.id,
      accessToken: NUMBER.accessToken,
      to: RECIPIENT,
      content: { kind: 'text', body: 'x', previewUrl: true },
    });

  test('a 2xx without messages[0].id is an unusable answer, reported as 502 without a code', async () => {
    answer = (_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"messages":[]}');
    const error = await failure(sendOdd);
    assert.deepEqual(
      [error.kind, error.httpStatus, error.code, error.title],
      ['unusable-answer', 502, undefined, 'success response without messages[0].id'],
    );
    assert.equal(seen?.authorization, `Bearer ${NUMBER.accessToken}`);
    assert.match(String(seen?.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });

  test('an error status without an error object keeps the status, with no code; an oversized body is not read', async () => {
    answer = (_request, response) => response.writeHead(503, { 'content-type': 'text/html' }).end('<html>busy</html>');
    const plain = await failure(sendOdd);
    assert.deepEqual([plain.kind, plain.httpStatus, plain.code, plain.title], ['meta-error', 503, undefined, 'HTTP 503']);

    answer = (_request, response) => {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: 100, message: 'x'.repeat(100 * 1024) } }));
    };
    const large = await failure(sendOdd);
    assert.deepEqual([large.httpStatus, large.code, large.title], [400, undefined, 'HTTP 400']);
  });

  test('a redirect is not followed with the bearer token', async () => {
    let redirectedTo = false;
    answer = (request, response) => {
      if (request.url?.startsWith('/elsewhere')) {
        redirectedTo = true;
        response.writeHead(200).end('{"messages":[{"id":"wamid.x"}]}');
      } else response.writeHead(307, { location: '/elsewhere' }).end();
    };
    const error = await failure(sendOdd);
    assert.equal(error.kind, 'connection-lost');
    assert.equal(redirectedTo, false);
  });

  test('a media object without a download url, a streamed download over the limit, and bytes that do not match the sha256', async () => {
    answer = (_request, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"1","mime_type":"image/png"}');
    const unlocated = await failure(() => odd.retrieveMedia({ mediaId: '1', accessToken: NUMBER.accessToken }));
    assert.deepEqual(
      [unlocated.kind, unlocated.httpStatus, unlocated.title],
      ['unusable-answer', 502, 'media object without a download url'],
    );
    answer = (_request, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"1","url":"https://bad host/m"}');
    const malformed = await failure(() => odd.retrieveMedia({ mediaId: '1', accessToken: NUMBER.accessToken }));
    assert.equal(malformed.title, 'media object without a download url');

    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    answer = (_request, response) => {
      // Chunked, without a content-length: only counting the bytes read can stop it.
      response.writeHead(200, { 'content-type': 'image/png' });
      for (let i = 0; i < 64; i++) response.write(Buffer.alloc(1024, i));
      response.end();
    };
    await assert.rejects(
      odd.downloadMedia({ media: { url: `${base}/media`, mimeType: 'image/png' }, accessToken: NUMBER.accessToken, maxBytes: 10 * 1024 }),
      (error) => isMediaTooLargeError(error),
    );

    answer = (_request, response) => response.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    const corrupted = await failure(() =>
      odd.downloadMedia({
        media: { url: `${base}/media`, mimeType: 'image/png', sha256: '0'.repeat(64) },
        accessToken: NUMBER.accessToken,
        maxBytes: 1024 * 1024,
      }),
    );
    assert.deepEqual(
      [corrupted.kind, corrupted.httpStatus, corrupted.title],
      ['unusable-answer', 502, 'downloaded media does not match its sha256'],
    );
  });

  test('streamMedia reads only as fast as it is consumed (64 MiB, bounded read-ahead), with the content-length and type', async () => {
    const size = 64 * 1024 * 1024;
    const block = Buffer.alloc(256 * 1024, 3);
    let sent = 0;
    let blocked = false;
    answer = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(size) });
      const pump = () => {
        blocked = false;
        while (sent < size) {
          sent += block.length;
          if (!response.write(block)) {
            blocked = true;
            return void response.once('drain', pump);
          }
        }
        response.end();
      };
      pump();
    };
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const download = await odd.streamMedia({
      media: {
        url: `${base}/media`,
        mimeType: 'application/pdf',
        sha256: createHash('sha256').update(Buffer.alloc(size, 3)).digest('hex'),
      },
      accessToken: NUMBER.accessToken,
      maxBytes: 100 * 1024 * 1024,
    });
    assert.equal(download.contentLength, size);
    assert.equal(download.mimeType, 'application/pdf');
    const reader = download.body[Symbol.asyncIterator]();
    let received = (await reader.next()).value?.byteLength ?? 0;
    // The consumer pauses: the server must be held back by backpressure, not read ahead of the consumer.
    await waitFor(() => blocked, { what: 'the server blocked by backpressure' });
    assert.ok(sent - received < 16 * 1024 * 1024, `read ahead of the consumer: ${sent - received} bytes`);
    for (let next = await reader.next(); !next.done; next = await reader.next()) received += next.value.byteLength;
    assert.equal(received, size);
  });

  test('streamMedia: a body cut off or past the limit midway fails while iterating; one abandoned unread is closed', async () => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    answer = (_request, response) => {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': String(1024 * 1024) });
      response.write(Buffer.alloc(64 * 1024, 1), () => setTimeout(() => response.socket?.destroy(), 20));
    };
    const cut = await odd.streamMedia({
      media: { url: `${base}/media`, mimeType: 'image/png' },
      accessToken: NUMBER.accessToken,
      maxBytes: 2 * 1024 * 1024,
    });
    let got = 0;
    const lost = await failure(async () => {
      for await (const chunk of cut.body) got += chunk.byteLength;
    });
    assert.ok(got > 0, 'the first bytes arrived before the cut');
    assert.equal(lost.kind, 'connection-lost');
    assert.equal(finished('GET whatsapp media download').at(-1)?.status.code, SpanStatusCode.ERROR);

    answer = (_request, response) => {
      response.writeHead(200, { 'content-type': 'image/png' });
      for (let i = 0; i < 64; i++) response.write(Buffer.alloc(1024, i));
      response.end();
    };
    const big = await odd.streamMedia({
      media: { url: `${base}/media`, mimeType: 'image/png' },
      accessToken: NUMBER.accessToken,
      maxBytes: 10 * 1024,
    });
    got = 0;
    await assert.rejects(
      (async () => {
        for await (const chunk of big.body) got += chunk.byteLength;
      })(),
      (error) => isMediaTooLargeError(error),
    );
    assert.ok(got <= 10 * 1024, `no more than the limit handed out (${got})`);

    // A consumer that gives up before reading anything ends the download (and its span) all the same.
    let closed = false;
    answer = (_request, response) => {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': String(1024 * 1024) });
      response.write(Buffer.alloc(1024));
      response.on('close', () => (closed = true));
    };
    spans.reset();
    const abandoned = await odd.streamMedia({
      media: { url: `${base}/media`, mimeType: 'image/png' },
      accessToken: NUMBER.accessToken,
      maxBytes: 2 * 1024 * 1024,
    });
    await abandoned.body[Symbol.asyncIterator]().return?.();
    assert.equal(finished('GET whatsapp media download').length, 1, 'the span ended');
    await waitFor(() => closed, { what: 'the abandoned download closed' });
  });

  test('streamMedia: the timeout bounds each wait for bytes, not the whole body; a stalled body fails, a paused consumer does not', async () => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const patient = createCloudApiClient({ baseUrl: base, version: 'v23.0', timeoutMs: 300 });
    const chunks = 8;
    answer = (_request, response) => {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': String(chunks * 1024) });
      let sent = 0;
      const next = () => {
        response.write(Buffer.alloc(1024, sent));
        if (++sent === chunks) response.end();
        else setTimeout(next, 120);
      };
      next();
    };
    const started = Date.now();
    const slow = await patient.streamMedia({
      media: { url: `${base}/media`, mimeType: 'image/png' },
      accessToken: 'EAAx',
      maxBytes: 1024 * 1024,
    });
    let got = 0;
    for await (const chunk of slow.body) got += chunk.byteLength;
    assert.equal(got, chunks * 1024);
    assert.ok(Date.now() - started > 600, 'the whole body took longer than the timeout');

    answer = (_request, response) => {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': String(4096) });
      response.write(Buffer.alloc(1024, 1)); // and then nothing more
    };
    const stalled = await patient.streamMedia({
      media: { url: `${base}/media`, mimeType: 'image/png' },
      accessToken: 'EAAx',
      maxBytes: 1024 * 1024,
    });
    const stallStarted = Date.now();
    const error = await failure(async () => {
      for await (const chunk of stalled.body) assert.ok(chunk.byteLength > 0);
    });
    assert.equal(error.kind, 'timeout');
    assert.equal(error.title, 'download stalled: no bytes within 300 ms');
    assert.ok(Date.now() - stallStarted < 2000, 'failed after the timeout, not later');

    answer = (_request, response) => {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': String(2048) });
      response.write(Buffer.alloc(1024, 1));
      setTimeout(() => response.end(Buffer.alloc(1024, 2)), 50);
    };
    const paused = await patient.streamMedia({
      media: { url: `${base}/media`, mimeType: 'image/png' },
      accessToken: 'EAAx',
      maxBytes: 1024 * 1024,
    });
    got = 0;
    for await (const chunk of paused.body) {
      got += chunk.byteLength;
      await new Promise((resolve) => setTimeout(resolve, 500)); // the consumer (media-store) is slow, not Meta
    }
    assert.equal(got, 2048);
  });

  test('file_size given as a string of digits is understood', async () => {
    answer = (_request, response) =>
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ url: 'https://lookaside.example/m', mime_type: 'image/png', file_size: '2056', sha256: 'A'.repeat(64) }));
    assert.deepEqual(await odd.retrieveMedia({ mediaId: '1', accessToken: NUMBER.accessToken }), {
      url: 'https://lookaside.example/m',
      mimeType: 'image/png',
      fileSize: 2056,
      sha256: 'a'.repeat(64),
    });
  });
});
