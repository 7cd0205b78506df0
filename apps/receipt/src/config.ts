import { envSchemas, parseEnv, serviceEnvShape, toServiceConfig, type ServiceConfig } from '@waygate/config';

export interface ReceiptConfig extends ServiceConfig {
  readonly httpHost: string;
  readonly httpPort: number;
}

export const DEFAULT_GRPC_PORT = 50052;
export const DEFAULT_HTTP_PORT = 8080;

/** Reads and validates receipt's configuration once, at startup. */
export function loadReceiptConfig(env: NodeJS.ProcessEnv = process.env): ReceiptConfig {
  const parsed = parseEnv(
    { ...serviceEnvShape(DEFAULT_GRPC_PORT), WAYGATE_HTTP_HOST: envSchemas.host, WAYGATE_HTTP_PORT: envSchemas.port(DEFAULT_HTTP_PORT) },
    env,
  );
  return { ...toServiceConfig('receipt', parsed, env), httpHost: parsed.WAYGATE_HTTP_HOST, httpPort: parsed.WAYGATE_HTTP_PORT };
}
