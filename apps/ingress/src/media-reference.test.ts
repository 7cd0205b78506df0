import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Metadata, credentials, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { badRequestViolations } from '@waygate/grpc';
import { connectJetStream, publishEvent, regionSubjects } from '@waygate/nats';
import {
  InboundMessageReceived,
  ListMessagesRequest,
  MediaServiceClient,
  MessagingServiceClient,
  SendMessageRequest,
  type ListMessagesResponse,
  type PutMediaResponse,
  type SendMessageResponse,
} from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import {
  createTempDir,
  freePort,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  waitFor,
  type NatsServerHandle,
  type ServiceProcess,
} from '@waygate/testing';
import { loadIngressConfig } from './config';
import { startIngress } from './server';

// Media sent by media-store id through real gRPC: ingress asks a real media-store process; refused sends store nothing.

const TOKEN = randomBytes(32).toString('hex');
const JPEG = Buffer.concat([Buffer.from('ffd8ffe000104a46494600', 'hex'), randomBytes(2048)]);
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), randomBytes(1024)]);

let nats: NatsServerHandle;
let dir: ReturnType<typeof createTempDir>;
let mediaStore: ServiceProcess;
let media: MediaServiceClient;
let ingress: Awaited<ReturnType<typeof startIngress>>;
let client: MessagingServiceClient;

function auth(apiKey: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${apiKey}`);
  return metadata;
}

before(async () => {
  nats = await startNatsServer();
  dir = createTempDir();
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(
    tenantsFile,
    tenantsYaml([
      { id: 'acme', homeRegion: 'eu', apiKey: 'key-acme', phoneNumberIds: ['200'] },
      { id: 'globex', homeRegion: 'eu', apiKey: 'key-globex', phoneNumberIds: ['300'] },
    ]),
  );
  const mediaPort = await freePort();
  mediaStore = await startServiceProcess('media-store', {
    WAYGATE_REGION: 'eu',
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: path.join(dir.path, 'media-store'),
    WAYGATE_GRPC_PORT: String(mediaPort),
    WAYGATE_INTERNAL_SERVICE_TOKEN: TOKEN,
    WAYGATE_NATS_URL: nats.url,
  });
  media = new MediaServiceClient(`127.0.0.1:${mediaPort}`, credentials.createInsecure());
  ingress = await startIngress(
    loadIngressConfig({
      WAYGATE_REGION: 'eu',
      WAYGATE_NATS_URL: nats.url,
      WAYGATE_TENANTS_FILE: tenantsFile,
      WAYGATE_GRPC_PORT: '0',
      WAYGATE_STORAGE: 'sqlite',
      WAYGATE_DATA_DIR: path.join(dir.path, 'data'),
      WAYGATE_DELIVERY_ADDRESS: `127.0.0.1:${await freePort()}`,
      WAYGATE_MEDIA_STORE_ADDRESS: `127.0.0.1:${mediaPort}`,
      WAYGATE_INTERNAL_SERVICE_TOKEN: TOKEN,
    }),
    createLogger({ service: 'ingress-test', destination: new Writable({ write: (_c, _e, done) => done() }) }),
  );
  client = new MessagingServiceClient(`127.0.0.1:${ingress.grpcPort}`, credentials.createInsecure());
  // A media message is free-form: the customer writes first (receipt's event), waited for in ingress's view.
  const events = await connectJetStream(nats.url, 'media-reference-test');
  const occurredAt = new Date();
  const inbound = InboundMessageReceived.fromPartial({
    eventId: 'wa:in:wamid.media-hello',
    tenantId: 'acme',
    phoneNumberId: '200',
    from: '+4915112345678',
    waMessageId: 'wamid.media-hello',
    occurredAt,
    type: 'text',
    serviceWindowClosesAt: new Date(occurredAt.getTime() + 86_400_000),
  });
  await publishEvent(events.js, regionSubjects('eu').inboundEvents, InboundMessageReceived.encode(inbound).finish(), inbound.eventId);
  await events.nc.close();
  const view = new Database(path.join(dir.path, 'data', 'eu', 'ingress-customers.sqlite'), { readonly: true });
  try {
    await waitFor(() => view.prepare('SELECT COUNT(*) FROM customer_windows').pluck().get() === 1, { what: "the customer's window" });
  } finally {
    view.close();
  }
});

after(async () => {
  client?.close();
  media?.close();
  await ingress?.stop();
  await mediaStore?.stop('SIGTERM');
  await nats?.stop();
  dir?.remove();
});

const put = (content: Buffer, mimeType: string, apiKey = 'key-acme') =>
  new Promise<string>((resolve, reject) =>
    media.putMedia({ content, mimeType, filename: '', customer: '' }, auth(apiKey), (error, response: PutMediaResponse) =>
      error ? reject(error) : resolve(response.mediaId),
    ),
  );

let keys = 0;
const sendImage = (mediaId: string) =>
  new Promise<SendMessageResponse>((resolve, reject) =>
    client.sendMessage(
      SendMessageRequest.fromPartial({
        to: '+4915112345678',
        content: { $case: 'image', value: { source: { $case: 'mediaId', value: mediaId }, caption: 'receipt', filename: '' } },
        idempotencyKey: `k-${++keys}`,
      }),
      auth('key-acme'),
      (error, response) => (error ? reject(error) : resolve(response)),
    ),
  );

const stored = () =>
  new Promise<ListMessagesResponse>((resolve, reject) =>
    client.listMessages(ListMessagesRequest.fromPartial({}), auth('key-acme'), (error, response) =>
      error ? reject(error) : resolve(response),
    ),
  );

test("an image by the tenant's media id is accepted; another tenant's, an unknown one or a PDF are refused and nothing is stored", async () => {
  const globexJpeg = await put(JPEG, 'image/jpeg', 'key-globex');
  for (const mediaId of [globexJpeg, 'med_unknown']) {
    await assert.rejects(sendImage(mediaId), (error: ServiceError) => {
      assert.equal(error.code, grpcStatus.NOT_FOUND, String(error));
      assert.match(error.details, /image\.media_id/);
      return true;
    });
  }
  const pdf = await put(PDF, 'application/pdf');
  await assert.rejects(sendImage(pdf), (error: ServiceError) => {
    assert.equal(error.code, grpcStatus.INVALID_ARGUMENT, String(error));
    assert.deepEqual(
      badRequestViolations(error).map((violation) => [violation.field, violation.reason]),
      [['image.media_id', 'UNSUPPORTED_MEDIA_TYPE']],
    );
    return true;
  });
  assert.deepEqual((await stored()).messages, [], 'nothing stored for a refused send');

  const accepted = await sendImage(await put(JPEG, 'image/jpeg'));
  assert.deepEqual(
    (await stored()).messages.map((message) => message.messageId),
    [accepted.messageId],
  );
});
