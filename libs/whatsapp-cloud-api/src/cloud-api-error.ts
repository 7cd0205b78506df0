/**
 * How a Cloud API call failed:
 * - `meta-error`: Meta answered with a non-2xx status (with its error object, or without one: then `code` is
 *   undefined);
 * - `unusable-answer`: a 2xx answer that cannot be used (a send without `messages[0].id`, a media object without a
 *   download URL, media bytes that do not match their `sha256`); reported as HTTP 502, as a gateway would;
 * - `timeout`: no complete answer within the client's timeout; the request may have reached Meta;
 * - `not-connected`: the connection was never made (refused, unknown host, unreachable network), so Meta certainly
 *   did not get the request;
 * - `connection-lost`: the connection failed after it was made (reset, closed mid-answer); the request may have
 *   reached Meta.
 */
export type CloudApiFailureKind = 'meta-error' | 'unusable-answer' | 'timeout' | 'not-connected' | 'connection-lost';

/** The fields of Meta's Graph API error object, `{"error":{...}}`, that the error keeps. */
export interface MetaErrorFields {
  /** Meta's `error.code`; build logic on it (and `details`), not on the HTTP status or the title. */
  readonly code?: number;
  /** `error.error_subcode`; deprecated by Meta since v16.0, yet still sent at times. */
  readonly subcode?: number;
  /** `error.type`, usually `OAuthException`. */
  readonly type?: string;
  /** `error.message`, `(#<code>) <title>`. */
  readonly message?: string;
  /** `error.error_data.details`: what exactly was wrong. */
  readonly details?: string;
  /** `error.fbtrace_id`, for a support ticket with Meta. */
  readonly fbtraceId?: string;
}

/**
 * A WhatsApp Cloud API call that did not do what was asked. It carries Meta's error body (HTTP status, `code`,
 * `error_subcode`, `message`, `error_data.details`, `fbtrace_id`) when Meta answered, and for a call without an
 * answer whether the request may have reached Meta. It never carries the access token, the request body or the
 * recipient. Callers decide what is worth retrying: the error states facts, not policy.
 */
export class CloudApiError extends Error {
  override readonly name = 'CloudApiError';
  readonly kind: CloudApiFailureKind;
  /** The HTTP status Meta answered with (502 for an unusable answer); undefined when there was no answer. */
  readonly httpStatus: number | undefined;
  /** Meta's `error.code`; undefined when the answer carried none or there was no answer. */
  readonly code: number | undefined;
  readonly subcode: number | undefined;
  readonly type: string | undefined;
  /**
   * Meta's `error.message`, else `HTTP <status>` for an answer without an error object, else what went wrong
   * (`no answer within 10000 ms`, `connection failed: ECONNREFUSED`, `media object without a download url`).
   */
  readonly title: string;
  readonly details: string | undefined;
  readonly fbtraceId: string | undefined;
  /** The network error code (`ECONNREFUSED`, `UND_ERR_SOCKET`, ...) when the connection failed. */
  readonly networkCode: string | undefined;

  constructor(
    kind: CloudApiFailureKind,
    fields: { httpStatus?: number; title: string; networkCode?: string; cause?: unknown } & MetaErrorFields,
  ) {
    super(describe(kind, fields.httpStatus, fields.code, fields.title), fields.cause === undefined ? undefined : { cause: fields.cause });
    this.kind = kind;
    this.httpStatus = fields.httpStatus;
    this.code = fields.code;
    this.subcode = fields.subcode;
    this.type = fields.type;
    this.title = fields.title;
    this.details = fields.details;
    this.fbtraceId = fields.fbtraceId;
    this.networkCode = fields.networkCode;
  }

  /** False only when the request certainly never reached Meta (the connection was never made). */
  get mayHaveReachedMeta(): boolean {
    return this.kind !== 'not-connected';
  }

  /** Whether Meta (or something on its behalf) answered with an HTTP status. */
  get answered(): boolean {
    return this.httpStatus !== undefined;
  }
}

function describe(kind: CloudApiFailureKind, httpStatus: number | undefined, code: number | undefined, title: string): string {
  if (kind === 'meta-error') return `Cloud API error ${code ?? 'without a code'} (HTTP ${httpStatus}): ${title}`;
  // Without an answer, the title already says what happened (`no answer within 10000 ms`).
  return title;
}

/** Whether `error` is a {@link CloudApiError}. */
export function isCloudApiError(error: unknown): error is CloudApiError {
  return error instanceof CloudApiError;
}

/** A media download refused before or while reading because the media is larger than the caller's limit. */
export class MediaTooLargeError extends Error {
  override readonly name = 'MediaTooLargeError';

  constructor(readonly limitBytes: number) {
    super(`media larger than ${limitBytes} bytes`);
  }
}

/** Whether `error` is a {@link MediaTooLargeError}. */
export function isMediaTooLargeError(error: unknown): error is MediaTooLargeError {
  return error instanceof MediaTooLargeError;
}
