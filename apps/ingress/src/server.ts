import path from 'node:path';
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
import { connectMongo, type MongoDatabase } from '@waygate/storage';
import { loadTenantsFile, startTenantsFileReloader } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { StartedService } from '@waygate/telemetry-sdk';
import { createCloudApiTemplateSource } from './adapters/cloud-api-template-source';
import { createGrpcDeliveryCanceller } from './adapters/grpc-delivery-canceller';
import { createGrpcMediaCatalog } from './adapters/grpc-media-catalog';
import { MongoMessageStore } from './adapters/mongo-message-store';
import { MongoTemplateCatalogStore } from './adapters/mongo-template-catalog-store';
import { createNatsMessagePublisher } from './adapters/nats-message-publisher';
import { createOtelMessagingMetrics } from './adapters/otel-messaging-metrics';
import { SqliteMessageStore } from './adapters/sqlite-message-store';
import { SqliteTemplateCatalogStore } from './adapters/sqlite-template-catalog-store';
import type { IngressConfig } from './config';
import type { MessageStore } from './domain/message-store';
import { createMediaReferencePolicy } from './domain/media-reference-policy';
import { createMessagingService } from './domain/messaging-service';
import { NO_INBOUND_MESSAGES, createReplyTargetPolicy } from './domain/reply-target-policy';
import type { TemplateCatalogStore } from './domain/template-catalog';
import { createTemplateCatalogPolicy } from './domain/template-catalog-policy';
import { createTemplateSync } from './domain/template-sync';
import { createMessagingHandler } from './handlers/messaging.handler';
import { createStatusEventsHandler } from './handlers/status-events.consumer';
import { createTemplateEventsHandler } from './handlers/template-events.consumer';
import { createListTemplatesHandler } from './handlers/templates.handler';

async function openMessageStore(
  config: IngressConfig,
): Promise<{ store: MessageStore; mongo?: MongoDatabase; close: () => Promise<void> }> {
  if (config.storage.kind === 'sqlite') {
    const store = new SqliteMessageStore(config.storage.file);
    return { store, close: () => store.close() };
  }
  const mongo = await connectMongo(config.storage.uri, config.storage.database);
  const store = await MongoMessageStore.open(mongo);
  return { store, mongo, close: () => mongo.client.close() };
}

/** The template catalog: `ingress-templates.sqlite` beside `ingress.sqlite`, or the `templates` collection. */
async function openTemplateCatalog(config: IngressConfig, mongo: MongoDatabase | undefined): Promise<TemplateCatalogStore> {
  if (config.storage.kind === 'sqlite') {
    return new SqliteTemplateCatalogStore(path.join(path.dirname(config.storage.file), 'ingress-templates.sqlite'));
  }
  if (!mongo) throw new Error('the template catalog needs the MongoDB connection');
  return MongoTemplateCatalogStore.open(mongo);
}

/** Wires ingress: message store, JetStream, the MessagingService gRPC API, the status consumer, the outbox relay. */
export async function startIngress(config: IngressConfig, logger: Logger): Promise<StartedService & { grpcPort: number }> {
  const tenants = loadTenantsFile(config.tenantsFile);
  // Live: a changed tenants file (or SIGHUP) swaps the directory every lookup below goes through.
  const tenantsReloader = startTenantsFileReloader({ file: config.tenantsFile, directory: tenants, logger });
  const storage = await openMessageStore(config);
  const templateCatalog = await openTemplateCatalog(config, storage.mongo);
  const nats = await connectJetStream(config.natsUrl, `ingress-${config.region}`);
  await ensureRegionStreams(nats.jsm, config.region, (warning) => logger.warn(warning));
  // The channel connects lazily, so ingress starts (and serves everything but CancelMessage) while delivery-retry is down.
  const canceller = createGrpcDeliveryCanceller({
    address: config.deliveryAddress,
    serviceToken: config.internalServiceToken(),
    credentials: channelCredentials(config.tls.client),
  });
  // Lazy too: only a send that names media by media-store id needs media-store.
  const mediaCatalog = createGrpcMediaCatalog({
    address: config.mediaStoreAddress,
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
    // In order: reply-target, template-catalog, media-reference, service-window, opt-out, tenant-quota (send-policy.ts).
    policies: [
      // Inbound wamids resolve once the customer view (the InboundMessageIndex) is wired in its place.
      createReplyTargetPolicy({ store: storage.store, inbound: NO_INBOUND_MESSAGES }),
      createTemplateCatalogPolicy(templateCatalog),
      createMediaReferencePolicy(mediaCatalog),
    ],
  });

  // Each tenant homed here syncs its WABA's templates with its first number's token.
  const templateSync = createTemplateSync({
    store: templateCatalog,
    source: createCloudApiTemplateSource({
      baseUrl: config.whatsappApiBaseUrl,
      version: config.whatsappApiVersion,
      timeoutMs: config.whatsappTimeoutMs,
    }),
    accounts: () =>
      tenants.homedIn(config.region).flatMap((tenant) => {
        const number = tenant.whatsapp.phoneNumbers[0];
        return number ? [{ tenantId: tenant.id, wabaId: tenant.whatsapp.wabaId, accessToken: () => number.accessToken }] : [];
      }),
    clock: systemClock,
    events: {
      synced: (account, count) => logger.info({ tenant_id: account.tenantId, waba_id: account.wabaId, count }, 'templates synced'),
      syncFailed: (account, error) =>
        logger.warn({ err: error, tenant_id: account.tenantId, waba_id: account.wabaId }, 'template sync failed; will retry'),
    },
  });
  // Not awaited: ingress serves while Meta is unreachable; until the first sync, template sends are NOT_FOUND.
  void templateSync.syncAll();
  const templateSyncTimer = setInterval(() => void templateSync.syncAll(), config.templateSyncIntervalMs);
  // A reloaded tenants file may bring new WABAs or tokens: read them now rather than at the next interval.
  const stopSyncOnReload = tenants.onChange(() => void templateSync.syncAll());

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
      [subjects.templateEvents]: createTemplateEventsHandler(templateSync, logger),
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
        implementation: {
          ...createMessagingHandler(service, tenants, logger),
          listTemplates: createListTemplatesHandler(templateCatalog, tenants, logger),
        },
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
    {
      port: grpc.port,
      region: config.region,
      storage: config.storage.kind,
      delivery_address: config.deliveryAddress,
      media_store_address: config.mediaStoreAddress,
    },
    'ingress listening',
  );

  return {
    grpcPort: grpc.port,
    async stop() {
      tenantsReloader.close();
      await grpc.shutdown();
      canceller.close();
      mediaCatalog.close();
      clearInterval(outbox);
      clearInterval(templateSyncTimer);
      stopSyncOnReload();
      await statusConsumer.stop();
      await templateSync.stop();
      await nats.nc.drain();
      await templateCatalog.close();
      await storage.close();
    },
  };
}
