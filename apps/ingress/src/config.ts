import { commonEnvShape, envSchemas, parseEnv, parseStorageConfig, type StorageConfig } from '@waygate/config';

export interface IngressConfig {
  readonly region: 'eu' | 'us';
  readonly natsUrl: string;
  readonly tenantsFile: string;
  readonly logLevel: string;
  readonly grpcHost: string;
  readonly grpcPort: number;
  readonly storage: StorageConfig;
  /** How often the outbox relay looks for messages whose hand-off to JetStream failed. */
  readonly outboxIntervalMs: number;
}

export const DEFAULT_GRPC_PORT = 50051;

/** Reads and validates ingress's configuration once, at startup. */
export function loadIngressConfig(env: NodeJS.ProcessEnv = process.env): IngressConfig {
  const parsed = parseEnv(
    { ...commonEnvShape, WAYGATE_GRPC_PORT: envSchemas.port(DEFAULT_GRPC_PORT), WAYGATE_OUTBOX_INTERVAL_MS: envSchemas.durationMs(5000) },
    env,
  );
  return {
    region: parsed.WAYGATE_REGION,
    natsUrl: parsed.WAYGATE_NATS_URL,
    tenantsFile: parsed.WAYGATE_TENANTS_FILE,
    logLevel: parsed.WAYGATE_LOG_LEVEL,
    grpcHost: parsed.WAYGATE_GRPC_HOST,
    grpcPort: parsed.WAYGATE_GRPC_PORT,
    storage: parseStorageConfig('ingress', parsed.WAYGATE_REGION, env),
    outboxIntervalMs: parsed.WAYGATE_OUTBOX_INTERVAL_MS,
  };
}
