import { systemClock, type Clock } from '@waygate/domain';
import { startCustomerDataParticipant } from '@waygate/governance';
import { createCustomerSealer } from '@waygate/keyring';
import { channelCredentials, createDeadLetterAdminService, startGrpcServer } from '@waygate/grpc';
import { connectJetStream, createDeadLetterStore, ensureRegionStreams, regionStreams, startStreamJanitor } from '@waygate/nats';
import { MessagingServiceService, SERVICE_NAMES, SERVICE_PROTO_FILES, VerificationServiceService } from '@waygate/proto';
import { loadTenantsFile, startTenantsFileReloader } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { StartedService } from '@waygate/telemetry-sdk';
import { createGrpcDeliveryCanceller } from './adapters/grpc-delivery-canceller';
import { createGrpcMediaCatalog } from './adapters/grpc-media-catalog';
import { createNatsMessagePublisher } from './adapters/nats-message-publisher';
import { createOtelMessagingMetrics } from './adapters/otel-messaging-metrics';
import { createKeyringParameterSealer } from './adapters/keyring-parameter-sealer';
import type { IngressConfig } from './config';
import { createMessagingService, type MessagingService } from './domain/messaging-service';
import { createIngressCustomerData } from './domain/ingress-customer-data';
import { createOptOutService } from './domain/opt-out-service';
import { createSendPolicyChain } from './domain/send-policy-chain';
import { createMessagingHandler } from './handlers/messaging.handler';
import { createListTemplatesHandler } from './handlers/templates.handler';
import { createVerificationHandler } from './handlers/verification.handler';
import { createVerificationService } from './domain/verification-service';
import type { VerificationStore } from './domain/verification-store';
import { openVerificationSecrets } from './open-verification-secrets';
import { openIngressStores } from './open-ingress-stores';
import { startIngressConsumers } from './start-ingress-consumers';
import { startTemplateSync } from './start-template-sync';

/**
 * Wires ingress: the tenants file, the stores, JetStream, the clients of delivery-retry and media-store, the template
 * sync, the MessagingService with its send policies, the `ingress-status` consumer, the outbox relay, the outbound
 * stream's janitor and the gRPC server. `stop()` takes them down in the reverse order of their use.
 */
export async function startIngress(
  config: IngressConfig,
  logger: Logger,
  /** Tests only: the clock verifications and sends read (expiry, limits); the system clock otherwise. */
  clock: Clock = systemClock,
): Promise<StartedService & { grpcPort: number }> {
  const tenants = loadTenantsFile(config.tenantsFile);
  // Live: a changed tenants file (or SIGHUP) swaps the directory every lookup below goes through.
  const tenantsReloader = startTenantsFileReloader({ file: config.tenantsFile, directory: tenants, logger });
  const nats = await connectJetStream(config.natsUrl, `ingress-${config.region}`);
  // The region keyring seals authentication codes and (under each customer's key) message content at rest; the
  // verification secret keys the codes' hashes.
  const secrets = await openVerificationSecrets({ config, nats, clock, logger });
  const stores = await openIngressStores(config, createCustomerSealer(secrets.keyring));
  await ensureRegionStreams(nats.jsm, config.region, (warning) => logger.warn(warning));
  // ingress publishes the outbound stream's message content; once delivery-retry, archive and receipt's feed have a
  // message, this deletes it (libs/nats stream-janitor.ts says why not interest retention).
  const outboundJanitor = startStreamJanitor(nats, regionStreams(config.region).outbound, { logger });
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
  const templateSync = startTemplateSync({ config, tenants, store: stores.templates, logger });

  const service = createMessagingService({
    store: stores.messages,
    publisher: createNatsMessagePublisher(nats.js, config.region),
    canceller,
    clock,
    sealer: createKeyringParameterSealer({ keyring: secrets.keyring, clock, hashSecret: secrets.verificationSecret }),
    metrics: createOtelMessagingMetrics(),
    events: {
      publishDeferred: (message, error) =>
        logger.warn({ err: error, message_id: message.messageId }, 'hand-off to JetStream failed; the outbox relay will retry'),
    },
    policies: createSendPolicyChain({
      messages: stores.messages,
      customers: stores.customers,
      optOuts: stores.optOuts,
      quotas: stores.quotas,
      templates: stores.templates,
      hasSyncedTemplates: (tenantId, wabaId) => templateSync.sync.hasSynced(tenantId, wabaId),
      mediaCatalog,
    }),
  });
  const verifications = createVerificationService({
    store: stores.verifications,
    messenger: {
      send: (tenant, request) => service.send(tenant, request),
      messageIdOf: async (tenantId, key) => (await stores.messages.findByIdempotencyKey(tenantId, key))?.messageId,
    },
    templates: stores.templates,
    hasSyncedTemplates: (tenantId, wabaId) => templateSync.sync.hasSynced(tenantId, wabaId),
    secret: secrets.verificationSecret,
    clock,
  });
  const consumer = await startIngressConsumers({
    nats,
    region: config.region,
    stores,
    service,
    verifications,
    templateSync: templateSync.sync,
    logger,
  });
  const outbox = startOutboxRelay(service, config.outboxIntervalMs, logger);
  // Erasure and export (issue 14): ErasureRequested in, ErasurePartCompleted out, export pages on request.
  const governance = await startCustomerDataParticipant({
    nats,
    region: config.region,
    keyring: secrets.keyring,
    participant: createIngressCustomerData(stores),
    logger,
  });
  const verificationPurge = startVerificationPurge(stores.verifications, clock, logger);

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
          ...createMessagingHandler(service, tenants, logger, createOptOutService({ optOuts: stores.optOuts, clock })),
          listTemplates: createListTemplatesHandler(stores.templates, tenants, logger),
        },
      },
      {
        name: SERVICE_NAMES.verification,
        protoFile: SERVICE_PROTO_FILES.verification,
        definition: VerificationServiceService,
        implementation: createVerificationHandler(verifications, tenants, logger),
      },
      createDeadLetterAdminService({
        store: createDeadLetterStore(nats, config.region),
        consumers: [consumer.durable],
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
      // Inputs first (tenants file, gRPC calls, timers), then the consumer and the sync in flight, then NATS (its
      // drain flushes what they published), and the stores last: nothing uses them any more.
      tenantsReloader.close();
      await grpc.shutdown();
      canceller.close();
      mediaCatalog.close();
      clearInterval(outbox);
      clearInterval(verificationPurge);
      templateSync.stopSchedule();
      await consumer.stop();
      await templateSync.sync.stop();
      await outboundJanitor.stop();
      await governance.stop();
      await secrets.stop();
      await nats.nc.drain();
      await stores.close();
    },
  };
}

/** Republishes accepted messages whose hand-off to JetStream failed, every `intervalMs`; returns its timer. */
function startOutboxRelay(service: MessagingService, intervalMs: number, logger: Logger): NodeJS.Timeout {
  return setInterval(() => {
    service.publishPending(intervalMs).then(
      (count) => count > 0 && logger.info({ count }, 'outbox relay published pending messages'),
      (error: unknown) => logger.warn({ err: error }, 'outbox relay failed; will retry'),
    );
  }, intervalMs);
}

/** How long a verification is kept after it started (its outcome stays answerable that long); then it is deleted. */
export const VERIFICATION_RETENTION_MS = 7 * 24 * 3_600_000;

/** Deletes verifications past VERIFICATION_RETENTION_MS, hourly; returns its timer. */
function startVerificationPurge(store: VerificationStore, clock: Clock, logger: Logger): NodeJS.Timeout {
  const timer = setInterval(() => {
    store.purgeCreatedBefore(new Date(clock.now().getTime() - VERIFICATION_RETENTION_MS)).then(
      (count) => count > 0 && logger.info({ count }, 'old verifications deleted'),
      (error: unknown) => logger.warn({ err: error }, 'verification purge failed; will retry'),
    );
  }, 3_600_000);
  timer.unref();
  return timer;
}
