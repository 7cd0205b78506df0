/**
 * TLS through real processes: ingress serves gRPC over TLS and asks clients for a certificate, and calls
 * delivery-retry (which does the same) over TLS with its own certificate; plaintext is refused on both; a key that
 * does not belong to the certificate is a failed start naming the variable.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { credentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { connectJetStream, publishEvent, regionSubjects } from '@waygate/nats';
import { InboundMessageReceived, MessagingServiceClient, SendMessageRequest } from '@waygate/proto';
import {
  createTempDir,
  createTestCertificates,
  freePort,
  launchProcess,
  ProcessLaunchError,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  tsxEntryCommand,
  waitFor,
  type NatsServerHandle,
  type ServiceProcess,
  type TestCertificates,
} from '@waygate/testing';

const API_KEY = 'key-acme-tls-0001';
const dir = createTempDir();
let certs: TestCertificates;
let nats: NatsServerHandle;
let ingress: ServiceProcess;
let delivery: ServiceProcess;
let ingressPort: number;
let baseEnv: Record<string, string>;

before(async () => {
  certs = createTestCertificates(dir.path);
  writeFileSync(path.join(dir.path, 'tenants.yaml'), tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: API_KEY }]));
  nats = await startNatsServer();
  const deliveryPort = await freePort();
  ingressPort = await freePort();
  baseEnv = {
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: path.join(dir.path, 'tenants.yaml'),
    WAYGATE_DATA_DIR: dir.path,
    WAYGATE_INTERNAL_SERVICE_TOKEN: 'tls-test-internal-token-0123456789abcdef',
    WAYGATE_TLS_CERT_FILE: certs.serverCert,
    WAYGATE_TLS_KEY_FILE: certs.serverKey,
    WAYGATE_TLS_CLIENT_CA_FILE: certs.caCert,
    WAYGATE_INTERNAL_TLS_CA_FILE: certs.caCert,
  };
  delivery = await startServiceProcess('delivery-retry', {
    ...baseEnv,
    WAYGATE_GRPC_PORT: String(deliveryPort),
    // Nothing listens there: deliveries keep retrying, so the message stays cancellable.
    WAYGATE_WHATSAPP_API_BASE_URL: 'http://127.0.0.1:9',
  });
  ingress = await startServiceProcess('ingress', {
    ...baseEnv,
    WAYGATE_GRPC_PORT: String(ingressPort),
    WAYGATE_DELIVERY_ADDRESS: `127.0.0.1:${deliveryPort}`,
  });
  // Free-form text needs an open customer-service window: the customer writes first (receipt's event, as published),
  // and the window is waited for in ingress's view.
  const events = await connectJetStream(nats.url, 'tls-test');
  const occurredAt = new Date();
  const inbound = InboundMessageReceived.fromPartial({
    eventId: 'wa:in:wamid.tls-hello',
    tenantId: 'acme',
    phoneNumberId: 'pn-acme',
    from: '+4915112345678',
    waMessageId: 'wamid.tls-hello',
    occurredAt,
    type: 'text',
    serviceWindowClosesAt: new Date(occurredAt.getTime() + 86_400_000),
  });
  await publishEvent(events.js, regionSubjects('eu').inboundEvents, InboundMessageReceived.encode(inbound).finish(), inbound.eventId);
  await events.nc.close();
  const view = new Database(path.join(dir.path, 'eu', 'ingress-customers.sqlite'), { readonly: true });
  try {
    await waitFor(() => view.prepare('SELECT COUNT(*) FROM customer_windows').pluck().get() === 1, { what: "the customer's window" });
  } finally {
    view.close();
  }
});

after(async () => {
  await Promise.all([ingress?.stop('SIGTERM'), delivery?.stop('SIGTERM')]);
  await nats?.stop();
  dir.remove();
});

function call<T>(
  creds: ChannelCredentials,
  invoke: (client: MessagingServiceClient, metadata: Metadata, done: (error: ServiceError | null, value?: T) => void) => void,
) {
  const client = new MessagingServiceClient(`127.0.0.1:${ingressPort}`, creds);
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${API_KEY}`);
  return new Promise<{ code: string; value?: T }>((resolve) =>
    invoke(client, metadata, (error, value) => {
      client.close();
      resolve(error ? { code: status[error.code] } : { code: 'OK', ...(value ? { value } : {}) });
    }),
  );
}

const read = (file: string) => readFileSync(file);
const withClientCertificate = () => credentials.createSsl(read(certs.caCert), read(certs.clientKey), read(certs.clientCert));

test('ingress over TLS with a client certificate: send, then cancel through delivery-retry over TLS', async () => {
  const sent = await call<{ messageId: string }>(withClientCertificate(), (client, metadata, done) =>
    client.sendMessage(
      SendMessageRequest.fromPartial({
        to: '+4915112345678',
        content: { $case: 'text', value: { body: 'tls', previewUrl: false } },
        idempotencyKey: 'tls-1',
      }),
      metadata,
      done,
    ),
  );
  assert.equal(sent.code, 'OK');
  const messageId = sent.value?.messageId ?? '';
  assert.match(messageId, /^msg_/);

  // CancelMessage is ingress calling delivery-retry's internal API: over TLS, with ingress's certificate. Had that
  // channel failed, ingress would answer UNAVAILABLE; the delivery may not have reached delivery-retry yet (NOT_FOUND).
  const canceled = await call(withClientCertificate(), (client, metadata, done) => client.cancelMessage({ messageId }, metadata, done));
  assert.ok(['OK', 'NOT_FOUND', 'ABORTED'].includes(canceled.code), `CancelMessage answered ${canceled.code}`);
  assert.doesNotMatch(ingress.outputTail(200), /"level":"(error|fatal)"/);
});

test('ingress refuses plaintext, TLS without a client certificate and a certificate its CA did not sign', async () => {
  const get = (creds: ChannelCredentials) =>
    call(creds, (client, metadata, done) =>
      client.getMessage({ messageId: 'msg_01HZZZZZZZZZZZZZZZZZZZZZZZ' }, metadata, { deadline: Date.now() + 3000 }, done),
    );
  assert.equal((await get(withClientCertificate())).code, 'NOT_FOUND');
  assert.equal((await get(credentials.createInsecure())).code, 'UNAVAILABLE');
  assert.equal((await get(credentials.createSsl(read(certs.caCert)))).code, 'UNAVAILABLE');
  assert.equal(
    (await get(credentials.createSsl(read(certs.caCert), read(certs.strangerKey), read(certs.strangerCert)))).code,
    'UNAVAILABLE',
  );
});

test('a key that is not the certificate’s is a failed start naming WAYGATE_TLS_KEY_FILE', async () => {
  const lines: string[] = [];
  const launched = launchProcess({
    name: 'ingress',
    ...tsxEntryCommand('apps/ingress/src/main.ts'),
    env: { PATH: process.env.PATH, ...baseEnv, WAYGATE_GRPC_PORT: '0', WAYGATE_METRICS_PORT: '0', WAYGATE_TLS_KEY_FILE: certs.clientKey },
    ready: { line: 'ingress listening' },
    readyTimeoutMs: 20_000,
    output: { onLine: (line) => lines.push(line) },
  });
  await assert.rejects(launched.ready, (error) => error instanceof ProcessLaunchError && error.reason === 'exited');
  const fatal = lines.map((line) => JSON.parse(line) as { level: string; msg: string }).find((line) => line.level === 'fatal');
  assert.match(fatal?.msg ?? lines.join('\n'), /WAYGATE_TLS_KEY_FILE: is not the private key of the certificate in WAYGATE_TLS_CERT_FILE/);
  assert.doesNotMatch(lines.join('\n'), /PRIVATE KEY/);
});
