import { envSchemas, parseEnv, serviceEnvShape, toServiceConfig, type ServiceConfig } from '@waygate/config';

export interface IngressConfig extends ServiceConfig {
  /** How often the outbox relay looks for messages whose hand-off to JetStream failed. */
  readonly outboxIntervalMs: number;
}

export const DEFAULT_GRPC_PORT = 50051;

/** Reads and validates ingress's configuration once, at startup. */
export function loadIngressConfig(env: NodeJS.ProcessEnv = process.env): IngressConfig {
  const parsed = parseEnv({ ...serviceEnvShape(DEFAULT_GRPC_PORT), WAYGATE_OUTBOX_INTERVAL_MS: envSchemas.durationMs(5000) }, env);
  return { ...toServiceConfig('ingress', parsed, env), outboxIntervalMs: parsed.WAYGATE_OUTBOX_INTERVAL_MS };
}
