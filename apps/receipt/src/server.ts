import type { AddressInfo } from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { systemClock, type Clock } from '@waygate/domain';
import { startGrpcServer } from '@waygate/grpc';
import { connectJetStream, ensureRegionStreams, publishEvent, regionStreams, regionSubjects, startConsumer } from '@waygate/nats';
import { InboundServiceService, SERVICE_NAMES, SERVICE_PROTO_FILES, WebhookReceived } from '@waygate/proto';
import { connectMongo } from '@waygate/storage';
import { loadTenantsFile } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { StartedService } from '@waygate/telemetry-sdk';
import { createCloudApiClient } from '@waygate/whatsapp-cloud-api';
import { createCloudApiWhatsAppCloudApi } from './adapters/cloud-api-whatsapp-cloud-api';
import { createMediaStoreClient } from './adapters/media-store-client';
import { MongoInboundStore } from './adapters/mongo-inbound-store';
import { MongoReceiptStore } from './adapters/mongo-receipt-store';
import { createNatsInboundPublisher } from './adapters/nats-inbound-publisher';
import { createNatsResolvedStatusPublisher } from './adapters/nats-resolved-status-publisher';
import { SqliteInboundStore } from './adapters/sqlite-inbound-store';
import { SqliteReceiptStore } from './adapters/sqlite-receipt-store';
import type { ReceiptConfig } from './config';
import { createInboundApi } from './domain/inbound-api';
import type { InboundStore } from './domain/inbound-store';
import type { ReceiptStore } from './domain/receipt-store';
import { createReceiptService } from './domain/receipt-service';
import { createDeliveryEventsHandler } from './handlers/delivery-events.consumer';
import { createInboundHandler } from './handlers/inbound.handler';
import { createWebhookApp } from './handlers/webhook.routes';
import { createWebhooksHandler } from './handlers/webhooks.consumer';
import { feedSqliteFile, startTenantFeed, type FeedStorage } from './feed';

interface ReceiptStorage {
  store: ReceiptStore;
  inboundStore: InboundStore;
  feed: FeedStorage;
  close: () => Promise<void>;
}

async function openStorage(config: ReceiptConfig): Promise<ReceiptStorage> {
  if (config.storage.kind === 'sqlite') {
    const store = new SqliteReceiptStore(config.storage.file);
    // Its own file next to receipt.sqlite: each file's migrations belong to one store.
    const inboundStore = new SqliteInboundStore(path.join(path.dirname(config.storage.file), 'receipt-inbound.sqlite'));
    return {
      store,
      inboundStore,
      feed: { kind: 'sqlite', file: feedSqliteFile(config.storage.file) },
      close: async () => {
        await store.close();
        await inboundStore.close();
      },
    };
  }
  const mongo = await connectMongo(config.storage.uri, config.storage.database);
  return {
    store: await MongoReceiptStore.open(mongo),
    inboundStore: await MongoInboundStore.open(mongo),
    feed: { kind: 'mongodb', mongo },
    close: () => mongo.client.close(),
  };
}

/**
 * Wires receipt: the webhook HTTP endpoint, its JetStream queue and processor (statuses, inbound messages with their
 * media and service windows), the wamid index, the tenant feed (event logs, WatchEvents, signed callbacks), and gRPC
 * (ReceiptService, InboundService, health, reflection).
 */
export async function startReceipt(
  config: ReceiptConfig,
  logger: Logger,
  options: { clock?: Clock } = {},
): Promise<StartedService & { grpcPort: number; httpPort: number }> {
  const clock = options.clock ?? systemClock;
  const tenants = loadTenantsFile(config.tenantsFile);
  const storage = await openStorage(config);
  const nats = await connectJetStream(config.natsUrl, `receipt-${config.region}`);
  await ensureRegionStreams(nats.jsm, config.region, (warning) => logger.warn(warning));
  const subjects = regionSubjects(config.region);
  const streams = regionStreams(config.region);
  const cloudApi = createCloudApiWhatsAppCloudApi(
    createCloudApiClient({
      baseUrl: config.whatsappApiBaseUrl,
      version: config.whatsappApiVersion,
      timeoutMs: config.whatsappTimeoutMs,
    }),
  );
  const mediaStore = createMediaStoreClient({
    address: config.mediaStoreAddress,
    serviceToken: config.internalServiceToken(),
    timeoutMs: config.mediaStoreTimeoutMs,
  });

  const service = createReceiptService({
    store: storage.store,
    inboundStore: storage.inboundStore,
    publisher: createNatsResolvedStatusPublisher(nats.js, config.region),
    inboundPublisher: createNatsInboundPublisher(nats.js, config.region),
    cloudApi,
    vault: mediaStore,
    tenants,
    region: config.region,
    clock,
  });

  const deliveryEvents = await startConsumer(nats, {
    stream: streams.events.name,
    durable: 'receipt-delivery-events',
    filterSubject: subjects.deliveryEvents,
    logger,
    handle: createDeliveryEventsHandler(service, logger),
  });
  const webhooks = await startConsumer(nats, {
    stream: streams.webhooks.name,
    durable: 'receipt-webhooks',
    filterSubject: subjects.whatsappWebhooks,
    // A body with media may take several calls; the consumer reports progress meanwhile, so this only decides how soon
    // the bodies a crashed receipt was working on are picked up again.
    ackWaitMs: config.webhookAckWaitMs,
    logger,
    handle: createWebhooksHandler(service, logger, {
      baseDelayMs: config.webhookRetryBaseDelayMs,
      maxDelayMs: config.webhookRetryMaxDelayMs,
    }),
  });

  const feed = await startTenantFeed({ config: config.feed, tenants, region: config.region, nats, storage: storage.feed, logger, clock });

  const app = createWebhookApp({
    tenants,
    region: config.region,
    logger,
    // Meta retries identical bodies; the body hash as message id stores each once within the dedupe window.
    queue: (body, bodySha256) =>
      publishEvent(
        nats.js,
        subjects.whatsappWebhooks,
        WebhookReceived.encode({ body: Buffer.from(body), receivedAt: clock.now() }).finish(),
        `webhook:${bodySha256}`,
      ),
  });
  const httpServer = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, app);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.httpPort, config.httpHost, () => resolve());
  });
  const httpPort = (httpServer.address() as AddressInfo).port;

  const grpc = await startGrpcServer({
    host: config.grpcHost,
    port: config.grpcPort,
    tenants,
    region: config.region,
    services: [
      {
        name: SERVICE_NAMES.inbound,
        protoFile: SERVICE_PROTO_FILES.inbound,
        definition: InboundServiceService,
        implementation: createInboundHandler(createInboundApi({ inboundStore: storage.inboundStore, cloudApi, clock }), tenants, logger),
      },
      ...feed.grpcServices,
    ],
  });
  logger.info({ grpc_port: grpc.port, http_port: httpPort, region: config.region, storage: config.storage.kind }, 'receipt listening');

  return {
    grpcPort: grpc.port,
    httpPort,
    async stop() {
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeIdleConnections();
      });
      // The feed ends its WatchEvents streams first, or the gRPC shutdown would wait for them.
      await feed.stop();
      await grpc.shutdown();
      await webhooks.stop();
      await deliveryEvents.stop();
      await nats.nc.drain();
      mediaStore.close();
      await storage.close();
    },
  };
}
