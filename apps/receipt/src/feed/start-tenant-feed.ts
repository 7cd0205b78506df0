import path from 'node:path';
import { systemClock, type Clock } from '@waygate/domain';
import type { ServedService } from '@waygate/grpc';
import {
  OUTBOUND_CONSUMERS,
  regionStreams,
  regionSubjects,
  startConsumer,
  type JetStreamConnection,
  type RunningConsumer,
} from '@waygate/nats';
import { ReceiptServiceService, SERVICE_NAMES, SERVICE_PROTO_FILES } from '@waygate/proto';
import type { CustomerSealer } from '@waygate/keyring';
import type { MongoDatabase } from '@waygate/storage';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Keyring } from '@waygate/keyring';
import type { Logger } from '@waygate/telemetry';
import { traceOrderKey } from '../trace-order-key';
import { createHttpCallbackSender } from './adapters/http-callback-sender';
import { MongoFeedStore } from './adapters/mongo-feed-store';
import { startNatsFeedWakeups } from './adapters/nats-feed-wakeups';
import { createOtelCallbackMetrics } from './adapters/otel-callback-metrics';
import { SealedFeedStore } from './adapters/sealed-feed-store';
import { SqliteFeedStore } from './adapters/sqlite-feed-store';
import { createCallbackDispatcher } from './domain/callback-dispatcher';
import { createDeadLetters } from './domain/dead-letters';
import { createFeedBuilder } from './domain/feed-builder';
import { FeedWakeups } from './domain/feed-wakeups';
import type { TenantFeedStore } from './domain/feed-store';
import type { FeedConfig } from './config';
import { createFeedAcceptedHandler } from './handlers/feed-accepted.consumer';
import { createFeedInputsHandler } from './handlers/feed-inputs.consumer';
import { createReceiptServiceHandler } from './handlers/receipt-service.handler';
import { tenantEventJson } from './handlers/tenant-event-wire';

/** The durable JetStream consumer that builds the tenants' logs. */
export const FEED_CONSUMER = 'receipt-tenant-feed';

/**
 * Events the feed's consumers apply at once (issue 15): their log writes share one group commit. One message's events
 * are applied one after another in stream order ({@link traceOrderKey}).
 */
const FEED_CONCURRENCY = 64;
/** How often old events and ended deliveries are pruned. */
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Where the feed keeps its data: its own SQLite file (not receipt's: migrations are numbered per file), or receipt's
 * MongoDB database (the feed's collections are all named `feed_*`; the connection stays the caller's).
 */
export type FeedStorage = { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'mongodb'; readonly mongo: MongoDatabase };

/** The feed's SQLite file next to receipt's: `.data/eu/receipt.sqlite` -> `.data/eu/receipt-feed.sqlite`. */
export function feedSqliteFile(receiptSqliteFile: string): string {
  const parsed = path.parse(receiptSqliteFile);
  return path.join(parsed.dir, `${parsed.name}-feed${parsed.ext || '.sqlite'}`);
}

export interface StartTenantFeedOptions {
  readonly config: FeedConfig;
  readonly tenants: TenantDirectory;
  readonly region: string;
  /** receipt's shared connection; its streams exist already (the caller ensured them). */
  readonly nats: JetStreamConnection;
  /**
   * Opens the sealed events the feed consumes (accepted messages, inbound messages); an erased customer's are skipped.
   * Without it only unsealed events can be consumed.
   */
  readonly keyring?: Pick<Keyring, 'dataKeyById'>;
  readonly storage: FeedStorage;
  readonly logger: Logger;
  /** Drives every duration (retries, the retry period, leases, the breaker, retention); tests move it. */
  readonly clock?: Clock;
  /** Seals inbound events' text and content at rest under each customer's data key (issue 14). */
  readonly contentCipher?: CustomerSealer;
}

/** What the customer-data participant (erasure and export) works on: the feed store, and how to flush its file. */
export interface FeedCustomerData {
  readonly store: TenantFeedStore;
  /** SQLite: the feed file's WAL checkpointed and truncated; nothing on MongoDB. */
  flush(): Promise<void>;
}

export interface RunningTenantFeed {
  /** For `startGrpcServer`'s `services`: waygate.receipt.v1.ReceiptService. */
  readonly grpcServices: ServedService[];
  /** Its durable consumers, whose dead letters receipt's DeadLetterAdminService manages. */
  readonly consumers: readonly string[];
  readonly customerData: FeedCustomerData;
  /**
   * Ends open WatchEvents streams (OK status; clients resume with their last sequence), refuses new calls, stops
   * the consumer and the callback lanes (after their calls in flight), then closes the feed's SQLite file. Call it
   * before the gRPC server's shutdown (which otherwise waits for the streams) and before closing NATS or MongoDB.
   */
  stop(): Promise<void>;
}

/**
 * Starts receipt's tenant feed: the `receipt-tenant-feed` consumer that turns status and inbound events into each
 * tenant's event log, the ReceiptService gRPC API (WatchEvents, dead letters) and the callback lanes.
 */
export async function startTenantFeed(options: StartTenantFeedOptions): Promise<RunningTenantFeed> {
  const { config, tenants, region, nats, logger } = options;
  const clock = options.clock ?? systemClock;
  const plainStore =
    options.storage.kind === 'sqlite' ? new SqliteFeedStore(options.storage.file) : await MongoFeedStore.open(options.storage.mongo);
  const store: TenantFeedStore = options.contentCipher ? new SealedFeedStore(plainStore, options.contentCipher) : plainStore;
  const flush = async () => {
    if (plainStore instanceof SqliteFeedStore) await plainStore.checkpointWal();
  };
  const stopping = new AbortController();
  const wakeups = new FeedWakeups();
  const announcer = startNatsFeedWakeups(nats.nc, region, wakeups, logger);
  const notify = (tenantId: string) => {
    wakeups.notify(tenantId);
    announcer.announce(tenantId);
  };
  const dispatcher = createCallbackDispatcher({
    store,
    sender: createHttpCallbackSender({ timeoutMs: config.callbacks.timeoutMs }),
    clock,
    wakeups,
    tenants,
    region,
    settings: { ...config.callbacks, recheckMs: config.recheckMs },
    render: tenantEventJson,
    logger,
    metrics: createOtelCallbackMetrics(),
  });
  let consumer: RunningConsumer | undefined;
  let acceptedConsumer: RunningConsumer | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  let pruning: Promise<void> = Promise.resolve();
  try {
    // Endpoints exist before the first event is appended, so a new endpoint gets every event from now on.
    await dispatcher.init();
    const subjects = regionSubjects(region);
    const builder = createFeedBuilder({ store, tenants, region, clock, onAppended: notify });
    // What each message carries (type and summary), for its status events; created with the outbound stream.
    acceptedConsumer = await startConsumer(nats, {
      region,
      stream: regionStreams(region).outbound.name,
      durable: OUTBOUND_CONSUMERS.feed,
      filterSubject: subjects.outboundAccepted,
      ackWaitMs: config.ackWaitMs,
      concurrency: FEED_CONCURRENCY,
      orderKey: traceOrderKey,
      keyring: options.keyring,
      logger,
      handle: createFeedAcceptedHandler(builder, logger),
    });
    consumer = await startConsumer(nats, {
      region,
      stream: regionStreams(region).events.name,
      durable: FEED_CONSUMER,
      filterSubject: subjects.allEvents,
      ackWaitMs: config.ackWaitMs,
      concurrency: FEED_CONCURRENCY,
      orderKey: traceOrderKey,
      keyring: options.keyring,
      logger,
      handle: createFeedInputsHandler(builder, subjects, logger),
    });
    dispatcher.start();
    const prune = () => {
      pruning = store
        .prune(new Date(clock.now().getTime() - config.retentionMs))
        .then((deleted) => {
          if (deleted > 0) logger.info({ deleted }, 'old tenant events pruned');
        })
        .catch((error: unknown) => logger.error({ err: error }, 'pruning the tenant feed failed'));
    };
    prune();
    pruneTimer = setInterval(prune, PRUNE_INTERVAL_MS);
    pruneTimer.unref();
  } catch (error) {
    await consumer?.stop().catch(() => undefined);
    await acceptedConsumer?.stop().catch(() => undefined);
    await dispatcher.stop();
    await announcer.stop();
    await store.close();
    throw error;
  }
  logger.info(
    { region, storage: options.storage.kind, callback_endpoints: tenants.homedIn(region).flatMap((t) => t.callbacks).length },
    'tenant feed started',
  );

  return {
    consumers: [FEED_CONSUMER, OUTBOUND_CONSUMERS.feed],
    customerData: { store, flush },
    grpcServices: [
      {
        name: SERVICE_NAMES.receipt,
        protoFile: SERVICE_PROTO_FILES.receipt,
        definition: ReceiptServiceService,
        implementation: createReceiptServiceHandler({
          store,
          wakeups,
          recheckMs: config.recheckMs,
          deadLetters: createDeadLetters({ store, clock, notify }),
          tenants,
          logger,
          stopping: stopping.signal,
        }),
      },
    ],
    async stop() {
      stopping.abort();
      clearInterval(pruneTimer);
      await consumer?.stop();
      await acceptedConsumer?.stop();
      await dispatcher.stop();
      await pruning;
      await announcer.stop();
      await store.close();
    },
  };
}
