/** A Graph API error before it gets its per-request `fbtrace_id`. */
export interface MetaApiError {
  httpStatus: number;
  code: number;
  type: 'OAuthException' | 'GraphMethodException';
  message: string;
  subcode?: number;
  /** Goes into `error_data.details`; WhatsApp-specific errors carry it. */
  details?: string;
}

/** The JSON body Graph API answers errors with. */
export interface MetaErrorResponseBody {
  error: {
    message: string;
    type: string;
    code: number;
    error_subcode?: number;
    error_data?: { messaging_product: 'whatsapp'; details: string };
    fbtrace_id: string;
  };
}

/** Serialises an error the way Graph API does. */
export function toMetaErrorResponseBody(error: MetaApiError, fbtraceId: string): MetaErrorResponseBody {
  return {
    error: {
      message: error.message,
      type: error.type,
      code: error.code,
      ...(error.subcode === undefined ? {} : { error_subcode: error.subcode }),
      ...(error.details === undefined ? {} : { error_data: { messaging_product: 'whatsapp' as const, details: error.details } }),
      fbtrace_id: fbtraceId,
    },
  };
}

// Titles from Meta's Cloud API error code reference, used when an injected failure has no message.
const ERROR_TITLES: Readonly<Record<number, string>> = {
  0: 'AuthException',
  1: 'API Unknown',
  2: 'Service temporarily unavailable',
  3: 'API Method',
  4: 'API Too Many Calls',
  10: 'Permission Denied',
  100: 'Invalid parameter',
  190: 'Access token has expired',
  130429: 'Rate limit hit',
  131000: 'Something went wrong',
  131005: 'Access denied',
  131008: 'Required parameter is missing',
  131009: 'Parameter value is not valid',
  131016: 'Service unavailable',
  131021: 'Recipient cannot be sender',
  131026: 'Message undeliverable',
  131031: 'Account has been locked',
  131047: 'Re-engagement message',
  131048: 'Spam rate limit hit',
  131049: 'Meta chose not to deliver',
  131050: 'User stopped marketing messages',
  131051: 'Unsupported message type',
  131052: 'Media download error',
  131053: 'Media upload error',
  131056: '(Business Account, Consumer Account) pair rate limit hit',
  132000: 'Number of parameters does not match the expected number of params',
  132001: 'Template does not exist',
  132005: 'Translated text too long',
  132012: 'Parameter format does not match format in the created template',
  133010: 'Phone number not registered',
};

/** Meta's title for an error code, or a generic one. */
export function metaErrorTitle(code: number): string {
  return ERROR_TITLES[code] ?? 'Something went wrong';
}

/** 401 for a missing, unknown or wrong bearer token. */
export function invalidAccessTokenError(): MetaApiError {
  return {
    httpStatus: 401,
    code: 190,
    type: 'OAuthException',
    message: 'Invalid OAuth access token - Cannot parse access token',
  };
}

/** What Graph API answers for an object id it does not know (or the token may not see). */
export function unknownObjectError(objectId: string, method: string): MetaApiError {
  return {
    httpStatus: 400,
    code: 100,
    subcode: 33,
    type: 'GraphMethodException',
    message:
      `Unsupported ${method.toLowerCase()} request. Object with ID '${objectId}' does not exist, ` +
      'cannot be loaded due to missing permissions, or does not support this operation. ' +
      'Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api',
  };
}

/** A path that is not a Graph API endpoint the simulator implements. */
export function unknownPathError(path: string): MetaApiError {
  return {
    httpStatus: 400,
    code: 2500,
    type: 'OAuthException',
    message: `Unknown path components: ${path}`,
  };
}

/** 131008: a required request field is absent. `parameter` uses Meta's notation, e.g. `text['body']`. */
export function missingParameterError(parameter: string): MetaApiError {
  return {
    httpStatus: 400,
    code: 131008,
    type: 'OAuthException',
    message: '(#131008) Required parameter is missing',
    details: `The parameter ${parameter} is required.`,
  };
}

/** 131009: a field is present but has a value Meta rejects. */
export function invalidParameterValueError(details: string): MetaApiError {
  return {
    httpStatus: 400,
    code: 131009,
    type: 'OAuthException',
    message: '(#131009) Parameter value is not valid',
    details,
  };
}

/** 100: generic Graph API parameter error (unparseable body, length limits, wrong JSON types). */
export function invalidParameterError(details: string): MetaApiError {
  return { httpStatus: 400, code: 100, type: 'OAuthException', message: '(#100) Invalid parameter', details };
}

/** 413 for request bodies over the simulator's limit. */
export function requestTooLargeError(limitBytes: number): MetaApiError {
  return {
    httpStatus: 413,
    code: 100,
    type: 'OAuthException',
    message: '(#100) Request body is too large',
    details: `Request bodies are limited to ${limitBytes} bytes.`,
  };
}

/** The error an injected failure answers with. */
export function injectedFailureError(failure: { httpStatus: number; code: number; message?: string }): MetaApiError {
  const title = metaErrorTitle(failure.code);
  return {
    httpStatus: failure.httpStatus,
    code: failure.code,
    type: 'OAuthException',
    message: failure.message ?? `(#${failure.code}) ${title}`,
    details: failure.message ?? title,
  };
}

/** 130429: the sending number is over its messages-per-second throughput. Meta answers 429. */
export function throughputLimitError(limitMps: number): MetaApiError {
  return {
    httpStatus: 429,
    code: 130429,
    type: 'OAuthException',
    message: '(#130429) Rate limit hit',
    details: `Cloud API message throughput has been reached. This phone number may send at most ${limitMps} messages per second.`,
  };
}

/** 131056: too many messages from this business number to the same recipient in a short time. */
export function pairRateLimitError(): MetaApiError {
  return {
    httpStatus: 400,
    code: 131056,
    type: 'OAuthException',
    message: '(#131056) (Business Account, Consumer Account) pair rate limit hit',
    details:
      'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
  };
}

/** 132001: no approved template with this name in this language. Meta answers 404. */
export function templateNotFoundError(name: string, language: string): MetaApiError {
  return {
    httpStatus: 404,
    code: 132001,
    type: 'OAuthException',
    message: '(#132001) Template name does not exist in the translation',
    details: `template name (${name}) does not exist in ${language}`,
  };
}

/** 132000: the parameters given do not match the template's placeholders. */
export function templateParameterMismatchError(details: string): MetaApiError {
  return {
    httpStatus: 400,
    code: 132000,
    type: 'OAuthException',
    message: '(#132000) Number of parameters does not match the expected number of params',
    details,
  };
}

/** 132012: named parameters given for a positional template, or the other way round. */
export function templateParameterFormatError(details: string): MetaApiError {
  return {
    httpStatus: 400,
    code: 132012,
    type: 'OAuthException',
    message: '(#132012) Parameter format does not match format in the created template',
    details,
  };
}
