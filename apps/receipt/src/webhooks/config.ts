import { z } from 'zod';
import { envSchemas, toWhatsAppApiConfig, whatsappApiEnvShape, type WhatsAppApiConfig } from '@waygate/config';

import { DEFAULT_WEBHOOK_KEY_EPOCH_MS } from './adapters/webhook-body-shredder';

/** The webhook endpoint's default port (Meta posts to `/webhooks/whatsapp` here). */
export const DEFAULT_HTTP_PORT = 8080;

/**
 * WAYGATE_REGION_WEBHOOK_URLS: JSON `{"<region>":"https://…/webhooks/whatsapp"}`, the receipt webhook of each other
 * region, where template and account webhooks of its WABAs are forwarded (they always come to the app's one URL).
 */
const regionWebhookUrls = z
  .string()
  .default('{}')
  .transform((raw, ctx) => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object like {"us":"https://receipt.us.example/webhooks/whatsapp"}' });
      return z.NEVER;
    }
    const parsed = z
      .partialRecord(
        z.enum(['eu', 'us'], { message: 'keys must be regions ("eu" or "us")' }),
        z.string().refine((url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol), 'values must be http(s) URLs'),
      )
      .safeParse(value);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: parsed.error.issues.map((issue) => issue.message).join('; ') });
      return z.NEVER;
    }
    return parsed.data as Readonly<Partial<Record<'eu' | 'us', string>>>;
  });

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
  // 15: every consumer's default (@waygate/nats); with the default delays the attempts span about 40 minutes.
  WAYGATE_WEBHOOK_MAX_DELIVERIES: z.coerce.number().int().min(1).max(100).default(15),
  // Bodies processed at once (one message's in queue order); 1 processes every body in queue order.
  WAYGATE_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  WAYGATE_REGION_WEBHOOK_URLS: regionWebhookUrls,
  WAYGATE_REGION_FORWARD_TIMEOUT_MS: envSchemas.durationMs(10_000),
  // A queued body is sealed under the key of its epoch, destroyed once the epoch ended and its bodies were processed.
  WAYGATE_WEBHOOK_KEY_EPOCH_MS: z.coerce
    .number()
    .int()
    .min(1_000, 'must be at least 1000 (a second; production: minutes, as every epoch creates and destroys a key)')
    .max(24 * 60 * 60_000, 'must be at most 86400000 (a day): bodies stay readable for up to an epoch after processing')
    .default(DEFAULT_WEBHOOK_KEY_EPOCH_MS),
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
  /**
   * Deliveries of one webhook body before it is given up on: on the last, inbound media that still fails is recorded
   * as unavailable (with the reason); anything else still failing makes the body a dead letter.
   */
  readonly webhookMaxDeliveries: number;
  /** WAYGATE_WEBHOOK_CONCURRENCY: bodies processed at once; those with the same order key one after another. */
  readonly webhookConcurrency: number;
  /** Other regions' receipt webhook URLs, for their WABAs' template and account webhooks (region-forwarding.ts). */
  readonly regionWebhookUrls: Readonly<Partial<Record<'eu' | 'us', string>>>;
  readonly regionForwardTimeoutMs: number;
  /** WAYGATE_WEBHOOK_KEY_EPOCH_MS: how long one key seals queued webhook bodies (see webhook-body-shredder.ts). */
  readonly webhookKeyEpochMs: number;
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
    webhookMaxDeliveries: parsed.WAYGATE_WEBHOOK_MAX_DELIVERIES,
    webhookConcurrency: parsed.WAYGATE_WEBHOOK_CONCURRENCY,
    regionWebhookUrls: parsed.WAYGATE_REGION_WEBHOOK_URLS,
    regionForwardTimeoutMs: parsed.WAYGATE_REGION_FORWARD_TIMEOUT_MS,
    webhookKeyEpochMs: parsed.WAYGATE_WEBHOOK_KEY_EPOCH_MS,
  };
}
