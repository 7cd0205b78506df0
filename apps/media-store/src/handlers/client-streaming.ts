import type { sendUnaryData, ServerReadableStream } from '@grpc/grpc-js';
import { authenticatedCredential, authenticatedTenant, toGrpcError, watchCallCredential } from '@waygate/grpc';
import type { Tenant, TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';

/**
 * Wraps a client-streaming handler like libs/grpc's unaryHandler: resolves the authenticated tenant, hands `handle`
 * the request messages as an async iterable (read on demand, so HTTP/2 flow control holds the client back while the
 * handler is busy: backpressure), and maps a thrown error through `toGrpcError`. A client that cancels makes the
 * iterable throw, so the handler stops and cleans up. So does a tenants-file reload that revokes the call's key (or
 * removes or rehomes its tenant): the call ends with that error (UNAUTHENTICATED or FAILED_PRECONDITION).
 */
export function clientStreamingHandler<Request, Response>(
  tenants: TenantDirectory,
  logger: Logger,
  handle: (requests: AsyncIterable<Request>, tenant: Tenant) => Promise<Response>,
): (call: ServerReadableStream<Request, Response>, callback: sendUnaryData<Response>) => void {
  return (call, callback) => {
    call.once('cancelled', () => call.destroy(new Error('the client cancelled the call')));
    let unwatch = () => {};
    (async () => {
      const tenant = authenticatedTenant(call.metadata, tenants);
      const credential = authenticatedCredential(call.metadata);
      // Destroying the stream with the error makes the iterable throw it, so it is also the call's status.
      if (credential) unwatch = watchCallCredential(tenants, credential, tenant, (error) => call.destroy(error));
      return handle(call as AsyncIterable<Request>, tenant);
    })()
      .finally(() => unwatch())
      .then(
        (response) => callback(null, response),
        (error: unknown) => {
          const grpcError = toGrpcError(error);
          if (call.cancelled) {
            // The client gave up (receipt retries a cut-off download this way): expected, and nothing to alert on.
            logger.debug({ method: call.getPath() }, 'call cancelled by the client');
          } else if (grpcError.details === 'internal error') {
            logger.error({ err: error, method: call.getPath() }, 'unexpected error in handler');
          }
          callback(grpcError, null);
        },
      );
  };
}
