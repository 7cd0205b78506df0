import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  AbortedError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
} from '@waygate/domain';
import {
  DeliveryAdminServiceClient,
  DeliveryAdminServiceService,
  DeliveryState,
  SERVICE_NAMES,
  SERVICE_PROTO_FILES,
  type GetDeliveryResponse,
} from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { parseTenants } from '@waygate/tenancy';
import { tenantsYaml } from '@waygate/testing';
import { badRequestViolations, preconditionViolations, retryDelayMs, toGrpcError } from './error-mapping';
import { startGrpcServer, unaryHandler, type RunningGrpcServer } from './grpc-server';
import { rpcScopeTable } from './rpc-scopes';
import { checkGrpcHealth } from './health-check';

const logged: string[] = [];
const logger = createLogger({
  service: 'grpc-test',
  destination: new Writable({ write: (chunk, _e, done) => (logged.push(String(chunk)), done()) }),
});
const tenants = parseTenants(
  tenantsYaml([
    { id: 'acme', homeRegion: 'eu', apiKey: 'key-acme' },
    { id: 'globex', homeRegion: 'us', apiKey: 'key-globex' },
  ]),
);
let server: RunningGrpcServer;
let client: DeliveryAdminServiceClient;
const seenTenants: string[] = [];

before(async () => {
  server = await startGrpcServer({
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
          getDelivery: unaryHandler(tenants, logger, async (request: { messageId: string }, tenant) => {
            seenTenants.push(tenant.id);
            if (request.messageId === 'bad')
              throw new InvalidArgumentError([{ field: 'message_id', reason: 'INVALID', description: 'is bad' }]);
            if (request.messageId === 'missing') throw new NotFoundError('delivery', 'missing');
            if (request.messageId === 'settled')
              throw new FailedPreconditionError('delivery is settled', [
                { type: 'DELIVERY_STATE', subject: 'deliveries/settled', description: 'SENT' },
              ]);
            if (request.messageId === 'busy') throw new AbortedError('a send is in flight');
            if (request.messageId === 'boom') throw new Error('database password is hunter2');
            return {
              delivery: {
                messageId: request.messageId,
                state: DeliveryState.DELIVERY_STATE_SENT,
                attempts: 1,
                waMessageId: '',
                lastErrorCode: 0,
                lastErrorTitle: '',
                nextAttemptAt: undefined,
              },
            };
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

function call(messageId: string, headers: Record<string, string>): Promise<GetDeliveryResponse> {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  return new Promise((resolve, reject) =>
    client.getDelivery({ messageId }, metadata, (error, response) => (error ? reject(error) : resolve(response as GetDeliveryResponse))),
  );
}

const code = (expected: status) => (error: unknown) => (error as ServiceError).code === expected;

test('authenticates by bearer API key and hands the tenant to the handler', async () => {
  const response = await call('m1', { authorization: 'Bearer key-acme' });
  assert.equal(response.delivery?.messageId, 'm1');
  assert.equal(seenTenants.at(-1), 'acme');
});

test('a missing, malformed or unknown key is UNAUTHENTICATED and the handler never runs', async () => {
  const before = seenTenants.length;
  await assert.rejects(call('m1', {}), code(status.UNAUTHENTICATED));
  await assert.rejects(call('m1', { authorization: 'key-acme' }), code(status.UNAUTHENTICATED));
  await assert.rejects(call('m1', { authorization: 'Bearer nope' }), code(status.UNAUTHENTICATED));
  assert.equal(seenTenants.length, before);
});

test('a client cannot choose its tenant by sending the internal metadata key', async () => {
  await assert.rejects(call('m1', { 'x-waygate-authenticated-tenant': 'acme' }), code(status.UNAUTHENTICATED));
  await call('m1', { authorization: 'Bearer key-acme', 'x-waygate-authenticated-tenant': 'globex' });
  assert.equal(seenTenants.at(-1), 'acme');
});

test('a tenant homed in another region is FAILED_PRECONDITION naming its home region, before the handler runs', async () => {
  const before = seenTenants.length;
  await assert.rejects(call('m1', { authorization: 'Bearer key-globex' }), (error: unknown) => {
    assert.equal((error as ServiceError).code, status.FAILED_PRECONDITION);
    assert.match((error as ServiceError).details, /homed in region "us"/);
    return true;
  });
  assert.equal(seenTenants.length, before);
});

test('domain errors map to their codes with details; unknown errors are INTERNAL without internals', async () => {
  await assert.rejects(call('bad', { authorization: 'Bearer key-acme' }), (error: unknown) => {
    assert.equal((error as ServiceError).code, status.INVALID_ARGUMENT);
    assert.deepEqual(badRequestViolations(error as ServiceError), [{ field: 'message_id', reason: 'INVALID', description: 'is bad' }]);
    return true;
  });
  await assert.rejects(call('missing', { authorization: 'Bearer key-acme' }), code(status.NOT_FOUND));
  await assert.rejects(call('boom', { authorization: 'Bearer key-acme' }), (error: unknown) => {
    assert.equal((error as ServiceError).code, status.INTERNAL);
    assert.equal((error as ServiceError).details, 'internal error');
    return true;
  });
  assert.ok(logged.some((line) => line.includes('unexpected error in handler')));
  assert.equal(toGrpcError('a string').code, status.INTERNAL);
});

test('FailedPreconditionError carries a google.rpc.PreconditionFailure; AbortedError is ABORTED', async () => {
  await assert.rejects(call('settled', { authorization: 'Bearer key-acme' }), (error: unknown) => {
    assert.equal((error as ServiceError).code, status.FAILED_PRECONDITION);
    assert.equal((error as ServiceError).details, 'delivery is settled');
    assert.deepEqual(preconditionViolations(error as ServiceError), [
      { type: 'DELIVERY_STATE', subject: 'deliveries/settled', description: 'SENT' },
    ]);
    return true;
  });
  await assert.rejects(call('busy', { authorization: 'Bearer key-acme' }), code(status.ABORTED));
});

test('health needs no credentials and reports each service', async () => {
  assert.equal(await checkGrpcHealth(`127.0.0.1:${server.port}`), 'SERVING');
  assert.equal(await checkGrpcHealth(`127.0.0.1:${server.port}`, { service: SERVICE_NAMES.deliveryAdmin }), 'SERVING');
});

/** A server with the internal service token whose one tenant service has the given access; records the tenants seen. */
async function startTokenServer(token: string, access: 'tenant' | 'tenant-or-service', seen: string[]) {
  const internal = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tenants,
    region: 'eu',
    // This test serves the delivery admin API as a tenant service (the server's mechanics, not the API), so it scopes it.
    rpcScopes: rpcScopeTable({ [SERVICE_NAMES.deliveryAdmin]: { GetDelivery: 'messages:read', CancelDelivery: 'messages:send' } }),
    internalServiceToken: token,
    services: [
      {
        name: SERVICE_NAMES.deliveryAdmin,
        protoFile: SERVICE_PROTO_FILES.deliveryAdmin,
        definition: DeliveryAdminServiceService,
        access,
        implementation: {
          getDelivery: unaryHandler(tenants, logger, async (_request: { messageId: string }, tenant) => {
            seen.push(tenant.id);
            return { delivery: undefined };
          }),
        },
      },
    ],
  });
  const internalClient = new DeliveryAdminServiceClient(`127.0.0.1:${internal.port}`, credentials.createInsecure());
  const callInternal = (headers: Record<string, string>) => {
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
    return new Promise<GetDeliveryResponse>((resolve, reject) =>
      internalClient.getDelivery({ messageId: 'm1' }, metadata, (error, response) =>
        error ? reject(error) : resolve(response as GetDeliveryResponse),
      ),
    );
  };
  return {
    callInternal,
    async close() {
      internalClient.close();
      await internal.shutdown(1000);
    },
  };
}

test('the region-internal service token acts for a tenant named in x-waygate-tenant-id on a tenant-or-service service', async () => {
  const token = 'internal-token-0123456789abcdef0123456789';
  const seen: string[] = [];
  const { callInternal, close } = await startTokenServer(token, 'tenant-or-service', seen);
  try {
    await callInternal({ authorization: `Bearer ${token}`, 'x-waygate-tenant-id': 'acme' });
    assert.deepEqual(seen, ['acme']);
    // API keys keep working, and a tenant's own key cannot pick another tenant with the header.
    await callInternal({ authorization: 'Bearer key-acme', 'x-waygate-tenant-id': 'globex' });
    assert.deepEqual(seen, ['acme', 'acme']);

    await assert.rejects(callInternal({ authorization: `Bearer ${token}` }), code(status.UNAUTHENTICATED), 'no tenant named');
    await assert.rejects(callInternal({ authorization: `Bearer ${token}`, 'x-waygate-tenant-id': 'nobody' }), code(status.UNAUTHENTICATED));
    await assert.rejects(callInternal({ authorization: `Bearer ${token}x`, 'x-waygate-tenant-id': 'acme' }), code(status.UNAUTHENTICATED));
    await assert.rejects(callInternal({ 'x-waygate-tenant-id': 'acme' }), code(status.UNAUTHENTICATED), 'header alone');
    await assert.rejects(
      callInternal({ authorization: `Bearer ${token}`, 'x-waygate-tenant-id': 'globex' }),
      code(status.FAILED_PRECONDITION),
      'a tenant homed in another region stays refused',
    );
    assert.equal(seen.length, 2);

    // The server without a configured token treats it as an unknown API key.
    await assert.rejects(call('m1', { authorization: `Bearer ${token}`, 'x-waygate-tenant-id': 'acme' }), code(status.UNAUTHENTICATED));
  } finally {
    await close();
  }
});

test('a tenant service refuses the internal service token (least privilege: the admin token is no tenant credential)', async () => {
  const token = 'internal-token-0123456789abcdef0123456789';
  const seen: string[] = [];
  const { callInternal, close } = await startTokenServer(token, 'tenant', seen);
  try {
    await assert.rejects(callInternal({ authorization: `Bearer ${token}`, 'x-waygate-tenant-id': 'acme' }), code(status.UNAUTHENTICATED));
    await callInternal({ authorization: 'Bearer key-acme' });
    assert.deepEqual(seen, ['acme'], 'API keys still work');
  } finally {
    await close();
  }
});

test('ResourceExhaustedError carries google.rpc.RetryInfo; PermissionDeniedError is PERMISSION_DENIED', () => {
  const exhausted = toGrpcError(new ResourceExhaustedError('over the send rate', 1_250));
  assert.equal(exhausted.code, status.RESOURCE_EXHAUSTED);
  assert.equal(retryDelayMs(exhausted), 1_250);
  assert.equal(toGrpcError(new PermissionDeniedError('scope archive:read required')).code, status.PERMISSION_DENIED);
  assert.equal(retryDelayMs(toGrpcError(new Error('x'))), undefined);
});
