import {
  Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status,
  type ServerInterceptor,
  type ServiceDefinition,
  type StatusObject,
} from '@grpc/grpc-js';
import { metrics, type Meter } from '@opentelemetry/api';
import type { Clock } from '@waygate/domain';
import { authenticatedCredential, authenticatedTenant, type AuthenticatedCredential } from '@waygate/grpc';
import type { Logger } from '@waygate/telemetry';
import type { TenantDirectory } from '@waygate/tenancy';
import type { AccessLogEntry } from './domain/access-log-entry';
import { ACCESS_LOG_ACTIONS, fallbackAccessLogAction, type CustomerPseudonym } from './access-log-actions';

/** What the interceptor needs: where entries go, who the caller is, how customers are pseudonymised. */
export interface AccessLogInterceptorDeps {
  /** Appends one entry; durable when it resolves. */
  readonly record: (entry: AccessLogEntry) => Promise<unknown>;
  readonly tenants: TenantDirectory;
  /** The pseudonym function of a tenant (a salted hash of a customer's number). */
  readonly pseudonymOf: (tenantId: string) => CustomerPseudonym;
  /** The services whose every call is recorded. */
  readonly services: readonly ServiceDefinition[];
  readonly clock: Clock;
  readonly logger: Logger;
  readonly meter?: Meter;
}

/**
 * The key id the access log names a caller by: the API key's id from the tenants file (by default `key_` + the first
 * 12 hex digits of the key's SHA-256), or `internal` for the region's internal token acting for the tenant.
 */
export function accessLogKeyId(credential: AuthenticatedCredential | undefined): string {
  if (!credential) return 'unknown';
  return credential.kind === 'internal' ? 'internal' : credential.keyId;
}

const UNAVAILABLE_DETAILS = 'the access log could not record this call; nothing was returned, retry later';

/**
 * A server interceptor that records every call of the given services in the access log: the key id, the action, the
 * request's filters (pseudonymised), how many items it returned and the status it ended with. It runs after the
 * authentication interceptor (it reads the tenant and credential that one set). The entry is durably written BEFORE
 * the call's status goes out, and for a unary call before its response message does: if the write fails, the call
 * fails with UNAVAILABLE instead (and `waygate.archive.access_log.write_failures` counts it), so no access goes
 * unrecorded. A call the client cancels is recorded as CANCELLED, as far as the write still can.
 */
export function createAccessLogInterceptor(deps: AccessLogInterceptorDeps): ServerInterceptor {
  const prefixes = deps.services.map((service) => `/${Object.values(service)[0]?.path.split('/')[1] ?? ''}/`);
  const meter = deps.meter ?? metrics.getMeter('@waygate/archive');
  const writeFailures = meter.createCounter('waygate.archive.access_log.write_failures', {
    description: 'calls failed with UNAVAILABLE (or cancelled calls left unrecorded) because the access log write failed',
  });
  const recorded = meter.createCounter('waygate.archive.access_log.entries', { description: 'access log entries written, by action' });

  return (method, call) => {
    if (!prefixes.some((prefix) => method.path.startsWith(prefix))) return new ServerInterceptingCall(call);
    const spec = ACCESS_LOG_ACTIONS.get(method.path) ?? fallbackAccessLogAction(method.path);
    let tenantId: string | undefined;
    let keyId = 'unknown';
    let request: unknown;
    let count = 0;
    let finished: Promise<boolean> | undefined;

    /** Writes the call's one entry (once); resolves whether it is durably recorded. */
    function finish(code: number): Promise<boolean> {
      finished ??= (async () => {
        if (tenantId === undefined) {
          // The authentication interceptor refused the call (bad key, missing scope) before any handler ran: nothing of
          // the archive was read, and there is no tenant to record it for.
          if (code !== status.OK) return true;
          // A call that succeeded without an authenticated tenant must not happen: refused rather than unrecorded.
          deps.logger.error({ method: method.path }, 'access log: call without an authenticated tenant, refused');
          return false;
        }
        try {
          const filters = request === undefined ? {} : await spec.filters(request, deps.pseudonymOf(tenantId));
          await deps.record({
            tenantId,
            at: deps.clock.now(),
            keyId,
            action: spec.action,
            filtersJson: JSON.stringify(filters),
            resultCount: count,
            statusCode: code,
          });
          recorded.add(1, { action: spec.action });
          return true;
        } catch (error) {
          writeFailures.add(1, { action: spec.action });
          deps.logger.error({ err: error, tenant_id: tenantId, action: spec.action }, 'access log write failed');
          return false;
        }
      })();
      return finished;
    }

    const unavailable = (): StatusObject => ({ code: status.UNAVAILABLE, details: UNAVAILABLE_DETAILS, metadata: new Metadata() });

    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        try {
          tenantId = authenticatedTenant(metadata, deps.tenants).id;
        } catch {
          tenantId = undefined;
        }
        keyId = accessLogKeyId(authenticatedCredential(metadata));
        next(metadata);
      })
      .withOnReceiveMessage((message, next) => {
        request = message;
        next(message);
      })
      .withOnCancel(() => {
        if (!finished) void finish(status.CANCELLED);
      })
      .build();

    const responder = new ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendMessage((message, next) => {
        try {
          count += spec.count(message);
        } catch {
          // A count is evidence, not control: a message the counter does not understand counts as nothing.
        }
        if (method.responseStream) return next(message);
        // Unary: the response goes out only once its entry is durable.
        void finish(status.OK).then((ok) => (ok ? next(message) : call.sendStatus(unavailable())));
      })
      .withSendStatus((statusObject, next) => {
        if (finished) {
          // The unary response's entry is written (or the call already failed with UNAVAILABLE).
          void finished.then((ok) => ok && next(statusObject));
          return;
        }
        void finish(statusObject.code).then((ok) => next(ok ? statusObject : unavailable()));
      })
      .build();
    return new ServerInterceptingCall(call, responder);
  };
}
