import type { IncomingMessage, ServerResponse } from 'node:http';
import { readRequestBody, sendJson, MAX_REQUEST_BODY_BYTES } from './http-body';
import { parseJsonBody, validateSendMessageRequest, type ValidSendMessageRequest } from './message-validation';
import {
  injectedFailureError,
  invalidAccessTokenError,
  requestTooLargeError,
  toMetaErrorResponseBody,
  unknownObjectError,
  type MetaApiError,
} from './meta-errors';
import type { SendFailureInjection, SentMessage, SimulatorPhoneNumber } from './types';

// Graph API paths start with a version segment such as v23.0.
const MESSAGES_PATH = /^\/v\d+\.\d+\/([^/]+)\/messages\/?$/;

/** The phone number id of a `/{version}/{phone_number_id}/messages` path, if it is one. */
export function matchMessagesPath(pathname: string): string | undefined {
  const match = MESSAGES_PATH.exec(pathname);
  const encodedId = match?.[1];
  if (encodedId === undefined) return undefined;
  try {
    return decodeURIComponent(encodedId);
  } catch {
    return encodedId; // malformed escapes simply never match a configured id
  }
}

/** What the messages endpoint needs from the simulator. */
export interface CloudApiDependencies {
  findPhoneNumber(phoneNumberId: string): SimulatorPhoneNumber | undefined;
  isKnownAccessToken(token: string): boolean;
  takeInjectedFailure(): SendFailureInjection | undefined;
  newFbtraceId(): string;
  /** Records the message as sent and returns the record. */
  recordSentMessage(phone: SimulatorPhoneNumber, request: ValidSendMessageRequest): SentMessage;
  /** Starts status webhooks; called after the HTTP answer is written, as Meta answers before delivering. */
  beginStatusLifecycle(phone: SimulatorPhoneNumber, message: SentMessage): void;
  onRejected(phoneNumberId: string, error: MetaApiError): void;
}

/** Graph API accepts the token as a Bearer header or an `access_token` query parameter. */
function extractAccessToken(request: IncomingMessage, url: URL): string | undefined {
  const header = request.headers.authorization;
  const bearer = header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  return bearer ?? url.searchParams.get('access_token') ?? undefined;
}

/**
 * Authenticates the caller for a phone number id. A token that matches no configured number is a 401;
 * a token that is valid but the id is unknown gets Graph API's "object does not exist" 400.
 */
function authorise(
  token: string | undefined,
  phoneNumberId: string,
  deps: CloudApiDependencies,
): { phone: SimulatorPhoneNumber } | { error: MetaApiError } {
  const phone = deps.findPhoneNumber(phoneNumberId);
  if (token === undefined) return { error: invalidAccessTokenError() };
  if (phone === undefined) {
    return { error: deps.isKnownAccessToken(token) ? unknownObjectError(phoneNumberId, 'post') : invalidAccessTokenError() };
  }
  if (token !== phone.accessToken) return { error: invalidAccessTokenError() };
  return { phone };
}

/** Successful send answer, exactly Meta's shape. */
function sendMessageResponse(message: SentMessage): unknown {
  return {
    messaging_product: 'whatsapp',
    contacts: [{ input: message.to, wa_id: message.waId }],
    messages: [{ id: message.wamid }],
  };
}

/** Handles `/{version}/{phone_number_id}/messages`. */
export async function handleMessagesRequest(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  phoneNumberId: string,
  deps: CloudApiDependencies,
): Promise<void> {
  const reject = (error: MetaApiError): void => {
    deps.onRejected(phoneNumberId, error);
    sendJson(response, error.httpStatus, toMetaErrorResponseBody(error, deps.newFbtraceId()));
  };
  const method = request.method ?? 'GET';
  const body = await readRequestBody(request);
  if (method !== 'POST') return reject(unknownObjectError(phoneNumberId, method));
  if (body.kind === 'too_large') return reject(requestTooLargeError(MAX_REQUEST_BODY_BYTES));

  const auth = authorise(extractAccessToken(request, url), phoneNumberId, deps);
  if ('error' in auth) return reject(auth.error);

  const validation = validateSendMessageRequest(parseJsonBody(body.text));
  if (!validation.ok) return reject(validation.error);

  // Injected failures hit only requests Meta would otherwise accept, so client bugs still surface as 400s.
  const failure = deps.takeInjectedFailure();
  if (failure !== undefined) return reject(injectedFailureError(failure));

  const sent = deps.recordSentMessage(auth.phone, validation.request);
  sendJson(response, 200, sendMessageResponse(sent));
  deps.beginStatusLifecycle(auth.phone, sent);
}
