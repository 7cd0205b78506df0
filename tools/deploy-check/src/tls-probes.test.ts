/**
 * What the chart's tls.enabled does to a real service: media-store started with the TLS variables of its rendered
 * Deployment (the Secret laid out as the pod mounts it, certificates from createTestCertificates) serves gRPC only
 * over TLS, while the probes' plaintext /readyz and /livez answer on the metrics port, and /readyz turns NOT_SERVING
 * with the gRPC health status when it drains.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { credentials, loadPackageDefinition, type ChannelCredentials, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { checkGrpcHealth } from '@waygate/grpc';
import {
  createTempDir,
  createTestCertificates,
  freePort,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  waitFor,
} from '@waygate/testing';
import { regionValues, renderRegion } from './helm-chart';
import { mountRenderedTlsSecrets } from './rendered-tls';

type HealthWatchClient = Client & { watch(request: { service: string }): ClientReadableStream<{ status: string }> };

/** A grpc.health.v1 client for Watch (checkGrpcHealth only asks Check). */
function healthWatchClient(address: string, channel: ChannelCredentials): HealthWatchClient {
  const definition = loadPackageDefinition(loadSync(healthProtoPath, { keepCase: true, enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (address: string, creds: ChannelCredentials) => HealthWatchClient } } };
  };
  return new definition.grpc.health.v1.Health(address, channel);
}

test('media-store with the chart TLS settings: gRPC only over TLS, /readyz and /livez over plain HTTP on the metrics port', async (t) => {
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const dir = createTempDir('waygate-tls-probes-');
  cleanups.push(() => dir.remove());
  const certs = createTestCertificates(dir.path);
  const tlsEnv = mountRenderedTlsSecrets(
    renderRegion('eu', regionValues('eu', 'tools/deploy-check/fixtures/tls.yaml')),
    'waygate-eu-media-store',
    { 'waygate-grpc-tls': { 'tls.crt': certs.serverCert, 'tls.key': certs.serverKey, 'ca.crt': certs.caCert } },
    path.join(dir.path, 'pod'),
  );
  assert.deepEqual(Object.keys(tlsEnv).sort(), ['WAYGATE_INTERNAL_TLS_CA_FILE', 'WAYGATE_TLS_CERT_FILE', 'WAYGATE_TLS_KEY_FILE']);
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(tenantsFile, tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'tls-probes-key-0123456789abcdef' }]));
  const nats = await startNatsServer();
  cleanups.push(() => nats.stop());
  const grpcPort = await freePort();
  const metricsPort = await freePort();
  const service = await startServiceProcess('media-store', {
    ...tlsEnv,
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_STORAGE: 'sqlite',
    WAYGATE_DATA_DIR: path.join(dir.path, 'data'),
    WAYGATE_INTERNAL_SERVICE_TOKEN: randomBytes(24).toString('hex'),
    WAYGATE_GRPC_HOST: '127.0.0.1',
    WAYGATE_GRPC_PORT: String(grpcPort),
    WAYGATE_MEDIA_HTTP_HOST: '127.0.0.1',
    WAYGATE_MEDIA_HTTP_PORT: '0',
    WAYGATE_METRICS_HOST: '127.0.0.1',
    WAYGATE_METRICS_PORT: String(metricsPort),
  });
  cleanups.push(() => service.stop());

  const probe = async (probePath: string) => {
    const response = await fetch(`http://127.0.0.1:${metricsPort}${probePath}`);
    return `${response.status} ${response.headers.get('content-type')} ${await response.text()}`;
  };
  assert.equal(await probe('/readyz'), '200 application/json {"status":"SERVING"}');
  assert.equal(await probe('/livez'), '200 application/json {"status":"ok"}');

  const address = `127.0.0.1:${grpcPort}`;
  const verified = credentials.createSsl(readFileSync(certs.caCert));
  assert.equal(await checkGrpcHealth(address, { credentials: verified }), 'SERVING', 'a client that verifies the CA is served');
  await assert.rejects(checkGrpcHealth(address, { timeoutMs: 2000 }), 'plaintext gRPC (what a native grpc probe speaks) gets nothing');
  await assert.rejects(
    checkGrpcHealth(address, { timeoutMs: 2000, credentials: credentials.createSsl(readFileSync(certs.strangerCert)) }),
    'a client that trusts another CA refuses the certificate',
  );

  // SIGTERM while a client watches health: the drain keeps the server up (the open stream), so both sides of the
  // change can be seen: the gRPC health service reports NOT_SERVING, and so does /readyz.
  const watcher = healthWatchClient(address, verified);
  cleanups.push(() => watcher.close());
  const seen: string[] = [];
  const watch = watcher.watch({ service: '' });
  watch.on('data', (message: { status: string }) => seen.push(message.status));
  watch.on('error', () => undefined);
  await waitFor(() => seen.includes('SERVING'), { what: 'the Watch stream reporting SERVING' });
  service.child.kill('SIGTERM');
  await waitFor(() => seen.includes('NOT_SERVING'), { what: 'the Watch stream reporting NOT_SERVING' });
  assert.equal(await probe('/readyz'), '503 application/json {"status":"NOT_SERVING"}', '/readyz agrees while draining');
  assert.equal(await probe('/livez'), '200 application/json {"status":"ok"}', 'and the process is still alive');
  watch.cancel();
  const exit = await waitFor(service.exited, { what: 'media-store exiting after the drain' });
  assert.equal(exit.code, 0, `clean shutdown on SIGTERM:\n${service.outputTail()}`);
});
