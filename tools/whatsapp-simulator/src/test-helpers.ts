import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  MetaErrorResponseBody,
  SentMessage,
  SimulatorPhoneNumber,
  StatusWebhookStatus,
  WebhookDelivery,
  WhatsAppWebhookPayload,
} from './index';

/** JSON the messages endpoint answers with: success fields or Meta's error. */
export interface SendResponseJson extends Partial<MetaErrorResponseBody> {
  messaging_product?: string;
  contacts?: { input: string; wa_id: string }[];
  messages?: { id: string }[];
}

/** JSON the control API answers with. */
export interface ControlResponseJson {
  ok?: boolean;
  status?: string;
  error?: string;
  messages?: SentMessage[];
  deliveries?: WebhookDelivery[];
}

/** A request the test receiver got. */
export interface ReceivedRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  rawBody: Buffer;
}

/** Decides how the receiver answers; default 200. */
export type ReceiverResponder = (request: ReceivedRequest) => { status: number; body?: string };

/** A real HTTP server standing in for the business's webhook endpoint. */
export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  respondWith(responder: ReceiverResponder): void;
  /** Parsed bodies of the POSTs received so far. */
  webhooks(): WhatsAppWebhookPayload[];
  close(): Promise<void>;
}

/** Starts a webhook receiver on a free loopback port. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  let responder: ReceiverResponder = () => ({ status: 200 });
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received: ReceivedRequest = {
        method: request.method ?? 'GET',
        url: new URL(request.url ?? '/', 'http://127.0.0.1'),
        headers: request.headers,
        rawBody: Buffer.concat(chunks),
      };
      requests.push(received);
      const answer = responder(received);
      response.writeHead(answer.status, { 'Content-Type': 'text/plain' });
      response.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/whatsapp`,
    requests,
    respondWith: (next) => {
      responder = next;
    },
    webhooks: () =>
      requests
        .filter((request) => request.method === 'POST')
        .map((request) => JSON.parse(request.rawBody.toString('utf8')) as WhatsAppWebhookPayload),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Every status in the webhooks a receiver got, in arrival order (optionally only one message's). */
export function receivedStatuses(receiver: WebhookReceiver, wamid?: string): StatusWebhookStatus[] {
  return receiver
    .webhooks()
    .flatMap((webhook) => webhook.entry.flatMap((entry) => entry.changes.flatMap((change) => change.value.statuses ?? [])))
    .filter((status) => wamid === undefined || status.id === wamid);
}

/** A test business number. */
export const TEST_PHONE: SimulatorPhoneNumber = {
  id: '106540352242922',
  displayPhoneNumber: '+1 555-010-2030',
  accessToken: 'EAAtest-token-1',
  wabaId: '102290129340398',
};

/** A second number, to check tokens are per phone number. */
export const OTHER_PHONE: SimulatorPhoneNumber = {
  id: '106540352242999',
  displayPhoneNumber: '+1 555-010-9999',
  accessToken: 'EAAtest-token-2',
  wabaId: '102290129340399',
};

export const TEST_APP_SECRET = 'test-app-secret';

/** A valid text message request body. */
export function textMessage(to: string, body = 'Hello from the test'): Record<string, unknown> {
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to,
    type: 'text',
    text: { body, preview_url: false },
  };
}

/** POSTs to the messages endpoint and returns status and parsed JSON. */
export async function postMessage(
  baseUrl: string,
  payload: unknown,
  options: { phoneNumberId?: string; token?: string | null; version?: string; rawBody?: string } = {},
): Promise<{ status: number; json: SendResponseJson }> {
  const { phoneNumberId = TEST_PHONE.id, token = TEST_PHONE.accessToken, version = 'v23.0' } = options;
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token !== null) headers['Authorization'] = `Bearer ${token}`;
  const response = await fetch(`${baseUrl}/${version}/${phoneNumberId}/messages`, {
    method: 'POST',
    headers,
    body: options.rawBody ?? JSON.stringify(payload),
  });
  return { status: response.status, json: (await response.json()) as SendResponseJson };
}

/** Calls the control API. */
export async function control(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: ControlResponseJson }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as ControlResponseJson };
}
