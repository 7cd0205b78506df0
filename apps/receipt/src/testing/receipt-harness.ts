import { createHmac, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { credentials, Metadata } from '@grpc/grpc-js';
import { systemClock } from '@waygate/domain';
import { createKeyring, isSealedPayload, JetStreamWrappedKeyStore, openPayload, toKeyEncryptionKey, type Keyring } from '@waygate/keyring';
import { connectJetStream, publishEvent, regionStreams, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import {
  DeadLetterAdminServiceClient,
  InboundMessageReceived,
  InboundServiceClient,
  MessageStatus,
  MessageStatusChanged,
  StatusSource,
  type GetServiceWindowResponse,
  type ListConsumerDeadLettersRequest,
  type ListConsumerDeadLettersResponse,
} from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { createTempDir, freePort, startNatsServer, tenantsYaml, type NatsServerHandle } from '@waygate/testing';
import { startSimulator, type WhatsAppSimulator } from '@waygate/whatsapp-simulator';
import { loadReceiptConfig } from '../config';
import { startReceipt } from '../server';
import { followEvents, type EventLog } from './event-log';
import { startMediaStoreProcess, type MediaStoreProcess } from './media-store-process';

/** The tenants every integration test uses: three in eu (two Meta apps), one in us. */
export const ACME = {
  id: 'acme',
  apiKey: 'key-acme',
  wabaId: '102290129340398',
  appSecret: 'secret-acme',
  number: '106540352242922',
  token: 'EAAacme',
};
export const GLOBEX = {
  id: 'globex',
  apiKey: 'key-globex',
  wabaId: '102290129340399',
  appSecret: 'secret-globex',
  number: '106540352242923',
  token: 'EAAglobex',
};
/** Owns the WABA and number of the Meta-documented webhook fixtures. */
export const LENA_SHOP = {
  id: 'lena-shop',
  apiKey: 'key-lena',
  wabaId: '104873201958617',
  appSecret: 'secret-lena',
  number: '109382746510293',
  token: 'EAAlena',
};
export const INITECH_US = {
  id: 'initech',
  apiKey: 'key-initech',
  wabaId: '102290129340400',
  appSecret: 'secret-initech',
  number: '106540352242924',
  token: 'EAAinitech',
};

/** Simulated time at start: a day after the fixtures' timestamps, so their windows are closed. */
export const SIMULATION_START_MS = Date.UTC(2026, 10, 25, 12, 0, 0);

/** X-Hub-Signature-256 of a body. */
export function signBody(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface ReceiptHarness {
  readonly sim: WhatsAppSimulator;
  readonly connection: JetStreamConnection;
  /** nats-server's store directory (for byte searches of what the streams hold). */
  readonly natsStoreDir: string;
  /** The region keyring receipt uses (same bucket and KEK): opens what receipt sealed, destroys keys. */
  readonly keyring: Keyring;
  /** A new keyring on the same bucket and KEK, with an empty key cache (sees destroyed keys at once). */
  freshKeyring(): Promise<Keyring>;
  /** Opens `data` if it is sealed (as a consumer would), else returns it as it is. */
  unseal(data: Uint8Array): Promise<Uint8Array>;
  /** receipt's waitUntilWebhookBodiesShredded. */
  waitUntilWebhookBodiesShredded(before: Date): Promise<void>;
  /** Stops receipt (until `startReceiptAgain`), leaving everything else running. */
  stopReceipt(): Promise<void>;
  startReceiptAgain(): Promise<void>;
  readonly receiptEvents: EventLog<MessageStatusChanged>;
  readonly inboundEvents: EventLog<InboundMessageReceived>;
  readonly webhookUrl: () => string;
  readonly mediaStore: MediaStoreProcess;
  readonly inbound: () => InboundServiceClient;
  /** Every log line receipt wrote. */
  readonly logs: string[];
  /** Posts a body to receipt's webhook endpoint, signed with `secret` (no header when undefined). */
  postWebhook(body: string | Buffer, secret: string | undefined): Promise<{ status: number; json: Record<string, unknown> }>;
  /** Publishes the SENT event delivery-retry would, teaching receipt a wamid. */
  publishSent(event: { tenantId: string; messageId: string; waMessageId: string; recipient: string }): Promise<void>;
  /** Messages in the webhooks stream (queued bodies). */
  queuedWebhooks(): Promise<number>;
  /**
   * receipt's DeadLetterAdminService.ListConsumerDeadLetters, with the region's internal service token (or `bearer`,
   * to try another credential).
   */
  deadLetters(request: Partial<ListConsumerDeadLettersRequest>, bearer?: string): Promise<ListConsumerDeadLettersResponse>;
  /** Stops receipt and starts it again on the same data and NATS (a crash and restart, as far as state goes). */
  restartReceipt(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts what receipt works with, all real: nats-server, the WhatsApp simulator (frozen clock), media-store (its own
 * process, SQLite in a temp dir) and receipt itself, whose clock is the simulator's.
 */
export async function startReceiptHarness(): Promise<ReceiptHarness> {
  const nats: NatsServerHandle = await startNatsServer();
  const dir = createTempDir('waygate-receipt-');
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(
    tenantsFile,
    tenantsYaml(
      [ACME, GLOBEX, LENA_SHOP, INITECH_US].map((tenant) => ({
        id: tenant.id,
        homeRegion: tenant === INITECH_US ? ('us' as const) : ('eu' as const),
        apiKey: tenant.apiKey,
        wabaId: tenant.wabaId,
        appSecret: tenant.appSecret,
        verifyToken: `verify-${tenant.id}`,
        phoneNumberIds: [tenant.number],
        accessToken: tenant.token,
      })),
    ),
  );
  const sim = await startSimulator({
    appSecret: ACME.appSecret,
    wabas: [GLOBEX, LENA_SHOP, INITECH_US].map((tenant) => ({ id: tenant.wabaId, appSecret: tenant.appSecret })),
    phoneNumbers: [ACME, GLOBEX, LENA_SHOP, INITECH_US].map((tenant, index) => ({
      id: tenant.number,
      displayPhoneNumber: `+1 555-010-20${30 + index}`,
      accessToken: tenant.token,
      wabaId: tenant.wabaId,
    })),
    timeScale: 0,
    startTimeMs: SIMULATION_START_MS,
    seed: 7,
    enforceCustomerServiceWindow: false,
    pairRateLimit: false,
  });
  const token = randomBytes(32).toString('hex');
  const kek = randomBytes(32);
  const mediaStore = await startMediaStoreProcess({
    port: await freePort(),
    tenantsFile,
    dataDir: path.join(dir.path, 'media-store'),
    internalServiceToken: token,
    natsUrl: nats.url,
    kek,
  });
  const logs: string[] = [];
  const logger = createLogger({
    service: 'receipt-test',
    level: 'debug',
    destination: new Writable({ write: (chunk, _e, done) => (logs.push(String(chunk)), done()) }),
  });
  const config = loadReceiptConfig({
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: path.join(dir.path, 'data'),
    WAYGATE_GRPC_PORT: '0',
    WAYGATE_HTTP_PORT: '0',
    WAYGATE_WHATSAPP_API_BASE_URL: sim.url,
    WAYGATE_MEDIA_STORE_ADDRESS: mediaStore.address,
    WAYGATE_MEDIA_STORE_TIMEOUT_MS: '2000',
    WAYGATE_INTERNAL_SERVICE_TOKEN: token,
    // The region's one KEK, media-store's too (the keyring's bucket is shared with it).
    WAYGATE_KEYRING_KEK: kek.toString('base64'),
    WAYGATE_WEBHOOK_RETRY_BASE_DELAY_MS: '50',
    WAYGATE_WEBHOOK_RETRY_MAX_DELAY_MS: '400',
    // Fast retries, but enough of them (about 25 s) to outlast a media-store restart on a busy machine: on the last,
    // media that still fails is given up on.
    WAYGATE_WEBHOOK_MAX_DELIVERIES: '64',
  });
  const clock = { now: () => new Date(sim.now()) };
  let receipt = await startReceipt(config, logger, { clock });
  let client = new InboundServiceClient(`127.0.0.1:${receipt.grpcPort}`, credentials.createInsecure());
  sim.setWebhookUrl(`http://127.0.0.1:${receipt.httpPort}/webhooks/whatsapp`);

  const connection = await connectJetStream(nats.url, 'receipt-test');
  const keyring = createKeyring({
    store: await JetStreamWrappedKeyStore.open(connection.js, 'eu'),
    keks: { active: toKeyEncryptionKey(kek), retired: [] },
    clock: systemClock,
  });
  const unseal = async (data: Uint8Array) => (isSealedPayload(data) ? openPayload(keyring, data) : data);
  const streams = regionStreams('eu');
  const subjects = regionSubjects('eu');
  const receiptEvents = await followEvents(connection.js, streams.events.name, subjects.receiptEvents, async (data) =>
    MessageStatusChanged.decode(await unseal(data)),
  );
  const inboundEvents = await followEvents(connection.js, streams.events.name, subjects.inboundEvents, async (data) =>
    InboundMessageReceived.decode(await unseal(data)),
  );

  return {
    sim,
    connection,
    natsStoreDir: nats.storeDir,
    keyring,
    freshKeyring: async () =>
      createKeyring({
        store: await JetStreamWrappedKeyStore.open(connection.js, 'eu'),
        keks: { active: toKeyEncryptionKey(kek), retired: [] },
        clock: systemClock,
      }),
    unseal,
    receiptEvents,
    inboundEvents,
    mediaStore,
    logs,
    webhookUrl: () => `http://127.0.0.1:${receipt.httpPort}/webhooks/whatsapp`,
    inbound: () => client,
    deadLetters(request, bearer = token) {
      const admin = new DeadLetterAdminServiceClient(`127.0.0.1:${receipt.grpcPort}`, credentials.createInsecure());
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${bearer}`);
      return new Promise<ListConsumerDeadLettersResponse>((resolve, reject) =>
        admin.listConsumerDeadLetters({ consumer: '', pageSize: 0, pageToken: '', ...request }, metadata, (error, response) =>
          error ? reject(error) : resolve(response),
        ),
      ).finally(() => admin.close());
    },
    async postWebhook(body, secret) {
      const response = await fetch(`http://127.0.0.1:${receipt.httpPort}/webhooks/whatsapp`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...(secret === undefined ? {} : { 'x-hub-signature-256': signBody(body, secret) }) },
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    },
    async publishSent(event) {
      const data = MessageStatusChanged.encode({
        eventId: `delivery:${event.messageId}:sent`,
        tenantId: event.tenantId,
        messageId: event.messageId,
        status: MessageStatus.MESSAGE_STATUS_SENT,
        waMessageId: event.waMessageId,
        occurredAt: clock.now(),
        source: StatusSource.STATUS_SOURCE_DELIVERY,
        errorCode: 0,
        errorTitle: '',
        attempt: 1,
        nextAttemptAt: undefined,
        recipient: event.recipient,
        recipientWaId: '',
        pricing: undefined,
      }).finish();
      await publishEvent(connection.js, subjects.deliveryEvents, data, `delivery:${event.messageId}:sent`);
    },
    async queuedWebhooks() {
      return (await connection.jsm.streams.info(streams.webhooks.name)).state.messages;
    },
    waitUntilWebhookBodiesShredded: (before) => receipt.waitUntilWebhookBodiesShredded(before),
    async stopReceipt() {
      client.close();
      await receipt.stop();
    },
    async startReceiptAgain() {
      receipt = await startReceipt(config, logger, { clock });
      client = new InboundServiceClient(`127.0.0.1:${receipt.grpcPort}`, credentials.createInsecure());
      sim.setWebhookUrl(`http://127.0.0.1:${receipt.httpPort}/webhooks/whatsapp`);
    },
    async restartReceipt() {
      client.close();
      await receipt.stop();
      receipt = await startReceipt(config, logger, { clock });
      client = new InboundServiceClient(`127.0.0.1:${receipt.grpcPort}`, credentials.createInsecure());
      sim.setWebhookUrl(`http://127.0.0.1:${receipt.httpPort}/webhooks/whatsapp`);
    },
    async stop() {
      await receiptEvents.stop();
      await inboundEvents.stop();
      await connection.nc.close();
      client.close();
      await receipt.stop();
      await sim.stop();
      await mediaStore.stop();
      await nats.stop();
      dir.remove();
    },
  };
}

/** Metadata of a call with a tenant's API key. */
export function withApiKey(apiKey: string | undefined): Metadata {
  const metadata = new Metadata();
  if (apiKey !== undefined) metadata.set('authorization', `Bearer ${apiKey}`);
  return metadata;
}

/** InboundService.GetServiceWindow as a promise. */
export function getServiceWindow(
  client: InboundServiceClient,
  apiKey: string | undefined,
  request: { phoneNumberId: string; customer: string },
): Promise<GetServiceWindowResponse> {
  return new Promise((resolve, reject) =>
    client.getServiceWindow(request, withApiKey(apiKey), (error, response) => (error ? reject(error) : resolve(response))),
  );
}

/** InboundService.MarkMessageRead as a promise. */
export function markMessageRead(
  client: InboundServiceClient,
  apiKey: string | undefined,
  request: { waMessageId: string; showTypingIndicator: boolean },
): Promise<void> {
  return new Promise((resolve, reject) =>
    client.markMessageRead(request, withApiKey(apiKey), (error) => (error ? reject(error) : resolve())),
  );
}
