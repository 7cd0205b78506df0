import { z } from 'zod';
import { envSchemas, parseEnv, serviceEnvShape, toServiceConfig, type ServiceConfig } from '@waygate/config';

export interface IngressConfig extends ServiceConfig {
  /** How often the outbox relay looks for messages whose hand-off to JetStream failed. */
  readonly outboxIntervalMs: number;
  /** delivery-retry's gRPC address (host:port), for CancelMessage. */
  readonly deliveryAddress: string;
  /**
   * WAYGATE_INTERNAL_SERVICE_TOKEN: how ingress authenticates to delivery-retry's internal admin API. Behind a
   * function, so that the configuration never prints it.
   */
  readonly internalServiceToken: () => string;
}

export const DEFAULT_GRPC_PORT = 50051;
export const DEFAULT_DELIVERY_ADDRESS = '127.0.0.1:50055';

/** `host:port` (a DNS name, IPv4 address or bracketed IPv6 address, and a port 1-65535). */
const grpcAddress = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):\d{1,5}$/, 'must be host:port, e.g. delivery-retry:50055')
  .refine((address) => {
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'port must be 1-65535')
  .default(DEFAULT_DELIVERY_ADDRESS);

/** Reads and validates ingress's configuration once, at startup. */
export function loadIngressConfig(env: NodeJS.ProcessEnv = process.env): IngressConfig {
  const parsed = parseEnv(
    {
      ...serviceEnvShape(DEFAULT_GRPC_PORT),
      WAYGATE_OUTBOX_INTERVAL_MS: envSchemas.durationMs(5000),
      WAYGATE_DELIVERY_ADDRESS: grpcAddress,
      WAYGATE_INTERNAL_SERVICE_TOKEN: envSchemas.internalServiceToken(
        "the region-internal service token delivery-retry's admin API accepts",
      ),
    },
    env,
  );
  const token = parsed.WAYGATE_INTERNAL_SERVICE_TOKEN;
  return {
    ...toServiceConfig('ingress', parsed, env),
    outboxIntervalMs: parsed.WAYGATE_OUTBOX_INTERVAL_MS,
    deliveryAddress: parsed.WAYGATE_DELIVERY_ADDRESS,
    internalServiceToken: () => token,
  };
}
