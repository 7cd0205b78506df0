import type { Metadata } from '@grpc/grpc-js';
import { authenticatedCredential } from '@waygate/grpc';
import { defaultApiKeyId } from '@waygate/tenancy';

/**
 * The API key id a governance action is recorded under (placed_by, released_by): the key's id from the tenants file
 * (`key_` + the first 12 hex digits of its SHA-256 when it has none); never the key itself. A region-internal call is
 * `internal`.
 */
export function callerKeyId(metadata: Metadata): string {
  const credential = authenticatedCredential(metadata);
  if (!credential) return 'unknown';
  if (credential.kind === 'internal') return 'internal';
  return credential.keyId || defaultApiKeyId(credential.apiKeySha256);
}
