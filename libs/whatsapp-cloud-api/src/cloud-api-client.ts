import { createHash } from 'node:crypto';
import { SpanKind, SpanStatusCode, context, propagation, trace, type Attributes, type Span } from '@opentelemetry/api';
import { CloudApiError, MediaTooLargeError } from './cloud-api-error';
import { parseMetaErrorBody, readJsonBody } from './response-body';

const tracer = trace.getTracer('@waygate/whatsapp-cloud-api');

/** Connection errors that mean the request never left this machine. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** Where and how the client reaches the Cloud API. */
export interface CloudApiClientOptions {
  /** `https://graph.facebook.com` in production, the simulator's URL in tests. */
  readonly baseUrl: string;
  /** Graph API version, e.g. `v23.0`. */
  readonly version: string;
  /** Limit for one call, the whole answer (a media download included) read. */
  readonly timeoutMs: number;
}

/**
 * The type-specific part of a message: a text, or a message body the caller built in Meta's shape (delivery-retry's
 * `toCloudApiMessage`, every type), sent as given with `biz_opaque_callback_data` added.
 */
export type OutboundContent =
  | { readonly kind: 'text'; readonly body: string; readonly previewUrl: boolean }
  | { readonly kind: 'prebuilt'; readonly message: { readonly [key: string]: unknown } };

/** One message to send: `POST /{version}/{phone_number_id}/messages`. */
export interface SendMessageRequest {
  readonly phoneNumberId: string;
  /** The number's bearer token. */
  readonly accessToken: string;
  /** The recipient, E.164. */
  readonly to: string;
  readonly content: OutboundContent;
  /** Sent as `biz_opaque_callback_data`, which Meta echoes in the message's status webhooks. */
  readonly callbackData?: string;
}

/** `GET /{version}/{media_id}`'s answer: where to download the media, valid for 5 minutes. */
export interface MediaLocation {
  /** Download URL; needs the bearer token. Short-lived and signed: never log or store it. */
  readonly url: string;
  /** `mime_type`, or `application/octet-stream` when Meta gave none. */
  readonly mimeType: string;
  /** `sha256` in lower-case hex, when Meta gave a well-formed one; the download is checked against it. */
  readonly sha256?: string;
  /** `file_size` in bytes (a number, or a string of digits), when given. */
  readonly fileSize?: number;
}

/**
 * A media download in progress: its bytes arrive as `body` is iterated. Iterating past `maxBytes` throws a
 * {@link MediaTooLargeError}; a connection lost or timed out midway throws a {@link CloudApiError}; bytes that do not
 * match the media's `sha256` throw an `unusable-answer` CloudApiError at the end instead of completing, so a consumer
 * that only commits on completion never commits them. Breaking out of the iteration cancels the download.
 */
export interface MediaDownloadStream {
  /**
   * The response body in chunks as they arrive (never more than one network read in memory here). Iterate it to the
   * end or stop early (`break`, `return()`): either ends the download and its span.
   */
  readonly body: AsyncIterable<Uint8Array>;
  /** The declared `content-length` (else the media object's `file_size`), when known. */
  readonly contentLength?: number;
  /** The media's MIME type (from the media object, else the response's `content-type`). */
  readonly mimeType: string;
  /** The expected sha256 (lower-case hex), when Meta gave one. */
  readonly sha256?: string;
}

/**
 * The WhatsApp Cloud API calls Waygate makes. Every method resolves with Meta's answer or rejects with a
 * {@link CloudApiError} (and {@link downloadMedia} with a {@link MediaTooLargeError}); every HTTP call is one CLIENT
 * span carrying W3C trace context. Tokens, request bodies, recipients and media URLs are never recorded.
 */
export interface CloudApiClient {
  /**
   * Sends one message; resolves with its `wamid` and the customer's `wa_id` (`contacts[0].wa_id`, which can differ
   * from `to`: Brazil's ninth digit, Mexico's +52 1). A 2xx answer without `messages[0].id` is an `unusable-answer`.
   */
  sendMessage(request: SendMessageRequest): Promise<{ readonly waMessageId: string; readonly waId?: string }>;
  /** `GET /{version}/{media_id}`: the media's download URL, type, hash and size. */
  retrieveMedia(request: { readonly mediaId: string; readonly accessToken: string }): Promise<MediaLocation>;
  /**
   * Downloads located media with the bearer token, reading at most `maxBytes` (a larger `fileSize` or
   * `content-length` is refused before reading), and checks its `sha256` when known.
   */
  downloadMedia(request: {
    readonly media: MediaLocation;
    readonly accessToken: string;
    readonly maxBytes: number;
  }): Promise<{ readonly bytes: Buffer; readonly mimeType: string }>;
  /**
   * Opens a download of located media with the bearer token and resolves once Meta answered with its headers; the
   * bytes are read as {@link MediaDownloadStream.body} is iterated, so memory stays bounded whatever the size. A
   * larger `fileSize` or `content-length` than `maxBytes` is refused before reading; the limit is also enforced while
   * streaming. The client's timeout bounds the wait for the headers and then each wait for more bytes (a body that
   * stalls that long fails as `timeout` while iterating), not the whole body. One CLIENT span covers the whole
   * download and ends with the body.
   */
  streamMedia(request: {
    readonly media: MediaLocation;
    readonly accessToken: string;
    readonly maxBytes: number;
  }): Promise<MediaDownloadStream>;
  /**
   * `POST /{version}/{phone_number_id}/media` (multipart: `messaging_product=whatsapp`, `file`, `type`): uploads media
   * for the number's messages; resolves with Meta's media id, usable by that number for 30 days.
   */
  uploadMedia(request: {
    readonly phoneNumberId: string;
    readonly accessToken: string;
    readonly bytes: Uint8Array;
    /** The bare MIME type, e.g. `image/jpeg`; sent as the file part's type and as `type`. */
    readonly mimeType: string;
    /** Sent as the file part's name; Meta shows it for documents. */
    readonly filename?: string;
  }): Promise<{ readonly metaMediaId: string }>;
  /** Marks a received message (and the ones before it) as read; with `typingIndicator`, also shows "typing…". */
  markRead(request: {
    readonly phoneNumberId: string;
    readonly accessToken: string;
    readonly waMessageId: string;
    readonly typingIndicator: boolean;
  }): Promise<void>;
}

/** One HTTP call as the client makes it. */
interface CallSpec {
  readonly spanName: string;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly accessToken: string;
  readonly body?: unknown;
  /** A multipart body instead of JSON (fetch sets its content type and boundary). */
  readonly form?: FormData;
  readonly attributes?: Attributes;
}

/** Creates a client for the Cloud API at `options.baseUrl`. */
export function createCloudApiClient(options: CloudApiClientOptions): CloudApiClient {
  const base = options.baseUrl.replace(/\/+$/, '');

  /** A network failure (no usable answer) as a CloudApiError. */
  function networkFailure(error: unknown): CloudApiError {
    if ((error as Error).name === 'TimeoutError') {
      return new CloudApiError('timeout', { title: `no answer within ${options.timeoutMs} ms`, cause: error });
    }
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    const networkCode = typeof code === 'string' ? code : undefined;
    // Only a connection that was never made proves Meta did not get the request.
    return new CloudApiError(networkCode !== undefined && NEVER_CONNECTED.has(networkCode) ? 'not-connected' : 'connection-lost', {
      title: `connection failed: ${networkCode ?? (error as Error).message}`,
      networkCode,
      cause: error,
    });
  }

  function recordFailure(span: Span, error: CloudApiError): void {
    if (error.code !== undefined) span.setAttribute('waygate.meta_error_code', error.code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.kind === 'meta-error' ? `meta error ${error.code ?? 0}` : error.title });
  }

  /** One HTTP call in a CLIENT span; `read` turns the answer into the result or throws. */
  function call<T>(spec: CallSpec, read: (response: Response) => Promise<T>): Promise<T> {
    const attributes: Attributes = { 'http.request.method': spec.method, 'server.address': new URL(spec.url).hostname, ...spec.attributes };
    return tracer.startActiveSpan(spec.spanName, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      const headers: Record<string, string> = { authorization: `Bearer ${spec.accessToken}` };
      if (spec.body !== undefined) headers['content-type'] = 'application/json';
      propagation.inject(context.active(), headers);
      try {
        const response = await fetch(spec.url, {
          method: spec.method,
          headers,
          ...(spec.form !== undefined ? { body: spec.form } : spec.body === undefined ? {} : { body: JSON.stringify(spec.body) }),
          // The bearer token goes to the URL asked for and nowhere else.
          redirect: 'error',
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        span.setAttribute('http.response.status_code', response.status);
        return await read(response);
      } catch (caught) {
        if (caught instanceof MediaTooLargeError) throw caught;
        const error = caught instanceof CloudApiError ? caught : networkFailure(caught);
        recordFailure(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
  }

  /**
   * Meta's non-2xx answer as a CloudApiError, with its error object when it has one. The status line is Meta's
   * answer: a body that cannot be read (cut off, too large, not JSON) leaves only the code out.
   */
  async function metaError(response: Response): Promise<CloudApiError> {
    const fields = parseMetaErrorBody(await readJsonBody(response).catch(() => undefined));
    return new CloudApiError('meta-error', { httpStatus: response.status, ...fields, title: fields.message ?? `HTTP ${response.status}` });
  }

  function unusableAnswer(title: string): CloudApiError {
    return new CloudApiError('unusable-answer', { httpStatus: 502, title });
  }

  const api: CloudApiClient = {
    sendMessage(request) {
      return call(
        {
          spanName: 'POST whatsapp /messages',
          method: 'POST',
          url: `${base}/${options.version}/${encodeURIComponent(request.phoneNumberId)}/messages`,
          accessToken: request.accessToken,
          body: {
            ...(request.content.kind === 'prebuilt'
              ? request.content.message
              : { messaging_product: 'whatsapp', recipient_type: 'individual', to: request.to, ...contentPayload(request.content) }),
            ...(request.callbackData ? { biz_opaque_callback_data: request.callbackData } : {}),
          },
          attributes: { 'waygate.phone_number_id': request.phoneNumberId },
        },
        async (response) => {
          if (!response.ok) throw await metaError(response);
          const answer = (await readJsonBody(response)) as { messages?: { id?: unknown }[]; contacts?: { wa_id?: unknown }[] } | undefined;
          const waMessageId = answer?.messages?.[0]?.id;
          // A 2xx without a wamid is not an acceptance that can be tracked.
          if (typeof waMessageId !== 'string' || waMessageId === '') throw unusableAnswer('success response without messages[0].id');
          // The wa_id is only a hint for the customer view: kept when it looks like one, never a reason to refuse.
          const waId = Array.isArray(answer?.contacts) ? answer.contacts[0]?.wa_id : undefined;
          return typeof waId === 'string' && /^\d{5,20}$/.test(waId) ? { waMessageId, waId } : { waMessageId };
        },
      );
    },

    retrieveMedia(request) {
      return call(
        {
          spanName: 'GET whatsapp /{media-id}',
          method: 'GET',
          url: `${base}/${options.version}/${encodeURIComponent(request.mediaId)}`,
          accessToken: request.accessToken,
        },
        async (response) => {
          if (!response.ok) throw await metaError(response);
          const media = (await readJsonBody(response)) as Record<string, unknown> | undefined;
          if (!media || !isHttpUrl(media.url)) throw unusableAnswer('media object without a download url');
          const { sha256, mime_type: mimeType } = media;
          const fileSize = parseFileSize(media.file_size);
          return {
            url: media.url,
            mimeType: typeof mimeType === 'string' && mimeType !== '' ? mimeType : 'application/octet-stream',
            ...(typeof sha256 === 'string' && /^[0-9a-f]{64}$/i.test(sha256) ? { sha256: sha256.toLowerCase() } : {}),
            ...(fileSize === undefined ? {} : { fileSize }),
          };
        },
      );
    },

    async downloadMedia(request) {
      const download = await api.streamMedia(request);
      const chunks: Buffer[] = [];
      for await (const chunk of download.body) chunks.push(Buffer.from(chunk));
      return { bytes: Buffer.concat(chunks), mimeType: download.mimeType };
    },

    async streamMedia({ media, accessToken, maxBytes }) {
      if (media.fileSize !== undefined && media.fileSize > maxBytes) throw new MediaTooLargeError(maxBytes);
      const url = media.url;
      const span = tracer.startSpan('GET whatsapp media download', {
        kind: SpanKind.CLIENT,
        attributes: { 'http.request.method': 'GET', 'server.address': new URL(url).hostname },
      });
      const fail = (caught: unknown): Error => {
        if (caught instanceof MediaTooLargeError) return caught;
        const error = caught instanceof CloudApiError ? caught : networkFailure(caught);
        recordFailure(span, error);
        return error;
      };
      const headers: Record<string, string> = { authorization: `Bearer ${accessToken}` };
      propagation.inject(trace.setSpan(context.active(), span), headers);
      // `timeoutMs` bounds the wait for the headers, then each wait for more of the body (not the whole body): a large
      // file on a slow but moving link completes, a stalled one fails. Time the consumer takes between reads (it is
      // held back by backpressure) does not count.
      const abort = new AbortController();
      let stalled = false;
      const armTimeout = () =>
        setTimeout(() => {
          stalled = true;
          abort.abort(new DOMException(`no answer within ${options.timeoutMs} ms`, 'TimeoutError'));
        }, options.timeoutMs);
      let response: Response;
      const headersDue = armTimeout();
      try {
        // The bearer token goes to the URL asked for and nowhere else.
        response = await fetch(url, { method: 'GET', headers, redirect: 'error', signal: abort.signal });
        span.setAttribute('http.response.status_code', response.status);
        if (!response.ok) throw await metaError(response);
      } catch (caught) {
        span.end();
        throw fail(caught);
      } finally {
        clearTimeout(headersDue);
      }
      const declared = response.headers.has('content-length') ? Number(response.headers.get('content-length')) : undefined;
      if (declared !== undefined && Number.isFinite(declared) && declared > maxBytes) {
        await response.body?.cancel().catch(() => undefined);
        span.end();
        throw new MediaTooLargeError(maxBytes);
      }
      const contentLength = declared !== undefined && Number.isSafeInteger(declared) && declared >= 0 ? declared : media.fileSize;
      const stream = response.body;
      async function* body(): AsyncGenerator<Uint8Array> {
        const reader = stream?.getReader();
        const hash = createHash('sha256');
        let size = 0;
        let done = false;
        try {
          while (reader) {
            let next: Awaited<ReturnType<NonNullable<typeof reader>['read']>>;
            const bytesDue = armTimeout();
            try {
              next = await reader.read();
            } catch (caught) {
              throw fail(
                stalled
                  ? new CloudApiError('timeout', { title: `download stalled: no bytes within ${options.timeoutMs} ms`, cause: caught })
                  : caught,
              );
            } finally {
              clearTimeout(bytesDue);
            }
            if (next.done) break;
            size += next.value.byteLength;
            if (size > maxBytes) throw new MediaTooLargeError(maxBytes);
            hash.update(next.value);
            yield next.value;
          }
          // A truncated or corrupted download is worth another try, not a stored blob: fail instead of completing.
          if (media.sha256 && hash.digest('hex') !== media.sha256) throw fail(unusableAnswer('downloaded media does not match its sha256'));
          done = true;
        } finally {
          // Stopped early (too large, failed, or the consumer broke off): nothing more is read.
          if (!done) await reader?.cancel().catch(() => undefined);
          span.end();
        }
      }
      return {
        body: cancellable(body(), async () => {
          await stream?.cancel().catch(() => undefined);
          span.end();
        }),
        mimeType: media.mimeType,
        ...(contentLength === undefined ? {} : { contentLength }),
        ...(media.sha256 ? { sha256: media.sha256 } : {}),
      };
    },

    uploadMedia(request) {
      const form = new FormData();
      form.set('messaging_product', 'whatsapp');
      form.set('type', request.mimeType);
      form.set('file', new Blob([request.bytes], { type: request.mimeType }), request.filename || 'media');
      return call(
        {
          spanName: 'POST whatsapp /media',
          method: 'POST',
          url: `${base}/${options.version}/${encodeURIComponent(request.phoneNumberId)}/media`,
          accessToken: request.accessToken,
          form,
          attributes: { 'waygate.phone_number_id': request.phoneNumberId },
        },
        async (response) => {
          if (!response.ok) throw await metaError(response);
          const answer = (await readJsonBody(response)) as { id?: unknown } | undefined;
          if (typeof answer?.id !== 'string' || answer.id === '') throw unusableAnswer('upload response without id');
          return { metaMediaId: answer.id };
        },
      );
    },

    async markRead(request) {
      await call(
        {
          spanName: 'POST whatsapp /messages (read)',
          method: 'POST',
          url: `${base}/${options.version}/${encodeURIComponent(request.phoneNumberId)}/messages`,
          accessToken: request.accessToken,
          body: {
            messaging_product: 'whatsapp',
            status: 'read',
            message_id: request.waMessageId,
            ...(request.typingIndicator ? { typing_indicator: { type: 'text' } } : {}),
          },
        },
        async (response) => {
          if (!response.ok) throw await metaError(response);
          // `{"success": true}`: the status already said so. The body is read so the connection can be reused.
          await readJsonBody(response).catch(() => undefined);
        },
      );
    },
  };
  return api;
}

/**
 * `generator`, except that `return()` before the first `next()` (a consumer that gives up without reading) runs
 * `cancel`: a generator that never started would skip its `finally`, leaving the download open until its timeout.
 */
function cancellable<T>(generator: AsyncGenerator<T>, cancel: () => Promise<void>): AsyncIterableIterator<T> {
  let started = false;
  const iterator: AsyncIterableIterator<T> = {
    next() {
      started = true;
      return generator.next();
    },
    async return(value?: unknown) {
      if (!started) {
        started = true;
        await cancel();
      }
      return generator.return(value as T);
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

/** The type-specific part of a send request, in Meta's field names. */
function contentPayload(content: Extract<OutboundContent, { kind: 'text' }>): Record<string, unknown> {
  return { type: 'text', text: { body: content.body, preview_url: content.previewUrl } };
}

/** Meta documents `file_size` only as a placeholder; accept a non-negative integer or a string of digits. */
function parseFileSize(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}

/** An absolute http(s) URL, as a media object's `url` must be. */
function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}
