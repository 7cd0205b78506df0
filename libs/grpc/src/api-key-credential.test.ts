import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, Metadata, status, type sendUnaryData, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { MessagingServiceClient, MessagingServiceService, SERVICE_NAMES, SERVICE_PROTO_FILES } from '@waygate/proto';
import { hashApiKey, parseTenants } from '@waygate/tenancy';
import { bearerMetadata, callUnary, tenantsYaml } from '@waygate/testing';
import { startGrpcServer, type RunningGrpcServer } from './grpc-server';
import { authenticatedCredential, type AuthenticatedCredential } from './tenant-auth';

const TOKEN = 'credential-test-internal-token-0123456789';
const tenants = parseTenants(
  tenantsYaml([
    {
      id: 'acme',
      homeRegion: 'eu',
      apiKey: 'key-acme-full',
      apiKeyId: 'full',
      moreApiKeys: [
        { apiKey: 'key-acme-default', scopes: 'default' },
        { apiKey: 'key-acme-reader', id: 'reader', scopes: ['messages:read', 'archive:read'] },
      ],
    },
  ]),
);
/** What the handler saw as the call's credential, per call. */
const seen: (AuthenticatedCredential | undefined)[] = [];
let server: RunningGrpcServer;
let client: MessagingServiceClient;

before(async () => {
  server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tenants,
    region: 'eu',
    internalServiceToken: TOKEN,
    services: [
      {
        name: SERVICE_NAMES.messaging,
        protoFile: SERVICE_PROTO_FILES.messaging,
        definition: MessagingServiceService,
        access: 'tenant-or-service',
        implementation: {
          getMessage: (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
            seen.push(authenticatedCredential(call.metadata));
            callback({ code: status.NOT_FOUND, details: 'handler reached' });
          },
        },
      },
    ],
  });
  client = new MessagingServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
});

after(async () => {
  client.close();
  await server.shutdown(1000);
});

/** Calls GetMessage with `metadata` and returns what the handler saw (the call must reach it). */
async function credentialOf(metadata: Metadata): Promise<AuthenticatedCredential | undefined> {
  const before = seen.length;
  const error = await callUnary(client, 'getMessage', { messageId: 'm1' }, metadata).then(
    () => assert.fail('expected the handler’s NOT_FOUND'),
    (e: ServiceError) => e,
  );
  assert.equal(error.details, 'handler reached');
  assert.equal(seen.length, before + 1);
  return seen[before];
}

test('a call by API key carries the key’s hash, id, scopes (configured, or the default reach) and the method’s scope to the handler', async () => {
  assert.deepEqual(await credentialOf(bearerMetadata('key-acme-reader')), {
    kind: 'api-key',
    apiKeySha256: hashApiKey('key-acme-reader'),
    keyId: 'reader',
    scopes: ['messages:read', 'archive:read'],
    callScope: 'messages:read',
  });
  const unscoped = await credentialOf(bearerMetadata('key-acme-default'));
  assert.deepEqual(unscoped, {
    kind: 'api-key',
    apiKeySha256: hashApiKey('key-acme-default'),
    keyId: `key_${hashApiKey('key-acme-default').slice(0, 12)}`,
    scopes: ['messages:send', 'messages:read', 'events:read'],
    callScope: 'messages:read',
  });
  const full = await credentialOf(bearerMetadata('key-acme-full'));
  assert.equal(full?.kind === 'api-key' && full.keyId, 'full');
});

test('a client cannot claim a key id, scopes or credential of its own: the interceptor replaces them', async () => {
  const metadata = bearerMetadata('key-acme-reader');
  metadata.set('x-waygate-authenticated-key-id', 'full');
  metadata.set('x-waygate-authenticated-key-scopes', 'governance:admin');
  metadata.set('x-waygate-authenticated-credential', `api-key:${hashApiKey('key-acme-full')}`);
  metadata.set('x-waygate-authenticated-call-scope', 'governance:admin');
  const credential = await credentialOf(metadata);
  assert.deepEqual(credential, {
    kind: 'api-key',
    apiKeySha256: hashApiKey('key-acme-reader'),
    keyId: 'reader',
    scopes: ['messages:read', 'archive:read'],
    callScope: 'messages:read',
  });
});

test('the region-internal token acting for a tenant is the internal credential, with no key id or scopes even if sent', async () => {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${TOKEN}`);
  metadata.set('x-waygate-tenant-id', 'acme');
  metadata.set('x-waygate-authenticated-key-id', 'full');
  metadata.set('x-waygate-authenticated-key-scopes', 'governance:admin');
  assert.deepEqual(await credentialOf(metadata), { kind: 'internal' });
});
