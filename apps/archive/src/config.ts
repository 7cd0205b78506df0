import path from 'node:path';
import { ConfigError, envSchemas, parseEnv, serviceEnvShape, toServiceConfig, type ServiceConfig } from '@waygate/config';
import { KeyEncryptionKeyConfigError, kekSourceFromEnv, type KekSource } from '@waygate/keyring';
import {
  LOG_SIGNING_KEY_FILE,
  LOG_SIGNING_KEY_VARIABLE,
  loadOrCreateLogSigningKey,
  logSigningKeyName,
  type LoadedLogSigningKey,
} from '@waygate/tlog';

export interface ArchiveConfig extends ServiceConfig {
  /**
   * WAYGATE_INTERNAL_SERVICE_TOKEN: the only credential of the archive's DeadLetterAdminService. Behind a function, so
   * that logging the configuration never prints it.
   */
  readonly internalServiceToken: () => string;
  /** WAYGATE_ARCHIVE_RETENTION_SWEEP_INTERVAL_MS: how often the retention sweeper runs (issue 14; also once at start). */
  readonly retentionSweepIntervalMs: number;
  /**
   * The region's KEKs (WAYGATE_KEYRING_KEK or _FILE; on SQLite without them, the region's local development key file):
   * the keyring seals message content at rest under each customer's data key and opens the sealed events (issue 14).
   */
  readonly kek: KekSource;
  /**
   * The region's Ed25519 log signing key (libs/tlog), loaded on first call and kept: WAYGATE_LOG_SIGNING_KEY, else on
   * SQLite the region's key file next to the archive's file (created on first start). Behind a function, so that
   * logging the configuration never prints it, and one key object serves every signer of the archive.
   */
  readonly logSigningKey: () => LoadedLogSigningKey;
}

/** Default retention sweep interval: hourly (records are kept for days or years; an hour late is nothing). */
export const DEFAULT_RETENTION_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

export const DEFAULT_GRPC_PORT = 50054;

/** Reads and validates the archive's configuration once, at startup. */
export function loadArchiveConfig(env: NodeJS.ProcessEnv = process.env): ArchiveConfig {
  const parsed = parseEnv(
    {
      ...serviceEnvShape(DEFAULT_GRPC_PORT),
      WAYGATE_INTERNAL_SERVICE_TOKEN: envSchemas.internalServiceToken(
        'the region-internal service token, the only credential of the dead-letter admin API',
      ),
      WAYGATE_ARCHIVE_RETENTION_SWEEP_INTERVAL_MS: envSchemas.durationMs(DEFAULT_RETENTION_SWEEP_INTERVAL_MS),
    },
    env,
  );
  const token = parsed.WAYGATE_INTERNAL_SERVICE_TOKEN;
  const base = toServiceConfig('archive', parsed, env);
  const signingKeySetting = env[LOG_SIGNING_KEY_VARIABLE];
  let signingKey: LoadedLogSigningKey | undefined;
  const logSigningKey = () =>
    (signingKey ??= loadOrCreateLogSigningKey({
      env: { [LOG_SIGNING_KEY_VARIABLE]: signingKeySetting },
      keyName: logSigningKeyName(base.region),
      ...(base.storage.kind === 'sqlite' ? { localKeyFile: path.join(path.dirname(base.storage.file), LOG_SIGNING_KEY_FILE) } : {}),
    }));
  let kek: KekSource;
  try {
    kek = kekSourceFromEnv(
      env,
      base.storage.kind === 'sqlite' ? path.join(path.dirname(base.storage.file), 'keyring.kek') : undefined,
      'when WAYGATE_STORAGE=mongodb (message content is sealed at rest and arrives sealed under the region keyring)',
    );
  } catch (error) {
    if (error instanceof KeyEncryptionKeyConfigError) throw new ConfigError([error.message]);
    throw error;
  }
  return {
    ...base,
    internalServiceToken: () => token,
    logSigningKey,
    kek,
    retentionSweepIntervalMs: parsed.WAYGATE_ARCHIVE_RETENTION_SWEEP_INTERVAL_MS,
  };
}
