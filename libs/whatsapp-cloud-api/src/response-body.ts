import type { MetaErrorFields } from './cloud-api-error';

/** JSON answers larger than this are not Meta's; nothing past it is read. */
export const MAX_JSON_RESPONSE_BYTES = 64 * 1024;

/**
 * Reads a response body, giving up past `maxBytes` (a declared `content-length` over the limit is refused before
 * reading, and the download is cancelled). Resolves `undefined` when the body is too large; rejects when the
 * connection fails or the request's timeout fires while reading.
 */
export async function readBoundedBody(response: Response, maxBytes: number): Promise<Buffer | undefined> {
  const declared = Number(response.headers.get('content-length'));
  if (response.headers.has('content-length') && Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

/** Reads a JSON answer of at most {@link MAX_JSON_RESPONSE_BYTES}: `undefined` when too large or not JSON. */
export async function readJsonBody(response: Response): Promise<unknown> {
  const bytes = await readBoundedBody(response, MAX_JSON_RESPONSE_BYTES);
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The fields of Meta's error object `{"error":{"message","type","code","error_subcode","error_data":{"details"},
 * "fbtrace_id"}}` that have the documented types; anything else (another shape, wrong types) is left out.
 */
export function parseMetaErrorBody(body: unknown): MetaErrorFields {
  const error = isRecord(body) ? body.error : undefined;
  if (!isRecord(error)) return {};
  const data = isRecord(error.error_data) ? error.error_data : {};
  const integer = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) ? value : undefined);
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    code: integer(error.code),
    subcode: integer(error.error_subcode),
    type: text(error.type),
    message: text(error.message),
    details: text(data.details),
    fbtraceId: text(error.fbtrace_id),
  };
}
