/**
 * "Scopes, for every RPC" (issue 14): over real gRPC on loopback, with the real service definitions, every
 * tenant-facing RPC refuses a key that has every scope but its own (PERMISSION_DENIED with ErrorInfo naming scope and
 * method, no handler runs) and admits a key that has only its own; a key without scopes reaches exactly the
 * messages and events RPCs. The handlers answer every call with one marker status, so "reached the handler" is
 * unambiguous.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Client,
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  status,
  type ServiceDefinition,
  type ServiceError,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  ArchiveLogServiceService,
  ArchiveServiceService,
  GovernanceServiceService,
  InboundServiceService,
  MediaServiceService,
  MessagingServiceService,
  ReceiptServiceService,
  SERVICE_NAMES,
  SERVICE_PROTO_FILES,
  VerificationServiceService,
} from '@waygate/proto';
import { API_KEY_SCOPES, DEFAULT_API_KEY_SCOPES, parseTenants, type ApiKeyScope } from '@waygate/tenancy';
import { bearerMetadata, tenantsYaml } from '@waygate/testing';
import { errorInfos } from './error-mapping';
import { startGrpcServer, type RunningGrpcServer, type ServedService } from './grpc-server';
import { RPC_SCOPES, rpcScopeTable } from './rpc-scopes';
import { authenticatedCredential, createTenantAuthInterceptor } from './tenant-auth';

const TOKEN = 'scopes-test-internal-token-0123456789abcdef';
const REACHED = 'reached the handler';

/** One key per scope with only that scope, one per scope with every other scope, one without scopes. */
const only = (scope: ApiKeyScope) => `key-only-${scope}`;
const allBut = (scope: ApiKeyScope) => `key-all-but-${scope}`;
const tenants = parseTenants(
  tenantsYaml([
    {
      id: 'acme',
      homeRegion: 'eu',
      apiKey: 'key-acme-full',
      moreApiKeys: [
        { apiKey: 'key-default', id: 'unscoped', scopes: 'default' },
        ...API_KEY_SCOPES.map((scope) => ({ apiKey: only(scope), id: `only-${scope.replace(':', '-')}`, scopes: [scope] })),
        ...API_KEY_SCOPES.map((scope) => ({
          apiKey: allBut(scope),
          id: `all-but-${scope.replace(':', '-')}`,
          scopes: API_KEY_SCOPES.filter((s) => s !== scope),
        })),
      ],
    },
  ]),
);

/** Every tenant-facing service with its real definition; MediaService also takes the internal token, as in media-store. */
const DEFINITIONS: Record<string, { definition: ServiceDefinition; protoFile: string; access: ServedService['access'] }> = {
  [SERVICE_NAMES.messaging]: { definition: MessagingServiceService, protoFile: SERVICE_PROTO_FILES.messaging, access: 'tenant' },
  [SERVICE_NAMES.receipt]: { definition: ReceiptServiceService, protoFile: SERVICE_PROTO_FILES.receipt, access: 'tenant' },
  [SERVICE_NAMES.inbound]: { definition: InboundServiceService, protoFile: SERVICE_PROTO_FILES.inbound, access: 'tenant' },
  [SERVICE_NAMES.media]: { definition: MediaServiceService, protoFile: SERVICE_PROTO_FILES.media, access: 'tenant-or-service' },
  [SERVICE_NAMES.verification]: { definition: VerificationServiceService, protoFile: SERVICE_PROTO_FILES.verification, access: 'tenant' },
  [SERVICE_NAMES.archive]: { definition: ArchiveServiceService, protoFile: SERVICE_PROTO_FILES.archive, access: 'tenant' },
  [SERVICE_NAMES.governance]: { definition: GovernanceServiceService, protoFile: SERVICE_PROTO_FILES.governance, access: 'tenant' },
  [SERVICE_NAMES.archiveLog]: { definition: ArchiveLogServiceService, protoFile: SERVICE_PROTO_FILES.archiveLog, access: 'tenant' },
};

/** Handlers for every method of `definition` that answer with the marker status (and check a tenant was authenticated). */
function markerImplementation(definition: ServiceDefinition): UntypedServiceImplementation {
  const marker = (metadata: Metadata) => ({
    code: status.ABORTED,
    details: authenticatedCredential(metadata) ? REACHED : 'reached the handler unauthenticated',
  });
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      method.responseStream
        ? (call: { metadata: Metadata; emit(event: 'error', error: object): void }) => call.emit('error', marker(call.metadata))
        : (call: { metadata: Metadata }, callback: (error: object) => void) => callback(marker(call.metadata)),
    ]),
  ) as UntypedServiceImplementation;
}

/** Every method of the served definitions: its path and whether it streams. */
const METHODS = Object.values(DEFINITIONS).flatMap(({ definition }) => Object.values(definition));

let server: RunningGrpcServer;
let client: Client;

before(async () => {
  server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tenants,
    region: 'eu',
    internalServiceToken: TOKEN,
    services: Object.entries(DEFINITIONS).map(([name, { definition, protoFile, access }]) => ({
      name,
      protoFile,
      definition,
      access,
      implementation: markerImplementation(definition),
    })),
  });
  client = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
});

after(async () => {
  client.close();
  await server.shutdown(1000);
});

const passThrough = (bytes: Buffer) => bytes;
/** Calls the method at `path` (an empty message is a valid request of every type) and returns its final status. */
function callWith(on: Client, method: { path: string; requestStream: boolean; responseStream: boolean }, metadata: Metadata) {
  return new Promise<Pick<ServiceError, 'code' | 'details' | 'metadata'>>((resolve) => {
    const done = (error: ServiceError | null) => resolve(error ?? { code: status.OK, details: '', metadata: new Metadata() });
    const empty = Buffer.alloc(0);
    if (method.requestStream && method.responseStream) {
      const call = on.makeBidiStreamRequest(method.path, passThrough, passThrough, metadata);
      call
        .on('data', () => undefined)
        .on('error', done)
        .on('end', () => done(null));
      call.end();
    } else if (method.requestStream) {
      on.makeClientStreamRequest(method.path, passThrough, passThrough, metadata, done).end();
    } else if (method.responseStream) {
      on.makeServerStreamRequest(method.path, passThrough, passThrough, empty, metadata)
        .on('data', () => undefined)
        .on('error', done)
        .on('end', () => done(null));
    } else {
      on.makeUnaryRequest(method.path, passThrough, passThrough, empty, metadata, done);
    }
  });
}

test('the test serves every service of the table, and the table scopes every method served', () => {
  assert.deepEqual(Object.keys(DEFINITIONS).sort(), Object.keys(RPC_SCOPES).sort());
  const table = rpcScopeTable();
  assert.deepEqual(METHODS.map((m) => m.path).sort(), [...table.keys()].sort());
  assert.ok(METHODS.length >= 40, `${METHODS.length} methods`);
});

test('every tenant RPC: a key with every other scope is PERMISSION_DENIED naming scope and method; a key with only its scope gets in', async () => {
  const table = rpcScopeTable();
  const problems: string[] = [];
  await Promise.all(
    METHODS.map(async (method) => {
      const scope = table.get(method.path);
      assert.ok(scope, method.path);
      const denied = await callWith(client, method, bearerMetadata(allBut(scope)));
      if (denied.code !== status.PERMISSION_DENIED) problems.push(`${method.path} without ${scope}: ${denied.code} ${denied.details}`);
      else {
        const infos = errorInfos(denied);
        const expected = {
          reason: 'API_KEY_SCOPE_MISSING',
          domain: 'waygate',
          metadata: { scope, method: method.path.slice(1), keyId: `all-but-${scope.replace(':', '-')}` },
        };
        if (JSON.stringify(infos) !== JSON.stringify([expected])) problems.push(`${method.path}: ErrorInfo ${JSON.stringify(infos)}`);
        if (!denied.details.includes(scope)) problems.push(`${method.path}: message does not name ${scope}: ${denied.details}`);
      }
      const admitted = await callWith(client, method, bearerMetadata(only(scope)));
      if (admitted.details !== REACHED) problems.push(`${method.path} with only ${scope}: ${admitted.code} ${admitted.details}`);
    }),
  );
  assert.deepEqual(problems, []);
});

test('a key without scopes reaches exactly the RPCs of messages:send, messages:read and events:read', async () => {
  const table = rpcScopeTable();
  const reached: string[] = [];
  const denied: string[] = [];
  await Promise.all(
    METHODS.map(async (method) => {
      const answer = await callWith(client, method, bearerMetadata('key-default'));
      if (answer.details === REACHED) reached.push(method.path);
      else if (answer.code === status.PERMISSION_DENIED) denied.push(method.path);
      else assert.fail(`${method.path}: ${answer.code} ${answer.details}`);
    }),
  );
  const byDefault = [...table].filter(([, scope]) => DEFAULT_API_KEY_SCOPES.includes(scope)).map(([path]) => path);
  assert.deepEqual(reached.sort(), byDefault.sort());
  // Today's reach: sending, reading messages, watching events; nothing of media, archive or governance.
  assert.ok(reached.includes('/waygate.messaging.v1.MessagingService/SendMessage'));
  assert.ok(reached.includes('/waygate.receipt.v1.ReceiptService/WatchEvents'));
  assert.ok(denied.includes('/waygate.archive.v1.ArchiveService/SearchMessages'));
  assert.ok(denied.includes('/waygate.media.v1.MediaService/UploadMedia'));
  assert.ok(denied.includes('/waygate.governance.v1.GovernanceService/EraseCustomer'));
});

test('the region-internal token acting for a tenant is not scoped (MediaService), and an unknown key is still UNAUTHENTICATED', async () => {
  const media = Object.values(MediaServiceService);
  for (const method of media) {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${TOKEN}`);
    metadata.set('x-waygate-tenant-id', 'acme');
    assert.equal((await callWith(client, method, metadata)).details, REACHED, method.path);
    assert.equal((await callWith(client, method, bearerMetadata('key-nobody'))).code, status.UNAUTHENTICATED, method.path);
  }
});

test('fail closed: an API key calling a tenant method in no scope is PERMISSION_DENIED (RPC_SCOPE_UNKNOWN); a server will not serve it', async () => {
  const scopes = rpcScopeTable();
  const withoutGetMessage = new Map([...scopes].filter(([path]) => path !== '/waygate.messaging.v1.MessagingService/GetMessage'));
  // startGrpcServer refuses to start serving a tenant method that has no scope.
  await assert.rejects(
    startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      tenants,
      region: 'eu',
      rpcScopes: withoutGetMessage,
      services: [
        {
          name: SERVICE_NAMES.messaging,
          protoFile: SERVICE_PROTO_FILES.messaging,
          definition: MessagingServiceService,
          implementation: markerImplementation(MessagingServiceService),
        },
      ],
    }),
    /without an API key scope .*\/waygate\.messaging\.v1\.MessagingService\/GetMessage/,
  );
  // The interceptor on its own (a server assembled without startGrpcServer) refuses the call to every key.
  const bare = new Server({ interceptors: [createTenantAuthInterceptor(tenants, 'eu', { rpcScopes: withoutGetMessage })] });
  bare.addService(MessagingServiceService, markerImplementation(MessagingServiceService));
  const port = await new Promise<number>((resolve, reject) =>
    bare.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const other = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    const answer = await callWith(other, MessagingServiceService.getMessage, bearerMetadata('key-acme-full'));
    assert.equal(answer.code, status.PERMISSION_DENIED);
    assert.deepEqual(
      errorInfos(answer).map((info) => [info.reason, info.metadata.method]),
      [['RPC_SCOPE_UNKNOWN', 'waygate.messaging.v1.MessagingService/GetMessage']],
    );
    // The methods that are in the table still work for a key with their scope.
    assert.equal((await callWith(other, MessagingServiceService.sendMessage, bearerMetadata('key-acme-full'))).details, REACHED);
  } finally {
    other.close();
    bare.forceShutdown();
  }
});
