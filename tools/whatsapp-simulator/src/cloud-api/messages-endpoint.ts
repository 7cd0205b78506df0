import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodePathSegment, readRequestBody, sendJson, MAX_REQUEST_BODY_BYTES } from '../http/http-body';
import type { SendFailureInjection, SentMessage, SimulatorPhoneNumber, TemplateCategory } from '../types';
import { extractAccessToken } from './access-token';
import {
  injectedFailureError,
  invalidAccessTokenError,
  requestTooLargeError,
  toMetaErrorResponseBody,
  unknownObjectError,
  type MetaApiError,
} from './meta-errors';
import { parseJsonBody, validateSendRequest, type ValidMarkReadRequest, type ValidMessageRequest } from './send-request-validation';

// Graph API paths start with a version segment such as v23.0.
const MESSAGES_PATH = /^\/v\d+\.\d+\/([^/]+)\/messages\/?$/;

/** The phone number id of a `/{version}/{phone_number_id}/messages` path, if it is one. */
export function matchMessagesPath(pathname: string): string | undefined {
  const match = MESSAGES_PATH.exec(pathname);
  const encodedId = match?.[1];
  return encodedId === undefined ? undefined : decodePathSegment(encodedId);
}

/** What the messages endpoint needs from the simulator. */
export interface MessagesEndpointDependencies {
  findPhoneNumber(phoneNumberId: string): SimulatorPhoneNumber | undefined;
  isKnownAccessToken(token: string): boolean;
  newFbtraceId(): string;
  /** Checks a template send against the WABA's registry; returns the template's category or Meta's error. */
  checkTemplate(phone: SimulatorPhoneNumber, request: ValidMessageRequest): { category: TemplateCategory } | { error: MetaApiError };
  takeInjectedFailure(phoneNumberId: string): SendFailureInjection | undefined;
  /** Throughput (130429) and pair rate (131056); records the send when admitted. */
  admitSend(phone: SimulatorPhoneNumber, waId: string): MetaApiError | undefined;
  /** Records the accepted message; `startDelivery` runs after the answer is written, as Meta answers first. */
  acceptMessage(
    phone: SimulatorPhoneNumber,
    request: ValidMessageRequest,
    templateCategory: TemplateCategory | undefined,
  ): { message: SentMessage; startDelivery(): void };
  markRead(phone: SimulatorPhoneNumber, request: ValidMarkReadRequest): MetaApiError | undefined;
  onRejected(phoneNumberId: string, error: MetaApiError): void;
  onFailureInjected(phoneNumberId: string, failure: SendFailureInjection): void;
}

/**
 * Authenticates the caller for a phone number id. A token that matches no configured number is a 401;
 * a token that is valid but the id is unknown gets Graph API's "object does not exist" 400.
 */
export function authorisePhoneNumber(
  token: string | undefined,
  phoneNumberId: string,
  deps: Pick<MessagesEndpointDependencies, 'findPhoneNumber' | 'isKnownAccessToken'>,
  method: string,
): { phone: SimulatorPhoneNumber } | { error: MetaApiError } {
  const phone = deps.findPhoneNumber(phoneNumberId);
  if (token === undefined) return { error: invalidAccessTokenError() };
  if (phone === undefined) {
    return { error: deps.isKnownAccessToken(token) ? unknownObjectError(phoneNumberId, method) : invalidAccessTokenError() };
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

/** Carries out an injected failure: a Meta error, no answer at all, or a cut connection. */
function sufferInjectedFailure(response: ServerResponse, failure: SendFailureInjection, reject: (error: MetaApiError) => void): void {
  switch (failure.mode ?? 'error') {
    case 'drop':
      // Like a load balancer resetting the connection: no status line at all.
      response.socket?.destroy();
      return;
    case 'timeout':
      // Never answer; the client's own timeout decides. The socket is closed when the client gives up or on stop().
      return;
    case 'error':
      reject(injectedFailureError({ httpStatus: failure.httpStatus ?? 500, code: failure.code ?? 131000, ...pickMessage(failure) }));
  }
}

function pickMessage(failure: SendFailureInjection): { message?: string } {
  return failure.message === undefined ? {} : { message: failure.message };
}

/**
 * Handles `/{version}/{phone_number_id}/messages`, checking in Meta's order: size, auth, request shape, template,
 * injected failure, throughput and pair rate; then answers and starts the message's statuses.
 */
export async function handleMessagesRequest(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  phoneNumberId: string,
  deps: MessagesEndpointDependencies,
): Promise<void> {
  const reject = (error: MetaApiError): void => {
    deps.onRejected(phoneNumberId, error);
    sendJson(response, error.httpStatus, toMetaErrorResponseBody(error, deps.newFbtraceId()));
  };
  const method = request.method ?? 'GET';
  const body = await readRequestBody(request);
  if (method !== 'POST') return reject(unknownObjectError(phoneNumberId, method));
  if (body.kind === 'too_large') return reject(requestTooLargeError(MAX_REQUEST_BODY_BYTES));

  const auth = authorisePhoneNumber(extractAccessToken(request, url), phoneNumberId, deps, 'post');
  if ('error' in auth) return reject(auth.error);

  const validation = validateSendRequest(parseJsonBody(body.text));
  if (!validation.ok) return reject(validation.error);
  const sendRequest = validation.request;

  let templateCategory: TemplateCategory | undefined;
  if (sendRequest.kind === 'message' && sendRequest.template !== undefined) {
    const template = deps.checkTemplate(auth.phone, sendRequest);
    if ('error' in template) return reject(template.error);
    templateCategory = template.category;
  }

  // Injected failures hit only requests Meta would otherwise accept, so client bugs still surface as 400s.
  const failure = deps.takeInjectedFailure(phoneNumberId);
  if (failure !== undefined) {
    deps.onFailureInjected(phoneNumberId, failure);
    return sufferInjectedFailure(response, failure, reject);
  }

  if (sendRequest.kind === 'mark_read') {
    const error = deps.markRead(auth.phone, sendRequest);
    if (error !== undefined) return reject(error);
    return sendJson(response, 200, { success: true });
  }

  const limited = deps.admitSend(auth.phone, sendRequest.waId);
  if (limited !== undefined) return reject(limited);

  const accepted = deps.acceptMessage(auth.phone, sendRequest, templateCategory);
  sendJson(response, 200, sendMessageResponse(accepted.message));
  accepted.startDelivery();
}
