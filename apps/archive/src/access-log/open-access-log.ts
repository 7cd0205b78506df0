import { createHmac } from 'node:crypto';
import path from 'node:path';
import type { ServerInterceptor } from '@grpc/grpc-js';
import { systemClock } from '@waygate/domain';
import type { GovernanceServiceServer } from '@waygate/proto';
import { connectMongo } from '@waygate/storage';
import type { Logger } from '@waygate/telemetry';
import type { TenantDirectory } from '@waygate/tenancy';
import { signCheckpoint } from '@waygate/tlog';
import type { ArchiveConfig } from '../config';
import { createAccessLogHandler } from '../governance/access-log.handler';
import { ACCESS_LOGGED_SERVICES, type CustomerPseudonym } from './access-log-actions';
import { createAccessLogInterceptor } from './access-log.interceptor';
import { MongoAccessLogStore } from './adapters/mongo-access-log-store';
import { SqliteAccessLogStore } from './adapters/sqlite-access-log-store';
import { createAccessLog, type AccessLog } from './domain/access-log-service';
import type { AccessLogStore } from './domain/access-log-store';

/** The access log's SQLite file, next to the archive's. */
export const ACCESS_LOG_FILE = 'access-log.sqlite';

/** The checkpoint origin of a tenant's access log: `waygate/<region>/access/<tenant id>`. */
export function accessLogOrigin(region: string, tenantId: string): string {
  return `waygate/${region}/access/${tenantId}`;
}

/** The access log as the archive runs it: the interceptor for its gRPC server, ListAccessLog, and its store. */
export interface OpenedAccessLog {
  readonly accessLog: AccessLog;
  readonly interceptor: ServerInterceptor;
  readonly handler: Pick<GovernanceServiceServer, 'listAccessLog'>;
  close(): Promise<void>;
}

async function openStore(config: ArchiveConfig): Promise<{ store: AccessLogStore; close: () => Promise<void> }> {
  if (config.storage.kind === 'sqlite') {
    const store = new SqliteAccessLogStore(path.join(path.dirname(config.storage.file), ACCESS_LOG_FILE));
    return { store, close: () => store.close() };
  }
  // Its own client of the archive's database: the access log opens and closes apart from the archive's store.
  const mongo = await connectMongo(config.storage.uri, config.storage.database);
  return { store: await MongoAccessLogStore.open(mongo), close: () => mongo.client.close() };
}

/**
 * A customer's pseudonym in the access log: HMAC-SHA256 of the number under the tenant's pseudonym key (kept by the
 * store, created on first use), 32 hex digits; the same customer always gets the same pseudonym within a tenant.
 */
function pseudonyms(store: AccessLogStore): (tenantId: string) => CustomerPseudonym {
  const keys = new Map<string, Promise<Buffer>>();
  return (tenantId) => async (customer) => {
    let key = keys.get(tenantId);
    if (!key) {
      key = store.pseudonymKey(tenantId);
      keys.set(tenantId, key);
      key.catch(() => keys.delete(tenantId));
    }
    return createHmac('sha256', await key)
      .update(`customer:${customer}`, 'utf8')
      .digest('hex')
      .slice(0, 32);
  };
}

/**
 * Opens the access log (SQLite: `<data dir>/<region>/access-log.sqlite`; MongoDB: `access_log` in the archive's
 * database) and builds what the archive's gRPC server needs of it. Checkpoints are signed by the region's log key.
 */
export async function openAccessLog(
  config: ArchiveConfig,
  deps: {
    tenants: TenantDirectory;
    logger: Logger;
    /**
     * The region keyring's customer pseudonym (`keyring.customerRef`), when the archive has the keyring: then the access
     * log names customers as every other part of Waygate does. Without it, the access log's own HMAC (see pseudonyms).
     */
    customerRef?: (tenantId: string, customer: string) => Promise<string>;
  },
): Promise<OpenedAccessLog> {
  const { signer } = config.logSigningKey();
  const { customerRef } = deps;
  const { store, close } = await openStore(config);
  const accessLog = createAccessLog({
    store,
    signCheckpoint: (tenantId, size, rootHash) =>
      signCheckpoint({ origin: accessLogOrigin(config.region, tenantId), treeSize: size, rootHash }, signer),
  });
  const interceptor = createAccessLogInterceptor({
    record: (entry) => accessLog.record(entry),
    tenants: deps.tenants,
    pseudonymOf: customerRef ? (tenantId) => (customer) => customerRef(tenantId, customer) : pseudonyms(store),
    services: ACCESS_LOGGED_SERVICES,
    clock: systemClock,
    logger: deps.logger,
  });
  return {
    accessLog,
    interceptor,
    handler: createAccessLogHandler({ accessLog, tenants: deps.tenants, logger: deps.logger }),
    close,
  };
}
