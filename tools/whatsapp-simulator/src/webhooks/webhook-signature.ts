import { createHmac } from 'node:crypto';

/**
 * Value of `X-Hub-Signature-256` for a webhook body: `sha256=` + hex HMAC-SHA256 keyed with the app secret,
 * computed over the exact bytes sent (receivers must verify against the raw body, not re-serialised JSON).
 */
export function computeWebhookSignature(appSecret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}
