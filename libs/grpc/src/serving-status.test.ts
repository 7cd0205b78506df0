/**
 * The seam between a gRPC server's health status and the plaintext readiness endpoint: `/readyz` (over real HTTP)
 * says what `grpc.health.v1.Health` says (over real gRPC), before and during shutdown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { credentials, loadPackageDefinition, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { DeliveryAdminServiceService, SERVICE_NAMES, SERVICE_PROTO_FILES } from '@waygate/proto';
import { createHealthProbes, createLogger } from '@waygate/telemetry-sdk';
import { parseTenants } from '@waygate/tenancy';
import { tenantsYaml, waitFor } from '@waygate/testing';
import { startGrpcServer, unaryHandler } from './grpc-server';
import { rpcScopeTable } from './rpc-scopes';
import { checkGrpcHealth } from './health-check';

type HealthWatchClient = Client & { watch(request: { service: string }): ClientReadableStream<{ status: string }> };

function healthClient(address: string): HealthWatchClient {
  const definition = loadPackageDefinition(loadSync(healthProtoPath, { keepCase: true, enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => HealthWatchClient } } };
  };
  return new definition.grpc.health.v1.Health(address, credentials.createInsecure());
}

test('readiness follows the gRPC health status: SERVING while serving, NOT_SERVING as soon as shutdown begins', async (t) => {
  const tenants = parseTenants(tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'key-acme' }]));
  const logger = createLogger({ service: 'serving-status-test', level: 'silent' });
  const grpc = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tenants,
    region: 'eu',
    // This test serves the delivery admin API as a tenant service (the server's mechanics, not the API), so it scopes it.
    rpcScopes: rpcScopeTable({ [SERVICE_NAMES.deliveryAdmin]: { GetDelivery: 'messages:read', CancelDelivery: 'messages:send' } }),
    services: [
      {
        name: SERVICE_NAMES.deliveryAdmin,
        protoFile: SERVICE_PROTO_FILES.deliveryAdmin,
        definition: DeliveryAdminServiceService,
        implementation: {
          getDelivery: unaryHandler(tenants, logger, async () => ({})),
          cancelDelivery: unaryHandler(tenants, logger, async () => ({})),
        },
      },
    ],
  });
  const probes = createHealthProbes();
  const http = createServer((request, response) => {
    if (!probes.handle(request, response)) response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => http.close(() => resolve())));
  const readyz = async () => {
    const response = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/readyz`);
    return `${response.status} ${await response.text()}`;
  };

  assert.equal(await readyz(), '503 {"status":"STARTING"}', 'not ready before the service names its status source');
  probes.follow(grpc.servingStatus);
  assert.equal(await checkGrpcHealth(`127.0.0.1:${grpc.port}`), 'SERVING');
  assert.equal(await readyz(), '200 {"status":"SERVING"}');

  // A Watch stream opened now sees the health service's change while the server drains (the stream keeps it open
  // until the grace period ends).
  const client = healthClient(`127.0.0.1:${grpc.port}`);
  t.after(() => client.close());
  const seen: string[] = [];
  const watch = client.watch({ service: '' });
  watch.on('data', (message: { status: string }) => seen.push(message.status));
  watch.on('error', () => undefined);
  await waitFor(() => seen.includes('SERVING'), { timeoutMs: 5000, what: 'the Watch stream reports SERVING' });

  const stopped = grpc.shutdown(1500);
  await waitFor(() => seen.includes('NOT_SERVING'), { timeoutMs: 5000, what: 'the Watch stream reports NOT_SERVING' });
  assert.equal(await readyz(), '503 {"status":"NOT_SERVING"}', '/readyz agrees with grpc.health.v1 while draining');
  assert.equal(grpc.servingStatus(), 'NOT_SERVING');
  await waitFor(stopped, { what: 'the drained server closing' });
  assert.equal(await readyz(), '503 {"status":"NOT_SERVING"}', 'and stays not ready once stopped');
});
