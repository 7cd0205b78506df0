import {
  Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  type status,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthenticatedError, type WrongRegionError } from '@waygate/domain';
import { assertHomedIn, type Tenant, type TenantDirectory } from '@waygate/tenancy';
import { toGrpcError } from './error-mapping';

/** Internal metadata key the interceptor sets after authenticating; any client-sent value is removed first. */
const TENANT_ID_KEY = 'x-waygate-authenticated-tenant';

/** Metadata naming the tenant a call with the internal service token acts for. */
export const INTERNAL_TENANT_ID_KEY = 'x-waygate-tenant-id';

/** Methods that need no credentials: load balancers and tools probe them. */
const PUBLIC_METHOD_PREFIXES = ['/grpc.health.v1.Health/', '/grpc.reflection.'];

function bearerToken(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  if (typeof value !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(value.trim());
  return match?.[1];
}

/** Timing-safe equality of two secrets: both are hashed first, so neither their bytes nor their lengths leak. */
function isSameSecret(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Options of {@link createTenantAuthInterceptor}. */
export interface TenantAuthOptions {
  /**
   * Region-internal service token. When set, a call may also authenticate with `authorization: Bearer <token>` plus
   * `x-waygate-tenant-id: <tenant id>` (a tenant homed in this region): how another Waygate service of the region
   * acts for a tenant whose API key it does not have. Unset: only API keys are accepted.
   */
  readonly internalServiceToken?: string;
}

/** The tenant a call presents: by API key, or (internal token configured and presented) by `x-waygate-tenant-id`. */
function presentedTenant(metadata: Metadata, tenants: TenantDirectory, options: TenantAuthOptions): Tenant | undefined {
  const token = bearerToken(metadata) ?? '';
  if (options.internalServiceToken && token && isSameSecret(token, options.internalServiceToken)) {
    const tenantId = metadata.get(INTERNAL_TENANT_ID_KEY)[0];
    return typeof tenantId === 'string' && tenantId ? tenants.get(tenantId) : undefined;
  }
  return tenants.authenticate(token);
}

/**
 * A server interceptor that authenticates every call by `authorization: Bearer <api key>` (or the region-internal
 * service token with a tenant id, when configured) and refuses tenants homed in another region before any handler
 * runs, so nothing about them is processed or stored here.
 */
export function createTenantAuthInterceptor(tenants: TenantDirectory, region: string, options: TenantAuthOptions = {}): ServerInterceptor {
  return (methodDescriptor, call) => {
    const isPublic = PUBLIC_METHOD_PREFIXES.some((prefix) => methodDescriptor.path.startsWith(prefix));
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        metadata.remove(TENANT_ID_KEY);
        if (isPublic) return next(metadata);
        const tenant = presentedTenant(metadata, tenants, options);
        if (!tenant) {
          call.sendStatus(
            toGrpcError(new UnauthenticatedError('missing or unknown API key')) as { code: status; details: string; metadata: Metadata },
          );
          return;
        }
        try {
          assertHomedIn(tenant, region);
        } catch (error) {
          const grpcError = toGrpcError(error as WrongRegionError);
          call.sendStatus({ code: grpcError.code, details: grpcError.details, metadata: grpcError.metadata ?? new Metadata() });
          return;
        }
        metadata.set(TENANT_ID_KEY, tenant.id);
        next(metadata);
      })
      .build();
    return new ServerInterceptingCall(call, new ResponderBuilder().withStart((next) => next(listener)).build());
  };
}

/** The tenant the interceptor authenticated for this call. */
export function authenticatedTenant(metadata: Metadata, tenants: TenantDirectory): Tenant {
  const tenantId = metadata.get(TENANT_ID_KEY)[0];
  const tenant = typeof tenantId === 'string' ? tenants.get(tenantId) : undefined;
  // Unreachable when the interceptor is installed; fail closed if it is not.
  if (!tenant) throw new UnauthenticatedError('call was not authenticated');
  return tenant;
}
