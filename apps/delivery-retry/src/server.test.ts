/**
 * delivery-retry's admin API is internal: a tenant's API key cannot cancel (or look up) anything, and in particular
 * cannot make delivery-retry tombstone and announce CANCELED for a message that never existed. Only the region's
 * internal service token (ingress) can, acting for the tenant it names.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations, internalCallMetadata } from '@waygate/grpc';
import { connectJetStream, publishEvent, regionStreams, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import {
  DeliveryAdminServiceClient,
  ContentType,
  DeliveryState,
  MessageAccepted,
  TemplateCategory,
  type CancelDeliveryResponse,
  type GetDeliveryResponse,
} from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { createTempDir, freePort, startNatsServer, tenantsYaml, waitFor, type NatsServerHandle } from '@waygate/testing';
import { SqliteDeliveryStore } from './adapters/sqlite-delivery-store';
import { loadDeliveryRetryConfig, type DeliveryRetryConfig } from './config';
import { startDeliveryRetry } from './server';
import { createCustomerSealer, createInMemoryKeyring } from '@waygate/keyring';

/** Content is sealed at rest under customer keys (a process's own keyring is not this one: there content reads as erased). */
const sealer = createCustomerSealer(createInMemoryKeyring());

const TOKEN = 'internal-token-0123456789abcdef0123456789';
const logger = createLogger({
  service: 'delivery-retry-test',
  destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
});

let nats: NatsServerHandle;
let dir: ReturnType<typeof createTempDir>;
let config: DeliveryRetryConfig;
let deliveryRetry: Awaited<ReturnType<typeof startDeliveryRetry>>;
let client: DeliveryAdminServiceClient;
let events: JetStreamConnection;

before(async () => {
  nats = await startNatsServer();
  dir = createTempDir();
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(tenantsFile, tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'key-acme', phoneNumberIds: ['200'] }]));
  config = loadDeliveryRetryConfig({
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_GRPC_PORT: '0',
    WAYGATE_DATA_DIR: path.join(dir.path, 'data'),
    // Nothing is sent in these tests; a closed port makes sure of it.
    WAYGATE_WHATSAPP_API_BASE_URL: `http://127.0.0.1:${await freePort()}`,
    WAYGATE_INTERNAL_SERVICE_TOKEN: TOKEN,
  });
  deliveryRetry = await startDeliveryRetry(config, logger);
  client = new DeliveryAdminServiceClient(`127.0.0.1:${deliveryRetry.grpcPort}`, credentials.createInsecure());
  events = await connectJetStream(nats.url, 'delivery-retry-test');
});

after(async () => {
  client?.close();
  await deliveryRetry?.stop();
  await events?.nc.close();
  await nats?.stop();
  dir?.remove();
});

function apiKey(key: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${key}`);
  return metadata;
}

function cancelDelivery(messageId: string, metadata: Metadata): Promise<CancelDeliveryResponse> {
  return new Promise((resolve, reject) =>
    client.cancelDelivery({ messageId }, metadata, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

function getDelivery(messageId: string, metadata: Metadata): Promise<GetDeliveryResponse> {
  return new Promise((resolve, reject) =>
    client.getDelivery({ messageId }, metadata, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

/** Status events delivery-retry published for a message (it publishes each on the delivery subject). */
async function publishedEventsAbout(messageId: string): Promise<number> {
  const stream = regionStreams('eu').events.name;
  const info = await events.jsm.streams.info(stream);
  let count = 0;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const message = await events.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (message?.subject === regionSubjects('eu').deliveryEvents && Buffer.from(message.data).includes(messageId)) count++;
  }
  return count;
}

async function storedDelivery(messageId: string) {
  if (config.storage.kind !== 'sqlite') throw new Error('test expects sqlite storage');
  const store = new SqliteDeliveryStore(config.storage.file, sealer);
  try {
    return await store.get('acme', messageId);
  } finally {
    await store.close();
  }
}

test("a tenant's API key is UNAUTHENTICATED on CancelDelivery and GetDelivery: nothing recorded, nothing announced", async () => {
  const messageId = 'msg_never_sent_by_acme';
  for (const call of [cancelDelivery, getDelivery]) {
    await assert.rejects(call(messageId, apiKey('key-acme')), (error: unknown) => {
      assert.equal((error as ServiceError).code, status.UNAUTHENTICATED);
      assert.match((error as ServiceError).details, /internal service token/);
      return true;
    });
  }
  await assert.rejects(cancelDelivery(messageId, internalCallMetadata('not-the-token-0123456789abcdef0123', 'acme')), (error: unknown) => {
    assert.equal((error as ServiceError).code, status.UNAUTHENTICATED);
    return true;
  });
  assert.equal(await storedDelivery(messageId), undefined, 'no CANCELED placeholder');
  assert.equal(await publishedEventsAbout(messageId), 0, 'no CANCELED event for the feed, callbacks and archive');
});

test('the internal service token cancels for the tenant it names, ahead of the message (the tombstone ingress relies on)', async () => {
  const messageId = 'msg_accepted_by_ingress_still_queued';
  const response = await cancelDelivery(messageId, internalCallMetadata(TOKEN, 'acme'));
  assert.equal(response.delivery?.state, DeliveryState.DELIVERY_STATE_CANCELED);
  assert.equal((await storedDelivery(messageId))?.delivery.state, 'CANCELED');
  // Only the message's own MessageAccepted (ingress forwarded it) makes delivery-retry announce CANCELED, so a made-up
  // id never is. Forwarding it here is the barrier: its CANCELED is published once, and nothing came before it.
  await publishEvent(
    events.js,
    regionSubjects('eu').outboundAccepted,
    MessageAccepted.encode({
      tenantId: 'acme',
      messageId,
      to: '+4915112345678',
      phoneNumberId: '200',
      content: { $case: 'text', value: { body: 'never sent', previewUrl: false } },
      acceptedAt: new Date(),
      expiresAt: new Date(Date.now() + 3_600_000),
      replyToWaMessageId: '',
      contentType: ContentType.CONTENT_TYPE_TEXT,
      contentSummary: '',
      templateCategory: TemplateCategory.TEMPLATE_CATEGORY_UNSPECIFIED,
    }).finish(),
    messageId,
  );
  await waitFor(async () => (await publishedEventsAbout(messageId)) === 1, { what: 'the CANCELED event, once forwarded' });
  assert.equal(await publishedEventsAbout('msg_never_sent_by_acme'), 0);
  const got = await getDelivery(messageId, internalCallMetadata(TOKEN, 'acme'));
  assert.equal(got.delivery?.state, DeliveryState.DELIVERY_STATE_CANCELED);
});

test('admin calls validate the id like every service: a 10 KB id is INVALID_ARGUMENT and not echoed', async () => {
  const huge = `msg_${'3'.repeat(10_000)}`;
  for (const call of [cancelDelivery, getDelivery]) {
    await assert.rejects(call(huge, internalCallMetadata(TOKEN, 'acme')), (error: unknown) => {
      assert.equal((error as ServiceError).code, status.INVALID_ARGUMENT);
      assert.deepEqual(
        badRequestViolations(error as ServiceError).map((v) => [v.field, v.reason]),
        [['message_id', 'TOO_LONG']],
      );
      assert.ok(!(error as ServiceError).details.includes('3333'));
      return true;
    });
  }
  await assert.rejects(getDelivery('msg_unknown', internalCallMetadata(TOKEN, 'acme')), (error: unknown) => {
    assert.equal((error as ServiceError).code, status.NOT_FOUND);
    return true;
  });
});
