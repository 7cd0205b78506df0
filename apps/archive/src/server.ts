import { systemClock, type Clock, type MessageStatus } from '@waygate/domain';
import { createDeadLetterAdminService, startGrpcServer } from '@waygate/grpc';
import { createCustomerSealer, openRegionKeyring, type Keyring } from '@waygate/keyring';
import {
  connectJetStream,
  createDeadLetterStore,
  LegalHoldMirror,
  OUTBOUND_CONSUMERS,
  ensureRegionStreams,
  orderKeyHeader,
  regionStreams,
  regionSubjects,
  startConsumer,
  type JetStreamConnection,
  type RunningConsumer,
} from '@waygate/nats';
import {
  ArchiveLogServiceService,
  ArchiveServiceService,
  GovernanceServiceService,
  SERVICE_NAMES,
  SERVICE_PROTO_FILES,
} from '@waygate/proto';
import { startCustomerDataParticipant, type RunningCustomerDataParticipant } from '@waygate/governance';
import { connectMongo } from '@waygate/storage';
import { signNote } from '@waygate/tlog';
import { KEPT_FOREVER, loadTenantsFile, startRetentionGuard, startTenantsFileReloader } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { StartedService } from '@waygate/telemetry-sdk';
import { openAccessLog } from './access-log/open-access-log';
import { MongoArchiveStore } from './adapters/mongo-archive-store';
import { SealedArchiveStore } from './adapters/sealed-archive-store';
import { SqliteArchiveStore } from './adapters/sqlite-archive-store';
import { createAnalysisService } from './analysis/analysis-service';
import { loadTextAnalyzer } from './analysis/eld-nlpjs-text-analyzer';
import type { ArchiveConfig } from './config';
import { createArchiveLogService } from './domain/archive-log-service';
import { createArchiveService, type ArchiveServiceDeps } from './domain/archive-service';
import type { ArchiveStore } from './domain/archive-store';
import { createAcceptedEventsHandler } from './handlers/accepted-events.consumer';
import { createExportService } from './export/domain/export-service';
import { createArchiveLogServiceHandler } from './governance/archive-log.handler';
import { createArchiveCustomerDataParticipant } from './governance/archive-customer-data';
import type { ArchiveRetentionStore } from './governance/domain/archive-retention';
import { createArchiveLogHandler, createGovernanceHandler } from './governance/governance.handler';
import { openGovernanceStorage } from './governance/governance-storage';
import { createLegalHolds } from './governance/legal-holds';
import { createLegalHoldsHandler } from './governance/legal-holds.handler';
import { createRetentionSweeper, type SweepReport } from './governance/retention-sweeper';
import { startErasurePart, type RunningErasurePart } from './governance/erasure-part';
import { createArchiveHandler } from './handlers/archive.handler';
import { createInboundEventsHandler } from './handlers/inbound-events.consumer';
import { createRegionEventsHandler } from './handlers/region-events.consumer';
import { createStatusEventsHandler } from './handlers/status-events.consumer';
import { loadEntriesFromStore, withSearchIndexing } from './search/archive-search-feed';
import { MongoSearchIndex } from './search/mongo-search-index';
import type { SearchIndex } from './search/search-index';
import { createMessageSearch } from './search/search-messages';
import { SqliteSearchIndex } from './search/sqlite-search-index';

/** Events each archiving consumer handles at once on SQLite (see startArchive): enough to fill a group commit. */
const CONSUMER_CONCURRENCY = 64;

/**
 * The store (plain: {@link SealedArchiveStore} wraps it once the keyring is open), the search index, and `flush`, which
 * makes an erasure's deletions reach the files (SQLite: the WAL checkpointed and truncated).
 */
async function openArchiveStore(config: ArchiveConfig): Promise<{
  store: ArchiveStore & ArchiveRetentionStore;
  searchIndex: SearchIndex;
  /** A message's latest status, read without its content (the search feed's read for a status event); MongoDB: none. */
  latestStatusOf?: (tenantId: string, messageId: string) => Promise<MessageStatus | undefined>;
  flush: () => Promise<void>;
  close: () => Promise<void>;
}> {
  if (config.storage.kind === 'sqlite') {
    const store = new SqliteArchiveStore(config.storage.file);
    // The search index lives in the same file (its own search_* tables), on the store's connection, writing through
    // the store's group commit: the records and index writes of one event-loop turn share one transaction and fsync.
    const searchIndex = new SqliteSearchIndex(store.connection, false, (work) => store.write(work));
    return {
      store,
      searchIndex,
      latestStatusOf: (tenantId, messageId) => store.latestStatus(tenantId, messageId),
      flush: () => store.checkpointWal(),
      close: () => Promise.all([store.close(), searchIndex.close()]).then(() => undefined),
    };
  }
  const mongo = await connectMongo(config.storage.uri, config.storage.database);
  const store = await MongoArchiveStore.open(mongo);
  const searchIndex = await MongoSearchIndex.open(mongo);
  return {
    store,
    searchIndex,
    flush: async () => undefined,
    close: () => mongo.client.close(),
  };
}

/**
 * Wires the archive: its store and search index, the text analyser, JetStream, the two archiving consumers (accepted
 * messages; status events and inbound messages) and the ArchiveService gRPC API (conversations, search, export,
 * analysis).
 */
export async function startArchive(
  config: ArchiveConfig,
  logger: Logger,
  options: Pick<ArchiveServiceDeps, 'analyzeText'> & { readonly clock?: Clock } = {},
): Promise<StartedService & { grpcPort: number; sweepRetention: () => Promise<SweepReport> }> {
  const clock = options.clock ?? systemClock;
  // The region's log signing key, first: a malformed WAYGATE_LOG_SIGNING_KEY stops the start, naming the setting.
  const logSigningKey = config.logSigningKey();
  const tenants = loadTenantsFile(config.tenantsFile);
  // Language and sentiment of customer texts (eld + nlp.js): loaded once, before anything is consumed (about 1 s).
  const analyzeText = options.analyzeText ?? (await loadTextAnalyzer());
  // Retention (issue 14): a compliance-mode tenant's archive retention can only grow; refused here, and on reload.
  const governanceStorage = await openGovernanceStorage(config.storage);
  const retentionGuard = await startRetentionGuard({
    store: governanceStorage.floors,
    setting: 'archiveRetentionDays',
    retentionDaysOf: (tenant) => tenant.governance?.archiveRetentionDays ?? KEPT_FOREVER,
    directory: tenants,
    logger,
  }).catch(async (error: unknown) => {
    await governanceStorage.close();
    throw error;
  });
  // Live: a changed tenants file (or SIGHUP) swaps the directory every lookup below goes through.
  const tenantsReloader = startTenantsFileReloader({
    file: config.tenantsFile,
    directory: tenants,
    logger,
    validate: { check: retentionGuard.check, accepted: retentionGuard.accept },
  });
  const storage = await openArchiveStore(config).catch(async (error: unknown) => {
    tenantsReloader.close();
    await governanceStorage.close();
    throw error;
  });
  // Legal holds (issue 14): the erasure coordinator and the sweeper ask `legalHolds.activeHoldsCovering`. Every change
  // is mirrored into JetStream KV for media-store (bound below, once NATS is connected, before any call is served).
  let holdMirror: LegalHoldMirror | undefined;
  const mirrorHolds = async (tenantId: string) => {
    const active = (await governanceStorage.holds.allActive()).filter((hold) => hold.tenantId === tenantId);
    await holdMirror?.publish(tenantId, {
      active: active.length,
      tenantWide: active.some((hold) => hold.customer === ''),
      updatedAt: clock.now().toISOString(),
    });
  };
  const legalHolds = createLegalHolds({ store: governanceStorage.holds, clock, afterChange: mirrorHolds });
  // Every call of the archive's services is recorded (access-log/); its own store, closed after the gRPC server.
  // Its customers are named by the keyring's pseudonym; the keyring opens with NATS below, before any call is served.
  let keyring: Keyring | undefined;
  const customerRef = (tenantId: string, customer: string): Promise<string> => {
    if (!keyring) throw new Error('the keyring is not open yet');
    return keyring.customerRef(tenantId, customer);
  };
  const access = await openAccessLog(config, { tenants, logger, customerRef }).catch(async (error: unknown) => {
    tenantsReloader.close();
    await storage.close();
    await governanceStorage.close();
    throw error;
  });
  // Whatever started is released again if a later step fails, so a failed start leaks nothing.
  const consumers: RunningConsumer[] = [];
  let nats: JetStreamConnection | undefined;
  let stopSweeping = async () => {};
  let customerData: RunningCustomerDataParticipant | undefined;
  let erasure: RunningErasurePart | undefined;
  try {
    nats = await connectJetStream(config.natsUrl, `archive-${config.region}`);
    await ensureRegionStreams(nats.jsm, config.region, (warning) => logger.warn(warning));
    // The region keyring: sealed events consumed below are opened with it (an erased customer's are skipped), and
    // message content is sealed at rest under each customer's data key.
    const opened = await openRegionKeyring({ js: nats.js, region: config.region, kek: config.kek, clock: systemClock });
    if (opened.localFile)
      logger.warn({ key_file: opened.localFile }, 'WAYGATE_KEYRING_KEK is not set: using the local development key-encryption key file');
    keyring = opened.keyring;
    const store = new SealedArchiveStore(storage.store, createCustomerSealer(keyring));
    // The archive's part in erasure and export (issue 14): records, message rows, search rows, log salts, the WAL.
    customerData = await startCustomerDataParticipant({
      nats,
      region: config.region,
      keyring,
      participant: createArchiveCustomerDataParticipant({ store, searchIndex: storage.searchIndex, flush: storage.flush }),
      logger,
    });

    // Each message record is indexed for search, and each status sets its status, after the store's commit and
    // before the ack (search/archive-search-feed.ts).
    const archive = createArchiveService({
      store,
      homeRegionOf: (tenantId) => tenants.get(tenantId)?.homeRegion,
      region: config.region,
      clock: systemClock,
      analyzeText,
      log: logger,
    });
    const service = withSearchIndexing(archive, {
      index: storage.searchIndex,
      store,
      ...(storage.latestStatusOf ? { latestStatusOf: storage.latestStatusOf } : {}),
    });
    // The tamper-evident archive log (issue 14): checkpoints signed by the region key, proofs, and exports carrying both.
    const archiveLog = createArchiveLogService({ store, signer: logSigningKey.signer, region: config.region });
    if (logSigningKey.source === 'local-file-created')
      logger.info(
        { keyId: logSigningKey.signer.verifierKey.split('+')[1] },
        'archive log signing key created in the data dir (back it up)',
      );
    if (logSigningKey.permissionsTooOpen) logger.warn('the archive log signing key file is readable by others: chmod 600 it');
    const search = createMessageSearch({ index: storage.searchIndex, loadEntries: loadEntriesFromStore(store) });
    const analysis = createAnalysisService({
      reader: store,
      // Read at each call: a reloaded tenants file changes rate cards and scorecards without a restart.
      settingsOf: (tenantId) => tenants.get(tenantId)?.archive,
      analyzeText,
      clock: systemClock,
    });

    const streams = regionStreams(config.region);
    const subjects = regionSubjects(config.region);
    // SQLite: events handled at once share one group commit (one fsync per event-loop turn). Each record runs in one
    // synchronous transaction with its projections and log entry, so records of one conversation never interleave,
    // and the search feed keeps each message's order (archive-search-feed.ts). MongoDB re-derives the projections
    // after each event without transactions: two events of one conversation at once could race, so one at a time.
    // Events that carry an order key (Waygate-Order-Key: a message, a conversation) are handled in stream order per
    // key. One without a key needs no order here (see above), so it is keyed by its own event id (Nats-Msg-Id) rather
    // than queued in startConsumer's one lane for unkeyed events.
    const concurrency = config.storage.kind === 'sqlite' ? CONSUMER_CONCURRENCY : 1;
    const ordered = {
      concurrency,
      orderKey: (message: Parameters<typeof orderKeyHeader>[0]) =>
        orderKeyHeader(message) ?? (message.headers?.get('Nats-Msg-Id') || undefined),
    };
    consumers.push(
      await startConsumer(nats, {
        region: config.region,
        stream: streams.outbound.name,
        durable: OUTBOUND_CONSUMERS.archive,
        filterSubject: subjects.outboundAccepted,
        ...ordered,
        keyring,
        logger,
        handle: createAcceptedEventsHandler(service, logger),
      }),
    );
    consumers.push(
      await startConsumer(nats, {
        region: config.region,
        stream: streams.events.name,
        durable: 'archive-events',
        filterSubject: subjects.allEvents,
        ...ordered,
        keyring,
        logger,
        handle: createRegionEventsHandler(
          subjects,
          { status: createStatusEventsHandler(service, logger), inbound: createInboundEventsHandler(service, logger) },
          logger,
        ),
      }),
    );

    holdMirror = await LegalHoldMirror.open(nats.js, config.region);
    // Retention (issue 14): records past each tenant's archiveRetentionDays go, unless a legal hold covers them; each
    // pass first re-mirrors every tenant's holds (repairing a mirror write that failed).
    const homeTenants = () => tenants.tenants.filter((tenant) => tenant.homeRegion === config.region);
    const sweeper = createRetentionSweeper({
      store: storage.store,
      removeFromSearch: (tenantId, recordId) => storage.searchIndex.remove(tenantId, recordId),
      shredRecordSalts: (tenantId, recordIds) => storage.store.shredRecordSalts(tenantId, recordIds),
      activeHolds: () => legalHolds.allActive(),
      tenants: homeTenants,
      clock,
      logger,
    });
    const sweepRetention = async () => {
      for (const tenant of homeTenants()) await mirrorHolds(tenant.id);
      return sweeper.sweep();
    };
    let sweeping: Promise<unknown> = Promise.resolve();
    const runSweep = () => {
      sweeping = sweeping
        .then(sweepRetention)
        .catch((error: unknown) => logger.error({ err: error, component: 'retention-sweeper' }, 'retention sweep failed'));
    };
    const sweepTimer = setInterval(runSweep, config.retentionSweepIntervalMs);
    sweepTimer.unref();
    stopSweeping = async () => {
      clearInterval(sweepTimer);
      await sweeping;
    };
    // Erasure and customer export (issue 14): the coordinator, its completions consumer, receipts signed by the region key.
    erasure = await startErasurePart({
      nats,
      region: config.region,
      keyring,
      storage: config.storage,
      holds: legalHolds,
      signReceipt: (text) => signNote(text, [logSigningKey.signer]),
      tenants,
      clock: systemClock,
      logger,
    });
    consumers.push(erasure.consumer);

    const grpc = await startGrpcServer({
      tls: config.tls.server,
      host: config.grpcHost,
      port: config.grpcPort,
      tenants,
      region: config.region,
      internalServiceToken: config.internalServiceToken(),
      interceptors: [access.interceptor],
      services: [
        {
          name: SERVICE_NAMES.archive,
          protoFile: SERVICE_PROTO_FILES.archive,
          definition: ArchiveServiceService,
          implementation: createArchiveHandler({
            service,
            tenants,
            logger,
            analysis,
            exportService: createExportService({ reader: store, clock: systemClock, log: archiveLog }),
            search,
          }),
        },
        {
          name: SERVICE_NAMES.governance,
          protoFile: SERVICE_PROTO_FILES.governance,
          definition: GovernanceServiceService,
          // Issue 14's parts, each in its own module under governance/ (holds, erasure, access log).
          implementation: createGovernanceHandler({
            holds: createLegalHoldsHandler(legalHolds, tenants, logger),
            erasure: erasure.handler,
            accessLog: access.handler,
          }),
        },
        {
          name: SERVICE_NAMES.archiveLog,
          protoFile: SERVICE_PROTO_FILES.archiveLog,
          definition: ArchiveLogServiceService,
          implementation: createArchiveLogHandler(createArchiveLogServiceHandler({ log: archiveLog, tenants, logger })),
        },
        createDeadLetterAdminService({
          store: createDeadLetterStore(nats, config.region),
          consumers: consumers.map((consumer) => consumer.durable),
          internalServiceToken: config.internalServiceToken(),
          logger,
        }),
      ],
    });
    logger.info({ port: grpc.port, region: config.region, storage: config.storage.kind }, 'archive listening');
    runSweep();

    const { nc } = nats;
    const erasureStore = erasure;
    return {
      grpcPort: grpc.port,
      servingStatus: grpc.servingStatus,
      sweepRetention,
      async stop() {
        tenantsReloader.close();
        await stopSweeping();
        await grpc.shutdown();
        await Promise.all(consumers.map((consumer) => consumer.stop()));
        await customerData?.stop();
        await nc.drain();
        await storage.close();
        await governanceStorage.close();
        await erasureStore.close();
        await access.close();
      },
    };
  } catch (error) {
    tenantsReloader.close();
    await stopSweeping();
    await Promise.allSettled(consumers.map((consumer) => consumer.stop()));
    await customerData?.stop().catch(() => undefined);
    await nats?.nc.close().catch(() => undefined);
    await storage.close();
    await governanceStorage.close();
    await erasure?.close();
    await access.close();
    throw error;
  }
}
