import { commonEnvShape, envSchemas, parseEnv, parseStorageConfig, type StorageConfig } from '@waygate/config';

export interface ArchiveConfig {
  readonly region: 'eu' | 'us';
  readonly natsUrl: string;
  readonly tenantsFile: string;
  readonly logLevel: string;
  readonly grpcHost: string;
  readonly grpcPort: number;
  readonly storage: StorageConfig;
}

export const DEFAULT_GRPC_PORT = 50054;

/** Reads and validates the archive's configuration once, at startup. */
export function loadArchiveConfig(env: NodeJS.ProcessEnv = process.env): ArchiveConfig {
  const parsed = parseEnv({ ...commonEnvShape, WAYGATE_GRPC_PORT: envSchemas.port(DEFAULT_GRPC_PORT) }, env);
  return {
    region: parsed.WAYGATE_REGION,
    natsUrl: parsed.WAYGATE_NATS_URL,
    tenantsFile: parsed.WAYGATE_TENANTS_FILE,
    logLevel: parsed.WAYGATE_LOG_LEVEL,
    grpcHost: parsed.WAYGATE_GRPC_HOST,
    grpcPort: parsed.WAYGATE_GRPC_PORT,
    storage: parseStorageConfig('archive', parsed.WAYGATE_REGION, env),
  };
}
