import { createHash } from 'node:crypto';
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { CloudApiFailure, MediaDownload, WhatsAppCloudApi } from '../domain/whatsapp-cloud-api';

const tracer = trace.getTracer('@waygate/receipt');

/** Meta's error object: `{"error":{"message","type","code","error_data":{"details"},"fbtrace_id"}}`. */
interface MetaErrorBody {
  error?: { message?: string; code?: number };
}

/** `GET /{media-id}`'s answer. */
interface MetaMediaObject {
  url?: unknown;
  mime_type?: unknown;
  sha256?: unknown;
  file_size?: unknown;
}

/** JSON answers larger than this are not Meta's; read no further. */
const MAX_JSON_RESPONSE_BYTES = 64 * 1024;

class ResponseTooLarge extends Error {}

/** Reads a response body, giving up (and cancelling the download) past `maxBytes`. */
async function readBody(response: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new ResponseTooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new ResponseTooLarge();
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function metaError(status: number, body: Buffer): CloudApiFailure {
  const error = (parseJson(body) as MetaErrorBody | undefined)?.error;
  return {
    kind: 'error',
    httpStatus: status,
    code: typeof error?.code === 'number' ? error.code : 0,
    title: error?.message ?? `HTTP ${status}`,
  };
}

/**
 * The Cloud API calls receipt makes, over HTTPS with the receiving number's bearer token: media download
 * (`GET /{version}/{media-id}`, then its URL) and mark-as-read. Every call is a CLIENT span carrying W3C trace
 * context; tokens, URLs with their signatures, and bodies are never logged or recorded.
 */
export function createCloudApiClient(options: { baseUrl: string; version: string; timeoutMs: number }): WhatsAppCloudApi {
  const base = options.baseUrl.replace(/\/+$/, '');

  /** One HTTP call in a CLIENT span; `read` turns the response into an outcome. Network failures are `no-answer`. */
  function call<T>(
    spanName: string,
    url: string,
    init: { method: string; accessToken: string; body?: unknown },
    read: (response: Response) => Promise<T | CloudApiFailure>,
  ): Promise<T | CloudApiFailure> {
    return tracer.startActiveSpan(
      spanName,
      { kind: SpanKind.CLIENT, attributes: { 'http.request.method': init.method, 'server.address': new URL(url).hostname } },
      async (span) => {
        const headers: Record<string, string> = { authorization: `Bearer ${init.accessToken}` };
        if (init.body !== undefined) headers['content-type'] = 'application/json';
        propagation.inject(context.active(), headers);
        try {
          const response = await fetch(url, {
            method: init.method,
            headers,
            ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
            redirect: 'error',
            signal: AbortSignal.timeout(options.timeoutMs),
          });
          span.setAttribute('http.response.status_code', response.status);
          const outcome = await read(response);
          if (
            typeof outcome === 'object' &&
            outcome !== null &&
            'kind' in outcome &&
            (outcome.kind === 'error' || outcome.kind === 'no-answer')
          ) {
            span.setStatus({
              code: SpanStatusCode.ERROR,
              message: outcome.kind === 'error' ? `meta error ${outcome.code}` : outcome.reason,
            });
          }
          return outcome;
        } catch (error) {
          const reason =
            (error as Error).name === 'TimeoutError'
              ? `no answer within ${options.timeoutMs} ms`
              : `connection failed: ${(error as Error).message}`;
          span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
          return { kind: 'no-answer', reason } as const;
        } finally {
          span.end();
        }
      },
    );
  }

  return {
    async downloadMedia({ mediaId, accessToken, maxBytes }): Promise<MediaDownload> {
      const located = await call(
        'GET whatsapp /{media-id}',
        `${base}/${options.version}/${encodeURIComponent(mediaId)}`,
        { method: 'GET', accessToken },
        async (response) => {
          const body = await readBody(response, MAX_JSON_RESPONSE_BYTES).catch(() => Buffer.alloc(0));
          if (!response.ok) return metaError(response.status, body);
          const media = parseJson(body) as MetaMediaObject | undefined;
          if (typeof media?.url !== 'string' || !/^https?:\/\//.test(media.url)) {
            return { kind: 'error', httpStatus: 502, code: 0, title: 'media object without a download url' } as const;
          }
          return {
            url: media.url,
            mimeType: typeof media.mime_type === 'string' ? media.mime_type : 'application/octet-stream',
            sha256: typeof media.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(media.sha256) ? media.sha256.toLowerCase() : undefined,
            fileSize: typeof media.file_size === 'number' ? media.file_size : undefined,
          };
        },
      );
      if ('kind' in located) return located;
      if (located.fileSize !== undefined && located.fileSize > maxBytes) return { kind: 'too-large', limitBytes: maxBytes };

      return call('GET whatsapp media download', located.url, { method: 'GET', accessToken }, async (response) => {
        if (!response.ok) return metaError(response.status, await readBody(response, MAX_JSON_RESPONSE_BYTES).catch(() => Buffer.alloc(0)));
        let bytes: Buffer;
        try {
          bytes = await readBody(response, maxBytes);
        } catch (error) {
          if (error instanceof ResponseTooLarge) return { kind: 'too-large', limitBytes: maxBytes } as const;
          throw error;
        }
        // A truncated or corrupted download is worth another try, not a stored blob.
        if (located.sha256 && createHash('sha256').update(bytes).digest('hex') !== located.sha256) {
          return { kind: 'error', httpStatus: 502, code: 0, title: 'downloaded media does not match its sha256' } as const;
        }
        return { kind: 'downloaded', bytes, mimeType: located.mimeType } as const;
      });
    },

    async markRead({ phoneNumberId, accessToken, waMessageId, typingIndicator }) {
      return call(
        'POST whatsapp /messages (read)',
        `${base}/${options.version}/${encodeURIComponent(phoneNumberId)}/messages`,
        {
          method: 'POST',
          accessToken,
          body: {
            messaging_product: 'whatsapp',
            status: 'read',
            message_id: waMessageId,
            ...(typingIndicator ? { typing_indicator: { type: 'text' } } : {}),
          },
        },
        async (response) => {
          const body = await readBody(response, MAX_JSON_RESPONSE_BYTES).catch(() => Buffer.alloc(0));
          return response.ok ? ({ kind: 'ok' } as const) : metaError(response.status, body);
        },
      );
    },
  };
}
