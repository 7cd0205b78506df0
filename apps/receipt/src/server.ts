import { systemClock, type Clock } from '@waygate/domain';
import { startCustomerDataParticipant } from '@waygate/governance';
import { createDeadLetterAdminService, startGrpcServer } from '@waygate/grpc';
import { createCustomerSealer, openRegionKeyring } from '@waygate/keyring';
import { connectJetStream, createDeadLetterStore, ensureRegionStreams } from '@waygate/nats';
import { connectMongo } from '@waygate/storage';
import { loadTenantsFile, startTenantsFileReloader } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { StartedService } from '@waygate/telemetry-sdk';
import type { ReceiptConfig } from './config';
import { feedSqliteFile, startTenantFeed, type FeedStorage } from './feed/start-tenant-feed';
import { createReceiptCustomerDataParticipant } from './receipt-customer-data';
import { startWebhookIntake, type RunningWebhookIntake, type WebhookIntakeStorage } from './webhooks/start-webhook-intake';

interface ReceiptStorage {
  readonly webhooks: WebhookIntakeStorage;
  readonly feed: FeedStorage;
  /** Closes what both parts share (the MongoDB connection); each part closes its own stores. */
  close(): Promise<void>;
}

async function openStorage(config: ReceiptConfig): Promise<ReceiptStorage> {
  if (config.storage.kind === 'sqlite') {
    // Each part has its own files next to receipt.sqlite: each file's migrations belong to one store.
    return {
      webhooks: { kind: 'sqlite', file: config.storage.file },
      feed: { kind: 'sqlite', file: feedSqliteFile(config.storage.file) },
      close: async () => undefined,
    };
  }
  const mongo = await connectMongo(config.storage.uri, config.storage.database);
  return {
    webhooks: { kind: 'mongodb', mongo },
    feed: { kind: 'mongodb', mongo },
    close: () => mongo.client.close(),
  };
}

/**
 * Wires receipt's two parts on one NATS connection, one storage and one gRPC server: webhook intake (./webhooks: the
 * webhook endpoint, statuses, inbound messages, InboundService) and the tenant feed (./feed: event logs, WatchEvents,
 * signed callbacks, dead letters; ReceiptService), plus health and reflection.
 */
export async function startReceipt(
  config: ReceiptConfig,
  logger: Logger,
  options: { clock?: Clock } = {},
): Promise<
  StartedService & {
    grpcPort: number;
    httpPort: number;
    /** See RunningWebhookIntake.waitUntilWebhookBodiesShredded (for receipt's part of an erasure). */
    waitUntilWebhookBodiesShredded: RunningWebhookIntake['waitUntilWebhookBodiesShredded'];
  }
> {
  const clock = options.clock ?? systemClock;
  const tenants = loadTenantsFile(config.tenantsFile);
  // Live: a changed tenants file (or SIGHUP) swaps the directory every lookup below goes through.
  const tenantsReloader = startTenantsFileReloader({ file: config.tenantsFile, directory: tenants, logger });
  const storage = await openStorage(config);
  const nats = await connectJetStream(config.natsUrl, `receipt-${config.region}`);
  await ensureRegionStreams(nats.jsm, config.region, (warning) => logger.warn(warning));
  // The region keyring: what receipt publishes is sealed under it (customer keys, webhook epoch keys) and what it
  // consumes sealed is opened with it.
  const { keyring, localFile } = await openRegionKeyring({ js: nats.js, region: config.region, kek: config.kek, clock });
  if (localFile)
    logger.warn({ key_file: localFile }, 'WAYGATE_KEYRING_KEK is not set: using the local development key-encryption key file');
  // Inbound content at rest under each customer's data key (issue 14), in both parts' stores.
  const contentCipher = createCustomerSealer(keyring);

  const intake = await startWebhookIntake({
    config: config.webhooks,
    tenants,
    region: config.region,
    nats,
    keyring,
    storage: storage.webhooks,
    logger,
    clock,
    contentCipher,
    ...(config.tls.client ? { internalTls: config.tls.client } : {}),
  });
  const feed = await startTenantFeed({
    config: config.feed,
    tenants,
    region: config.region,
    nats,
    keyring,
    storage: storage.feed,
    logger,
    clock,
    contentCipher,
  });
  // receipt's part in erasure and export (issue 14): it waits until the webhook bodies queued before the erasure are
  // shredded (their epoch keys destroyed), then erases again what they may have recorded meanwhile.
  const customerData = await startCustomerDataParticipant({
    nats,
    region: config.region,
    keyring,
    participant: createReceiptCustomerDataParticipant({
      intake: intake.customerData,
      feed: feed.customerData,
      clock,
      waitUntilWebhookBodiesShredded: (before) => intake.waitUntilWebhookBodiesShredded(before),
    }),
    logger,
  });

  const grpc = await startGrpcServer({
    tls: config.tls.server,
    host: config.grpcHost,
    port: config.grpcPort,
    tenants,
    region: config.region,
    internalServiceToken: config.webhooks.internalServiceToken(),
    services: [
      ...intake.grpcServices,
      ...feed.grpcServices,
      createDeadLetterAdminService({
        store: createDeadLetterStore(nats, config.region),
        consumers: [...intake.consumers, ...feed.consumers],
        internalServiceToken: config.webhooks.internalServiceToken(),
        logger,
      }),
    ],
  });
  logger.info(
    { grpc_port: grpc.port, http_port: intake.httpPort, region: config.region, storage: config.storage.kind },
    'receipt listening',
  );

  return {
    grpcPort: grpc.port,
    servingStatus: grpc.servingStatus,
    httpPort: intake.httpPort,
    waitUntilWebhookBodiesShredded: (before, waitOptions) => intake.waitUntilWebhookBodiesShredded(before, waitOptions),
    async stop() {
      tenantsReloader.close();
      await intake.closeEndpoint();
      // The feed ends its WatchEvents streams first, or the gRPC shutdown would wait for them.
      await feed.stop();
      await grpc.shutdown();
      await intake.stop();
      await customerData.stop();
      await nats.nc.drain();
      await storage.close();
    },
  };
}
