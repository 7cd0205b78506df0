import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body the simulator accepts (Meta rejects far smaller text payloads anyway). */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

/** The body as bytes, or a note that it exceeded the limit or the client went away. */
export type RequestBytesResult = { kind: 'ok'; bytes: Buffer } | { kind: 'too_large' } | { kind: 'aborted' };

/** The body as text, or a note that it exceeded the limit. */
export type RequestBodyResult = { kind: 'ok'; text: string } | { kind: 'too_large' };

/**
 * Reads a request body as bytes up to `limitBytes`. Past the limit it keeps draining without buffering, so the client
 * finishes uploading and reliably sees the error instead of a reset connection. `limitBytes` 0 just drains.
 */
export function readRequestBytes(request: IncomingMessage, limitBytes: number): Promise<RequestBytesResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let ended = false;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received <= limitBytes) chunks.push(chunk);
      else chunks.length = 0; // drop what was buffered as soon as the body is known to be too large
    });
    request.on('end', () => {
      ended = true;
      resolve(received > limitBytes ? { kind: 'too_large' } : { kind: 'ok', bytes: Buffer.concat(chunks, received) });
    });
    request.on('close', () => {
      if (!ended) resolve({ kind: 'aborted' });
    });
    request.on('error', () => resolve({ kind: 'aborted' }));
  });
}

/** Reads a request body as UTF-8 text up to `limitBytes`; rejects when the client goes away mid-body. */
export async function readRequestBody(request: IncomingMessage, limitBytes = MAX_REQUEST_BODY_BYTES): Promise<RequestBodyResult> {
  const body = await readRequestBytes(request, limitBytes);
  if (body.kind === 'aborted') throw new Error('request aborted before its body was complete');
  return body.kind === 'too_large' ? body : { kind: 'ok', text: body.bytes.toString('utf8') };
}

/** Like decodeURIComponent, but a malformed escape stays as typed (and then matches nothing) instead of throwing. */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Writes a JSON response. */
export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}
