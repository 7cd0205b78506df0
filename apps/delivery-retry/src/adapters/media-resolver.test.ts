import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { MediaServiceClient, type PutMediaResponse } from '@waygate/proto';
import {
  createTempDir,
  freePort,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  type NatsServerHandle,
  type ServiceProcess,
} from '@waygate/testing';
import { createCloudApiClient, type CloudApiClient } from '@waygate/whatsapp-cloud-api';
import { startSimulator, type SimulatorEvent, type WhatsAppSimulator } from '@waygate/whatsapp-simulator';
import { classifyOutcome } from '../domain/outcome-classification';
import { createMediaResolver, DEFAULT_META_MEDIA_REUSE_MS, type MediaResolution, type MediaResolver } from '../domain/media-resolver';
import { createCloudApiMediaUploader } from './cloud-api-whatsapp-client';
import { createGrpcMediaBlobSource } from './grpc-media-blob-source';
import { SqliteDeliveryStore } from './sqlite-delivery-store';
import { createCustomerSealer, createInMemoryKeyring } from '@waygate/keyring';

/** Content is sealed at rest under customer keys (a process's own keyring is not this one: there content reads as erased). */
const sealer = createCustomerSealer(createInMemoryKeyring());

// The media resolver against the real parts: a media-store process, the WhatsApp simulator, a SQLite delivery store,
// on a simulated clock.

const NUMBER = { id: '1000001', displayPhoneNumber: '+15550001111', accessToken: 'token-acme', wabaId: '900', throughputMps: 80 };
const OTHER_NUMBER = { id: '1000002', displayPhoneNumber: '+15550001112', accessToken: 'token-acme', wabaId: '900', throughputMps: 80 };
const TOKEN = randomBytes(32).toString('hex');
const DAY = 24 * 3_600_000;
const JPEG = Buffer.concat([Buffer.from('ffd8ffe000104a46494600', 'hex'), randomBytes(4096)]);

let dir: ReturnType<typeof createTempDir>;
let mediaStore: ServiceProcess;
/** media-store keeps its keyring in JetStream. */
let nats: NatsServerHandle;
let mediaStoreAddress: string;
let simulator: WhatsAppSimulator;
let cloudApi: CloudApiClient;
let store: SqliteDeliveryStore;
let blobs: ReturnType<typeof createGrpcMediaBlobSource>;
const uploads: Extract<SimulatorEvent, { type: 'media_uploaded' }>[] = [];
let nowMs = Date.UTC(2026, 0, 1);
const clock = { now: () => new Date(nowMs) };

function putMedia(content: Buffer, mimeType: string): Promise<string> {
  const client = new MediaServiceClient(mediaStoreAddress, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', 'Bearer key-acme');
  return new Promise<string>((resolve, reject) =>
    client.putMedia({ content, mimeType, filename: 'photo.jpg', customer: '' }, metadata, (error, response: PutMediaResponse) =>
      error ? reject(error) : resolve(response.mediaId),
    ),
  ).finally(() => client.close());
}

function resolverOn(storeToUse: SqliteDeliveryStore, source = blobs): MediaResolver {
  return createMediaResolver({ cache: storeToUse, source, uploader: createCloudApiMediaUploader(cloudApi), clock });
}

function resolvedId(resolution: MediaResolution, mediaId: string): string {
  assert.equal(resolution.kind, 'resolved', JSON.stringify(resolution));
  return resolution.kind === 'resolved' ? resolution.metaMediaId(mediaId) : '';
}

before(async () => {
  dir = createTempDir('waygate-media-resolver-');
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(
    tenantsFile,
    tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'key-acme', phoneNumberIds: [NUMBER.id, OTHER_NUMBER.id] }]),
  );
  const port = await freePort();
  mediaStoreAddress = `127.0.0.1:${port}`;
  nats = await startNatsServer();
  mediaStore = await startServiceProcess('media-store', {
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_REGION: 'eu',
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: path.join(dir.path, 'media-store'),
    WAYGATE_GRPC_PORT: String(port),
    WAYGATE_INTERNAL_SERVICE_TOKEN: TOKEN,
  });
  simulator = await startSimulator({
    appSecret: 'secret',
    phoneNumbers: [NUMBER, OTHER_NUMBER],
    seed: 1,
    timeScale: 0,
    enforceCustomerServiceWindow: false,
    pairRateLimit: false,
    onEvent: (event) => {
      if (event.type === 'media_uploaded') uploads.push(event);
    },
  });
  cloudApi = createCloudApiClient({ baseUrl: simulator.url, version: 'v23.0', timeoutMs: 5000 });
  store = new SqliteDeliveryStore(path.join(dir.path, 'delivery.sqlite'), sealer);
  blobs = createGrpcMediaBlobSource({ address: mediaStoreAddress, serviceToken: TOKEN });
});

after(async () => {
  blobs?.close();
  await store?.close();
  await simulator?.stop();
  await mediaStore?.stop('SIGTERM');
  await nats?.stop();
  dir?.remove();
});

test('media by id: uploaded once for two sends, and uploaded again after the cached id expires (simulated clock)', async () => {
  const mediaId = await putMedia(JPEG, 'image/jpeg');
  const resolver = resolverOn(store);
  const send = () => resolver.resolve({ tenantId: 'acme', phoneNumberId: NUMBER.id, accessToken: NUMBER.accessToken, mediaIds: [mediaId] });
  const before = uploads.length;

  const first = resolvedId(await send(), mediaId);
  nowMs += 5 * DAY;
  const second = resolvedId(await send(), mediaId);
  assert.equal(second, first, 'the second send reuses the uploaded id');
  assert.equal(uploads.length - before, 1, 'one upload for two sends');
  assert.deepEqual(
    { ...uploads.at(-1), mediaId: undefined },
    { type: 'media_uploaded', mediaId: undefined, phoneNumberId: NUMBER.id, mimeType: 'image/jpeg', fileSize: JPEG.length },
  );
  const atMeta = await cloudApi.retrieveMedia({ mediaId: first, accessToken: NUMBER.accessToken });
  assert.equal(atMeta.sha256, createHash('sha256').update(JPEG).digest('hex'), "Meta holds media-store's bytes");

  // A restarted replica (a new resolver on the same durable store) still reuses it.
  assert.equal(
    resolvedId(
      await resolverOn(store).resolve({ tenantId: 'acme', phoneNumberId: NUMBER.id, accessToken: NUMBER.accessToken, mediaIds: [mediaId] }),
      mediaId,
    ),
    first,
  );
  assert.equal(uploads.length - before, 1);

  // Another number of the tenant cannot use that id: it gets its own upload.
  const other = resolvedId(
    await resolver.resolve({
      tenantId: 'acme',
      phoneNumberId: OTHER_NUMBER.id,
      accessToken: OTHER_NUMBER.accessToken,
      mediaIds: [mediaId],
    }),
    mediaId,
  );
  assert.notEqual(other, first);
  assert.equal(uploads.length - before, 2);

  // 29 days after the upload the cached id is no longer used (Meta drops it at 30): uploaded again, then reused.
  nowMs = (await store.getMetaMedia('acme', NUMBER.id, mediaId))!.uploadedAt.getTime() + DEFAULT_META_MEDIA_REUSE_MS;
  const renewed = resolvedId(await send(), mediaId);
  assert.notEqual(renewed, first);
  assert.equal(uploads.length - before, 3);
  assert.equal(resolvedId(await send(), mediaId), renewed);
  assert.equal(uploads.length - before, 3);
});

test('two sends of the same media at once share one upload', async () => {
  const mediaId = await putMedia(JPEG, 'image/jpeg');
  const resolver = resolverOn(store);
  const before = uploads.length;
  const request = { tenantId: 'acme', phoneNumberId: NUMBER.id, accessToken: NUMBER.accessToken, mediaIds: [mediaId, mediaId] };
  const [a, b] = await Promise.all([resolver.resolve(request), resolver.resolve(request)]);
  assert.equal(resolvedId(a, mediaId), resolvedId(b, mediaId));
  assert.equal(uploads.length - before, 1);
});

test('failures are classified: a blob gone from media-store or refused by Meta is permanent, media-store down is retried', async () => {
  const resolver = resolverOn(store);
  const before = uploads.length;
  const gone = await resolver.resolve({
    tenantId: 'acme',
    phoneNumberId: NUMBER.id,
    accessToken: NUMBER.accessToken,
    mediaIds: ['med_unknown'],
  });
  assert.equal(gone.kind, 'failed');
  if (gone.kind === 'failed') {
    assert.deepEqual(classifyOutcome(gone.outcome), { kind: 'permanent' });
    assert.equal(gone.outcome.kind === 'error' && gone.outcome.code, 131053);
  }

  // Meta refusing the upload with a 4xx error (here: a business number it does not know) is permanent.
  const jpeg = await putMedia(JPEG, 'image/jpeg');
  const refused = await resolver.resolve({ tenantId: 'acme', phoneNumberId: '999999', accessToken: NUMBER.accessToken, mediaIds: [jpeg] });
  assert.equal(refused.kind, 'failed');
  if (refused.kind === 'failed') {
    assert.equal(refused.outcome.kind === 'error' && refused.outcome.httpStatus, 400);
    assert.deepEqual(classifyOutcome(refused.outcome), { kind: 'permanent' });
  }

  const down = createGrpcMediaBlobSource({ address: `127.0.0.1:${await freePort()}`, serviceToken: TOKEN, deadlineMs: 500 });
  try {
    const unavailable = await resolverOn(store, down).resolve({
      tenantId: 'acme',
      phoneNumberId: NUMBER.id,
      accessToken: NUMBER.accessToken,
      mediaIds: [await putMedia(JPEG, 'image/jpeg')],
    });
    assert.equal(unavailable.kind, 'failed');
    if (unavailable.kind === 'failed') {
      assert.equal(unavailable.outcome.kind, 'no-answer');
      assert.equal(classifyOutcome(unavailable.outcome).kind, 'retry');
    }
  } finally {
    down.close();
  }
  assert.equal(uploads.length, before, 'nothing reached Meta');
});
