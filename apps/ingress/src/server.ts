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
import { MongoCustomerView } from './adapters/mongo-customer-view';
import { MongoMessageStore } from './adapters/mongo-message-store';
import { MongoTemplateCatalogStore } from './adapters/mongo-template-catalog-store';
import { MongoOptOutList } from './adapters/mongo-opt-out-list';
import { MongoSendQuotaStore } from './adapters/mongo-send-quota-store';
import { createNatsMessagePublisher } from './adapters/nats-message-publisher';
import { createOtelMessagingMetrics } from './adapters/otel-messaging-metrics';
import { SqliteCustomerView } from './adapters/sqlite-customer-view';
import { SqliteMessageStore } from './adapters/sqlite-message-store';
import { SqliteTemplateCatalogStore } from './adapters/sqlite-template-catalog-store';
import { SqliteOptOutList } from './adapters/sqlite-opt-out-list';
import { SqliteSendQuotaStore } from './adapters/sqlite-send-quota-store';
import type { IngressConfig } from './config';
import type { CustomerView } from './domain/customer-view';
import type { MessageStore } from './domain/message-store';
import { createMediaReferencePolicy } from './domain/media-reference-policy';
import { createMessagingService } from './domain/messaging-service';
import { createReplyTargetPolicy } from './domain/reply-target-policy';
import type { TemplateCatalogStore } from './domain/template-catalog';
import { createTemplateCatalogPolicy } from './domain/template-catalog-policy';
import { createTemplateSync } from './domain/template-sync';
import type { OptOutList } from './domain/opt-out-list';
import { createOptOutPolicy } from './domain/opt-out-policy';
import { createOptOutService } from './domain/opt-out-service';
import { createTenantQuotaPolicy, type SendQuotaStore } from './domain/send-quota';
import { createServiceWindowPolicy } from './domain/service-window-policy';
import {
  createInboundEventsHandler,
  createPreferenceEventsHandler,
  createStatusLearningHandler,
  inSequence,
} from './handlers/customer-events.consumer';
import { createMessagingHandler } from './handlers/messaging.handler';
import { createStatusEventsHandler } from './handlers/status-events.consumer';
import { createTemplateEventsHandler } from './handlers/template-events.consumer';
import { createListTemplatesHandler } from './handlers/templates.handler';

interface IngressStores {
  readonly store: MessageStore;
  /** The customer view (windows, inbound index, wa_ids), the opt-out list and the daily send counts. */
  readonly customers: CustomerView;
  readonly optOuts: OptOutList;
  readonly quotas: SendQuotaStore;
  /** The MongoDB connection, for the stores opened beside these (the template catalog). */
  readonly mongo?: MongoDatabase;
  close(): Promise<void>;
}

async function openMessageStore(config: IngressConfig): Promise<IngressStores> {
  if (config.storage.kind === 'sqlite') {
    const store = new SqliteMessageStore(config.storage.file);
    // Each store has its own file (and schema versions) beside the message store's.
    const dir = path.dirname(config.storage.file);
    const customers = new SqliteCustomerView(path.join(dir, 'ingress-customers.sqlite'));
    const optOuts = new SqliteOptOutList(path.join(dir, 'ingress-opt-outs.sqlite'));
    const quotas = new SqliteSendQuotaStore(path.join(dir, 'ingress-quotas.sqlite'));
    return {
      store,
      customers,
      optOuts,
      quotas,
      close: async () => {
        await Promise.all([customers.close(), optOuts.close(), quotas.close()]);
        await store.close();
      },
    };
  }
  const mongo = await connectMongo(config.storage.uri, config.storage.database);
  return {
    store: await MongoMessageStore.open(mongo),
    customers: await MongoCustomerView.open(mongo),
    optOuts: await MongoOptOutList.open(mongo),
    quotas: await MongoSendQuotaStore.open(mongo),
    mongo,
    close: () => mongo.client.close(),
  };
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
    // In order: reply-target, template-catalog, media-reference, service-window, opt-out, tenant-quota (send-policy.ts,
    // docs/customer-window.md). tenant-quota last: only a send that passed the others is counted.
    policies: [
      // The customer view is the InboundMessageIndex: replies and reactions may name inbound wamids.
      createReplyTargetPolicy({ store: storage.store, inbound: storage.customers }),
      createTemplateCatalogPolicy(templateCatalog, (tenantId, wabaId) => templateSync.hasSynced(tenantId, wabaId)),
      createMediaReferencePolicy(mediaCatalog),
      createServiceWindowPolicy(storage.customers),
      createOptOutPolicy({ optOuts: storage.optOuts, view: storage.customers }),
      createTenantQuotaPolicy({ store: storage.quotas }),
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
  // Not awaited: ingress serves while Meta is unreachable; until a tenant's first sync, an unknown template is UNAVAILABLE.
  void templateSync.syncAll();
  const templateSyncTimer = setInterval(() => void templateSync.syncAll(), config.templateSyncIntervalMs);
  // A reloaded tenants file may bring new WABAs or tokens: read them now rather than at the next interval.
  const stopSyncOnReload = tenants.onChange(() => void templateSync.syncAll());

  const subjects = regionSubjects(config.region);
  // What status events teach the customer view (wa_ids) and the opt-out list (131050) is recorded before the status.
  const statusEvents = inSequence(
    createStatusLearningHandler({ view: storage.customers, optOuts: storage.optOuts, messages: storage.store, logger }),
    createStatusEventsHandler(service, logger),
  );
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
      [subjects.inboundEvents]: createInboundEventsHandler(storage.customers, logger),
      [subjects.preferenceEvents]: createPreferenceEventsHandler(storage.optOuts, logger),
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
          ...createMessagingHandler(service, tenants, logger, createOptOutService({ optOuts: storage.optOuts, clock: systemClock })),
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
    servingStatus: grpc.servingStatus,
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
