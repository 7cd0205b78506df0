import { createHash, timingSafeEqual } from 'node:crypto';
import { Metadata } from '@grpc/grpc-js';
import { UnauthenticatedError } from '@waygate/domain';

/** Metadata naming the tenant a call with the internal service token acts for. */
export const INTERNAL_TENANT_ID_KEY = 'x-waygate-tenant-id';

/** The token of `authorization: Bearer <token>`, if the call carries one. */
export function bearerToken(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(value.trim());
  return match?.[1];
}

/** Timing-safe equality of two secrets: both are hashed first, so neither their bytes nor their lengths leak. */
export function isSameSecret(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Whether the call presents the region-internal service token (`authorization: Bearer <token>`). */
export function hasInternalServiceToken(metadata: Metadata, expectedToken: string | undefined): boolean {
  const token = bearerToken(metadata);
  return Boolean(expectedToken && token && isSameSecret(token, expectedToken));
}

/** A call another Waygate service of the region made with the internal service token. */
export interface InternalCaller {
  /** The tenant it acts for (`x-waygate-tenant-id`), if it named one; not yet checked against the tenants file. */
  readonly tenantId?: string;
}

/**
 * Authenticates a region-internal call: it must carry `authorization: Bearer <expectedToken>` (compared timing-safe).
 * Anything else, a tenant's API key included, is UnauthenticatedError, as is any call when no token is configured
 * (`expectedToken` undefined or empty): an internal API is never open. Used by the server interceptor for services
 * marked `access: 'internal'` and, for a tenant it names, by tenant services that also accept the token
 * (media-store); a handler may call it directly too.
 */
export function authenticateInternalCall(metadata: Metadata, expectedToken: string | undefined): InternalCaller {
  if (!hasInternalServiceToken(metadata, expectedToken)) {
    throw new UnauthenticatedError("this API is internal to the region: call it with the region's internal service token");
  }
  const tenantId = namedTenantId(metadata);
  return tenantId ? { tenantId } : {};
}

/** The tenant id a call names in `x-waygate-tenant-id`, if any (meaningful only once the token was checked). */
export function namedTenantId(metadata: Metadata): string | undefined {
  const tenantId = metadata.get(INTERNAL_TENANT_ID_KEY)[0];
  return typeof tenantId === 'string' && tenantId ? tenantId : undefined;
}

/**
 * The client side: metadata for a call to another service of the region with the internal service token, acting for
 * `tenantId` when given. The caller's own credential (a tenant's API key) is never forwarded.
 */
export function internalCallMetadata(internalServiceToken: string, tenantId?: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${internalServiceToken}`);
  if (tenantId !== undefined) metadata.set(INTERNAL_TENANT_ID_KEY, tenantId);
  return metadata;
}
