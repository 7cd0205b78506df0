import { systemClock } from '@waygate/domain';
import { startGrpcServer } from '@waygate/grpc';
import { connectJetStream, ensureRegionStreams, regionStreams, regionSubjects, startConsumer } from '@waygate/nats';
import { DeliveryAdminServiceService, SERVICE_NAMES, SERVICE_PROTO_FILES } from '@waygate/proto';
import { connectMongo } from '@waygate/storage';
import { loadTenantsFile } from '@waygate/tenancy';
import type { Logger, StartedService } from '@waygate/telemetry';
import { createCloudApiClient } from './adapters/cloud-api-client';
import { MongoDeliveryStore } from './adapters/mongo-delivery-store';
import { createNatsStatusPublisher } from './adapters/nats-status-publisher';
import { SqliteDeliveryStore } from './adapters/sqlite-delivery-store';
import type { DeliveryRetryConfig } from './config';
import type { DeliveryStore } from './domain/delivery-store';
import { createDeliveryService } from './domain/delivery-service';
import { createAcceptedMessagesHandler } from './handlers/accepted-messages.consumer';
import { createDeliveryAdminHandler } from './handlers/delivery-admin.handler';

async function openDeliveryStore(config: DeliveryRetryConfig): Promise<{ store: DeliveryStore; close: () => Promise<void> }> {
  if (config.storage.kind === 'sqlite') {
    const store = new SqliteDeliveryStore(config.storage.file);
    return { store, close: () => store.close() };
  }
  const mongo = await connectMongo(config.storage.uri, config.storage.database);
  return { store: new MongoDeliveryStore(mongo), close: () => mongo.client.close() };
}

/** Wires delivery-retry: delivery store, Cloud API client, the accepted-messages consumer, the admin gRPC API. */
export async function startDeliveryRetry(config: DeliveryRetryConfig, logger: Logger): Promise<StartedService & { grpcPort: number }> {
  const tenants = loadTenantsFile(config.tenantsFile);
  const storage = await openDeliveryStore(config);
  const nats = await connectJetStream(config.natsUrl, `delivery-retry-${config.region}`);
  await ensureRegionStreams(nats.jsm, config.region);

  const service = createDeliveryService({
    store: storage.store,
    client: createCloudApiClient({
      baseUrl: config.whatsappApiBaseUrl,
      version: config.whatsappApiVersion,
      timeoutMs: config.whatsappTimeoutMs,
    }),
    publisher: createNatsStatusPublisher(nats.js, config.region),
    accessToken: (tenantId, phoneNumberId) => {
      const found = tenants.findPhoneNumber(phoneNumberId);
      return found?.tenant.id === tenantId && found.tenant.homeRegion === config.region ? found.phoneNumber.accessToken : undefined;
    },
    clock: systemClock,
    retry: { baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs },
  });

  const consumer = await startConsumer(nats, {
    stream: regionStreams(config.region).outbound.name,
    durable: 'delivery-retry',
    filterSubject: regionSubjects(config.region).outboundAccepted,
    concurrency: config.concurrency,
    // Longer than the Cloud API timeout, so a slow call is not redelivered while it is still in flight.
    ackWaitMs: config.whatsappTimeoutMs + 20_000,
    logger,
    handle: createAcceptedMessagesHandler(service, logger),
  });

  const grpc = await startGrpcServer({
    host: config.grpcHost,
    port: config.grpcPort,
    tenants,
    region: config.region,
    services: [
      {
        name: SERVICE_NAMES.deliveryAdmin,
        protoFile: SERVICE_PROTO_FILES.deliveryAdmin,
        definition: DeliveryAdminServiceService,
        implementation: createDeliveryAdminHandler(service, tenants, logger),
      },
    ],
  });
  logger.info(
    { port: grpc.port, region: config.region, storage: config.storage.kind, api: config.whatsappApiBaseUrl },
    'delivery-retry listening',
  );

  return {
    grpcPort: grpc.port,
    async stop() {
      await consumer.stop();
      await grpc.shutdown();
      await nats.nc.drain();
      await storage.close();
    },
  };
}
