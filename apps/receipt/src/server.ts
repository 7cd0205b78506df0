import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { startGrpcServer } from '@waygate/grpc';
import { connectJetStream, ensureRegionStreams, publishEvent, regionStreams, regionSubjects, startConsumer } from '@waygate/nats';
import { WebhookReceived } from '@waygate/proto';
import { connectMongo } from '@waygate/storage';
import { loadTenantsFile } from '@waygate/tenancy';
import type { Logger, StartedService } from '@waygate/telemetry';
import { MongoReceiptStore } from './adapters/mongo-receipt-store';
import { createNatsResolvedStatusPublisher } from './adapters/nats-resolved-status-publisher';
import { SqliteReceiptStore } from './adapters/sqlite-receipt-store';
import type { ReceiptConfig } from './config';
import type { ReceiptStore } from './domain/receipt-store';
import { createReceiptService } from './domain/receipt-service';
import { createDeliveryEventsHandler } from './handlers/delivery-events.consumer';
import { createWebhookApp } from './handlers/webhook.routes';
import { createWebhooksHandler } from './handlers/webhooks.consumer';

async function openReceiptStore(config: ReceiptConfig): Promise<{ store: ReceiptStore; close: () => Promise<void> }> {
  if (config.storage.kind === 'sqlite') {
    const store = new SqliteReceiptStore(config.storage.file);
    return { store, close: () => store.close() };
  }
  const mongo = await connectMongo(config.storage.uri, config.storage.database);
  return { store: await MongoReceiptStore.open(mongo), close: () => mongo.client.close() };
}

/** Wires receipt: the webhook HTTP endpoint, its JetStream queue and processor, the wamid index, gRPC health. */
export async function startReceipt(
  config: ReceiptConfig,
  logger: Logger,
): Promise<StartedService & { grpcPort: number; httpPort: number }> {
  const tenants = loadTenantsFile(config.tenantsFile);
  const storage = await openReceiptStore(config);
  const nats = await connectJetStream(config.natsUrl, `receipt-${config.region}`);
  await ensureRegionStreams(nats.jsm, config.region, (warning) => logger.warn(warning));
  const subjects = regionSubjects(config.region);
  const streams = regionStreams(config.region);

  const service = createReceiptService({
    store: storage.store,
    publisher: createNatsResolvedStatusPublisher(nats.js, config.region),
    tenants,
    region: config.region,
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
    logger,
    handle: createWebhooksHandler(service, logger),
  });

  const app = createWebhookApp({
    tenants,
    region: config.region,
    logger,
    // Meta retries identical bodies; the body hash as message id stores each once within the dedupe window.
    queue: (body, bodySha256) =>
      publishEvent(
        nats.js,
        subjects.whatsappWebhooks,
        WebhookReceived.encode({ body: Buffer.from(body), receivedAt: new Date() }).finish(),
        `webhook:${bodySha256}`,
      ),
  });
  const httpServer = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, app);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.httpPort, config.httpHost, () => resolve());
  });
  const httpPort = (httpServer.address() as AddressInfo).port;

  const grpc = await startGrpcServer({ host: config.grpcHost, port: config.grpcPort, tenants, region: config.region, services: [] });
  logger.info({ grpc_port: grpc.port, http_port: httpPort, region: config.region, storage: config.storage.kind }, 'receipt listening');

  return {
    grpcPort: grpc.port,
    httpPort,
    async stop() {
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeIdleConnections();
      });
      await grpc.shutdown();
      await webhooks.stop();
      await deliveryEvents.stop();
      await nats.nc.drain();
      await storage.close();
    },
  };
}
