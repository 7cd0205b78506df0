import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { type Any, BadRequest, ErrorInfo, PreconditionFailure, RetryInfo, RpcStatus } from '@waygate/proto';
import {
  AbortedError,
  FailedPreconditionError,
  IdempotencyConflictError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
  WrongRegionError,
  isWaygateError,
} from '@waygate/domain';

/** google.rpc.ErrorInfo's `domain`: the system whose reasons these are. */
export const ERROR_DOMAIN = 'waygate';

export type GrpcError = Partial<ServiceError> & { code: status; details: string };

function withRichDetails(code: status, message: string, details: Any[]): GrpcError {
  const metadata = new Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(RpcStatus.encode({ code, message, details }).finish()));
  return { code, details: message, metadata };
}

/**
 * The one place where errors become gRPC statuses. Known domain errors keep their meaning (with google.rpc details
 * where a client can act on them); anything else is INTERNAL with a generic message, so internals never leak.
 */
export function toGrpcError(error: unknown): GrpcError {
  if (!isWaygateError(error)) return { code: status.INTERNAL, details: 'internal error' };
  if (error instanceof InvalidArgumentError) {
    const badRequest = BadRequest.encode({ fieldViolations: error.violations.map((v) => ({ ...v })) }).finish();
    return withRichDetails(status.INVALID_ARGUMENT, error.message, [
      { typeUrl: 'type.googleapis.com/google.rpc.BadRequest', value: Buffer.from(badRequest) },
    ]);
  }
  if (error instanceof WrongRegionError) {
    const failure = PreconditionFailure.encode({
      violations: [{ type: 'TENANT_REGION', subject: `tenants/${error.tenantId}`, description: `home region is ${error.homeRegion}` }],
    }).finish();
    return withRichDetails(status.FAILED_PRECONDITION, error.message, [
      { typeUrl: 'type.googleapis.com/google.rpc.PreconditionFailure', value: Buffer.from(failure) },
    ]);
  }
  if (error instanceof FailedPreconditionError) {
    const failure = PreconditionFailure.encode({ violations: error.violations.map((v) => ({ ...v })) }).finish();
    return withRichDetails(status.FAILED_PRECONDITION, error.message, [
      { typeUrl: 'type.googleapis.com/google.rpc.PreconditionFailure', value: Buffer.from(failure) },
    ]);
  }
  if (error instanceof ResourceExhaustedError) {
    const delayMs = Math.max(0, Math.ceil(error.retryAfterMs));
    const retryInfo = RetryInfo.encode({
      retryDelay: { seconds: String(Math.floor(delayMs / 1000)), nanos: (delayMs % 1000) * 1_000_000 },
    }).finish();
    return withRichDetails(status.RESOURCE_EXHAUSTED, error.message, [
      { typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', value: Buffer.from(retryInfo) },
    ]);
  }
  if (error instanceof PermissionDeniedError) {
    if (!error.errorReason) return { code: status.PERMISSION_DENIED, details: error.message };
    const info = ErrorInfo.encode({
      reason: error.errorReason.reason,
      domain: ERROR_DOMAIN,
      metadata: { ...error.errorReason.metadata },
    }).finish();
    return withRichDetails(status.PERMISSION_DENIED, error.message, [
      { typeUrl: 'type.googleapis.com/google.rpc.ErrorInfo', value: Buffer.from(info) },
    ]);
  }
  if (error instanceof AbortedError) return { code: status.ABORTED, details: error.message };
  if (error instanceof UnauthenticatedError) return { code: status.UNAUTHENTICATED, details: error.message };
  if (error instanceof NotFoundError) return { code: status.NOT_FOUND, details: error.message };
  if (error instanceof IdempotencyConflictError) return { code: status.ALREADY_EXISTS, details: error.message };
  if (error instanceof UnavailableError) return { code: status.UNAVAILABLE, details: error.message };
  return { code: status.INTERNAL, details: 'internal error' };
}

/** Decodes `google.rpc.PreconditionFailure` violations from a gRPC error's trailers (for clients and tests). */
export function preconditionViolations(error: Partial<ServiceError>): { type: string; subject: string; description: string }[] {
  const raw = error.metadata?.get('grpc-status-details-bin')[0];
  if (!raw) return [];
  return RpcStatus.decode(raw as Buffer)
    .details.filter((detail) => detail.typeUrl === 'type.googleapis.com/google.rpc.PreconditionFailure')
    .flatMap((detail) => PreconditionFailure.decode(detail.value).violations);
}

/** Decodes `google.rpc.ErrorInfo` details from a gRPC error's trailers (for clients and tests). */
export function errorInfos(error: Partial<ServiceError>): { reason: string; domain: string; metadata: Record<string, string> }[] {
  const raw = error.metadata?.get('grpc-status-details-bin')[0];
  if (!raw) return [];
  return RpcStatus.decode(raw as Buffer)
    .details.filter((detail) => detail.typeUrl === 'type.googleapis.com/google.rpc.ErrorInfo')
    .map((detail) => ErrorInfo.decode(detail.value));
}

/** Decodes `google.rpc.BadRequest` field violations from a gRPC error's trailers (for clients and tests). */
export function badRequestViolations(error: Partial<ServiceError>): { field: string; description: string; reason: string }[] {
  const raw = error.metadata?.get('grpc-status-details-bin')[0];
  if (!raw) return [];
  const rpcStatus = RpcStatus.decode(raw as Buffer);
  return rpcStatus.details
    .filter((detail) => detail.typeUrl === 'type.googleapis.com/google.rpc.BadRequest')
    .flatMap((detail) => BadRequest.decode(detail.value).fieldViolations);
}

/** Decodes `google.rpc.RetryInfo` from a gRPC error's trailers as milliseconds (for clients and tests). */
export function retryDelayMs(error: Partial<ServiceError>): number | undefined {
  const raw = error.metadata?.get('grpc-status-details-bin')[0];
  if (!raw) return undefined;
  const detail = RpcStatus.decode(raw as Buffer).details.find((d) => d.typeUrl === 'type.googleapis.com/google.rpc.RetryInfo');
  const delay = detail && RetryInfo.decode(detail.value).retryDelay;
  return delay ? Number(delay.seconds) * 1000 + Math.round(delay.nanos / 1e6) : undefined;
}
