import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE_PATTERN = /^sha256=([0-9a-f]{64})$/i;

/** The HMAC a `X-Hub-Signature-256: sha256=<hex>` header presents, or undefined when the header is missing or malformed. */
export function presentedSignature(signatureHeader: string | undefined): Buffer | undefined {
  const match = signatureHeader ? SIGNATURE_PATTERN.exec(signatureHeader.trim()) : null;
  return match ? Buffer.from(match[1].toLowerCase(), 'hex') : undefined;
}

/** Whether `presented` is HMAC-SHA256(`appSecret`, `body`), compared timing-safe. */
export function isSignedWith(body: Uint8Array, presented: Buffer, appSecret: string): boolean {
  const expected = createHmac('sha256', appSecret).update(body).digest();
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}

/**
 * Finds which app secret signed `body` (Meta's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw
 * body)>`). Every secret is tried with a timing-safe comparison, so the check reveals nothing about near misses.
 * Returns the index of the matching secret, or -1.
 */
export function findSigningSecret(body: Uint8Array, signatureHeader: string | undefined, appSecrets: readonly string[]): number {
  const presented = presentedSignature(signatureHeader);
  if (!presented) return -1;
  let found = -1;
  appSecrets.forEach((secret, index) => {
    if (isSignedWith(body, presented, secret) && found === -1) found = index;
  });
  return found;
}

/** Timing-safe string equality for the subscription handshake's verify token. */
export function isSameSecret(presented: string, expected: string): boolean {
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
