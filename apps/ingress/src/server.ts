import { systemClock } from '@waygate/domain';
import { channelCredentials, createDeadLetterAdminService, startGrpcServer } from '@waygate/grpc';
import {
  connectJetStream,
  createDeadLetterStore,
  ensureRegionStreams,
  regionStreams,
  regionSubjects,
  routeBySubject,
  startConsumer,
} from '@waygate/nats';
import { MessagingServiceService, SERVICE_NAMES, SERVICE_PROTO_FILES } from '@waygate/proto';
import { connectMongo } from '@waygate/storage';
import { loadTenantsFile, startTenantsFileReloader } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { StartedService } from '@waygate/telemetry-sdk';
import { createGrpcDeliveryCanceller } from './adapters/grpc-delivery-canceller';
import { MongoMessageStore } from './adapters/mongo-message-store';
import { createNatsMessagePublisher } from './adapters/nats-message-publisher';
import { createOtelMessagingMetrics } from './adapters/otel-messaging-metrics';
import { SqliteMessageStore } from './adapters/sqlite-message-store';
import type { IngressConfig } from './config';
import type { MessageStore } from './domain/message-store';
import { createMessagingService } from './domain/messaging-service';
import { NO_INBOUND_MESSAGES, createReplyTargetPolicy } from './domain/reply-target-policy';
import { createMessagingHandler } from './handlers/messaging.handler';
import { createStatusEventsHandler } from './handlers/status-events.consumer';

async function openMessageStore(config: IngressConfig): Promise<{ store: MessageStore; close: () => Promise<void> }> {
  if (config.storage.kind === 'sqlite') {
    const store = new SqliteMessageStore(config.storage.file);
    return { store, close: () => store.close() };
  }
  const mongo = await connectMongo(config.storage.uri, config.storage.database);
  const store = await MongoMessageStore.open(mongo);
  return { store, close: () => mongo.client.close() };
}

/** Wires ingress: message store, JetStream, the MessagingService gRPC API, the status consumer, the outbox relay. */
export async function startIngress(config: IngressConfig, logger: Logger): Promise<StartedService & { grpcPort: number }> {
  const tenants = loadTenantsFile(config.tenantsFile);
  // Live: a changed tenants file (or SIGHUP) swaps the directory every lookup below goes through.
  const tenantsReloader = startTenantsFileReloader({ file: config.tenantsFile, directory: tenants, logger });
  const storage = await openMessageStore(config);
  const nats = await connectJetStream(config.natsUrl, `ingress-${config.region}`);
  await ensureRegionStreams(nats.jsm, config.region, (warning) => logger.warn(warning));
  // The channel connects lazily, so ingress starts (and serves everything but CancelMessage) while delivery-retry is down.
  const canceller = createGrpcDeliveryCanceller({
    address: config.deliveryAddress,
    serviceToken: config.internalServiceToken(),
    credentials: channelCredentials(config.tls.client),
  });

  const service = createMessagingService({
    store: storage.store,
    publisher: createNatsMessagePublisher(nats.js, config.region),
    canceller,
    clock: systemClock,
    metrics: createOtelMessagingMetrics(),
    events: {
      publishDeferred: (message, error) =>
        logger.warn({ err: error, message_id: message.messageId }, 'hand-off to JetStream failed; the outbox relay will retry'),
    },
    // In order; see send-policy.ts.
    policies: [
      // Inbound wamids resolve once the customer view (the InboundMessageIndex) is wired in its place.
      createReplyTargetPolicy({ store: storage.store, inbound: NO_INBOUND_MESSAGES }),
    ],
  });

  const subjects = regionSubjects(config.region);
  const statusEvents = createStatusEventsHandler(service, logger);
  const statusConsumer = await startConsumer(nats, {
    region: config.region,
    stream: regionStreams(config.region).events.name,
    durable: 'ingress-status',
    filterSubject: subjects.allEvents,
    logger,
    // One consumer for every event kind ingress applies, so each keeps the stream's order; see routeBySubject.
    handle: routeBySubject({
      [subjects.deliveryEvents]: statusEvents,
      [subjects.receiptEvents]: statusEvents,
    }),
  });

  const outbox = setInterval(() => {
    service.publishPending(config.outboxIntervalMs).then(
      (count) => count > 0 && logger.info({ count }, 'outbox relay published pending messages'),
      (error: unknown) => logger.warn({ err: error }, 'outbox relay failed; will retry'),
    );
  }, config.outboxIntervalMs);

  const grpc = await startGrpcServer({
    tls: config.tls.server,
    host: config.grpcHost,
    port: config.grpcPort,
    tenants,
    region: config.region,
    // Opens this service's DeadLetterAdminService only to the region's services and operators.
    internalServiceToken: config.internalServiceToken(),
    services: [
      {
        name: SERVICE_NAMES.messaging,
        protoFile: SERVICE_PROTO_FILES.messaging,
        definition: MessagingServiceService,
        implementation: createMessagingHandler(service, tenants, logger),
      },
      createDeadLetterAdminService({
        store: createDeadLetterStore(nats, config.region),
        consumers: [statusConsumer.durable],
        internalServiceToken: config.internalServiceToken(),
        logger,
      }),
    ],
  });
  logger.info(
    { port: grpc.port, region: config.region, storage: config.storage.kind, delivery_address: config.deliveryAddress },
    'ingress listening',
  );

  return {
    grpcPort: grpc.port,
    async stop() {
      tenantsReloader.close();
      await grpc.shutdown();
      canceller.close();
      clearInterval(outbox);
      await statusConsumer.stop();
      await nats.nc.drain();
      await storage.close();
    },
  };
}
