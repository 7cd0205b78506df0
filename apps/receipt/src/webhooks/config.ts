import { z } from 'zod';
import { envSchemas, toWhatsAppApiConfig, whatsappApiEnvShape, type WhatsAppApiConfig } from '@waygate/config';

/** The webhook endpoint's default port (Meta posts to `/webhooks/whatsapp` here). */
export const DEFAULT_HTTP_PORT = 8080;

/** Webhook intake's environment variables with their defaults; spread into receipt's env shape (../config.ts). */
export const webhookIntakeEnvShape = {
  WAYGATE_HTTP_HOST: envSchemas.host,
  WAYGATE_HTTP_PORT: envSchemas.port(DEFAULT_HTTP_PORT),
  ...whatsappApiEnvShape,
  WAYGATE_MEDIA_STORE_ADDRESS: z
    .string()
    .regex(/^[^\s/:]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:50053')
    .default('127.0.0.1:50053'),
  WAYGATE_MEDIA_STORE_TIMEOUT_MS: envSchemas.durationMs(10_000),
  WAYGATE_INTERNAL_SERVICE_TOKEN: envSchemas.internalServiceToken('the region-internal service token media-store accepts'),
  WAYGATE_WEBHOOK_RETRY_BASE_DELAY_MS: envSchemas.durationMs(2_000),
  WAYGATE_WEBHOOK_RETRY_MAX_DELAY_MS: envSchemas.durationMs(5 * 60_000),
  WAYGATE_WEBHOOK_ACK_WAIT_MS: envSchemas.durationMs(30_000),
} as const;

/** Parsed values of `webhookIntakeEnvShape` (a parse of a larger shape that includes it will do). */
export type WebhookIntakeEnv = Readonly<z.infer<z.ZodObject<typeof webhookIntakeEnvShape>>>;

/** Webhook intake: the HTTP endpoint, the Cloud API and media-store it calls, and how it retries a body. */
export interface WebhookIntakeConfig extends WhatsAppApiConfig {
  readonly httpHost: string;
  readonly httpPort: number;
  /** This region's media-store (`host:port`), where inbound media is stored. */
  readonly mediaStoreAddress: string;
  readonly mediaStoreTimeoutMs: number;
  /** WAYGATE_INTERNAL_SERVICE_TOKEN, behind a function so that the configuration never prints it. */
  readonly internalServiceToken: () => string;
  /** Delay before a webhook is processed again after a dependency was unavailable: doubling from base, capped. */
  readonly webhookRetryBaseDelayMs: number;
  readonly webhookRetryMaxDelayMs: number;
  /** How soon webhook bodies a crashed receipt was processing are processed again. */
  readonly webhookAckWaitMs: number;
}

/** Builds webhook intake's configuration from the parsed variables. */
export function toWebhookIntakeConfig(parsed: WebhookIntakeEnv): WebhookIntakeConfig {
  const token = parsed.WAYGATE_INTERNAL_SERVICE_TOKEN;
  return {
    httpHost: parsed.WAYGATE_HTTP_HOST,
    httpPort: parsed.WAYGATE_HTTP_PORT,
    ...toWhatsAppApiConfig(parsed),
    mediaStoreAddress: parsed.WAYGATE_MEDIA_STORE_ADDRESS,
    mediaStoreTimeoutMs: parsed.WAYGATE_MEDIA_STORE_TIMEOUT_MS,
    internalServiceToken: () => token,
    webhookRetryBaseDelayMs: parsed.WAYGATE_WEBHOOK_RETRY_BASE_DELAY_MS,
    webhookRetryMaxDelayMs: parsed.WAYGATE_WEBHOOK_RETRY_MAX_DELAY_MS,
    webhookAckWaitMs: parsed.WAYGATE_WEBHOOK_ACK_WAIT_MS,
  };
}
