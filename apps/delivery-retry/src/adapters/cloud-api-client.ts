import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { DeliveryContent } from '../domain/delivery';
import type { CloudApiMessage, CloudApiSendOutcome, WhatsAppClient } from '../domain/whatsapp-client';

const tracer = trace.getTracer('@waygate/delivery-retry');

/** Meta's error object: `{"error":{"message","type","code","error_data":{"details"},"fbtrace_id"}}`. */
interface MetaErrorBody {
  error?: { message?: string; code?: number; error_data?: { details?: string } };
}

interface MetaSendResponse {
  messages?: { id?: string }[];
}

/** Connection errors that mean the request never left this machine. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** Answers larger than this are not Meta's; read no further. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * The WhatsApp Cloud API over HTTPS: `POST {baseUrl}/{version}/{phone_number_id}/messages` with the number's bearer
 * token. Every call is a CLIENT span carrying W3C trace context; tokens and bodies are never logged or recorded.
 */
export function createCloudApiClient(options: { baseUrl: string; version: string; timeoutMs: number }): WhatsAppClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  return {
    async send(message: CloudApiMessage): Promise<CloudApiSendOutcome> {
      const url = `${base}/${options.version}/${encodeURIComponent(message.phoneNumberId)}/messages`;
      return tracer.startActiveSpan(
        'POST whatsapp /messages',
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'http.request.method': 'POST',
            'server.address': new URL(base).hostname,
            'waygate.phone_number_id': message.phoneNumberId,
          },
        },
        async (span) => {
          const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${message.accessToken}` };
          propagation.inject(context.active(), headers);
          try {
            const response = await fetch(url, {
              method: 'POST',
              headers,
              body: JSON.stringify({
                messaging_product: 'whatsapp',
                recipient_type: 'individual',
                to: message.to,
                ...contentPayload(message.content),
                ...(message.callbackData ? { biz_opaque_callback_data: message.callbackData } : {}),
              }),
              signal: AbortSignal.timeout(options.timeoutMs),
            });
            span.setAttribute('http.response.status_code', response.status);
            const text = (await response.text()).slice(0, MAX_RESPONSE_BYTES);
            const outcome = toOutcome(response.status, text);
            if (outcome.kind === 'error') {
              span.setAttribute('waygate.meta_error_code', outcome.code);
              span.setStatus({ code: SpanStatusCode.ERROR, message: `meta error ${outcome.code}` });
            }
            return outcome;
          } catch (error) {
            const timedOut = (error as Error).name === 'TimeoutError';
            const code = (error as { cause?: { code?: unknown } }).cause?.code;
            const reason = timedOut
              ? `no answer within ${options.timeoutMs} ms`
              : `connection failed: ${String(code ?? (error as Error).message)}`;
            span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
            // Only a connection that was never made proves Meta did not get the request.
            const mayHaveArrived = timedOut || typeof code !== 'string' || !NEVER_CONNECTED.has(code);
            return { kind: 'no-answer', reason, mayHaveArrived } as const;
          } finally {
            span.end();
          }
        },
      );
    },
  };
}

/** The type-specific part of a Cloud API send request. */
function contentPayload(content: DeliveryContent): Record<string, unknown> {
  switch (content.kind) {
    case 'text':
      return { type: 'text', text: { body: content.body, preview_url: content.previewUrl } };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toOutcome(status: number, text: string): CloudApiSendOutcome {
  const body = parseJson(text);
  if (status >= 200 && status < 300) {
    const id = (body as MetaSendResponse | undefined)?.messages?.[0]?.id;
    // A 2xx without a wamid is not an acceptance we can track; treat as a transient fault.
    return id
      ? { kind: 'accepted', waMessageId: id }
      : { kind: 'error', httpStatus: 502, code: 0, title: 'success response without messages[0].id' };
  }
  const error = (body as MetaErrorBody | undefined)?.error;
  return {
    kind: 'error',
    httpStatus: status,
    code: typeof error?.code === 'number' ? error.code : 0,
    title: error?.message ?? `HTTP ${status}`,
  };
}
