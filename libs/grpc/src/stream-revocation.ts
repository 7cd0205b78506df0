import { PermissionDeniedError, UnauthenticatedError, WrongRegionError } from '@waygate/domain';
import type { Tenant, TenantDirectory } from '@waygate/tenancy';
import { API_KEY_SCOPE_MISSING, type AuthenticatedCredential } from './tenant-auth';

/** Why an open call's credential no longer holds. */
export type CredentialRevocation = UnauthenticatedError | WrongRegionError | PermissionDeniedError;

/** One open call whose credential is re-checked on every reload of its directory. */
interface WatchedCall {
  readonly credential: AuthenticatedCredential;
  /** The tenant as it was when the call was authenticated (homed in the serving region then). */
  readonly tenant: Tenant;
  readonly onRevoked: (error: CredentialRevocation) => void;
}

/**
 * Open calls per directory, and one `onChange` subscription per directory (not per call): a reload walks the open
 * calls once, O(open calls), and a closed call is removed from its set in O(1).
 */
const watchedByDirectory = new WeakMap<TenantDirectory, Set<WatchedCall>>();

/**
 * Why a credential no longer holds in `directory`, or `undefined` while it does: its tenant is gone or its API key
 * no longer belongs to it (UNAUTHENTICATED), its key no longer has the scope the call was admitted by
 * (PERMISSION_DENIED, API_KEY_SCOPE_MISSING), or its tenant is now homed in another region (FAILED_PRECONDITION, as
 * a new call would be answered).
 */
export function credentialRevocation(
  credential: AuthenticatedCredential,
  authenticatedAs: Tenant,
  directory: TenantDirectory,
): CredentialRevocation | undefined {
  const tenant = directory.get(authenticatedAs.id);
  if (!tenant) return new UnauthenticatedError('the tenant this stream was opened for was removed from the tenants file; stream closed');
  if (credential.kind === 'api-key') {
    const found = directory.findApiKey(credential.apiKeySha256);
    if (found?.tenant.id !== tenant.id)
      return new UnauthenticatedError('the API key this stream was opened with was revoked; stream closed');
    const { callScope } = credential;
    if (callScope && !found.key.scopes.includes(callScope))
      return new PermissionDeniedError(
        `API key "${found.key.id}" no longer has the scope ${callScope} this stream was opened with; stream closed`,
        {
          reason: API_KEY_SCOPE_MISSING,
          metadata: { scope: callScope, keyId: found.key.id },
        },
      );
  }
  // The interceptor admitted the call only when the tenant was homed in the serving region, so that region is the old one.
  if (tenant.homeRegion !== authenticatedAs.homeRegion)
    return new WrongRegionError(tenant.id, tenant.homeRegion, authenticatedAs.homeRegion);
  return undefined;
}

function recheckAll(directory: TenantDirectory): void {
  const watched = watchedByDirectory.get(directory);
  if (!watched) return;
  for (const call of [...watched]) {
    const revocation = credentialRevocation(call.credential, call.tenant, directory);
    if (!revocation) continue;
    watched.delete(call);
    try {
      call.onRevoked(revocation);
    } catch {
      // One call's failure to close must not keep the others open; the callback logs its own errors.
    }
  }
}

/**
 * Re-checks an open call's credential whenever `directory` reloads, and calls `onRevoked` once (with the error the
 * call should end with) when the key was removed or lost the call's scope, the tenant was removed, or the tenant moved
 * to another home region.
 * Returns the function that stops watching; call it when the call ends. Every long-lived call that authenticated a
 * tenant should be watched, so that removing a key from the tenants file also cuts the streams opened with it.
 */
export function watchCallCredential(
  directory: TenantDirectory,
  credential: AuthenticatedCredential,
  tenant: Tenant,
  onRevoked: (error: CredentialRevocation) => void,
): () => void {
  let watched = watchedByDirectory.get(directory);
  if (!watched) {
    watched = new Set();
    watchedByDirectory.set(directory, watched);
    directory.onChange(recheckAll);
  }
  const call: WatchedCall = { credential, tenant, onRevoked };
  watched.add(call);
  // The directory may have changed between the interceptor's check and this registration.
  const revocation = credentialRevocation(credential, tenant, directory);
  if (revocation) {
    watched.delete(call);
    onRevoked(revocation);
  }
  const set = watched;
  return () => {
    set.delete(call);
  };
}
