import { hkdfSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { systemClock, type Clock } from '@waygate/domain';
import { startGrpcServer, type ServedService } from '@waygate/grpc';
import { createKeyring, JetStreamWrappedKeyStore, loadOrCreateKeyFile, toKeyEncryptionKey, type KeyEncryptionKeys } from '@waygate/keyring';
import { startCustomerDataParticipant } from '@waygate/governance';
import { connectJetStream, ensureRegionStreams } from '@waygate/nats';
import { MediaAdminServiceService, MediaServiceService, SERVICE_NAMES, SERVICE_PROTO_FILES } from '@waygate/proto';
import { connectMongo } from '@waygate/storage';
import { loadTenantsFile, startTenantsFileReloader } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { StartedService } from '@waygate/telemetry-sdk';
import { FileMediaVaultStore } from './adapters/file-media-vault-store';
import { createFileTypeSniffer } from './adapters/file-type-sniffer';

import { MongoMediaVaultStore } from './adapters/mongo-media-vault-store';
import { KEK_FILE_HINT, type KekSource, type MediaStoreConfig } from './config';
import { signedDownloadPath } from './domain/download-url';
import { createMediaCustomerData } from './domain/media-customer-data';
import { createMediaMetrics, type MediaMetrics } from './domain/media-metrics';
import { createMediaVault } from './domain/media-vault';
import { createOrphanReaper, type ReapReport } from './domain/orphan-reaper';
import type { MediaVaultStore } from './domain/media-vault-store';
import { MAX_PUT_MEDIA_BYTES } from './domain/upload-request';
import { startDownloadServer } from './handlers/download.http';
import { createMediaAdminHandler } from './handlers/media-admin.handler';
import { createMediaHandler } from './handlers/media.handler';

/** A 5 MiB PutMedia blob plus the request's other fields and protobuf framing; anything larger grpc-js refuses up front. */
export const MAX_GRPC_MESSAGE_BYTES = MAX_PUT_MEDIA_BYTES + 1024 * 1024;

async function openVaultStore(config: MediaStoreConfig): Promise<{ store: MediaVaultStore; close: () => Promise<void> }> {
  if (config.storage.kind === 'sqlite') {
    const store = new FileMediaVaultStore(config.storage.file, config.blobDir);
    return { store, close: () => store.close() };
  }
  const mongo = await connectMongo(config.storage.uri, config.storage.database);
  const store = await MongoMediaVaultStore.open(mongo);
  return { store, close: () => mongo.client.close() };
}

/** The KEKs from the configuration, or (local development) the generated key file; logs where, never a key. */
function resolveKeks(source: KekSource, logger: Logger): KeyEncryptionKeys {
  if (source.kind === 'configured') return source.keys();
  const { key, created, permissionsTooOpen } = loadOrCreateKeyFile(source.file);
  logger.warn({ key_file: source.file, created }, KEK_FILE_HINT);
  if (permissionsTooOpen) logger.warn({ key_file: source.file }, 'key-encryption key file is readable by other users; chmod 600 it');
  return { active: toKeyEncryptionKey(key), retired: [] };
}

/** Release 1's media key, if configured or left in the data dir; undefined when there is none (fresh install). */
function resolveLegacyKey(source: MediaStoreConfig['legacyMediaKey']): Buffer | undefined {
  if (source.kind === 'environment') return source.key();
  if (!existsSync(source.file)) return undefined;
  return loadOrCreateKeyFile(source.file).key; // exists: read (and checked), never created here
}

/** The download-URL signing secrets, derived from the KEKs (so every replica of the region agrees without another secret). */
function urlSecrets(keks: KeyEncryptionKeys): Buffer[] {
  return [keks.active, ...keks.retired].map((kek) =>
    Buffer.from(hkdfSync('sha256', kek.key(), Buffer.alloc(0), 'waygate.media.download-url.v1', 32)),
  );
}

/**
 * Runs the orphan reaper once now (in the background: listing a large store must not hold up serving) and every
 * `orphanIntervalMs`, at most one pass at a time in this process, each logged as one line of counts. `stop` ends a
 * running pass early and waits for it.
 */
function startOrphanReaping(deps: {
  store: MediaVaultStore;
  metrics: MediaMetrics;
  config: Pick<MediaStoreConfig, 'orphanGraceMs' | 'orphanIntervalMs'>;
  logger: Logger;
}): { reapNow: () => Promise<ReapReport>; stop: () => Promise<void> } {
  const { metrics, config } = deps;
  // The real clock, not the injected one: the grace is measured against file times and GridFS upload dates, which
  // the real clock wrote. A test clock moved a year ahead (retention) must not make a running upload look old.
  const reaper = createOrphanReaper({ store: deps.store, clock: systemClock, metrics, graceMs: config.orphanGraceMs });
  const logger = deps.logger.child({ component: 'orphan-reaper' });
  const stopping = new AbortController();
  const reapNow = async () => {
    const report = await reaper.reap(stopping.signal);
    // One line per pass, counts only: no blob id, tenant, customer or file name.
    const fields = {
      scanned: report.scanned,
      young: report.young,
      referenced: report.referenced,
      reaped_unreferenced_files: report.reaped.unreferenced.files,
      reaped_unreferenced_bytes: report.reaped.unreferenced.bytes,
      reaped_partial_files: report.reaped.partial_upload.files,
      reaped_partial_bytes: report.reaped.partial_upload.bytes,
      held: report.held,
      raced: report.raced,
      truncated: report.truncated,
      metadata_behind: report.metadataBehind,
      grace_ms: config.orphanGraceMs,
      duration_ms: report.durationMs,
    };
    if (report.metadataBehind)
      logger.warn(
        fields,
        'orphan reaper pass: the metadata is older than the blob store (restored from an older backup, or lost?); unreferenced blobs are kept — see "Orphan reaper" in apps/media-store/README.md',
      );
    else logger.info(fields, 'orphan reaper pass');
    return report;
  };
  let running: Promise<unknown> | undefined;
  const reapInBackground = () => {
    // A pass longer than the interval makes the next tick a no-op.
    running ??= reapNow()
      .catch((error: unknown) => {
        metrics.orphanPass('failed');
        // Name and code only: a file-system error's message names the blob's path.
        logger.error({ error: (error as Error).name, code: (error as NodeJS.ErrnoException).code }, 'orphan reaper pass failed');
      })
      .finally(() => (running = undefined));
  };
  const timer = setInterval(reapInBackground, config.orphanIntervalMs);
  timer.unref();
  reapInBackground();
  return {
    reapNow,
    stop: async () => {
      clearInterval(timer);
      stopping.abort();
      await running;
    },
  };
}

/**
 * Wires media-store: the regional keyring (JetStream key-value bucket, KEK), the vault store, the MediaService and
 * MediaAdminService gRPC APIs, the signed-download HTTP server, the retention sweeper and the orphan reaper.
 */
export async function startMediaStore(
  config: MediaStoreConfig,
  logger: Logger,
  options: { clock?: Clock } = {},
): Promise<StartedService & { grpcPort: number; httpPort: number; sweep: () => Promise<number>; reapOrphans: () => Promise<ReapReport> }> {
  const clock = options.clock ?? systemClock;
  const tenants = loadTenantsFile(config.tenantsFile);
  // Live: a changed tenants file (or SIGHUP) swaps the directory every lookup below goes through (retention too).
  const tenantsReloader = startTenantsFileReloader({ file: config.tenantsFile, directory: tenants, logger });
  const keks = resolveKeks(config.kek, logger);
  const legacyKey = resolveLegacyKey(config.legacyMediaKey);
  const cleanups: (() => Promise<void>)[] = [async () => tenantsReloader.close()];
  const closeAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => logger.error({ err: error }, 'stop step failed'));
  };
  try {
    const nats = await connectJetStream(config.natsUrl, 'media-store');
    cleanups.push(() => nats.nc.drain());
    const keyring = createKeyring({ store: await JetStreamWrappedKeyStore.open(nats.js, config.region), keks, clock });
    const storage = await openVaultStore(config);
    cleanups.push(() => storage.close());
    const metrics = createMediaMetrics();
    const vault = createMediaVault({
      store: storage.store,
      keys: keyring,
      sniffer: createFileTypeSniffer(),
      clock,
      metrics,
      defaultRetentionDays: config.retentionDays,
      ...(legacyKey ? { legacyKey } : {}),
    });
    const secrets = urlSecrets(keks);
    const http = await startDownloadServer({
      host: config.httpHost,
      port: config.httpPort,
      vault,
      tenants,
      secrets: () => secrets,
      clock,
      logger,
    });
    cleanups.push(() => http.close());
    const baseUrl = config.publicUrl ?? `http://${config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost}:${http.port}`;
    const signingSecret = secrets[0] as Buffer;

    const services: ServedService[] = [
      {
        name: SERVICE_NAMES.media,
        protoFile: SERVICE_PROTO_FILES.media,
        definition: MediaServiceService,
        implementation: createMediaHandler({
          vault,
          tenants,
          logger,
          clock,
          urls: { issue: (grant) => `${baseUrl}${signedDownloadPath(signingSecret, grant)}` },
        }),
        // receipt stores inbound media for the tenant with the region's service token; ingress checks media ids.
        access: 'tenant-or-service',
      },
    ];
    const token = config.internalServiceToken?.();
    if (token) {
      services.push({
        name: SERVICE_NAMES.mediaAdmin,
        protoFile: SERVICE_PROTO_FILES.mediaAdmin,
        definition: MediaAdminServiceService,
        implementation: createMediaAdminHandler({ keyring, internalServiceToken: token, logger }),
        access: 'internal',
      });
    }
    const grpc = await startGrpcServer({
      tls: config.tls.server,
      host: config.grpcHost,
      port: config.grpcPort,
      tenants,
      region: config.region,
      maxReceiveMessageBytes: MAX_GRPC_MESSAGE_BYTES,
      ...(token ? { internalServiceToken: token } : {}),
      services,
    });
    cleanups.push(() => grpc.shutdown());

    const sweep = async () => {
      const deleted = await vault.sweepExpired();
      if (deleted > 0) logger.info({ deleted }, 'expired media deleted');
      return deleted;
    };
    let sweeping: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      sweeping = sweep().catch((error: unknown) => logger.error({ err: error }, 'retention sweep failed'));
    }, config.sweepIntervalMs);
    timer.unref();
    cleanups.push(async () => {
      clearInterval(timer);
      await sweeping;
    });

    const reaping = startOrphanReaping({ store: storage.store, metrics, config, logger });
    cleanups.push(() => reaping.stop());

    // Erasure and export (issue 14): an erased customer's media ids and blob files are deleted.
    await ensureRegionStreams(nats.jsm, config.region, (warning) => logger.warn(warning));
    const governance = await startCustomerDataParticipant({
      nats,
      region: config.region,
      keyring,
      participant: createMediaCustomerData({ store: storage.store }),
      logger,
    });
    cleanups.push(() => governance.stop());

    logger.info(
      {
        port: grpc.port,
        http_port: http.port,
        region: config.region,
        storage: config.storage.kind,
        kek_source: config.kek.kind,
        kek_id: keks.active.id,
        release1_media_readable: legacyKey !== undefined,
        internal_service_auth: token !== undefined,
      },
      'media-store listening',
    );
    return {
      grpcPort: grpc.port,
      servingStatus: grpc.servingStatus,
      httpPort: http.port,
      sweep,
      reapOrphans: reaping.reapNow,
      stop: closeAll,
    };
  } catch (error) {
    // e.g. the port is taken: release what was opened rather than leave it behind a failed start.
    await closeAll();
    throw error;
  }
}
