import { parseEnv, serviceEnvShape, toServiceConfig, type ServiceConfig } from '@waygate/config';

export type ArchiveConfig = ServiceConfig;

export const DEFAULT_GRPC_PORT = 50054;

/** Reads and validates the archive's configuration once, at startup. */
export function loadArchiveConfig(env: NodeJS.ProcessEnv = process.env): ArchiveConfig {
  return toServiceConfig('archive', parseEnv(serviceEnvShape(DEFAULT_GRPC_PORT), env), env);
}
