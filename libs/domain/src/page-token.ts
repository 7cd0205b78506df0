import { createHash } from 'node:crypto';

/**
 * Opaque page tokens, as every listing RPC issues them: an optional prefix, then base64url JSON of a few fields, one
 * of them a fingerprint of the request's filters, so that a token only continues the request it came from. They carry
 * no secret: a forged token only pages through what its caller may read anyway. Each listing keeps its own fields and
 * checks them; this module is the encoding they share.
 */

/** A short digest of what a token pages through (the request's filters, in a canonical JSON-able form). */
export function requestFingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

/** The token for `fields` (`prefix` names a token format, e.g. `s1.`). */
export function encodePageTokenFields(fields: Readonly<Record<string, unknown>>, prefix = ''): string {
  return prefix + Buffer.from(JSON.stringify(fields)).toString('base64url');
}

/**
 * The fields of a token made by {@link encodePageTokenFields}, or undefined for anything that cannot be one: longer
 * than `maxChars` (checked before decoding), without the prefix, not base64url, not a JSON object. The caller checks
 * each field, and the fingerprint.
 */
export function decodePageTokenFields(
  token: string,
  options: { readonly maxChars: number; readonly prefix?: string },
): Record<string, unknown> | undefined {
  const prefix = options.prefix ?? '';
  if (token.length > options.maxChars || !token.startsWith(prefix)) return undefined;
  const body = token.slice(prefix.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
