import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { AckPolicy, DeliverPolicy } from 'nats';
import {
  createKeyring,
  isDataKeyUnavailableError,
  JetStreamWrappedKeyStore,
  openPayload,
  sealPayload,
  toKeyEncryptionKey,
  type Keyring,
} from '@waygate/keyring';
import {
  connectJetStream,
  ensureRegionStreams,
  publishEvent,
  regionStreams,
  regionSubjects,
  type JetStreamConnection,
} from '@waygate/nats';
import { createLogger } from '@waygate/telemetry-sdk';
import { startNatsServer, type NatsServerHandle } from '@waygate/testing';
import { startWebhookBodyShredder, webhookKeyScope, type WebhookBodyShredder } from './webhook-body-shredder';

const REGION = 'eu';
const STREAM = regionStreams(REGION).webhooks.name;
const DURABLE = 'test-webhooks';
const EPOCH_MS = 60_000;
const logger = createLogger({ service: 'test', level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
let server: NatsServerHandle;
let nats: JetStreamConnection;
let keyring: Keyring;
let store: JetStreamWrappedKeyStore;
let now = 1_800_000_000_000 - (1_800_000_000_000 % EPOCH_MS) + 1_000;
const clock = { now: () => new Date(now) };
let shredder: WebhookBodyShredder;

before(async () => {
  server = await startNatsServer();
  nats = await connectJetStream(server.url, 'shredder-test');
  await ensureRegionStreams(nats.jsm, REGION);
  await nats.jsm.consumers.add(STREAM, {
    durable_name: DURABLE,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: regionSubjects(REGION).whatsappWebhooks,
  });
  store = await JetStreamWrappedKeyStore.open(nats.js, REGION);
  keyring = createKeyring({ store, keks: { active: toKeyEncryptionKey(randomBytes(32)), retired: [] }, clock });
  shredder = startWebhookBodyShredder({
    nats,
    keyring,
    stream: STREAM,
    durable: DURABLE,
    epochMs: EPOCH_MS,
    clock,
    logger,
    intervalMs: 3_600_000,
  });
});
after(async () => {
  await shredder.stop();
  await nats.nc.close();
  await server.stop();
});

/** Acknowledges what the test consumer has been given so far. */
async function acknowledge(count: number): Promise<void> {
  const consumer = await nats.js.consumers.get(STREAM, DURABLE);
  for (let i = 0; i < count; i++) {
    const message = await consumer.next({ expires: 2_000 });
    assert.ok(message, 'a body to acknowledge');
    await message.ackAck();
  }
}

test('an epoch key is destroyed only once its epoch ended and the consumer acknowledged everything queued in it', async () => {
  const queuedAt = clock.now();
  const body = await sealPayload(keyring, webhookKeyScope(queuedAt, EPOCH_MS), Buffer.from('{"marker":"shredder-1"}'));
  await publishEvent(nats.js, regionSubjects(REGION).whatsappWebhooks, body, 'shredder-1');
  await publishEvent(
    nats.js,
    regionSubjects(REGION).whatsappWebhooks,
    await sealPayload(keyring, webhookKeyScope(queuedAt, EPOCH_MS), Buffer.from('2')),
    'shredder-2',
  );
  const waiting = shredder.waitUntilWebhookBodiesShredded(queuedAt);
  let done = false;
  void waiting.then(() => (done = true));

  await shredder.runOnce();
  assert.equal((await store.names('tenant._region.webhooks.*')).length, 1, 'the epoch has not ended: kept');
  now += EPOCH_MS + 31_000; // the epoch ended, and its grace
  await shredder.runOnce();
  assert.equal((await store.names('tenant._region.webhooks.*')).length, 1, 'ended, but nothing acknowledged yet: kept');
  await acknowledge(1);
  await shredder.runOnce();
  assert.equal((await store.names('tenant._region.webhooks.*')).length, 1, 'one body still unacknowledged: kept');
  assert.equal(done, false);
  await acknowledge(1);
  await shredder.runOnce();
  assert.deepEqual(await store.names('tenant._region.webhooks.*'), [], 'all processed: destroyed');
  await waiting;
  await assert.rejects(openPayload(keyring, body), (error) => isDataKeyUnavailableError(error));
});
