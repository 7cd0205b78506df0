import type { ServerWritableStream } from '@grpc/grpc-js';
import { tenantLogRef, type Tenant, type TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import { toGrpcError } from './error-mapping';
import { watchCallCredential } from './stream-revocation';
import { authenticatedCredential, authenticatedTenant } from './tenant-auth';

/** The sending side of a server stream, as a handler sees it. */
export interface ResponseStream<Response> {
  /**
   * Sends one message. Resolves when the transport can take the next one: while the client reads slowly the promise
   * stays pending (backpressure), so a handler that awaits every write never buffers without bound. Rejects once the
   * call is cancelled.
   */
  write(message: Response): Promise<void>;
  /**
   * Aborted when the client cancels or disconnects, or when the call's credential is revoked by a tenants-file reload
   * (the call has then already been ended with UNAUTHENTICATED or FAILED_PRECONDITION).
   */
  readonly signal: AbortSignal;
}

/** Thrown by `write` after the client went away; the handler should stop. */
export class StreamCancelledError extends Error {
  constructor() {
    super('the client cancelled the call');
    this.name = 'StreamCancelledError';
  }
}

/**
 * Wraps a server-streaming handler: resolves the authenticated tenant, hands `handle` a backpressure-aware writer
 * and a cancellation signal, ends the call with OK when `handle` resolves, and maps a thrown error through
 * `toGrpcError` (logging unexpected ones). Nothing is sent after the client cancelled.
 *
 * The call's credential (its API key, by hash) is re-checked whenever the tenants file reloads: once the key is
 * removed, or the tenant is removed, the call ends at once with UNAUTHENTICATED; once the tenant is homed in another
 * region, with FAILED_PRECONDITION, as a new call would be answered. The handler sees its signal aborted.
 */
export function serverStreamingHandler<Request, Response>(
  tenants: TenantDirectory,
  logger: Logger,
  handle: (request: Request, tenant: Tenant, stream: ResponseStream<Response>) => Promise<void>,
): (call: ServerWritableStream<Request, Response>) => void {
  return (call) => {
    const cancelled = new AbortController();
    call.once('cancelled', () => cancelled.abort());
    const write = (message: Response) =>
      new Promise<void>((resolve, reject) => {
        if (cancelled.signal.aborted) return reject(new StreamCancelledError());
        if (call.write(message)) return resolve();
        const onDrain = () => {
          cancelled.signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          call.off('drain', onDrain);
          reject(new StreamCancelledError());
        };
        call.once('drain', onDrain);
        cancelled.signal.addEventListener('abort', onAbort, { once: true });
      });
    let unwatch = () => {};
    (async () => {
      const tenant = authenticatedTenant(call.metadata, tenants);
      const credential = authenticatedCredential(call.metadata);
      if (credential)
        unwatch = watchCallCredential(tenants, credential, tenant, (error) => {
          if (cancelled.signal.aborted) return;
          logger.info(
            { tenant: tenantLogRef(tenant.id), method: call.getPath(), reason: error.kind },
            'open stream closed: credential revoked',
          );
          call.emit('error', toGrpcError(error));
          // The status is sent; the handler stops as if the client had gone, and nothing more is written.
          cancelled.abort();
        });
      if (cancelled.signal.aborted) return;
      await handle(call.request, tenant, { write, signal: cancelled.signal });
    })()
      .finally(() => unwatch())
      .then(
        () => {
          if (!cancelled.signal.aborted) call.end();
        },
        (error: unknown) => {
          if (cancelled.signal.aborted) return;
          const grpcError = toGrpcError(error);
          if (grpcError.details === 'internal error')
            logger.error({ err: error, method: call.getPath() }, 'unexpected error in stream handler');
          // grpc-js turns an 'error' event on a server stream into the call's final status.
          call.emit('error', grpcError);
        },
      );
  };
}
