import { createHash } from 'node:crypto';

/**
 * How a log line names a tenant that is not this region's own (a refusal, an event homed elsewhere): `sha256:` and
 * the first 16 hex digits of the SHA-256 of its id. Its id never appears in clear in another region's files, while an
 * operator holding the tenants file can still tell which tenant it was (hash each id the same way).
 */
export function tenantLogRef(tenantId: string): string {
  return `sha256:${createHash('sha256').update(tenantId).digest('hex').slice(0, 16)}`;
}
