import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@waygate/testing';
import { verifyWaygateSignature as verifyCallback } from '../testing/feed-harness';
import { createHttpCallbackSender } from './http-callback-sender';

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const seen: Seen[] = [];
let server: http.Server;
let base: string;

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (req.url === '/ok') return res.writeHead(204).end();
      if (req.url === '/big') return res.writeHead(200).end('x'.repeat(5 * 1024 * 1024));
      if (req.url === '/redirect') return res.writeHead(302, { location: '/ok' }).end();
      if (req.url === '/hang') return; // never answers
      res.writeHead(503).end('try later');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const sender = createHttpCallbackSender({ timeoutMs: 300 });
const endpoint = (path: string) => ({ id: 'hook', url: `${base}${path}`, signingSecret: 'whsec-test' });
const sentAt = new Date(Date.UTC(2025, 0, 1, 12, 0, 0));
const body = JSON.stringify({ eventId: 'status.m1.sent', sequence: '1' });

test('posts the JSON body with event id, timestamp and a signature the documented procedure verifies', async () => {
  assert.deepEqual(await sender.send(endpoint('/ok'), { eventId: 'status.m1.sent', body }, sentAt), { ok: true });
  const request = seen.at(-1);
  assert.ok(request);
  assert.equal(request.body, body);
  assert.equal(request.headers['content-type'], 'application/json');
  assert.equal(request.headers['waygate-event-id'], 'status.m1.sent');
  assert.equal(request.headers['waygate-timestamp'], String(sentAt.getTime() / 1000));
  assert.match(String(request.headers['waygate-signature']), /^v1=[0-9a-f]{64}$/);
  const now = sentAt.getTime() / 1000;
  assert.equal(verifyCallback('whsec-test', request.headers, request.body, now + 10), true);
  assert.equal(verifyCallback('other-secret', request.headers, request.body, now), false, 'wrong secret');
  assert.equal(verifyCallback('whsec-test', request.headers, `${request.body} `, now), false, 'altered body');
  assert.equal(verifyCallback('whsec-test', request.headers, request.body, now + 301), false, 'replayed after 5 minutes');
});

test('a 2xx with a large body is success without reading the body', async () => {
  assert.deepEqual(await sender.send(endpoint('/big'), { eventId: 'e', body }, sentAt), { ok: true });
});

test('non-2xx answers and redirects are failures; a redirect is not followed', async () => {
  assert.deepEqual(await sender.send(endpoint('/down'), { eventId: 'e', body }, sentAt), { ok: false, error: 'HTTP 503' });
  const before = seen.length;
  assert.deepEqual(await sender.send(endpoint('/redirect'), { eventId: 'e', body }, sentAt), { ok: false, error: 'HTTP 302' });
  assert.equal(seen.length, before + 1, 'the redirect target was not called');
});

test('no answer within the timeout, or no server, is a failure that names no URL', async () => {
  assert.deepEqual(await sender.send(endpoint('/hang'), { eventId: 'e', body }, sentAt), { ok: false, error: 'timeout after 300 ms' });
  const closedPort = await freePort();
  const refused = await sender.send(
    { id: 'x', url: `http://127.0.0.1:${closedPort}/secret-token-in-path`, signingSecret: 's' },
    { eventId: 'e', body },
    sentAt,
  );
  assert.equal(refused.ok, false);
  assert.match(refused.ok ? '' : refused.error, /^connection failed/);
  assert.doesNotMatch(refused.ok ? '' : refused.error, /secret-token/);
});
