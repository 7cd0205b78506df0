/** The plaintext probe endpoints over real HTTP on loopback. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHealthProbes, type HealthProbes, type ServingStatus } from './health-probes';

/** An HTTP server that answers the probes and 404s anything else, on a free loopback port. */
async function serveProbes(probes: HealthProbes): Promise<{ url: (path: string) => string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    if (probes.handle(request, response)) return;
    response.statusCode = 404;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function get(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    cacheControl: response.headers.get('cache-control'),
    allow: response.headers.get('allow'),
    body: await response.text(),
  };
}

test('/livez answers 200 {"status":"ok"} as JSON, before and after the service has started', async (t) => {
  const probes = createHealthProbes();
  const server = await serveProbes(probes);
  t.after(() => server.close());
  const before = await get(server.url('/livez'));
  assert.deepEqual(before, {
    status: 200,
    contentType: 'application/json',
    cacheControl: 'no-store',
    allow: null,
    body: '{"status":"ok"}',
  });
  probes.follow(() => 'NOT_SERVING');
  assert.equal((await get(server.url('/livez?verbose=1'))).status, 200, 'liveness does not follow readiness');
});

test('/readyz: 503 STARTING until followed, then the source status at each request (503 when NOT_SERVING)', async (t) => {
  const probes = createHealthProbes();
  const server = await serveProbes(probes);
  t.after(() => server.close());
  assert.deepEqual(await get(server.url('/readyz')), {
    status: 503,
    contentType: 'application/json',
    cacheControl: 'no-store',
    allow: null,
    body: '{"status":"STARTING"}',
  });
  let status: ServingStatus = 'SERVING';
  probes.follow(() => status);
  assert.deepEqual(await get(server.url('/readyz')), {
    status: 200,
    contentType: 'application/json',
    cacheControl: 'no-store',
    allow: null,
    body: '{"status":"SERVING"}',
  });
  status = 'NOT_SERVING';
  assert.deepEqual([(await get(server.url('/readyz'))).status, (await get(server.url('/readyz'))).body], [503, '{"status":"NOT_SERVING"}']);
  assert.equal(probes.readiness(), 'NOT_SERVING');
  status = 'SERVING';
  assert.equal((await get(server.url('/readyz'))).status, 200, 'follows the source back');
});

test('/readyz: a source that throws is NOT_SERVING, and its error text never reaches the answer', async (t) => {
  const probes = createHealthProbes();
  const server = await serveProbes(probes);
  t.after(() => server.close());
  probes.follow(() => {
    throw new Error('mongodb://user:secret@db failed');
  });
  const answer = await get(server.url('/readyz'));
  assert.deepEqual([answer.status, answer.body], [503, '{"status":"NOT_SERVING"}']);
  assert.doesNotMatch(answer.body, /secret|mongodb/);
});

test('probes answer GET and HEAD only (405 with Allow, JSON reason); other paths are left to the caller', async (t) => {
  const probes = createHealthProbes();
  probes.follow(() => 'SERVING');
  const server = await serveProbes(probes);
  t.after(() => server.close());
  const post = await get(server.url('/readyz'), { method: 'POST', body: 'x'.repeat(100_000) });
  assert.deepEqual(post, {
    status: 405,
    contentType: 'application/json',
    cacheControl: 'no-store',
    allow: 'GET, HEAD',
    body: '{"error":"method not allowed: /readyz answers GET"}',
  });
  const head = await get(server.url('/readyz'), { method: 'HEAD' });
  assert.deepEqual([head.status, head.body], [200, '']);
  assert.equal((await get(server.url('/livez/extra'))).status, 404);
  assert.equal((await get(server.url('/'))).status, 404);
});
