import { hostname } from 'node:os';
import path from 'node:path';
import { KeyEncryptionKeyConfigError, kekSourceFromEnv, type KekSource } from '@waygate/keyring';
import { z } from 'zod';
import {
  ConfigError,
  envSchemas,
  parseEnv,
  serviceEnvShape,
  toServiceConfig,
  type ServiceConfig,
  toWhatsAppApiConfig,
  whatsappApiEnvShape,
  type WhatsAppApiConfig,
} from '@waygate/config';
import { DEFAULT_META_MEDIA_REUSE_MS, META_MEDIA_RETENTION_MS } from './domain/media-resolver';
import { DEFAULT_GOVERNOR_SETTINGS, type GovernorSettings } from './domain/throughput-governor';

export interface DeliveryRetryConfig extends ServiceConfig, WhatsAppApiConfig {
  /** Attempts in flight at once in this replica. */
  readonly concurrency: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  /** How often an idle replica looks for due deliveries. */
  readonly pollIntervalMs: number;
  /** This replica's name in leases (unique per replica). */
  readonly replicaId: string;
  readonly governor: GovernorSettings;
  /** How long a delivery whose call a crash interrupted waits for webhook evidence before it is sent again. */
  readonly reconcileGraceMs: number;
  /**
   * Speed of delivery-retry's clock relative to real time: 1 in production; larger in tests and demos so that
   * 30-day validities and 24-hour waits pass in seconds (match the simulator's time scale).
   */
  readonly timeScale: number;
  /** When the scaled clock agrees with real time (epoch ms); shared by all processes of a test run. */
  readonly timeEpochMs: number;
  /**
   * WAYGATE_INTERNAL_SERVICE_TOKEN: the only credential the admin API (DeliveryAdminService) accepts, so that only
   * services of the region (ingress) call it. Behind a function, so that the configuration never prints it.
   */
  readonly internalServiceToken: () => string;
  /**
   * The region's KEKs: authentication codes arrive sealed under the region keyring and are opened at send time.
   * Required with MongoDB; on SQLite the region's local key file (shared with ingress and media-store) when unset.
   */
  readonly kek: KekSource;
  /** media-store's gRPC address (host:port): the blobs of media sent by media-store id are read there. */
  readonly mediaStoreAddress: string;
  /** How long an uploaded media id is reused before the blob is uploaded again (Meta keeps it 30 days). */
  readonly metaMediaReuseMs: number;
}

export const DEFAULT_GRPC_PORT = 50055;

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Reads and validates delivery-retry's configuration once, at startup. */
export function loadDeliveryRetryConfig(env: NodeJS.ProcessEnv = process.env): DeliveryRetryConfig {
  const parsed = parseEnv(
    {
      ...serviceEnvShape(DEFAULT_GRPC_PORT),
      ...whatsappApiEnvShape,
      WAYGATE_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(64),
      WAYGATE_RETRY_BASE_DELAY_MS: envSchemas.durationMs(1_000),
      WAYGATE_RETRY_MAX_DELAY_MS: envSchemas.durationMs(5 * 60_000),
      WAYGATE_DELIVERY_POLL_INTERVAL_MS: envSchemas.durationMs(250),
      WAYGATE_DELIVERY_REPLICA_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
      WAYGATE_THROUGHPUT_SAFETY_FACTOR: z.coerce.number().gt(0).max(1).default(DEFAULT_GOVERNOR_SETTINGS.throughputSafetyFactor),
      WAYGATE_PAIR_RATE_INTERVAL_MS: envSchemas.durationMs(DEFAULT_GOVERNOR_SETTINGS.pairIntervalMs),
      WAYGATE_PAIR_RATE_BURST: positiveInt(DEFAULT_GOVERNOR_SETTINGS.pairBurst),
      WAYGATE_BREAKER_FAILURE_THRESHOLD: positiveInt(DEFAULT_GOVERNOR_SETTINGS.breakerFailureThreshold),
      WAYGATE_BREAKER_COOLDOWN_MS: envSchemas.durationMs(DEFAULT_GOVERNOR_SETTINGS.breakerCooldownMs),
      WAYGATE_BREAKER_MAX_COOLDOWN_MS: envSchemas.durationMs(DEFAULT_GOVERNOR_SETTINGS.breakerMaxCooldownMs),
      WAYGATE_DELIVERY_RECONCILE_GRACE_MS: envSchemas.durationMs(2 * 60_000),
      WAYGATE_TIME_SCALE: z.coerce.number().min(1).max(1_000_000).default(1),
      WAYGATE_TIME_EPOCH_MS: z.coerce.number().int().nonnegative().default(Date.now()),
      WAYGATE_INTERNAL_SERVICE_TOKEN: envSchemas.internalServiceToken(
        'the region-internal service token, the only credential the admin API accepts (and media-store accepts from it)',
      ),
      WAYGATE_MEDIA_STORE_ADDRESS: z
        .string()
        .regex(/^[^\s/:]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:50053')
        .default('127.0.0.1:50053'),
      // Below Meta's 30 days, so a send never names an id that expires on its way.
      WAYGATE_META_MEDIA_REUSE_MS: z.coerce
        .number()
        .int()
        .min(60_000)
        .max(META_MEDIA_RETENTION_MS - 60 * 60_000)
        .default(DEFAULT_META_MEDIA_REUSE_MS),
    },
    env,
  );
  const retryBaseDelayMs = parsed.WAYGATE_RETRY_BASE_DELAY_MS;
  const retryMaxDelayMs = parsed.WAYGATE_RETRY_MAX_DELAY_MS;
  if (retryMaxDelayMs < retryBaseDelayMs) {
    throw new Error('invalid configuration:\n  - WAYGATE_RETRY_MAX_DELAY_MS: must not be less than WAYGATE_RETRY_BASE_DELAY_MS');
  }
  const token = parsed.WAYGATE_INTERNAL_SERVICE_TOKEN;
  const base = toServiceConfig('delivery-retry', parsed, env);
  let kek: KekSource;
  try {
    kek = kekSourceFromEnv(
      env,
      base.storage.kind === 'sqlite' ? path.join(path.dirname(base.storage.file), 'keyring.kek') : undefined,
      'when WAYGATE_STORAGE=mongodb (authentication codes are opened with the region keyring)',
    );
  } catch (error) {
    if (error instanceof KeyEncryptionKeyConfigError) throw new ConfigError([error.message]);
    throw error;
  }
  return {
    ...base,
    kek,
    internalServiceToken: () => token,
    ...toWhatsAppApiConfig(parsed),
    concurrency: parsed.WAYGATE_DELIVERY_CONCURRENCY,
    retryBaseDelayMs,
    retryMaxDelayMs,
    pollIntervalMs: parsed.WAYGATE_DELIVERY_POLL_INTERVAL_MS,
    replicaId: parsed.WAYGATE_DELIVERY_REPLICA_ID,
    reconcileGraceMs: parsed.WAYGATE_DELIVERY_RECONCILE_GRACE_MS,
    mediaStoreAddress: parsed.WAYGATE_MEDIA_STORE_ADDRESS,
    metaMediaReuseMs: parsed.WAYGATE_META_MEDIA_REUSE_MS,
    timeScale: parsed.WAYGATE_TIME_SCALE,
    timeEpochMs: parsed.WAYGATE_TIME_EPOCH_MS,
    governor: {
      ...DEFAULT_GOVERNOR_SETTINGS,
      throughputSafetyFactor: parsed.WAYGATE_THROUGHPUT_SAFETY_FACTOR,
      pairIntervalMs: parsed.WAYGATE_PAIR_RATE_INTERVAL_MS,
      pairBurst: parsed.WAYGATE_PAIR_RATE_BURST,
      breakerFailureThreshold: parsed.WAYGATE_BREAKER_FAILURE_THRESHOLD,
      breakerCooldownMs: parsed.WAYGATE_BREAKER_COOLDOWN_MS,
      breakerMaxCooldownMs: parsed.WAYGATE_BREAKER_MAX_COOLDOWN_MS,
    },
  };
}
