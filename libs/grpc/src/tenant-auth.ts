import {
  Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  type status,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { PermissionDeniedError, UnauthenticatedError, type WrongRegionError } from '@waygate/domain';
import { assertHomedIn, isApiKeyScope, type ApiKey, type ApiKeyScope, type Tenant, type TenantDirectory } from '@waygate/tenancy';
import { toGrpcError } from './error-mapping';
import { authenticateInternalCall, bearerToken, hasInternalServiceToken, namedTenantId } from './internal-auth';
import { RPC_SCOPE_BY_PATH, type RpcScopeTable } from './rpc-scopes';

/** Internal metadata key the interceptor sets after authenticating; any client-sent value is removed first. */
const TENANT_ID_KEY = 'x-waygate-authenticated-tenant';
/**
 * Internal metadata key naming the credential the call authenticated with: `api-key:<hex sha256>` or `internal` (the
 * region-internal token acting for a tenant). Never the key itself. Open streams re-check it when the tenants file
 * reloads; any client-sent value is removed first.
 */
const CREDENTIAL_KEY = 'x-waygate-authenticated-credential';
/** Internal metadata key: the id of the API key the call authenticated with (tenants file `apiKeys[].id`). */
const KEY_ID_KEY = 'x-waygate-authenticated-key-id';
/** Internal metadata key: the scopes of that key, comma-separated, as the tenants file said when the call began. */
const KEY_SCOPES_KEY = 'x-waygate-authenticated-key-scopes';
/** Internal metadata key: the scope the key was admitted to this call by (the method's scope in the table). */
const CALL_SCOPE_KEY = 'x-waygate-authenticated-call-scope';
/** Every metadata key the interceptor sets; a client cannot send any of them (they are removed first). */
const AUTHENTICATED_KEYS = [TENANT_ID_KEY, CREDENTIAL_KEY, KEY_ID_KEY, KEY_SCOPES_KEY, CALL_SCOPE_KEY];

/**
 * The credential a call authenticated with, as open streams and the access log remember it: a key only by its hash
 * and id (never the key), with the scopes it had when the call began; or the region-internal token acting for a
 * tenant (which is not scoped).
 */
export type AuthenticatedCredential =
  | {
      readonly kind: 'api-key';
      readonly apiKeySha256: string;
      readonly keyId: string;
      readonly scopes: readonly ApiKeyScope[];
      /**
       * The scope this call was admitted by (its method's); an open stream is cut when a reload takes it from the key.
       * Absent for a method of a service the interceptor treats as internal.
       */
      readonly callScope?: ApiKeyScope;
    }
  | { readonly kind: 'internal' };

/** Methods that need no credentials: load balancers and tools probe them. */
const PUBLIC_METHOD_PREFIXES = ['/grpc.health.v1.Health/', '/grpc.reflection.'];

/** Options of {@link createTenantAuthInterceptor}. */
export interface TenantAuthOptions {
  /**
   * Region-internal service token: opens the internal services, and the tenant services listed in
   * `servicesActingForTenants`. Unset: only API keys are accepted, and internal services refuse every call.
   */
  readonly internalServiceToken?: string;
  /**
   * Fully-qualified names of tenant services another Waygate service of the region may call for a tenant whose API
   * key it does not have: `authorization: Bearer <token>` plus `x-waygate-tenant-id: <tenant id>` (e.g. receipt storing
   * inbound media in media-store). Least privilege: every other tenant service refuses the token as an unknown API
   * key, so the token that opens a service's admin API does not also let its holder send messages as any tenant.
   */
  readonly servicesActingForTenants?: readonly string[];
  /**
   * Fully-qualified names of internal services (admin APIs): their calls must carry the internal service token; API
   * keys are refused. A call may name the tenant it acts for with `x-waygate-tenant-id`.
   */
  readonly internalServices?: readonly string[];
  /**
   * What an API key needs per method (`/package.Service/Method` → scope). Default: {@link RPC_SCOPE_BY_PATH}, the
   * platform's one table; tests of the interceptor's mechanics substitute their own.
   */
  readonly rpcScopes?: RpcScopeTable;
}

/** google.rpc.ErrorInfo reason: the key lacks the scope the method needs. */
export const API_KEY_SCOPE_MISSING = 'API_KEY_SCOPE_MISSING';
/** google.rpc.ErrorInfo reason: the method is in no scope (not in the table), so no API key may call it. */
export const RPC_SCOPE_UNKNOWN = 'RPC_SCOPE_UNKNOWN';

/**
 * Refuses (PermissionDeniedError with an ErrorInfo naming the scope and method) an API key that lacks the scope of the
 * method at `path`, and every API key for a method the table does not know: fail closed, so an RPC added without a
 * scope is refused rather than open to every key.
 */
function assertKeyMayCall(key: ApiKey, path: string, table: RpcScopeTable): void {
  const method = path.slice(1);
  const scope = table.get(path);
  if (scope === undefined)
    throw new PermissionDeniedError(`${method} is in no API key scope, so no API key may call it`, {
      reason: RPC_SCOPE_UNKNOWN,
      metadata: { method, keyId: key.id },
    });
  if (!key.scopes.includes(scope))
    throw new PermissionDeniedError(`API key "${key.id}" lacks the scope ${scope}, which ${method} needs`, {
      reason: API_KEY_SCOPE_MISSING,
      metadata: { scope, method, keyId: key.id },
    });
}

/**
 * The tenant a tenant-service call presents: by API key, or (on a service that lets the region's services act for
 * tenants, with the internal token presented) by `x-waygate-tenant-id`.
 */
function presentedTenant(
  metadata: Metadata,
  tenants: TenantDirectory,
  options: TenantAuthOptions,
  actsForTenants: boolean,
): { readonly tenant: Tenant; readonly key?: ApiKey } | undefined {
  if (actsForTenants && hasInternalServiceToken(metadata, options.internalServiceToken)) {
    const tenantId = namedTenantId(metadata);
    const tenant = tenantId ? tenants.get(tenantId) : undefined;
    return tenant ? { tenant } : undefined;
  }
  return tenants.authenticateApiKey(bearerToken(metadata) ?? '');
}

/**
 * What an internal-service call acts for: `undefined` for no tenant (the handler decides whether it needs one), or the
 * named tenant. Throws UnauthenticatedError without the token, or for a tenant id the tenants file does not know.
 */
function internalCallTenant(metadata: Metadata, tenants: TenantDirectory, options: TenantAuthOptions): Tenant | undefined {
  const { tenantId } = authenticateInternalCall(metadata, options.internalServiceToken);
  if (tenantId === undefined) return undefined;
  const tenant = tenants.get(tenantId);
  if (!tenant) throw new UnauthenticatedError('x-waygate-tenant-id names no known tenant');
  return tenant;
}

/**
 * A server interceptor that authenticates every call before any handler runs: tenant services by
 * `authorization: Bearer <api key>` (or, on the services listed to accept it, the region-internal service token with
 * a tenant id),
 * internal services by the internal service token only. Tenants homed in another region are refused, so nothing
 * about them is processed or stored here.
 */
export function createTenantAuthInterceptor(tenants: TenantDirectory, region: string, options: TenantAuthOptions = {}): ServerInterceptor {
  const internalPrefixes = (options.internalServices ?? []).map((name) => `/${name}/`);
  const actingPrefixes = (options.servicesActingForTenants ?? []).map((name) => `/${name}/`);
  const rpcScopes = options.rpcScopes ?? RPC_SCOPE_BY_PATH;
  return (methodDescriptor, call) => {
    const isPublic = PUBLIC_METHOD_PREFIXES.some((prefix) => methodDescriptor.path.startsWith(prefix));
    const isInternal = internalPrefixes.some((prefix) => methodDescriptor.path.startsWith(prefix));
    const actsForTenants = actingPrefixes.some((prefix) => methodDescriptor.path.startsWith(prefix));
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        for (const key of AUTHENTICATED_KEYS) metadata.remove(key);
        if (isPublic) return next(metadata);
        let tenant: Tenant | undefined;
        let apiKey: ApiKey | undefined;
        try {
          if (isInternal) {
            tenant = internalCallTenant(metadata, tenants, options);
          } else {
            const presented = presentedTenant(metadata, tenants, options, actsForTenants);
            if (!presented) throw new UnauthenticatedError('missing or unknown API key');
            tenant = presented.tenant;
            apiKey = presented.key;
          }
          if (tenant) assertHomedIn(tenant, region);
          // Scopes bound what a tenant's key may do. The region-internal token is not scoped: it is the region's own
          // credential (it already opens the admin APIs), and only the services listed to accept it take it for a tenant.
          if (apiKey) assertKeyMayCall(apiKey, methodDescriptor.path, rpcScopes);
        } catch (error) {
          const grpcError = toGrpcError(error as UnauthenticatedError | WrongRegionError | PermissionDeniedError);
          call.sendStatus({ code: grpcError.code as status, details: grpcError.details, metadata: grpcError.metadata ?? new Metadata() });
          return;
        }
        if (tenant) {
          metadata.set(TENANT_ID_KEY, tenant.id);
          metadata.set(CREDENTIAL_KEY, apiKey ? `api-key:${apiKey.sha256}` : 'internal');
          if (apiKey) {
            metadata.set(KEY_ID_KEY, apiKey.id);
            metadata.set(KEY_SCOPES_KEY, apiKey.scopes.join(','));
            const callScope = rpcScopes.get(methodDescriptor.path);
            if (callScope) metadata.set(CALL_SCOPE_KEY, callScope);
          }
        }
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
  // Unreachable for tenant services when the interceptor is installed; an internal call that named no tenant (or no
  // interceptor at all) fails closed here.
  if (!tenant) throw new UnauthenticatedError('call was not authenticated for a tenant (internal calls name it in x-waygate-tenant-id)');
  return tenant;
}

/**
 * The credential the interceptor authenticated this call's tenant with; `undefined` when no tenant was authenticated
 * (or no interceptor ran).
 */
export function authenticatedCredential(metadata: Metadata): AuthenticatedCredential | undefined {
  const value = metadata.get(CREDENTIAL_KEY)[0];
  if (value === 'internal') return { kind: 'internal' };
  if (typeof value !== 'string' || !value.startsWith('api-key:')) return undefined;
  const keyId = metadata.get(KEY_ID_KEY)[0];
  const scopes = metadata.get(KEY_SCOPES_KEY)[0];
  const callScope = metadata.get(CALL_SCOPE_KEY)[0];
  return {
    kind: 'api-key',
    apiKeySha256: value.slice('api-key:'.length),
    keyId: typeof keyId === 'string' ? keyId : '',
    scopes: typeof scopes === 'string' ? scopes.split(',').filter(isApiKeyScope) : [],
    ...(typeof callScope === 'string' && isApiKeyScope(callScope) ? { callScope } : {}),
  };
}
