import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { credentials, Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import {
  ReceiptServiceClient,
  ReceiptServiceService,
  SERVICE_NAMES,
  SERVICE_PROTO_FILES,
  TenantEventType,
  type WatchEventsRequest,
  type WatchEventsResponse,
} from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { hashApiKey, parseTenants, TenantDirectory, type ApiKey, type Tenant } from '@waygate/tenancy';
import { tenantsYaml, waitFor } from '@waygate/testing';
import { errorInfos } from './error-mapping';
import { startGrpcServer, type RunningGrpcServer } from './grpc-server';
import { serverStreamingHandler } from './server-streaming';
import { credentialRevocation } from './stream-revocation';

const logger = createLogger({
  service: 'grpc-revocation-test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, done) => done() }),
});
const TOKEN = 'revocation-test-internal-token-0123456789';

/** acme has two keys (a and b), globex one; every test starts from this configuration. */
function configured(): Tenant[] {
  return [
    ...parseTenants(
      tenantsYaml([
        { id: 'acme', homeRegion: 'eu', apiKey: 'key-acme-a', moreApiKeys: [{ apiKey: 'key-acme-b', scopes: 'default' }] },
        { id: 'globex', homeRegion: 'eu', apiKey: 'key-globex' },
      ]),
    ).tenants,
  ];
}
/** The configured key of `tenant` that `apiKey` is (every key below is configured in {@link configured}). */
function keyOf(apiKey: string): ApiKey {
  const found = configured()
    .flatMap((tenant) => tenant.apiKeys)
    .find((key) => key.sha256 === hashApiKey(apiKey));
  assert.ok(found, apiKey);
  return found;
}
const tenants = new TenantDirectory(configured());
/** Each call's handler, keyed by the request's after_sequence (a number, used as the call's name): whether its signal was aborted. */
const handlers = new Map<string, { aborted: boolean }>();

let server: RunningGrpcServer;
let client: ReceiptServiceClient;

before(async () => {
  server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tenants,
    region: 'eu',
    internalServiceToken: TOKEN,
    services: [
      {
        name: SERVICE_NAMES.receipt,
        protoFile: SERVICE_PROTO_FILES.receipt,
        definition: ReceiptServiceService,
        access: 'tenant-or-service',
        implementation: {
          // A feed that sends one event and then stays open until the call ends.
          watchEvents: serverStreamingHandler<WatchEventsRequest, WatchEventsResponse>(tenants, logger, async (request, tenant, stream) => {
            const state = { aborted: false };
            handlers.set(request.afterSequence, state);
            await stream.write({
              event: {
                eventId: 'e1',
                sequence: '1',
                tenantId: tenant.id,
                type: TenantEventType.TENANT_EVENT_TYPE_STATUS,
                occurredAt: undefined,
                recordedAt: undefined,
                payload: undefined,
              },
            });
            await new Promise<void>((resolve) => stream.signal.addEventListener('abort', () => resolve(), { once: true }));
            state.aborted = true;
          }),
          listDeadLetters: () => undefined,
          replayDeadLetters: () => undefined,
        },
      },
    ],
  });
  client = new ReceiptServiceClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
});

after(async () => {
  client.close();
  await server.shutdown(1000);
});

/** An open feed: how many events arrived, and the error it ended with once it ends. */
function open(key: string, apiKey: string, headers: Record<string, string> = {}) {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${apiKey}`);
  for (const [name, value] of Object.entries(headers)) metadata.set(name, value);
  const stream: ClientReadableStream<WatchEventsResponse> = client.watchEvents(
    { afterSequence: key, messageIds: [], recipients: [], eventTypes: [] },
    metadata,
  );
  const state: { received: number; ended: boolean; error?: ServiceError } = { received: 0, ended: false };
  stream.on('data', () => (state.received += 1));
  stream.on('error', (error: ServiceError) => Object.assign(state, { ended: true, error }));
  stream.on('end', () => (state.ended = true));
  return { stream, state };
}

function reload(change: (tenants: Tenant[]) => Tenant[]): void {
  tenants.replaceWith(new TenantDirectory(change(configured())));
}

test('removing one key ends the streams opened with it (UNAUTHENTICATED); the tenant’s other key keeps streaming', async () => {
  reload((all) => all);
  const withA = open('11', 'key-acme-a');
  const withB = open('12', 'key-acme-b');
  const other = open('13', 'key-globex');
  await waitFor(() => withA.state.received === 1 && withB.state.received === 1 && other.state.received === 1, {
    what: 'three open feeds',
  });

  reload((all) => all.map((t) => (t.id === 'acme' ? { ...t, apiKeys: [keyOf('key-acme-b')] } : t)));
  await waitFor(() => withA.state.ended, { timeoutMs: 2000, what: 'the stream of the removed key to end' });
  assert.equal(withA.state.error?.code, status.UNAUTHENTICATED);
  assert.match(withA.state.error?.details ?? '', /API key this stream was opened with was revoked/);
  await waitFor(() => handlers.get('11')?.aborted, { what: 'the handler of the revoked stream to stop' });

  assert.equal(withB.state.ended, false, 'the stream of the remaining key stays open');
  assert.equal(other.state.ended, false, 'another tenant’s stream stays open');
  assert.equal(handlers.get('12')?.aborted, false);
  withB.stream.cancel();
  other.stream.cancel();
});

test('a key moved to another tenant, or a removed tenant, ends the stream UNAUTHENTICATED', async () => {
  reload((all) => all);
  const moved = open('21', 'key-acme-b');
  const removed = open('22', 'key-globex');
  await waitFor(() => moved.state.received === 1 && removed.state.received === 1, { what: 'two open feeds' });

  reload((all) =>
    all
      .filter((t) => t.id === 'acme')
      .map((t) => ({ ...t, apiKeys: [keyOf('key-acme-a')] }))
      .concat([{ ...all[1], id: 'initech', apiKeys: [keyOf('key-acme-b')], whatsapp: { ...all[1].whatsapp, phoneNumbers: [] } }]),
  );
  await waitFor(() => moved.state.ended && removed.state.ended, { timeoutMs: 2000, what: 'both streams to end' });
  assert.equal(moved.state.error?.code, status.UNAUTHENTICATED);
  assert.equal(removed.state.error?.code, status.UNAUTHENTICATED);
  assert.match(removed.state.error?.details ?? '', /removed from the tenants file/);
});

test('a tenant moved to another home region ends its streams with FAILED_PRECONDITION naming the region', async () => {
  reload((all) => all);
  const feed = open('31', 'key-globex');
  await waitFor(() => feed.state.received === 1, { what: 'an open feed' });

  reload((all) => all.map((t) => (t.id === 'globex' ? { ...t, homeRegion: 'us' } : t)));
  await waitFor(() => feed.state.ended, { timeoutMs: 2000, what: 'the stream to end' });
  assert.equal(feed.state.error?.code, status.FAILED_PRECONDITION);
  assert.match(feed.state.error?.details ?? '', /homed in region "us"/);
});

test('a stream opened by the internal token for a tenant ends when that tenant is removed, not on other reloads', async () => {
  reload((all) => all);
  const feed = open('41', TOKEN, { 'x-waygate-tenant-id': 'acme' });
  await waitFor(() => feed.state.received === 1, { what: 'an open feed' });

  reload((all) => all.map((t) => (t.id === 'acme' ? { ...t, apiKeys: [] } : t)));
  // A later stream proves the reload was processed before the assertion that this one stayed open.
  const probe = open('42', 'key-globex');
  await waitFor(() => probe.state.received === 1, { what: 'a probe feed' });
  assert.equal(feed.state.ended, false, 'API keys do not matter to a stream opened with the internal token');

  reload((all) => all.filter((t) => t.id !== 'acme'));
  await waitFor(() => feed.state.ended, { timeoutMs: 2000, what: 'the stream to end' });
  assert.equal(feed.state.error?.code, status.UNAUTHENTICATED);
  probe.stream.cancel();
});

test('a key losing the scope its stream was opened with ends that stream PERMISSION_DENIED; losing another scope does not', async () => {
  reload((all) => all);
  const feed = open('51', 'key-acme-a');
  await waitFor(() => feed.state.received === 1, { what: 'an open feed' });
  const withoutScope = (scope: string) => (all: Tenant[]) =>
    all.map((t) =>
      t.id === 'acme' ? { ...t, apiKeys: t.apiKeys.map((k) => ({ ...k, scopes: k.scopes.filter((s) => s !== scope) })) } : t,
    );

  reload(withoutScope('archive:read'));
  // A later stream proves the reload was processed before the assertion that this one stayed open.
  const probe = open('52', 'key-globex');
  await waitFor(() => probe.state.received === 1, { what: 'a probe feed' });
  assert.equal(feed.state.ended, false, 'archive:read is not what WatchEvents needs');

  reload(withoutScope('events:read'));
  await waitFor(() => feed.state.ended, { timeoutMs: 2000, what: 'the stream to end' });
  assert.equal(feed.state.error?.code, status.PERMISSION_DENIED);
  assert.match(feed.state.error?.details ?? '', /no longer has the scope events:read/);
  assert.deepEqual(
    errorInfos(feed.state.error ?? {}).map((info) => [info.reason, info.metadata.scope]),
    [['API_KEY_SCOPE_MISSING', 'events:read']],
  );
  await waitFor(() => handlers.get('51')?.aborted, { what: 'the handler of the cut stream to stop' });
  assert.equal(probe.state.ended, false);
  probe.stream.cancel();
});

test('credentialRevocation holds while key, tenant and region are unchanged', () => {
  const [acme] = configured();
  const directory = new TenantDirectory(configured());
  const credential = (apiKey: string) => {
    const { sha256, id, scopes } = keyOf(apiKey);
    return { kind: 'api-key' as const, apiKeySha256: sha256, keyId: id, scopes };
  };
  assert.equal(credentialRevocation(credential('key-acme-a'), acme, directory), undefined);
  assert.equal(credentialRevocation({ kind: 'internal' }, acme, directory), undefined);
  assert.equal(credentialRevocation(credential('key-globex'), acme, directory)?.kind, 'unauthenticated');
});
