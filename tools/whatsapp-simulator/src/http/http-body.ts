import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body the simulator accepts (Meta rejects far smaller text payloads anyway). */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

/** The body as text, or a note that it exceeded the limit. */
export type RequestBodyResult = { kind: 'ok'; text: string } | { kind: 'too_large' };

/**
 * Reads a request body up to `limitBytes`. Past the limit it keeps draining without buffering, so the
 * client finishes uploading and reliably sees the 413 instead of a reset connection.
 */
export function readRequestBody(request: IncomingMessage, limitBytes = MAX_REQUEST_BODY_BYTES): Promise<RequestBodyResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let receivedBytes = 0;
    request.on('data', (chunk: Buffer) => {
      receivedBytes += chunk.length;
      if (receivedBytes <= limitBytes) chunks.push(chunk);
    });
    request.on('end', () => {
      if (receivedBytes > limitBytes) resolve({ kind: 'too_large' });
      else resolve({ kind: 'ok', text: Buffer.concat(chunks).toString('utf8') });
    });
    request.on('error', reject);
  });
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
