import path from 'node:path';
import { ConfigError, envSchemas, parseEnv, serviceEnvShape, toServiceConfig, type ServiceConfig } from '@waygate/config';
import { KeyEncryptionKeyConfigError, kekSourceFromEnv, type KekSource } from '@waygate/keyring';

export interface ArchiveConfig extends ServiceConfig {
  /**
   * WAYGATE_INTERNAL_SERVICE_TOKEN: the only credential of the archive's DeadLetterAdminService. Behind a function, so
   * that logging the configuration never prints it.
   */
  readonly internalServiceToken: () => string;
  /**
   * The region's KEKs (WAYGATE_KEYRING_KEK or _FILE; on SQLite without them, the region's local development key file):
   * the keyring seals message content at rest under each customer's data key (issue 14).
   */
  readonly kek: KekSource;
}

export const DEFAULT_GRPC_PORT = 50054;

/** Reads and validates the archive's configuration once, at startup. */
export function loadArchiveConfig(env: NodeJS.ProcessEnv = process.env): ArchiveConfig {
  const parsed = parseEnv(
    {
      ...serviceEnvShape(DEFAULT_GRPC_PORT),
      WAYGATE_INTERNAL_SERVICE_TOKEN: envSchemas.internalServiceToken(
        'the region-internal service token, the only credential of the dead-letter admin API',
      ),
    },
    env,
  );
  const token = parsed.WAYGATE_INTERNAL_SERVICE_TOKEN;
  const base = toServiceConfig('archive', parsed, env);
  let kek: KekSource;
  try {
    kek = kekSourceFromEnv(
      env,
      base.storage.kind === 'sqlite' ? path.join(path.dirname(base.storage.file), 'keyring.kek') : undefined,
      'when WAYGATE_STORAGE=mongodb (message content is sealed at rest under the region keyring)',
    );
  } catch (error) {
    if (error instanceof KeyEncryptionKeyConfigError) throw new ConfigError([error.message]);
    throw error;
  }
  return { ...base, internalServiceToken: () => token, kek };
}
