import { createHmac } from 'node:crypto';

/**
 * `Waygate-Signature` of a callback: `v1=<hex HMAC-SHA256(signing secret, "<timestamp>.<body>")>`, where timestamp
 * is the `Waygate-Timestamp` header (unix seconds). Signing the timestamp with the body lets receivers refuse
 * replays of old deliveries.
 */
export function callbackSignature(signingSecret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', signingSecret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex')}`;
}
