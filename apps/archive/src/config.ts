import path from 'node:path';
import { envSchemas, parseEnv, serviceEnvShape, toServiceConfig, type ServiceConfig } from '@waygate/config';
import { kekSourceFromEnv, type KekSource } from '@waygate/keyring';

export interface ArchiveConfig extends ServiceConfig {
  /**
   * WAYGATE_INTERNAL_SERVICE_TOKEN: the only credential of the archive's DeadLetterAdminService. Behind a function, so
   * that logging the configuration never prints it.
   */
  readonly internalServiceToken: () => string;
  /** The region's KEKs: accepted and inbound messages arrive sealed under the customer's key (region keyring). */
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
  const kek = kekSourceFromEnv(
    env,
    base.storage.kind === 'sqlite' ? path.join(path.dirname(base.storage.file), 'keyring.kek') : undefined,
    'when WAYGATE_STORAGE=mongodb (accepted and inbound messages arrive sealed under the region keyring)',
  );
  return { ...base, internalServiceToken: () => token, kek };
}
