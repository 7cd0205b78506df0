import type { IncomingMessage, ServerResponse } from 'node:http';
import { readRequestBody, sendJson } from './http-body';
import { parseJsonBody } from './message-validation';
import { parseSendFailureInjection } from './failure-injector';
import { parseRecipientBehaviour } from './recipient-directory';
import { SimulatorInputError } from './simulator-input-error';
import type { HandshakeResult } from './subscription-handshake';
import type { RecipientBehaviour, SendFailureInjection, SentMessage, WebhookDelivery } from './types';

/** Path prefix of the simulator's own (non-Meta) API. */
export const CONTROL_API_PREFIX = '/_simulator/';

/** The simulator operations the control API exposes. */
export interface ControlApiTarget {
  setWebhookUrl(url: string): void;
  setRecipient(waId: string, behaviour: RecipientBehaviour): void;
  injectSendFailures(failure: SendFailureInjection): void;
  sentMessages(): SentMessage[];
  webhookDeliveries(): WebhookDelivery[];
  subscribeWebhook(url: string, verifyToken: string): Promise<HandshakeResult>;
}

interface ControlResult {
  status: number;
  body: unknown;
}

interface ControlRoute {
  method: 'GET' | 'PUT' | 'POST';
  path: RegExp;
  handle(params: string[], body: unknown, target: ControlApiTarget): ControlResult | Promise<ControlResult>;
}

const OK: ControlResult = { status: 200, body: { ok: true } };

function requireStringField(body: unknown, field: string): string {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'string' || value === '') throw new SimulatorInputError(`${field} must be a non-empty string`);
  return value;
}

const CONTROL_ROUTES: readonly ControlRoute[] = [
  { method: 'GET', path: /^\/_simulator\/health$/, handle: () => ({ status: 200, body: { status: 'ok' } }) },
  {
    method: 'PUT',
    path: /^\/_simulator\/recipients\/([^/]+)$/,
    handle: ([waId], body, target) => {
      target.setRecipient(waId ?? '', parseRecipientBehaviour(body));
      return OK;
    },
  },
  {
    method: 'POST',
    path: /^\/_simulator\/failures$/,
    handle: (_params, body, target) => {
      target.injectSendFailures(parseSendFailureInjection(body));
      return OK;
    },
  },
  {
    method: 'GET',
    path: /^\/_simulator\/sent$/,
    handle: (_params, _body, target) => ({ status: 200, body: { messages: target.sentMessages() } }),
  },
  {
    method: 'GET',
    path: /^\/_simulator\/webhooks$/,
    handle: (_params, _body, target) => ({ status: 200, body: { deliveries: target.webhookDeliveries() } }),
  },
  {
    method: 'PUT',
    path: /^\/_simulator\/webhook-url$/,
    handle: (_params, body, target) => {
      target.setWebhookUrl(requireStringField(body, 'url'));
      return OK;
    },
  },
  {
    method: 'POST',
    path: /^\/_simulator\/subscribe$/,
    handle: async (_params, body, target) => {
      const result = await target.subscribeWebhook(requireStringField(body, 'url'), requireStringField(body, 'verifyToken'));
      return result.ok ? OK : { status: 502, body: { error: result.reason } };
    },
  },
];

/** Like decodeURIComponent, but a malformed escape stays as typed (and then fails validation) instead of throwing. */
function decodePathParam(param: string): string {
  try {
    return decodeURIComponent(param);
  } catch {
    return param;
  }
}

function findRoute(method: string, pathname: string): { route: ControlRoute; params: string[] } | 'wrong_method' | undefined {
  let pathMatched = false;
  for (const route of CONTROL_ROUTES) {
    const match = route.path.exec(pathname);
    if (match === null) continue;
    pathMatched = true;
    if (route.method === method) return { route, params: match.slice(1).map(decodePathParam) };
  }
  return pathMatched ? 'wrong_method' : undefined;
}

async function readControlBody(request: IncomingMessage): Promise<{ body: unknown } | { error: ControlResult }> {
  const raw = await readRequestBody(request);
  if (raw.kind === 'too_large') return { error: { status: 413, body: { error: 'request body too large' } } };
  if (raw.text.trim() === '') return { body: undefined };
  const body = parseJsonBody(raw.text);
  if (body === undefined) return { error: { status: 400, body: { error: 'request body must be JSON' } } };
  return { body };
}

async function runControlRoute(request: IncomingMessage, pathname: string, target: ControlApiTarget): Promise<ControlResult> {
  const readBody = await readControlBody(request);
  const found = findRoute(request.method ?? 'GET', pathname);
  if (found === undefined) return { status: 404, body: { error: 'not found' } };
  if (found === 'wrong_method') return { status: 405, body: { error: 'method not allowed' } };
  if ('error' in readBody) return readBody.error;
  try {
    return await found.route.handle(found.params, readBody.body, target);
  } catch (error) {
    if (error instanceof SimulatorInputError) return { status: 400, body: { error: error.message } };
    throw error;
  }
}

/** Handles a request under `/_simulator/`; answers JSON, errors as `{"error": "reason"}`. */
export async function handleControlRequest(
  request: IncomingMessage,
  response: ServerResponse,
  pathname: string,
  target: ControlApiTarget,
): Promise<void> {
  const result = await runControlRoute(request, pathname, target);
  sendJson(response, result.status, result.body);
}
