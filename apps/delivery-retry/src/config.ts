import { z } from 'zod';
import { envSchemas, parseEnv, serviceEnvShape, toServiceConfig, type ServiceConfig } from '@waygate/config';

export interface DeliveryRetryConfig extends ServiceConfig {
  readonly whatsappApiBaseUrl: string;
  readonly whatsappApiVersion: string;
  readonly whatsappTimeoutMs: number;
  /** Messages delivered at once by this replica. */
  readonly concurrency: number;
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
}

export const DEFAULT_GRPC_PORT = 50055;

/** Reads and validates delivery-retry's configuration once, at startup. */
export function loadDeliveryRetryConfig(env: NodeJS.ProcessEnv = process.env): DeliveryRetryConfig {
  const parsed = parseEnv(
    {
      ...serviceEnvShape(DEFAULT_GRPC_PORT),
      WAYGATE_WHATSAPP_API_BASE_URL: z
        .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
        .default('https://graph.facebook.com'),
      WAYGATE_WHATSAPP_API_VERSION: z
        .string()
        .regex(/^v\d+\.\d+$/, 'must look like v23.0')
        .default('v23.0'),
      WAYGATE_WHATSAPP_TIMEOUT_MS: envSchemas.durationMs(10_000),
      WAYGATE_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(16),
      WAYGATE_RETRY_BASE_DELAY_MS: envSchemas.durationMs(1_000),
      WAYGATE_RETRY_MAX_DELAY_MS: envSchemas.durationMs(5 * 60_000),
    },
    env,
  );
  return {
    ...toServiceConfig('delivery-retry', parsed, env),
    whatsappApiBaseUrl: parsed.WAYGATE_WHATSAPP_API_BASE_URL,
    whatsappApiVersion: parsed.WAYGATE_WHATSAPP_API_VERSION,
    whatsappTimeoutMs: parsed.WAYGATE_WHATSAPP_TIMEOUT_MS,
    concurrency: parsed.WAYGATE_DELIVERY_CONCURRENCY,
    retryBaseDelayMs: parsed.WAYGATE_RETRY_BASE_DELAY_MS,
    retryMaxDelayMs: parsed.WAYGATE_RETRY_MAX_DELAY_MS,
  };
}
