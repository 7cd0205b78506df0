import path from 'node:path';
import type { StorageConfig } from '@waygate/config';
import type { Clock } from '@waygate/domain';
import { CUSTOMER_DATA_SERVICES, requestCustomerExport } from '@waygate/governance';
import type { Keyring } from '@waygate/keyring';
import { regionStreams, regionSubjects, startConsumer, type JetStreamConnection, type RunningConsumer } from '@waygate/nats';
import { connectMongo } from '@waygate/storage';
import type { Logger } from '@waygate/telemetry';
import type { TenantDirectory } from '@waygate/tenancy';
import { MongoErasureStore } from '../adapters/mongo-erasure-store';
import { SqliteErasureStore } from '../adapters/sqlite-erasure-store';
import { customerExportBundle } from './customer-export';
import type { ErasureStore } from './domain/erasure';
import { createErasureCoordinator, type ErasureCoordinator, type LegalHoldChecker } from './erasure-coordinator';
import { createErasureCompletionsHandler, ERASURE_COMPLETIONS_DURABLE, erasureRequestPublisher } from './erasure-events';
import { createErasureHandler } from './erasure.handler';
import type { BundleChunk } from '../export/domain/file-chunker';

/** The erasure store on the archive's storage: SQLite `archive-erasures.sqlite` beside the archive's file. */
async function openErasureStore(storage: StorageConfig): Promise<{ store: ErasureStore; close: () => Promise<void> }> {
  if (storage.kind === 'sqlite') {
    const store = new SqliteErasureStore(path.join(path.dirname(storage.file), 'archive-erasures.sqlite'));
    return { store, close: () => store.close() };
  }
  const mongo = await connectMongo(storage.uri, storage.database);
  try {
    const store = await MongoErasureStore.open(mongo);
    return { store, close: () => mongo.client.close() };
  } catch (error) {
    await mongo.client.close();
    throw error;
  }
}

export interface ErasurePartDeps {
  readonly nats: JetStreamConnection;
  readonly region: string;
  readonly keyring: Keyring;
  readonly storage: StorageConfig;
  readonly holds: LegalHoldChecker;
  /** Signs a receipt text as a C2SP signed note with the region's log key. */
  readonly signReceipt: (text: string) => string;
  readonly tenants: TenantDirectory;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The running erasure part of the archive: its gRPC methods, the completions consumer, and the coordinator. */
export interface RunningErasurePart {
  readonly handler: ReturnType<typeof createErasureHandler>;
  readonly coordinator: ErasureCoordinator;
  readonly consumer: RunningConsumer;
  /** ExportCustomerData's bundle, as the handler streams it. */
  readonly exportBundle: (tenantId: string, customer: string) => AsyncGenerator<BundleChunk>;
  /** Closes the erasure store; stop `consumer` first (the archive stops it with its other consumers). */
  close(): Promise<void>;
  /** Stops the consumer, then closes the store. */
  stop(): Promise<void>;
}

/**
 * Starts the archive's erasure coordination (issue 14): the erasure store, the coordinator, the consumer of the
 * services' ErasurePartCompleted (durable `archive-erasure-completions`), the re-drive of erasures left in progress
 * by a restart, and EraseCustomer / GetErasureStatus / ExportCustomerData.
 */
export async function startErasurePart(deps: ErasurePartDeps): Promise<RunningErasurePart> {
  const { store, close } = await openErasureStore(deps.storage);
  try {
    const coordinator = createErasureCoordinator({
      store,
      keyring: deps.keyring,
      holds: deps.holds,
      publishRequested: erasureRequestPublisher(deps.nats, deps.region),
      signReceipt: deps.signReceipt,
      clock: deps.clock,
      logger: deps.logger,
    });
    const consumer = await startConsumer(deps.nats, {
      region: deps.region,
      stream: regionStreams(deps.region).governance.name,
      durable: ERASURE_COMPLETIONS_DURABLE,
      filterSubject: regionSubjects(deps.region).erasureCompleted,
      logger: deps.logger,
      handle: createErasureCompletionsHandler(coordinator, deps.logger),
    });
    // In the background: a failure here is retried by the next start or the next EraseCustomer for that customer.
    void coordinator
      .resume()
      .then((count) => count > 0 && deps.logger.info({ erasures: count }, 'erasures in progress driven on'))
      .catch((error: unknown) => deps.logger.warn({ err: error }, 'erasures in progress could not be driven on'));
    const exportBundle = (tenantId: string, customer: string) =>
      customerExportBundle(
        {
          keyring: deps.keyring,
          clock: deps.clock,
          services: CUSTOMER_DATA_SERVICES,
          fetchPart: (request) => requestCustomerExport({ nats: deps.nats, region: deps.region, ...request }),
        },
        tenantId,
        customer,
      );
    const handler = createErasureHandler({ coordinator, tenants: deps.tenants, logger: deps.logger, exportBundle });
    return {
      handler,
      coordinator,
      consumer,
      exportBundle,
      close,
      async stop() {
        await consumer.stop();
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}
