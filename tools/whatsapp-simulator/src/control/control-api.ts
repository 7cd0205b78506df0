import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseJsonBody } from '../cloud-api/send-request-validation';
import { decodePathSegment, readRequestBody, sendJson } from '../http/http-body';
import { SimulatorInputError } from '../simulator-input-error';
import type { RecipientBehaviour, SendFailureInjection, TemplateStatusChange, WhatsAppSimulator } from '../types';
import type { InboundMessageInput } from '../webhooks/inbound-payloads';
import { parseAccountWebhookInput, type AccountWebhookInput } from '../cloud-api/account-endpoints';
import type { HandshakeResult } from '../webhooks/subscription-handshake';
import type { MediaDownloadFaultRule } from '../media/media-download-faults';
import type { WebhookFaultRule } from '../webhooks/webhook-faults';

/** Path prefix of the simulator's own (non-Meta) API. */
export const CONTROL_API_PREFIX = '/_simulator/';

/** The simulator operations the control API exposes: the embedded API's, plus the handshake and clock readout. */
export type ControlApiTarget = Omit<WhatsAppSimulator, 'url' | 'now' | 'stop'> & {
  emitAccountWebhook(input: AccountWebhookInput): Promise<{ status: number; body: unknown }>;
  subscribeWebhook(url: string, verifyToken: string, wabaId?: string): Promise<HandshakeResult>;
  clockState(): { now: string; nowMs: number; scale: number };
};

interface ControlResult {
  status: number;
  body: unknown;
}

interface ControlRoute {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: RegExp;
  handle(params: string[], body: unknown, target: ControlApiTarget): ControlResult | Promise<ControlResult>;
}

const OK: ControlResult = { status: 200, body: { ok: true } };

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)[name] : undefined;
}

function requireStringField(body: unknown, name: string): string {
  const value = field(body, name);
  if (typeof value !== 'string' || value === '') throw new SimulatorInputError(`${name} must be a non-empty string`);
  return value;
}

function requireNumberField(body: unknown, name: string): number {
  const value = field(body, name);
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new SimulatorInputError(`${name} must be a number`);
  return value;
}

const TIME_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, seconds: 1_000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 };

/** `{"ms":..}`, `{"seconds":..}`, `{"minutes":..}`, `{"hours":..}` or `{"days":..}` (exactly one). */
function parseDuration(body: unknown): number {
  const given = Object.keys(TIME_UNITS_MS).filter((unit) => field(body, unit) !== undefined);
  if (given.length !== 1) throw new SimulatorInputError('give exactly one of ms, seconds, minutes, hours, days');
  const unit = given[0] as string;
  const amount = requireNumberField(body, unit);
  if (amount < 0) throw new SimulatorInputError(`${unit} must be >= 0`);
  return amount * (TIME_UNITS_MS[unit] as number);
}

const CONTROL_ROUTES: readonly ControlRoute[] = [
  { method: 'GET', path: /^\/_simulator\/health$/, handle: () => ({ status: 200, body: { status: 'ok' } }) },
  {
    method: 'PUT',
    path: /^\/_simulator\/recipients\/([^/]+)$/,
    handle: ([waId], body, target) => {
      target.setRecipient(waId ?? '', body as RecipientBehaviour);
      return OK;
    },
  },
  {
    method: 'POST',
    path: /^\/_simulator\/failures$/,
    handle: (_params, body, target) => {
      target.injectSendFailures(body as SendFailureInjection);
      return OK;
    },
  },
  {
    method: 'DELETE',
    path: /^\/_simulator\/failures$/,
    handle: (_params, _body, target) => {
      target.clearSendFailures();
      return OK;
    },
  },
  {
    method: 'POST',
    path: /^\/_simulator\/webhook-faults$/,
    handle: (_params, body, target) => {
      target.injectWebhookFaults(body as WebhookFaultRule);
      return OK;
    },
  },
  {
    method: 'DELETE',
    path: /^\/_simulator\/webhook-faults$/,
    handle: (_params, _body, target) => {
      target.clearWebhookFaults();
      return OK;
    },
  },
  {
    method: 'POST',
    path: /^\/_simulator\/media-download-faults$/,
    handle: (_params, body, target) => {
      target.injectMediaDownloadFaults(body as MediaDownloadFaultRule);
      return OK;
    },
  },
  {
    method: 'DELETE',
    path: /^\/_simulator\/media-download-faults$/,
    handle: (_params, _body, target) => {
      target.clearMediaDownloadFaults();
      return OK;
    },
  },
  {
    method: 'PUT',
    path: /^\/_simulator\/hosted-media$/,
    handle: (_params, body, target) => {
      const link = requireStringField(body, 'link');
      const base64 = requireStringField(body, 'base64');
      target.hostMedia(link, requireStringField(body, 'mimeType'), Buffer.from(base64, 'base64'));
      return OK;
    },
  },
  {
    method: 'POST',
    path: /^\/_simulator\/inbound$/,
    handle: (_params, body, target) => {
      const phoneNumberId = field(body, 'phoneNumberId');
      if (phoneNumberId !== undefined && typeof phoneNumberId !== 'string') throw new SimulatorInputError('phoneNumberId must be a string');
      return { status: 200, body: target.sendInbound(field(body, 'message') as InboundMessageInput, phoneNumberId) };
    },
  },
  {
    // Meta's account webhooks: {"field": "phone_number_quality_update" | "business_capability_update" | "account_update",
    // "phoneNumberId"?: "...", "value"?: {...Meta's value fields over the defaults}}; answers with the receiver's status.
    method: 'POST',
    path: /^\/_simulator\/account-webhooks$/,
    handle: async (_params, body, target) => {
      const sent = await target.emitAccountWebhook(parseAccountWebhookInput(body));
      return { status: 200, body: { receiverStatus: sent.status, payload: sent.body } };
    },
  },
  {
    method: 'POST',
    path: /^\/_simulator\/templates\/status$/,
    handle: (_params, body, target) => ({ status: 200, body: target.setTemplateStatus(body as TemplateStatusChange) }),
  },
  {
    method: 'POST',
    path: /^\/_simulator\/user-preferences$/,
    handle: (_params, body, target) => {
      const phoneNumberId = field(body, 'phoneNumberId');
      if (phoneNumberId !== undefined && typeof phoneNumberId !== 'string') throw new SimulatorInputError('phoneNumberId must be a string');
      const value = requireStringField(body, 'value');
      if (value !== 'stop' && value !== 'resume') throw new SimulatorInputError('value must be "stop" or "resume"');
      target.sendUserPreference({ from: requireStringField(body, 'from'), value }, phoneNumberId);
      return OK;
    },
  },
  { method: 'GET', path: /^\/_simulator\/clock$/, handle: (_params, _body, target) => ({ status: 200, body: target.clockState() }) },
  {
    method: 'PUT',
    path: /^\/_simulator\/clock$/,
    handle: (_params, body, target) => {
      target.setTimeScale(requireNumberField(body, 'scale'));
      return { status: 200, body: target.clockState() };
    },
  },
  {
    method: 'POST',
    path: /^\/_simulator\/clock\/advance$/,
    handle: async (_params, body, target) => {
      await target.advanceTime(parseDuration(body));
      return { status: 200, body: target.clockState() };
    },
  },
  {
    method: 'POST',
    path: /^\/_simulator\/reset$/,
    handle: async (_params, _body, target) => {
      await target.reset();
      return OK;
    },
  },
  {
    method: 'GET',
    path: /^\/_simulator\/read-marks$/,
    handle: (_params, _body, target) => ({ status: 200, body: { readMarks: target.readMarks() } }),
  },
  {
    method: 'GET',
    path: /^\/_simulator\/inbound$/,
    handle: (_params, _body, target) => ({ status: 200, body: { messages: target.inboundMessages() } }),
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
      const wabaId = field(body, 'wabaId') === undefined ? undefined : requireStringField(body, 'wabaId');
      const result = await target.subscribeWebhook(requireStringField(body, 'url'), requireStringField(body, 'verifyToken'), wabaId);
      return result.ok ? OK : { status: 502, body: { error: result.reason } };
    },
  },
];

function findRoute(method: string, pathname: string): { route: ControlRoute; params: string[] } | 'wrong_method' | undefined {
  let pathMatched = false;
  for (const route of CONTROL_ROUTES) {
    const match = route.path.exec(pathname);
    if (match === null) continue;
    pathMatched = true;
    if (route.method === method) return { route, params: match.slice(1).map(decodePathSegment) };
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
