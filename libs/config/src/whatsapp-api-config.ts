import { z } from 'zod';
import { envSchemas } from './parse-config';

/** How a service reaches the WhatsApp Cloud API (delivery-retry sends; receipt fetches media and marks reads). */
export interface WhatsAppApiConfig {
  readonly whatsappApiBaseUrl: string;
  readonly whatsappApiVersion: string;
  /** Per call. */
  readonly whatsappTimeoutMs: number;
}

/** The variables behind WhatsAppApiConfig; spread it into a service's shape. */
export const whatsappApiEnvShape = {
  WAYGATE_WHATSAPP_API_BASE_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).default('https://graph.facebook.com'),
  WAYGATE_WHATSAPP_API_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/, 'must look like v23.0')
    .default('v23.0'),
  WAYGATE_WHATSAPP_TIMEOUT_MS: envSchemas.durationMs(10_000),
} as const;

export function toWhatsAppApiConfig(parsed: Readonly<z.infer<z.ZodObject<typeof whatsappApiEnvShape>>>): WhatsAppApiConfig {
  return {
    whatsappApiBaseUrl: parsed.WAYGATE_WHATSAPP_API_BASE_URL,
    whatsappApiVersion: parsed.WAYGATE_WHATSAPP_API_VERSION,
    whatsappTimeoutMs: parsed.WAYGATE_WHATSAPP_TIMEOUT_MS,
  };
}
