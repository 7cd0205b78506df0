import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  ACK,
  connectJetStream,
  createDeadLetterStore,
  ensureRegionStreams,
  publishEvent,
  regionStreams,
  startConsumer,
  type JetStreamConnection,
  type RunningConsumer,
} from '@waygate/nats';
import {
  DeadLetterAdminServiceClient,
  type DiscardConsumerDeadLettersResponse,
  type ListConsumerDeadLettersRequest,
  type ListConsumerDeadLettersResponse,
  type ReplayConsumerDeadLettersResponse,
} from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { parseTenants } from '@waygate/tenancy';
import { startNatsServer, tenantsYaml, waitFor, type NatsServerHandle } from '@waygate/testing';
import { createDeadLetterAdminService } from './dead-letter-admin.handler';
import { badRequestViolations } from './error-mapping';
import { startGrpcServer, type RunningGrpcServer } from './grpc-server';
import { rpcScopeTable } from './rpc-scopes';

// The dead-letter admin API end to end: a real nats-server, a consumer whose handler always throws, and the gRPC
// service over loopback with the region's internal service token.

const REGION = 'eu';
const TOKEN = 'internal-token-0123456789abcdef0123456789';
const SUBJECT = `waygate.${REGION}.events.admin-test`;
const logger = createLogger({ service: 'test', level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
const tenants = parseTenants(tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'key-acme' }]));
let nats: NatsServerHandle;
let connection: JetStreamConnection;
let server: RunningGrpcServer;
let client: DeadLetterAdminServiceClient;
let consumer: RunningConsumer;
let broken = true;
const processed: string[] = [];

before(async () => {
  nats = await startNatsServer();
  connection = await connectJetStream(nats.url, 'admin-test');
  await ensureRegionStreams(connection.jsm, REGION);
  consumer = await startConsumer(connection, {
    region: REGION,
    stream: regionStreams(REGION).events.name,
    durable: 'admin-test',
    filterSubject: SUBJECT,
    maxDeliveries: 3,
    errorBackoff: { baseMs: 20, maxMs: 40 },
    logger,
    handle: async (data) => {
      if (broken) throw new TypeError("Cannot read properties of undefined (reading 'id')");
      processed.push(new TextDecoder().decode(data));
      return ACK;
    },
  });
  server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tenants,
    region: REGION,
    internalServiceToken: TOKEN,
    services: [
      createDeadLetterAdminService({
        store: createDeadLetterStore(connection, REGION),
        consumers: [consumer.durable, 'admin-test-other'],
        internalServiceToken: TOKEN,
        logger,
      }),
    ],
  });
  client = new DeadLetterAdminServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
});

after(async () => {
  client?.close();
  await server?.shutdown();
  await consumer?.stop();
  await connection?.nc.close();
  await nats?.stop();
});

function auth(bearer: string | null): Metadata {
  const metadata = new Metadata();
  if (bearer !== null) metadata.set('authorization', `Bearer ${bearer}`);
  return metadata;
}

function list(request: Partial<ListConsumerDeadLettersRequest>, bearer: string | null = TOKEN): Promise<ListConsumerDeadLettersResponse> {
  return new Promise((resolve, reject) =>
    client.listConsumerDeadLetters({ consumer: '', pageSize: 0, pageToken: '', ...request }, auth(bearer), (error, response) =>
      error ? reject(error) : resolve(response),
    ),
  );
}

function replay(request: { consumer: string; ids?: string[]; all?: boolean }): Promise<ReplayConsumerDeadLettersResponse> {
  return new Promise((resolve, reject) =>
    client.replayConsumerDeadLetters({ ids: [], all: false, ...request }, auth(TOKEN), (error, response) =>
      error ? reject(error) : resolve(response),
    ),
  );
}

function discard(request: { consumer: string; ids?: string[]; all?: boolean }): Promise<DiscardConsumerDeadLettersResponse> {
  return new Promise((resolve, reject) =>
    client.discardConsumerDeadLetters({ ids: [], all: false, ...request }, auth(TOKEN), (error, response) =>
      error ? reject(error) : resolve(response),
    ),
  );
}

const code = (expected: status) => (error: unknown) => {
  assert.equal((error as ServiceError).code, expected, String(error));
  return true;
};

test('only the internal service token may call it: a tenant API key, no token or a wrong one are UNAUTHENTICATED', async () => {
  await assert.rejects(list({}, 'key-acme'), code(status.UNAUTHENTICATED));
  await assert.rejects(list({}, null), code(status.UNAUTHENTICATED));
  await assert.rejects(list({}, `${TOKEN}x`), code(status.UNAUTHENTICATED));
  // A server without the token does not start with it (an internal API is never open), and the handlers check the
  // token themselves, so a server whose interceptor does not know the service as internal still refuses API keys.
  await assert.rejects(
    startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      tenants,
      region: REGION,
      services: [
        createDeadLetterAdminService({
          store: createDeadLetterStore(connection, REGION),
          consumers: ['admin-test'],
          internalServiceToken: '',
          logger,
        }),
      ],
    }),
    /internal service token/,
  );
  const unmarked = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tenants,
    region: REGION,
    // Served as a tenant service on purpose (to show the handlers check the token themselves), so the test scopes it.
    rpcScopes: rpcScopeTable({
      'waygate.admin.v1.DeadLetterAdminService': {
        ListConsumerDeadLetters: 'events:read',
        ReplayConsumerDeadLetters: 'events:read',
        DiscardConsumerDeadLetters: 'events:read',
      },
    }),
    services: [
      {
        ...createDeadLetterAdminService({
          store: createDeadLetterStore(connection, REGION),
          consumers: ['admin-test'],
          internalServiceToken: TOKEN,
          logger,
        }),
        access: 'tenant',
      },
    ],
  });
  const other = new DeadLetterAdminServiceClient(`127.0.0.1:${unmarked.port}`, credentials.createInsecure());
  try {
    await assert.rejects(
      new Promise((resolve, reject) =>
        other.listConsumerDeadLetters({ consumer: '', pageSize: 0, pageToken: '' }, auth('key-acme'), (error, response) =>
          error ? reject(error) : resolve(response),
        ),
      ),
      code(status.UNAUTHENTICATED),
    );
  } finally {
    other.close();
    await unmarked.shutdown();
  }
});

test('bad requests name each bad field', async () => {
  await assert.rejects(list({ consumer: 'ingress-status', pageSize: 501, pageToken: 'abc' }), (error: unknown) => {
    assert.equal((error as ServiceError).code, status.INVALID_ARGUMENT);
    assert.deepEqual(
      badRequestViolations(error as ServiceError).map((violation) => violation.field),
      ['consumer', 'page_size', 'page_token'],
    );
    return true;
  });
  await assert.rejects(replay({ consumer: 'admin-test' }), (error: unknown) => {
    assert.deepEqual(
      badRequestViolations(error as ServiceError).map((violation) => [violation.field, violation.reason]),
      [['ids', 'REQUIRED']],
    );
    return true;
  });
  await assert.rejects(replay({ consumer: 'admin-test', ids: ['1'], all: true }), code(status.INVALID_ARGUMENT));
  await assert.rejects(replay({ consumer: 'admin-test', ids: ['0', 'x'.repeat(10_000)] }), (error: unknown) => {
    assert.deepEqual(
      badRequestViolations(error as ServiceError).map((violation) => violation.field),
      ['ids[0]', 'ids[1]'],
    );
    assert.ok((error as ServiceError).details.length < 500, 'a long id is not echoed whole');
    return true;
  });
  await assert.rejects(discard({ consumer: '', all: true }), code(status.INVALID_ARGUMENT));
});

test('a message whose handler always fails is listed with its reason, replayed once fixed and then processed', async () => {
  for (const text of ['first', 'second', 'third'])
    await publishEvent(connection.js, SUBJECT, new TextEncoder().encode(text), `admin-${text}`);
  const all = await waitFor(
    async () => {
      const page = await list({ consumer: 'admin-test' });
      return page.deadLetters.length === 3 ? page.deadLetters : undefined;
    },
    { what: 'three dead letters' },
  );
  assert.deepEqual(
    all.map((letter) => [letter.consumer, letter.reasonKind, letter.reason, letter.deliveryCount, letter.originalSubject]),
    Array.from({ length: 3 }, () => [
      'admin-test',
      'handler_error',
      "handler error: TypeError: Cannot read properties of undefined (reading 'id')",
      3,
      SUBJECT,
    ]),
  );
  assert.equal(all[0].sizeBytes, 'first'.length);
  assert.ok(all[0].deadLetteredAt instanceof Date && all[0].publishedAt instanceof Date);

  // All of the service's consumers by default, in pages.
  const first = await list({ pageSize: 2 });
  assert.equal(first.deadLetters.length, 2);
  const second = await list({ pageSize: 2, pageToken: first.nextPageToken });
  assert.deepEqual(
    [...first.deadLetters, ...second.deadLetters].map((letter) => letter.id),
    all.map((letter) => letter.id),
  );
  assert.equal(second.nextPageToken, '');

  broken = false;
  assert.equal((await replay({ consumer: 'admin-test', ids: [all[0].id] })).replayed, 1);
  await waitFor(() => processed.includes('first'), { what: 'the replayed message processed' });
  assert.equal((await replay({ consumer: 'admin-test', ids: [all[0].id] })).replayed, 0, 'a replayed dead letter is gone');
  assert.equal((await discard({ consumer: 'admin-test', ids: [all[1].id] })).discarded, 1);
  assert.equal((await replay({ consumer: 'admin-test', all: true })).replayed, 1);
  await waitFor(() => processed.includes('third'), { what: 'the replayed message processed' });
  assert.deepEqual((await list({})).deadLetters, []);
  assert.deepEqual(processed, ['first', 'third']);
});
