import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodePathSegment, sendJson } from '../http/http-body';
import type { SimulatorPhoneNumber } from '../types';
import { extractAccessToken } from './access-token';
import {
  invalidAccessTokenError,
  invalidParameterError,
  toMetaErrorResponseBody,
  unknownObjectError,
  type MetaApiError,
} from './meta-errors';

// `GET /v23.0/{waba_id}/message_templates`
const TEMPLATES_PATH = /^\/v\d+\.\d+\/([^/]+)\/message_templates\/?$/;
/** Meta's default and largest page size for this edge. */
const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 100;

/** What the template endpoint needs from the simulator. */
export interface TemplateEndpointDeps {
  /** The WABA's templates as Meta lists them, in a stable order. */
  metaTemplates(wabaId: string): Record<string, unknown>[];
  /** Phone numbers a bearer token may act for (the token must belong to a number of the WABA). */
  phoneNumbersForToken(token: string): SimulatorPhoneNumber[];
  newFbtraceId(): string;
  baseUrl(): string;
}

/** Meta's cursors are opaque base64 strings; here they encode a position in the list. */
function encodeCursor(position: number): string {
  return Buffer.from(`pos:${position}`).toString('base64url');
}

function decodeCursor(cursor: string): number | undefined {
  const match = /^pos:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : undefined;
}

function fail(response: ServerResponse, error: MetaApiError, deps: TemplateEndpointDeps): void {
  sendJson(response, error.httpStatus, toMetaErrorResponseBody(error, deps.newFbtraceId()));
}

/**
 * Serves `GET /{version}/{waba_id}/message_templates?limit=&after=` as Meta does: `{ data, paging: { cursors:
 * { before, after }, next } }`, `next` only when another page follows. Returns false for other paths.
 */
export function handleTemplateRequest(request: IncomingMessage, response: ServerResponse, url: URL, deps: TemplateEndpointDeps): boolean {
  const match = TEMPLATES_PATH.exec(url.pathname);
  if (match === null) return false;
  request.resume();
  const wabaId = decodePathSegment(match[1] ?? '');
  if (request.method !== 'GET') {
    fail(response, unknownObjectError(wabaId, request.method ?? 'POST'), deps);
    return true;
  }
  const token = extractAccessToken(request, url);
  const numbers = token === undefined ? [] : deps.phoneNumbersForToken(token);
  if (numbers.length === 0) {
    fail(response, invalidAccessTokenError(), deps);
    return true;
  }
  if (!numbers.some((number) => number.wabaId === wabaId)) {
    fail(response, unknownObjectError(wabaId, 'GET'), deps);
    return true;
  }
  const limitParam = url.searchParams.get('limit');
  const limit = limitParam === null ? DEFAULT_LIMIT : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    fail(response, invalidParameterError(`limit must be an integer from 1 to ${MAX_LIMIT}`), deps);
    return true;
  }
  const afterParam = url.searchParams.get('after');
  const start = afterParam === null ? 0 : decodeCursor(afterParam);
  if (start === undefined) {
    fail(response, invalidParameterError('after is not a valid cursor'), deps);
    return true;
  }
  const all = deps.metaTemplates(wabaId);
  const data = all.slice(start, start + limit);
  const end = start + data.length;
  const next = new URL(`${deps.baseUrl()}${url.pathname}`);
  next.searchParams.set('limit', String(limit));
  next.searchParams.set('after', encodeCursor(end));
  sendJson(response, 200, {
    data,
    paging: {
      cursors: { before: encodeCursor(start), after: encodeCursor(end) },
      ...(end < all.length ? { next: next.toString() } : {}),
    },
  });
  return true;
}
