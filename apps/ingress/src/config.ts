import { z } from 'zod';
import {
  envSchemas,
  parseEnv,
  serviceEnvShape,
  toServiceConfig,
  toWhatsAppApiConfig,
  whatsappApiEnvShape,
  type ServiceConfig,
  type WhatsAppApiConfig,
} from '@waygate/config';

/** How often the template catalog is read again from Meta in full (webhooks keep it current in between). */
export const DEFAULT_TEMPLATE_SYNC_INTERVAL_MS = 15 * 60 * 1000;

export interface IngressConfig extends ServiceConfig, WhatsAppApiConfig {
  /** How often every WABA's templates are synced from Meta (also at start and on template webhooks). */
  readonly templateSyncIntervalMs: number;
  /** How often the outbox relay looks for messages whose hand-off to JetStream failed. */
  readonly outboxIntervalMs: number;
  /** delivery-retry's gRPC address (host:port), for CancelMessage. */
  readonly deliveryAddress: string;
  /** media-store's gRPC address (host:port), to check media sent by media-store id before accepting it. */
  readonly mediaStoreAddress: string;
  /**
   * WAYGATE_INTERNAL_SERVICE_TOKEN: how ingress authenticates to delivery-retry's internal admin API. Behind a
   * function, so that the configuration never prints it.
   */
  readonly internalServiceToken: () => string;
}

export const DEFAULT_GRPC_PORT = 50051;
export const DEFAULT_DELIVERY_ADDRESS = '127.0.0.1:50055';
export const DEFAULT_MEDIA_STORE_ADDRESS = '127.0.0.1:50053';

/** `host:port` (a DNS name, IPv4 address or bracketed IPv6 address, and a port 1-65535). */
const grpcAddress = (defaultAddress: string) =>
  z
    .string()
    .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):\d{1,5}$/, 'must be host:port, e.g. delivery-retry:50055')
    .refine((address) => {
      const port = Number(address.slice(address.lastIndexOf(':') + 1));
      return port >= 1 && port <= 65535;
    }, 'port must be 1-65535')
    .default(defaultAddress);

/** Reads and validates ingress's configuration once, at startup. */
export function loadIngressConfig(env: NodeJS.ProcessEnv = process.env): IngressConfig {
  const parsed = parseEnv(
    {
      ...serviceEnvShape(DEFAULT_GRPC_PORT),
      WAYGATE_OUTBOX_INTERVAL_MS: envSchemas.durationMs(5000),
      WAYGATE_TEMPLATE_SYNC_INTERVAL_MS: envSchemas.durationMs(DEFAULT_TEMPLATE_SYNC_INTERVAL_MS),
      ...whatsappApiEnvShape,
      WAYGATE_DELIVERY_ADDRESS: grpcAddress(DEFAULT_DELIVERY_ADDRESS),
      WAYGATE_MEDIA_STORE_ADDRESS: grpcAddress(DEFAULT_MEDIA_STORE_ADDRESS),
      WAYGATE_INTERNAL_SERVICE_TOKEN: envSchemas.internalServiceToken(
        "the region-internal service token delivery-retry's admin API and media-store accept",
      ),
    },
    env,
  );
  const token = parsed.WAYGATE_INTERNAL_SERVICE_TOKEN;
  return {
    ...toServiceConfig('ingress', parsed, env),
    ...toWhatsAppApiConfig(parsed),
    outboxIntervalMs: parsed.WAYGATE_OUTBOX_INTERVAL_MS,
    templateSyncIntervalMs: parsed.WAYGATE_TEMPLATE_SYNC_INTERVAL_MS,
    deliveryAddress: parsed.WAYGATE_DELIVERY_ADDRESS,
    mediaStoreAddress: parsed.WAYGATE_MEDIA_STORE_ADDRESS,
    internalServiceToken: () => token,
  };
}
