/**
 * Typed domain errors. Transports map them to their own codes in exactly one place each
 * (gRPC: libs/grpc `toGrpcError`; HTTP: the route's error handler); anything else is an internal error.
 */

/** One invalid field of a request, named by its path in the request (e.g. "content.text.body"). */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
  readonly reason: string;
}

export abstract class WaygateError extends Error {
  abstract readonly kind: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request is malformed; every bad field is listed. */
export class InvalidArgumentError extends WaygateError {
  readonly kind = 'invalid-argument';
  constructor(readonly violations: readonly FieldViolation[]) {
    super(`invalid request: ${violations.map((v) => `${v.field}: ${v.description}`).join('; ')}`);
  }
}

/** The caller did not present a valid credential. */
export class UnauthenticatedError extends WaygateError {
  readonly kind = 'unauthenticated';
}

/** Longest part of an id an error message quotes: ids are validated first, but a message must stay short regardless. */
const MAX_QUOTED_ID_CHARS = 64;

/**
 * The resource does not exist for this tenant (another tenant's resources are reported the same way). The message
 * quotes at most the first 64 characters of the id; `id` keeps it whole.
 */
export class NotFoundError extends WaygateError {
  readonly kind = 'not-found';
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(`${resource} ${id.length > MAX_QUOTED_ID_CHARS ? `${id.slice(0, MAX_QUOTED_ID_CHARS)}…` : id} not found`);
  }
}

/** An idempotency key was reused with a different request. */
export class IdempotencyConflictError extends WaygateError {
  readonly kind = 'idempotency-conflict';
  constructor(readonly idempotencyKey: string) {
    super('idempotency_key was already used with a different request');
  }
}

/** The tenant is homed in another region; nothing about it may be processed or stored here. */
export class WrongRegionError extends WaygateError {
  readonly kind = 'wrong-region';
  constructor(
    readonly tenantId: string,
    readonly homeRegion: string,
    readonly servingRegion: string,
  ) {
    super(`tenant is homed in region "${homeRegion}"; this is region "${servingRegion}": call the ${homeRegion} endpoint`);
  }
}

/** One unmet precondition, named so a client can act on it (google.rpc.PreconditionFailure on gRPC). */
export interface PreconditionViolation {
  /** What kind of precondition, e.g. "MESSAGE_STATUS". */
  readonly type: string;
  /** What it is about, e.g. "messages/msg_123". */
  readonly subject: string;
  readonly description: string;
}

/** The resource is not in a state that allows the operation (e.g. cancelling a message that was already sent). */
export class FailedPreconditionError extends WaygateError {
  readonly kind = 'failed-precondition';
  constructor(
    message: string,
    readonly violations: readonly PreconditionViolation[],
  ) {
    super(message);
  }
}

/** The operation collided with a concurrent one on the same resource; retrying the call settles it. */
export class AbortedError extends WaygateError {
  readonly kind = 'aborted';
  readonly retryable = true;
}

/** A dependency is temporarily unavailable; the caller may retry. */
export class UnavailableError extends WaygateError {
  readonly kind = 'unavailable';
  readonly retryable = true;
}

/** The caller is over a rate limit or quota; it may retry after `retryAfterMs`. */
export class ResourceExhaustedError extends WaygateError {
  readonly kind = 'resource-exhausted';
  readonly retryable = true;
  constructor(
    message: string,
    /** How long the caller should wait before retrying (sent as google.rpc.RetryInfo). */
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/**
 * Why a call was refused, in a form a client can act on (sent as google.rpc.ErrorInfo): an UPPER_SNAKE_CASE reason and
 * a few named values (e.g. the scope the key lacks).
 */
export interface ErrorReason {
  readonly reason: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The caller is authenticated but its credential does not allow this call (e.g. a missing API-key scope). */
export class PermissionDeniedError extends WaygateError {
  readonly kind = 'permission-denied';
  constructor(
    message: string,
    /** Why, for the client (sent as google.rpc.ErrorInfo); absent: the message alone. */
    readonly errorReason?: ErrorReason,
  ) {
    super(message);
  }
}

export function isWaygateError(error: unknown): error is WaygateError {
  return error instanceof WaygateError;
}
