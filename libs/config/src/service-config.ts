import type { z } from 'zod';
import { envSchemas, commonEnvShape } from './parse-config';
import { parseStorageConfig, type StorageConfig } from './storage-config';

/** What every service's configuration starts with. */
export interface ServiceConfig {
  readonly region: 'eu' | 'us';
  readonly natsUrl: string;
  readonly tenantsFile: string;
  readonly logLevel: string;
  readonly grpcHost: string;
  readonly grpcPort: number;
  readonly storage: StorageConfig;
}

/** The variables behind ServiceConfig, with the service's own default gRPC port; spread it into a service's shape. */
export function serviceEnvShape(defaultGrpcPort: number) {
  return { ...commonEnvShape, WAYGATE_GRPC_PORT: envSchemas.port(defaultGrpcPort) } as const;
}

/** Parsed values of `serviceEnvShape`. */
export type ServiceEnv = Readonly<z.infer<z.ZodObject<ReturnType<typeof serviceEnvShape>>>>;

/** Builds the common part of a service's configuration (storage is per service: its own file or database). */
export function toServiceConfig(service: string, parsed: ServiceEnv, env: NodeJS.ProcessEnv): ServiceConfig {
  return {
    region: parsed.WAYGATE_REGION,
    natsUrl: parsed.WAYGATE_NATS_URL,
    tenantsFile: parsed.WAYGATE_TENANTS_FILE,
    logLevel: parsed.WAYGATE_LOG_LEVEL,
    grpcHost: parsed.WAYGATE_GRPC_HOST,
    grpcPort: parsed.WAYGATE_GRPC_PORT,
    storage: parseStorageConfig(service, parsed.WAYGATE_REGION, env),
  };
}
