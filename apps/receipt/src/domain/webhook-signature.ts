import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE_PATTERN = /^sha256=([0-9a-f]{64})$/i;

/**
 * Finds which app secret signed `body` (Meta's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw
 * body)>`). Every secret is tried with a timing-safe comparison, so the check reveals nothing about near misses.
 * Returns the index of the matching secret, or -1.
 */
export function findSigningSecret(body: Uint8Array, signatureHeader: string | undefined, appSecrets: readonly string[]): number {
  const match = signatureHeader ? SIGNATURE_PATTERN.exec(signatureHeader.trim()) : null;
  if (!match) return -1;
  const presented = Buffer.from(match[1].toLowerCase(), 'hex');
  let found = -1;
  appSecrets.forEach((secret, index) => {
    const expected = createHmac('sha256', secret).update(body).digest();
    if (timingSafeEqual(expected, presented) && found === -1) found = index;
  });
  return found;
}

/** Timing-safe string equality for the subscription handshake's verify token. */
export function isSameSecret(presented: string, expected: string): boolean {
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
