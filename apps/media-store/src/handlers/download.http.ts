import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '@waygate/domain';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import { decideRange } from '../domain/byte-range';
import { verifyDownloadPath } from '../domain/download-url';
import type { MediaVault } from '../domain/media-vault';

/** The one answer to every bad, expired or foreign link: it says nothing about whether the media exists. */
const FORBIDDEN = { error: 'forbidden', reason: 'the download link is invalid or has expired' };

function sendJson(response: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(text);
}

/** RFC 6266/8187: an ASCII fallback and the UTF-8 name. */
function contentDisposition(filename: string | undefined): string {
  if (!filename) return 'attachment';
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/** Writes with backpressure: resolves once the socket takes more (or rejects if the client went away). */
function write(response: ServerResponse, chunk: Buffer): Promise<void> {
  if (response.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      response.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      response.off('drain', onDrain);
      reject(new Error('client went away'));
    };
    response.once('drain', onDrain);
    response.once('close', onClose);
  });
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  deps: { vault: MediaVault; tenants: TenantDirectory; secrets: () => readonly Buffer[]; clock: Clock; logger: Logger },
): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return sendJson(response, 405, { error: 'method_not_allowed' }, { allow: 'GET, HEAD' });
  const url = new URL(request.url ?? '/', 'http://localhost');
  const grant = verifyDownloadPath(deps.secrets(), url.pathname, url.searchParams, deps.clock.now());
  const tenant = grant && deps.tenants.get(grant.tenantId);
  if (!grant || !tenant) return sendJson(response, 403, FORBIDDEN);
  let info;
  try {
    info = await deps.vault.info(tenant, grant.mediaId);
  } catch (error) {
    // A valid signature was issued for this id: its holder may learn that it has since been deleted.
    if ((error as Error).name === 'NotFoundError') return sendJson(response, 404, { error: 'not_found', reason: 'the media was deleted' });
    throw error;
  }
  const range = decideRange(request.headers.range, info.sizeBytes);
  const common = {
    'content-type': info.mimeType,
    'accept-ranges': 'bytes',
    'content-disposition': contentDisposition(info.filename),
    'cache-control': 'private, no-store',
    'x-content-type-options': 'nosniff',
    etag: `"${info.sha256}"`,
  };
  if (range.kind === 'unsatisfiable')
    return sendJson(response, 416, { error: 'range_not_satisfiable' }, { 'content-range': `bytes */${info.sizeBytes}` });
  const start = range.kind === 'partial' ? range.start : 0;
  const end = range.kind === 'partial' ? range.end : info.sizeBytes - 1;
  const headers = {
    ...common,
    'content-length': String(end - start + 1),
    ...(range.kind === 'partial' ? { 'content-range': `bytes ${start}-${end}/${info.sizeBytes}` } : {}),
  };
  if (request.method === 'HEAD') {
    response.writeHead(range.kind === 'partial' ? 206 : 200, headers);
    response.end();
    return;
  }
  const download = await deps.vault.download(tenant, grant.mediaId, range.kind === 'partial' ? { start, end } : undefined);
  response.writeHead(range.kind === 'partial' ? 206 : 200, headers);
  for await (const piece of download.content) await write(response, piece);
  response.end();
  deps.logger.info({ tenant_id: tenant.id, media_id: grant.mediaId, bytes: end - start + 1 }, 'media downloaded by signed URL');
}

/** The signed-download HTTP server (GET/HEAD `/media/<tenant>/<media id>?expires=…&signature=…`, Range supported). */
export async function startDownloadServer(options: {
  host: string;
  port: number;
  vault: MediaVault;
  tenants: TenantDirectory;
  /** HMAC secrets accepted (the first signs). */
  secrets: () => readonly Buffer[];
  clock: Clock;
  logger: Logger;
}): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    serve(request, response, options).catch((error: unknown) => {
      options.logger.error({ err: error, path: '/media' }, 'signed download failed');
      // Headers already sent: the only honest signal left is to cut the connection (the client sees a short body).
      if (response.headersSent) response.destroy();
      else sendJson(response, 500, { error: 'internal', reason: 'internal error' });
    });
  });
  server.requestTimeout = 0; // large downloads take their time; the socket still times out when idle
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
