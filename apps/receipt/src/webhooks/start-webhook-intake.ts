import type { AddressInfo } from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { systemClock, type Clock } from '@waygate/domain';
import { channelCredentials, type ServedService } from '@waygate/grpc';
import type { CustomerSealer, Keyring } from '@waygate/keyring';
import {
  ORDER_KEY_HEADER,
  orderKeyHeader,
  publishSealedEvent,
  regionStreams,
  regionSubjects,
  startConsumer,
  type JetStreamConnection,
} from '@waygate/nats';
import { InboundServiceService, SERVICE_NAMES, SERVICE_PROTO_FILES, WebhookReceived } from '@waygate/proto';
import type { MongoDatabase } from '@waygate/storage';
import type { TenantDirectory } from '@waygate/tenancy';
import type { ClientTlsConfig } from '@waygate/config';
import type { Logger } from '@waygate/telemetry';
import { createCloudApiClient } from '@waygate/whatsapp-cloud-api';
import { traceOrderKey } from '../trace-order-key';
import { createCloudApiWhatsAppCloudApi } from './adapters/cloud-api-whatsapp-cloud-api';
import { createHttpRegionForwarder } from './adapters/http-region-forwarder';
import { createMediaStoreClient } from './adapters/media-store-client';
import { createNatsAccountEventPublisher } from './adapters/nats-account-event-publisher';
import { createOtelAccountMetrics } from './adapters/otel-account-metrics';
import { createAccountWebhooks } from './domain/account-webhooks';
import { MongoInboundStore } from './adapters/mongo-inbound-store';
import { MongoReceiptStore } from './adapters/mongo-receipt-store';
import { createNatsInboundPublisher } from './adapters/nats-inbound-publisher';
import { createNatsTemplateEventPublisher } from './adapters/nats-template-event-publisher';
import { createNatsPreferencePublisher } from './adapters/nats-preference-publisher';
import { createNatsResolvedStatusPublisher } from './adapters/nats-resolved-status-publisher';
import { createOtelWebhookMetrics } from './adapters/otel-webhook-metrics';
import { SealedInboundStore } from './adapters/sealed-inbound-store';
import { startWebhookBodyShredder, webhookKeyScope } from './adapters/webhook-body-shredder';
import { SqliteInboundStore } from './adapters/sqlite-inbound-store';
import { SqliteReceiptStore } from './adapters/sqlite-receipt-store';
import type { WebhookIntakeConfig } from './config';
import { createInboundApi } from './domain/inbound-api';
import type { InboundStore } from './domain/inbound-store';
import type { ReceiptStore } from './domain/receipt-store';
import { createReceiptService } from './domain/receipt-service';
import { splitWebhookBody } from './domain/webhook-split';
import { createDeliveryEventsHandler } from './handlers/delivery-events.consumer';
import { createInboundHandler } from './handlers/inbound.handler';
import { createWebhookApp } from './handlers/webhook.routes';
import { createWebhooksHandler } from './handlers/webhooks.consumer';

/**
 * Where webhook intake keeps its data: `receipt.sqlite` (the wamid index, held statuses) with `receipt-inbound.sqlite`
 * next to it, or receipt's MongoDB database (the connection stays the caller's).
 */
export type WebhookIntakeStorage =
  { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'mongodb'; readonly mongo: MongoDatabase };

export interface StartWebhookIntakeOptions {
  readonly config: WebhookIntakeConfig;
  readonly tenants: TenantDirectory;
  readonly region: string;
  /** receipt's shared connection; its streams exist already (the caller ensured them). */
  readonly nats: JetStreamConnection;
  /**
   * The region keyring: inbound messages are published sealed under the customer's data key, queued webhook bodies
   * under their epoch's short-lived key (destroyed once processed); sealed events consumed here are opened with it.
   */
  readonly keyring: Keyring;
  readonly storage: WebhookIntakeStorage;
  readonly logger: Logger;
  /** Stamps queued webhooks and drives service windows; tests move it. */
  readonly clock?: Clock;
  /** TLS for the calls to media-store; plaintext without it. */
  readonly internalTls?: ClientTlsConfig;
  /** Seals inbound content at rest under each customer's data key (issue 14); stored as it comes without it. */
  readonly contentCipher?: CustomerSealer;
}

/** What the customer-data participant (erasure and export) works on: the inbound store, and how to flush its file. */
export interface IntakeCustomerData {
  readonly inboundStore: InboundStore;
  /** The wamid mappings and held statuses (they name the customer's number). */
  readonly receiptStore: ReceiptStore;
  /** SQLite: the inbound file's WAL checkpointed and truncated; nothing on MongoDB. */
  flush(): Promise<void>;
}

export interface RunningWebhookIntake {
  /** For `startGrpcServer`'s `services`: waygate.receipt.v1.InboundService. */
  readonly grpcServices: ServedService[];
  /** Its durable consumers, whose dead letters receipt's DeadLetterAdminService manages. */
  readonly consumers: readonly string[];
  /** The port the webhook endpoint listens on (the configured one, or the one picked for port 0). */
  readonly httpPort: number;
  readonly customerData: IntakeCustomerData;
  /** Stops taking webhooks: closes the HTTP endpoint. Call it first, before anything it queues into closes. */
  closeEndpoint(): Promise<void>;
  /**
   * Resolves once every webhook body queued before `before` is unreadable in the webhooks stream (its epoch's key
   * destroyed after the epoch ended and the body was processed): for the erasure of a customer. Up to an epoch
   * (WAYGATE_WEBHOOK_KEY_EPOCH_MS) plus the processing of what is queued.
   */
  waitUntilWebhookBodiesShredded(before: Date, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Stops the consumers (after the bodies in flight), closes the media-store client and the stores. Call it after
   * the gRPC server's shutdown (InboundService reads the inbound store) and before closing NATS or MongoDB.
   */
  stop(): Promise<void>;
}

interface IntakeStores {
  readonly store: ReceiptStore;
  readonly inboundStore: InboundStore;
  flush(): Promise<void>;
  close(): Promise<void>;
}

async function openStores(storage: WebhookIntakeStorage, cipher: CustomerSealer | undefined): Promise<IntakeStores> {
  const sealed = (inboundStore: InboundStore) => (cipher ? new SealedInboundStore(inboundStore, cipher) : inboundStore);
  if (storage.kind === 'sqlite') {
    const store = new SqliteReceiptStore(storage.file);
    // Its own file next to receipt.sqlite: each file's migrations belong to one store.
    const inboundStore = new SqliteInboundStore(path.join(path.dirname(storage.file), 'receipt-inbound.sqlite'));
    return {
      store,
      inboundStore: sealed(inboundStore),
      flush: async () => {
        await inboundStore.checkpointWal();
        await store.checkpointWal();
      },
      close: async () => {
        await store.close();
        await inboundStore.close();
      },
    };
  }
  return {
    store: await MongoReceiptStore.open(storage.mongo),
    inboundStore: sealed(await MongoInboundStore.open(storage.mongo)),
    flush: async () => undefined,
    // The MongoDB connection is the caller's to close.
    close: async () => undefined,
  };
}

/** SENT events applied at once by `receipt-delivery-events`. */
const DELIVERY_EVENTS_CONCURRENCY = 64;

/** Room left in a JetStream message for the WebhookReceived envelope and the headers (trace context, message id). */
const QUEUED_MESSAGE_OVERHEAD_BYTES = 8 * 1024;

/** The largest webhook body one queued message can carry on this NATS server. */
function maxQueuedBodyBytes(nats: JetStreamConnection): number {
  return (nats.nc.info?.max_payload ?? 1024 * 1024) - QUEUED_MESSAGE_OVERHEAD_BYTES;
}

/**
 * Starts receipt's webhook intake: the webhook HTTP endpoint and its JetStream queue, the processor of queued bodies
 * (statuses, inbound messages with their media and service windows), the wamid index learnt from delivery-retry's
 * SENT events, and the InboundService gRPC API.
 */
export async function startWebhookIntake(options: StartWebhookIntakeOptions): Promise<RunningWebhookIntake> {
  const { config, tenants, region, nats, keyring, logger } = options;
  const clock = options.clock ?? systemClock;
  const forwarder = createHttpRegionForwarder({ urls: config.regionWebhookUrls, timeoutMs: config.regionForwardTimeoutMs });
  const unreachable = [...new Set(tenants.tenants.map((tenant) => tenant.homeRegion))].filter((r) => r !== region && !forwarder.has(r));
  if (unreachable.length > 0)
    logger.warn(
      { regions: unreachable },
      "WAYGATE_REGION_WEBHOOK_URLS has no URL for these tenants' regions: their template and account webhooks arriving here are dropped",
    );
  const stores = await openStores(options.storage, options.contentCipher);
  const subjects = regionSubjects(region);
  const streams = regionStreams(region);
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
    credentials: channelCredentials(options.internalTls),
  });

  const service = createReceiptService({
    store: stores.store,
    inboundStore: stores.inboundStore,
    publisher: createNatsResolvedStatusPublisher(nats.js, region, keyring),
    inboundPublisher: createNatsInboundPublisher(nats.js, region, keyring),
    templatePublisher: createNatsTemplateEventPublisher(nats.js, region),
    preferencePublisher: createNatsPreferencePublisher(nats.js, region, keyring),
    cloudApi,
    vault: mediaStore,
    tenants,
    region,
    clock,
    accountWebhooks: createAccountWebhooks({
      tenants,
      region,
      publisher: createNatsAccountEventPublisher(nats.js, region),
      metrics: createOtelAccountMetrics(),
      clock,
    }),
  });

  const deliveryEvents = await startConsumer(nats, {
    region,
    stream: streams.events.name,
    durable: 'receipt-delivery-events',
    filterSubject: subjects.deliveryEvents,
    // Learning a wamid is idempotent and independent of every other message's: SENT events are applied side by side
    // (their wamid index writes share a group commit), one message's in order (its trace; see traceOrderKey).
    concurrency: DELIVERY_EVENTS_CONCURRENCY,
    orderKey: traceOrderKey,
    keyring,
    logger,
    handle: createDeliveryEventsHandler(service, logger),
  });
  const webhooks = await startConsumer(nats, {
    region,
    stream: streams.webhooks.name,
    durable: 'receipt-webhooks',
    filterSubject: subjects.whatsappWebhooks,
    // A body with media may take several calls; the consumer reports progress meanwhile, so this only decides how soon
    // the bodies a crashed receipt was working on are picked up again.
    ackWaitMs: config.webhookAckWaitMs,
    // Several large media downloads may take minutes; each download has its own timeouts.
    handlerTimeoutMs: 30 * 60_000,
    maxDeliveries: config.webhookMaxDeliveries,
    // Bodies side by side, one message's in queue order (the key set at intake, `webhookOrderKey`); bodies without a key
    // (templates, account updates, several numbers) share one lane in queue order.
    concurrency: config.webhookConcurrency,
    orderKey: orderKeyHeader,
    // Bodies are sealed (below); one whose epoch key is gone (replayed after shredding) is acknowledged unread.
    keyring,
    logger,
    handle: createWebhooksHandler(
      service,
      logger,
      { baseDelayMs: config.webhookRetryBaseDelayMs, maxDelayMs: config.webhookRetryMaxDelayMs },
      { clock, metrics: createOtelWebhookMetrics() },
    ),
  });

  const shredder = startWebhookBodyShredder({
    nats,
    keyring,
    stream: streams.webhooks.name,
    durable: webhooks.durable,
    epochMs: config.webhookKeyEpochMs,
    clock,
    logger,
  });

  const maxBodyBytes = maxQueuedBodyBytes(nats);
  const app = createWebhookApp({
    tenants,
    region,
    logger,
    forwarder,
    // Meta retries identical bodies; the body hash as message id stores each once within the dedupe window. A body
    // larger than a JetStream message may be (Meta sends up to 3 MB, nats-server takes 1 MB by default) is queued as
    // several smaller webhooks; 200 only once every part is stored.
    queue: async (body, bodySha256, orderKey) => {
      const parts = splitWebhookBody(body, maxBodyBytes);
      if (parts.length > 1)
        logger.info({ bytes: body.length, parts: parts.length, body_sha256: bodySha256 }, 'large webhook queued in parts');
      for (const [index, part] of parts.entries()) {
        const receivedAt = clock.now();
        // Meta's raw bodies carry several customers: sealed under the epoch's key, shredded once processed.
        await publishSealedEvent(
          nats.js,
          subjects.whatsappWebhooks,
          WebhookReceived.encode({ body: Buffer.from(part), receivedAt }).finish(),
          parts.length === 1 ? `webhook:${bodySha256}` : `webhook:${bodySha256}:${index + 1}/${parts.length}`,
          { keyring, scope: webhookKeyScope(receivedAt, config.webhookKeyEpochMs) },
          // The order key (hashed ids only) rides in a header: the consumer reads it without opening the body.
          orderKey ? { [ORDER_KEY_HEADER]: orderKey } : {},
        );
      }
    },
  });
  const httpServer = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, app);
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.httpPort, config.httpHost, () => resolve());
  });
  const httpPort = (httpServer.address() as AddressInfo).port;

  return {
    consumers: [deliveryEvents.durable, webhooks.durable],
    grpcServices: [
      {
        name: SERVICE_NAMES.inbound,
        protoFile: SERVICE_PROTO_FILES.inbound,
        definition: InboundServiceService,
        implementation: createInboundHandler(createInboundApi({ inboundStore: stores.inboundStore, cloudApi, clock }), tenants, logger),
      },
    ],
    httpPort,
    customerData: { inboundStore: stores.inboundStore, receiptStore: stores.store, flush: () => stores.flush() },
    waitUntilWebhookBodiesShredded: (before, waitOptions) => shredder.waitUntilWebhookBodiesShredded(before, waitOptions),
    async closeEndpoint() {
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeIdleConnections();
      });
    },
    async stop() {
      await shredder.stop();
      await webhooks.stop();
      await deliveryEvents.stop();
      mediaStore.close();
      await stores.close();
    },
  };
}
