import { z } from 'zod';
import { envSchemas, commonEnvShape } from './parse-config';
import { parseStorageConfig, type StorageConfig } from './storage-config';
import { parseTlsConfig, type TlsConfig } from './tls-config';

/** What every service's configuration starts with. */
export interface ServiceConfig {
  readonly region: 'eu' | 'us';
  readonly natsUrl: string;
  readonly tenantsFile: string;
  readonly logLevel: string;
  readonly grpcHost: string;
  readonly grpcPort: number;
  /** Where Prometheus scrapes `GET /metrics` (WAYGATE_METRICS_HOST, default the gRPC host; WAYGATE_METRICS_PORT). */
  readonly metrics: { readonly host: string; readonly port: number };
  readonly storage: StorageConfig;
  /** TLS of the gRPC server and of calls to the region's other services; plaintext when empty (the local default). */
  readonly tls: TlsConfig;
}

/**
 * A service's default metrics port: 9461 + its place in the gRPC block (ingress 50051 -> 9461, receipt 9462,
 * media-store 9463, archive 9464, delivery-retry 9465), so the services of one machine do not collide.
 */
export function defaultMetricsPort(defaultGrpcPort: number): number {
  return 9461 + (defaultGrpcPort - 50051);
}

/** The variables behind ServiceConfig, with the service's own default gRPC port; spread it into a service's shape. */
export function serviceEnvShape(defaultGrpcPort: number) {
  return {
    ...commonEnvShape,
    WAYGATE_GRPC_PORT: envSchemas.port(defaultGrpcPort),
    WAYGATE_METRICS_HOST: z.string().min(1).optional(),
    WAYGATE_METRICS_PORT: envSchemas.port(defaultMetricsPort(defaultGrpcPort)),
  } as const;
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
    metrics: { host: parsed.WAYGATE_METRICS_HOST ?? parsed.WAYGATE_GRPC_HOST, port: parsed.WAYGATE_METRICS_PORT },
    storage: parseStorageConfig(service, parsed.WAYGATE_REGION, env),
    tls: parseTlsConfig(env),
  };
}
