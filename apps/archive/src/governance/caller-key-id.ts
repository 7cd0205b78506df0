import type { Metadata } from '@grpc/grpc-js';
import { authenticatedCredential } from '@waygate/grpc';

/**
 * The API key id a governance action is recorded under (placed_by, released_by). An API key is named by its key id;
 * until the tenants file gives keys ids, by `key_` + the first 12 hex digits of its SHA-256 (never the key itself).
 * A region-internal call is `internal`.
 */
export function callerKeyId(metadata: Metadata): string {
  const credential = authenticatedCredential(metadata);
  if (!credential) return 'unknown';
  if (credential.kind === 'internal') return 'internal';
  const withId = credential as { readonly keyId?: unknown };
  if (typeof withId.keyId === 'string' && withId.keyId.length > 0) return withId.keyId;
  return `key_${credential.apiKeySha256.slice(0, 12)}`;
}
