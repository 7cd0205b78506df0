import { startCustomerDataParticipant } from '@waygate/governance';
import { createCustomerSealer, openRegionKeyring, type CustomerSealer } from '@waygate/keyring';
import { scaledClock, systemClock, type Clock } from '@waygate/domain';
import { channelCredentials, createDeadLetterAdminService, startGrpcServer } from '@waygate/grpc';
import {
  OUTBOUND_CONSUMERS,
  connectJetStream,
  createDeadLetterStore,
  ensureRegionStreams,
  orderKeyHeader,
  regionStreams,
  regionSubjects,
  startConsumer,
} from '@waygate/nats';
import { DeliveryAdminServiceService, SERVICE_NAMES, SERVICE_PROTO_FILES } from '@waygate/proto';
import { connectMongo } from '@waygate/storage';
import { loadTenantsFile, startTenantsFileReloader } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { StartedService } from '@waygate/telemetry-sdk';
import { createCloudApiClient } from '@waygate/whatsapp-cloud-api';
import { createCloudApiMediaUploader, createCloudApiWhatsAppClient } from './adapters/cloud-api-whatsapp-client';
import { createGrpcMediaBlobSource } from './adapters/grpc-media-blob-source';
import { MongoDeliveryStore } from './adapters/mongo-delivery-store';
import { startThroughputUpgrades } from './adapters/nats-throughput-upgrades';
import { createNatsStatusPublisher } from './adapters/nats-status-publisher';
import { createOtelDeliveryMetrics } from './adapters/otel-delivery-metrics';
import { SqliteDeliveryStore } from './adapters/sqlite-delivery-store';
import type { DeliveryRetryConfig } from './config';
import { createDeliveryCustomerData } from './domain/delivery-customer-data';
import { createDeliveryEngine } from './domain/delivery-engine';
import { createKeyringSealedParameterOpener } from './adapters/keyring-sealed-parameter-opener';
import type { DeliveryStore } from './domain/delivery-store';
import { createMediaResolver, type MetaMediaCache } from './domain/media-resolver';
import { createAcceptedMessagesHandler } from './handlers/accepted-messages.consumer';
import { createDeliveryAdminHandler } from './handlers/delivery-admin.handler';
import { createWebhookStatusesHandler } from './handlers/webhook-statuses.consumer';

async function openDeliveryStore(
  config: DeliveryRetryConfig,
  sealer: CustomerSealer,
): Promise<{ store: DeliveryStore & MetaMediaCache; close: () => Promise<void> }> {
  if (config.storage.kind === 'sqlite') {
    const store = new SqliteDeliveryStore(config.storage.file, sealer);
    return { store, close: () => store.close() };
  }
  const mongo = await connectMongo(config.storage.uri, config.storage.database);
  return { store: await MongoDeliveryStore.open(mongo, sealer), close: () => mongo.client.close() };
}

/** MessageAccepted stored at once (different lanes only; see the consumer below). */
const INTAKE_CONCURRENCY = 64;

/** Pair limiter states idle this long carry no information (the whole burst is available again). */
const PAIR_STATE_IDLE_MS = 60 * 60_000;

/**
 * Wires delivery-retry: the delivery store (the durable schedule), the Cloud API client, the scheduler, the
 * consumers that feed it (accepted messages, webhook statuses) and the admin gRPC API.
 */
export async function startDeliveryRetry(config: DeliveryRetryConfig, logger: Logger): Promise<StartedService & { grpcPort: number }> {
  const tenants = loadTenantsFile(config.tenantsFile);
  // Live: a changed tenants file (or SIGHUP) swaps the directory every lookup below goes through.
  const tenantsReloader = startTenantsFileReloader({ file: config.tenantsFile, directory: tenants, logger });
  const nats = await connectJetStream(config.natsUrl, `delivery-retry-${config.region}`);
  await ensureRegionStreams(nats.jsm, config.region, (warning) => logger.warn(warning));
  const upgrades = await startThroughputUpgrades({ js: nats.js, region: config.region, logger });
  const clock: Clock = config.timeScale === 1 ? systemClock : scaledClock(config.timeScale, config.timeEpochMs);
  if (config.timeScale !== 1) logger.warn({ time_scale: config.timeScale }, 'delivery-retry runs on a scaled clock (tests and demos only)');

  const cloudApi = createCloudApiClient({
    baseUrl: config.whatsappApiBaseUrl,
    version: config.whatsappApiVersion,
    timeoutMs: config.whatsappTimeoutMs,
  });
  // Connects lazily: only media sent by media-store id needs media-store.
  const mediaBlobs = createGrpcMediaBlobSource({
    address: config.mediaStoreAddress,
    serviceToken: config.internalServiceToken(),
    credentials: channelCredentials(config.tls.client),
  });
  // The region keyring (shared with ingress): authentication codes arrive sealed and are opened at send time.
  const { keyring, localFile, created } = await openRegionKeyring({
    js: nats.js,
    region: config.region,
    kek: config.kek,
    clock: systemClock,
  });
  if (localFile)
    logger.warn({ key_file: localFile, created }, 'WAYGATE_KEYRING_KEK is not set: using the local development key-encryption key file');
  // Content is sealed at rest under each customer's data key (issue 14).
  const storage = await openDeliveryStore(config, createCustomerSealer(keyring));
  const engine = createDeliveryEngine({
    store: storage.store,
    sealed: createKeyringSealedParameterOpener(keyring),
    client: createCloudApiWhatsAppClient(cloudApi),
    media: createMediaResolver({
      cache: storage.store,
      source: mediaBlobs,
      uploader: createCloudApiMediaUploader(cloudApi),
      clock,
      reuseMs: config.metaMediaReuseMs,
    }),
    publisher: createNatsStatusPublisher(nats.js, config.region, keyring),
    phoneNumber: (tenantId, phoneNumberId) => {
      const found = tenants.findPhoneNumber(phoneNumberId);
      if (found?.tenant.id !== tenantId || found.tenant.homeRegion !== config.region) return undefined;
      // Meta's upgrade (THROUGHPUT_UPGRADE) raises the configured rate; never above Meta's 1,000 per second.
      const upgraded = upgrades.throughputOf(tenantId, phoneNumberId) ?? 0;
      return {
        accessToken: found.phoneNumber.accessToken,
        throughputMps: Math.min(1000, Math.max(found.phoneNumber.throughputMps, upgraded)),
      };
    },
    clock,
    settings: {
      owner: config.replicaId,
      concurrency: config.concurrency,
      pollIntervalMs: config.pollIntervalMs,
      // Long enough for the slot wait, the Cloud API call and recording its outcome.
      leaseMs: config.governor.reservationHorizonMs + config.whatsappTimeoutMs + 20_000,
      retry: { baseMs: config.retryBaseDelayMs, maxMs: config.retryMaxDelayMs },
      governor: config.governor,
      reconcileGraceMs: config.reconcileGraceMs,
    },
    events: {
      attemptCrashed: (delivery, error) =>
        logger.error(
          { err: error, tenant_id: delivery.tenantId, message_id: delivery.messageId },
          'delivery attempt crashed; retried after its lease',
        ),
      passFailed: (error) => logger.error({ err: error }, 'scheduler pass failed; retrying'),
    },
    metrics: createOtelDeliveryMetrics({ backlog: () => storage.store.backlog(), now: () => clock.now() }),
    waitUntil: async (atMs) => {
      const realMs = (atMs - clock.now().getTime()) / config.timeScale;
      if (realMs > 0) await new Promise((resolve) => setTimeout(resolve, realMs));
    },
  });

  const subjects = regionSubjects(config.region);
  const streams = regionStreams(config.region);
  const accepted = await startConsumer(nats, {
    region: config.region,
    stream: streams.outbound.name,
    durable: OUTBOUND_CONSUMERS.delivery,
    filterSubject: subjects.outboundAccepted,
    // Messages of one lane (number -> customer) enter it one after another in acceptance (stream) order, so no
    // message is claimed before an earlier one of its lane is stored; different lanes are stored in parallel, and
    // their inserts share one group commit (one fsync). The lane comes from ingress's order-key header; messages
    // without one (published by an older ingress) share one lane (startConsumer), as at concurrency 1.
    concurrency: INTAKE_CONCURRENCY,
    orderKey: orderKeyHeader,
    // Storing takes milliseconds; one that hangs must not hold up every message behind it for minutes.
    handlerTimeoutMs: 30_000,
    // MessageAccepted arrives sealed under the recipient's data key; an erased customer's is skipped unread.
    keyring,
    logger,
    handle: createAcceptedMessagesHandler(engine, logger),
  });
  const webhookStatuses = await startConsumer(nats, {
    region: config.region,
    stream: streams.events.name,
    durable: 'delivery-retry-webhook-statuses',
    filterSubject: subjects.receiptEvents,
    concurrency: 8,
    keyring,
    logger,
    handle: createWebhookStatusesHandler(engine, logger),
  });
  engine.start();
  // Erasure and export (issue 14): pending deliveries to an erased customer are canceled, their rows pseudonymised.
  const governance = await startCustomerDataParticipant({
    nats,
    region: config.region,
    keyring,
    participant: createDeliveryCustomerData({
      store: storage.store,
      cancel: (tenantId, messageId) => engine.cancel(tenantId, messageId),
    }),
    logger,
  });
  const pruneTimer = setInterval(() => {
    storage.store
      .pruneLimiters('pair:', new Date(clock.now().getTime() - PAIR_STATE_IDLE_MS))
      .catch((error: unknown) => logger.warn({ err: error }, 'could not prune idle pair limiters'));
  }, 60_000);
  pruneTimer.unref();

  const grpc = await startGrpcServer({
    tls: config.tls.server,
    host: config.grpcHost,
    port: config.grpcPort,
    tenants,
    region: config.region,
    internalServiceToken: config.internalServiceToken(),
    services: [
      {
        name: SERVICE_NAMES.deliveryAdmin,
        protoFile: SERVICE_PROTO_FILES.deliveryAdmin,
        definition: DeliveryAdminServiceService,
        // Internal: it can cancel (and tombstone) any message id of a tenant, so only services of the region call it.
        access: 'internal',
        implementation: createDeliveryAdminHandler(engine, tenants, logger),
      },
      createDeadLetterAdminService({
        store: createDeadLetterStore(nats, config.region),
        consumers: [accepted.durable, webhookStatuses.durable],
        internalServiceToken: config.internalServiceToken(),
        logger,
      }),
    ],
  });
  logger.info(
    { port: grpc.port, region: config.region, storage: config.storage.kind, api: config.whatsappApiBaseUrl, replica: config.replicaId },
    'delivery-retry listening',
  );

  return {
    grpcPort: grpc.port,
    servingStatus: grpc.servingStatus,
    async stop() {
      tenantsReloader.close();
      clearInterval(pruneTimer);
      await governance.stop();
      await accepted.stop();
      await webhookStatuses.stop();
      await engine.stop();
      await upgrades.stop();
      mediaBlobs.close();
      await grpc.shutdown();
      await nats.nc.drain();
      await storage.close();
    },
  };
}
