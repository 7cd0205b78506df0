import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  DeliveryAdminServiceClient,
  DeliveryAdminServiceService,
  SERVICE_NAMES,
  SERVICE_PROTO_FILES,
  type CancelDeliveryResponse,
  type GetDeliveryResponse,
} from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { parseTenants } from '@waygate/tenancy';
import { tenantsYaml } from '@waygate/testing';
import { internalUnaryHandler, startGrpcServer, unaryHandler, type RunningGrpcServer } from './grpc-server';
import { internalCallMetadata } from './internal-auth';

const TOKEN = 'internal-token-0123456789abcdef0123456789';
const logger = createLogger({ service: 'grpc-internal-test', level: 'silent' });
const tenants = parseTenants(
  tenantsYaml([
    { id: 'acme', homeRegion: 'eu', apiKey: 'key-acme' },
    { id: 'globex', homeRegion: 'us', apiKey: 'key-globex' },
  ]),
);
const adminService = {
  name: SERVICE_NAMES.deliveryAdmin,
  protoFile: SERVICE_PROTO_FILES.deliveryAdmin,
  definition: DeliveryAdminServiceService,
  access: 'internal' as const,
};
/** What the handlers saw: the tenant of tenant-scoped calls, the caller of the tenant-less one. */
const seen: string[] = [];
let server: RunningGrpcServer;
let client: DeliveryAdminServiceClient;

before(async () => {
  server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tenants,
    region: 'eu',
    internalServiceToken: TOKEN,
    services: [
      {
        ...adminService,
        implementation: {
          // Tenant-scoped admin call: the tenant comes from x-waygate-tenant-id.
          getDelivery: unaryHandler(tenants, logger, async (_request: unknown, tenant) => {
            seen.push(`tenant:${tenant.id}`);
            return { delivery: undefined };
          }),
          // An admin call for no particular tenant.
          cancelDelivery: internalUnaryHandler(TOKEN, logger, async (_request: unknown, caller) => {
            seen.push(`caller:${caller.tenantId ?? '-'}`);
            return { delivery: undefined };
          }),
        },
      },
    ],
  });
  client = new DeliveryAdminServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
});

after(async () => {
  client.close();
  await server.shutdown(1000);
});

function headers(values: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(values)) metadata.set(key, value);
  return metadata;
}

function getDelivery(metadata: Metadata): Promise<GetDeliveryResponse> {
  return new Promise((resolve, reject) =>
    client.getDelivery({ messageId: 'msg_1' }, metadata, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

function cancelDelivery(metadata: Metadata): Promise<CancelDeliveryResponse> {
  return new Promise((resolve, reject) =>
    client.cancelDelivery({ messageId: 'msg_1' }, metadata, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

const code = (expected: status) => (error: unknown) => (error as ServiceError).code === expected;

test("an internal service answers the region's service token, acting for the tenant it names", async () => {
  seen.length = 0;
  await getDelivery(internalCallMetadata(TOKEN, 'acme'));
  await cancelDelivery(internalCallMetadata(TOKEN));
  await cancelDelivery(internalCallMetadata(TOKEN, 'acme'));
  assert.deepEqual(seen, ['tenant:acme', 'caller:-', 'caller:acme']);
});

test("a tenant's own API key is refused by an internal service, and no handler runs", async () => {
  seen.length = 0;
  for (const metadata of [
    headers({ authorization: 'Bearer key-acme' }),
    headers({ authorization: 'Bearer key-acme', 'x-waygate-tenant-id': 'acme' }),
    headers({ authorization: 'Bearer key-acme', 'x-waygate-authenticated-tenant': 'acme' }),
  ]) {
    await assert.rejects(getDelivery(metadata), (error: unknown) => {
      assert.equal((error as ServiceError).code, status.UNAUTHENTICATED);
      assert.match((error as ServiceError).details, /internal service token/);
      return true;
    });
    await assert.rejects(cancelDelivery(metadata), code(status.UNAUTHENTICATED));
  }
  assert.deepEqual(seen, []);
});

test('a wrong or missing token, an unknown tenant or a missing tenant for a tenant-scoped call is UNAUTHENTICATED', async () => {
  seen.length = 0;
  await assert.rejects(getDelivery(internalCallMetadata(`${TOKEN}x`, 'acme')), code(status.UNAUTHENTICATED));
  await assert.rejects(getDelivery(headers({ 'x-waygate-tenant-id': 'acme' })), code(status.UNAUTHENTICATED));
  await assert.rejects(getDelivery(internalCallMetadata(TOKEN, 'nobody')), code(status.UNAUTHENTICATED));
  await assert.rejects(getDelivery(internalCallMetadata(TOKEN)), code(status.UNAUTHENTICATED), 'no tenant named');
  await assert.rejects(cancelDelivery(internalCallMetadata(`${TOKEN}x`)), code(status.UNAUTHENTICATED));
  await assert.rejects(
    getDelivery(internalCallMetadata(TOKEN, 'globex')),
    code(status.FAILED_PRECONDITION),
    'a tenant homed in another region stays refused',
  );
  assert.deepEqual(seen, []);
});

test('a server with an internal service but no service token does not start', async () => {
  await assert.rejects(
    startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      tenants,
      region: 'eu',
      services: [{ ...adminService, implementation: {} }],
    }),
    /internal services \(waygate\.delivery\.v1\.DeliveryAdminService\) need the region's internal service token/,
  );
});
