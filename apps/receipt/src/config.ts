import { commonEnvShape, envSchemas, parseEnv, parseStorageConfig, type StorageConfig } from '@waygate/config';

export interface ReceiptConfig {
  readonly region: 'eu' | 'us';
  readonly natsUrl: string;
  readonly tenantsFile: string;
  readonly logLevel: string;
  readonly grpcHost: string;
  readonly grpcPort: number;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly storage: StorageConfig;
}

export const DEFAULT_GRPC_PORT = 50052;
export const DEFAULT_HTTP_PORT = 8080;

/** Reads and validates receipt's configuration once, at startup. */
export function loadReceiptConfig(env: NodeJS.ProcessEnv = process.env): ReceiptConfig {
  const parsed = parseEnv(
    {
      ...commonEnvShape,
      WAYGATE_GRPC_PORT: envSchemas.port(DEFAULT_GRPC_PORT),
      WAYGATE_HTTP_HOST: envSchemas.host,
      WAYGATE_HTTP_PORT: envSchemas.port(DEFAULT_HTTP_PORT),
    },
    env,
  );
  return {
    region: parsed.WAYGATE_REGION,
    natsUrl: parsed.WAYGATE_NATS_URL,
    tenantsFile: parsed.WAYGATE_TENANTS_FILE,
    logLevel: parsed.WAYGATE_LOG_LEVEL,
    grpcHost: parsed.WAYGATE_GRPC_HOST,
    grpcPort: parsed.WAYGATE_GRPC_PORT,
    httpHost: parsed.WAYGATE_HTTP_HOST,
    httpPort: parsed.WAYGATE_HTTP_PORT,
    storage: parseStorageConfig('receipt', parsed.WAYGATE_REGION, env),
  };
}
