import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, extractAccessToken } from '../cloud-api/access-token';
import {
  invalidAccessTokenError,
  invalidParameterError,
  requestTooLargeError,
  toMetaErrorResponseBody,
  unknownObjectError,
  type MetaApiError,
} from '../cloud-api/meta-errors';
import { decodePathSegment, readRequestBytes, sendJson } from '../http/http-body';
import type { MediaDownloadFaults } from './media-download-faults';
import type { SimulatorPhoneNumber } from '../types';
import {
  MAX_MEDIA_BYTES,
  MEDIA_DOWNLOAD_PATH,
  MEDIA_LIMITS,
  UPLOADABLE_MIME_TYPES,
  maxBytesFor,
  mediaTypeForMime,
  normaliseMimeType,
  type MediaLibrary,
  type StoredMedia,
} from './media-library';

export { MEDIA_DOWNLOAD_PATH } from './media-library';

/** Room for multipart boundaries and the small text fields on top of the largest file Meta accepts. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
/** Hard cap on an upload request body; larger bodies are drained, never buffered. */
export const MAX_UPLOAD_BODY_BYTES = MAX_MEDIA_BYTES + MULTIPART_OVERHEAD_BYTES;

// Graph API paths start with a version segment such as v23.0.
const UPLOAD_PATH = /^\/v\d+\.\d+\/([^/]+)\/media\/?$/;
const OBJECT_PATH = /^\/v\d+\.\d+\/([^/]+)\/?$/;

/** What the media endpoints need from the simulator. */
export interface MediaEndpointDeps {
  library: MediaLibrary;
  findPhoneNumber(id: string): SimulatorPhoneNumber | undefined;
  /** phone numbers a bearer token may act for */
  phoneNumbersForToken(token: string): SimulatorPhoneNumber[];
  newFbtraceId(): string;
  /** Base of the simulator's URLs, e.g. `http://127.0.0.1:43123`; download URLs point there. */
  baseUrl(): string;
  /** Told of every accepted upload (the simulator's `media_uploaded` event). */
  onUploaded?(media: StoredMedia): void;
  /** Injected faults of media downloads (a connection cut off midway). */
  downloadFaults?: MediaDownloadFaults;
  /** Told of every download cut off by an injected fault (the simulator's `media_download_cut_off` event). */
  onDownloadCutOff?(media: StoredMedia, afterBytes: number): void;
}

/** Graph API's answer for a missing required parameter of a non-messaging endpoint (no `error_data`). */
function requiredParameterError(parameter: string): MetaApiError {
  return { httpStatus: 400, code: 100, type: 'OAuthException', message: `(#100) The parameter ${parameter} is required.` };
}

/** Graph API's answer for an enum parameter with a value outside the enum. */
function enumParameterError(parameter: string, allowed: string, got: string): MetaApiError {
  return {
    httpStatus: 400,
    code: 100,
    type: 'OAuthException',
    message: `(#100) Param ${parameter} must be one of {${allowed}} - got "${got}".`,
  };
}

/** Meta's rejection of an upload whose file part has a MIME type the Cloud API does not support. */
function unsupportedFileTypeError(received: string): MetaApiError {
  return {
    httpStatus: 400,
    code: 100,
    type: 'OAuthException',
    message: `(#100) Param file must be a file with one of the following types: ${UPLOADABLE_MIME_TYPES.join(', ')}. Received file of type '${received}'.`,
  };
}

/** 131053 for an upload the Cloud API cannot use (too large for its type, empty). */
function mediaUploadApiError(details: string): MetaApiError {
  return { httpStatus: 400, code: 131053, type: 'OAuthException', message: '(#131053) Media upload error', details };
}

/**
 * Meta answers this when `phone_number_id` is not the business number the media was uploaded on; media a customer
 * sent was not uploaded on any business number, so it always fails the check.
 */
function phoneNumberIdMismatchError(): MetaApiError {
  return {
    httpStatus: 400,
    code: 100,
    type: 'OAuthException',
    message: '(#100) Param phone_number_id is not a valid whatsapp business phone number id ID',
  };
}

/** A download URL that is forged, malformed, expired, or whose media is gone or not the caller's: Meta answers 404. */
function mediaUrlNotFoundError(): MetaApiError {
  return {
    httpStatus: 404,
    code: 100,
    type: 'GraphMethodException',
    message: 'Media not found. The media URL is invalid or has expired; retrieve the media ID again for a new URL.',
  };
}

function methodNotAllowedError(method: string): MetaApiError {
  return { httpStatus: 405, code: 100, type: 'GraphMethodException', message: `Unsupported ${method.toLowerCase()} request.` };
}

/** The phone numbers the token may act for; empty for a missing or unknown token. */
function tokenScope(token: string | undefined, deps: MediaEndpointDeps): Set<string> {
  if (token === undefined || token === '') return new Set();
  return new Set(deps.phoneNumbersForToken(token).map((phone) => phone.id));
}

async function drain(request: IncomingMessage): Promise<void> {
  if (!request.readableEnded) await readRequestBytes(request, 0);
}

/** Handles the media routes; resolves false (without touching the response) when the request is not one of them. */
export async function handleMediaRequest(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  deps: MediaEndpointDeps,
): Promise<boolean> {
  const method = (request.method ?? 'GET').toUpperCase();
  const path = url.pathname;

  if (path === MEDIA_DOWNLOAD_PATH || `${path}/` === MEDIA_DOWNLOAD_PATH) {
    await handleDownload(request, response, url, method, deps);
    return true;
  }

  const uploadMatch = UPLOAD_PATH.exec(path);
  if (uploadMatch?.[1] !== undefined) {
    await handleUpload(request, response, url, method, decodePathSegment(uploadMatch[1]), deps);
    return true;
  }

  const objectMatch = OBJECT_PATH.exec(path);
  if (objectMatch?.[1] !== undefined && (method === 'GET' || method === 'DELETE')) {
    await handleMediaObject(request, response, url, method, decodePathSegment(objectMatch[1]), deps);
    return true;
  }
  return false;
}

function reject(response: ServerResponse, error: MetaApiError, deps: MediaEndpointDeps): void {
  sendJson(response, error.httpStatus, toMetaErrorResponseBody(error, deps.newFbtraceId()));
}

/** `POST /{version}/{phone_number_id}/media`. */
async function handleUpload(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  method: string,
  phoneNumberId: string,
  deps: MediaEndpointDeps,
): Promise<void> {
  const fail = async (error: MetaApiError): Promise<void> => {
    await drain(request);
    reject(response, error, deps);
  };
  if (method !== 'POST') return fail(unknownObjectError(phoneNumberId, method));

  // Authenticate from the headers before buffering anything, so unauthenticated bodies are only ever drained.
  const scope = tokenScope(extractAccessToken(request, url), deps);
  if (scope.size === 0) return fail(invalidAccessTokenError());
  if (deps.findPhoneNumber(phoneNumberId) === undefined || !scope.has(phoneNumberId))
    return fail(unknownObjectError(phoneNumberId, method));

  const contentType = request.headers['content-type'] ?? '';
  if (normaliseMimeType(contentType) !== 'multipart/form-data' || !/;\s*boundary=/i.test(contentType)) {
    return fail(invalidParameterError('Media must be uploaded as multipart/form-data with the fields file, type and messaging_product.'));
  }

  const body = await readRequestBytes(request, MAX_UPLOAD_BODY_BYTES);
  if (body.kind === 'aborted') return;
  if (body.kind === 'too_large') return reject(response, requestTooLargeError(MAX_UPLOAD_BODY_BYTES), deps);

  let form: FormData;
  try {
    form = await new Response(new Uint8Array(body.bytes.buffer, body.bytes.byteOffset, body.bytes.length), {
      headers: { 'content-type': contentType },
    }).formData();
  } catch {
    return reject(response, invalidParameterError('The request body is not valid multipart/form-data.'), deps);
  }

  const parsed = await parseUploadForm(form);
  if ('error' in parsed) return reject(response, parsed.error, deps);
  const media = deps.library.storeUpload({ phoneNumberId, ...parsed });
  deps.onUploaded?.(media);
  sendJson(response, 200, { id: media.id });
}

async function parseUploadForm(form: FormData): Promise<{ mimeType: string; bytes: Buffer; filename?: string } | { error: MetaApiError }> {
  const product = form.get('messaging_product');
  if (product === null) return { error: requiredParameterError('messaging_product') };
  if (typeof product !== 'string' || product.trim().toLowerCase() !== 'whatsapp') {
    return { error: enumParameterError('messaging_product', 'WHATSAPP', typeof product === 'string' ? product : '[file]') };
  }
  const file = form.get('file');
  if (file === null || typeof file === 'string') return { error: requiredParameterError('file') };
  const declaredType = form.get('type');
  if (declaredType === null || typeof declaredType !== 'string' || declaredType.trim() === '')
    return { error: requiredParameterError('type') };

  // Meta validates the file part's own Content-Type, not the `type` field.
  const mimeType = normaliseMimeType(file.type);
  if (!UPLOADABLE_MIME_TYPES.includes(mimeType)) return { error: unsupportedFileTypeError(mimeType) };
  if (normaliseMimeType(declaredType) !== mimeType) {
    // A part without its own Content-Type parses as text/plain; rejecting the mismatch surfaces that client bug.
    return {
      error: invalidParameterError(
        `The type parameter (${normaliseMimeType(declaredType)}) does not match the file's Content-Type (${mimeType}).`,
      ),
    };
  }
  const mediaType = mediaTypeForMime(mimeType);
  if (mediaType === undefined) return { error: unsupportedFileTypeError(mimeType) };
  if (file.size === 0) return { error: mediaUploadApiError('The uploaded file is empty.') };
  if (file.size > MEDIA_LIMITS[mediaType].maxBytes)
    return { error: tooLarge(file.size, MEDIA_LIMITS[mediaType].maxBytes, mediaType, mimeType) };

  const bytes = Buffer.from(await file.arrayBuffer());
  const maxBytes = maxBytesFor(mediaType, bytes);
  if (bytes.length > maxBytes) return { error: tooLarge(bytes.length, maxBytes, mediaType, mimeType) };
  return { mimeType, bytes, ...(file.name === '' ? {} : { filename: file.name }) };
}

function tooLarge(size: number, maxBytes: number, mediaType: string, mimeType: string): MetaApiError {
  return mediaUploadApiError(`The file is ${size} bytes; ${mediaType} media (${mimeType}) may be at most ${maxBytes} bytes.`);
}

/** `GET|DELETE /{version}/{media_id}[?phone_number_id=...]`. */
async function handleMediaObject(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  method: 'GET' | 'DELETE',
  mediaId: string,
  deps: MediaEndpointDeps,
): Promise<void> {
  await drain(request);
  const scope = tokenScope(extractAccessToken(request, url), deps);
  if (scope.size === 0) return reject(response, invalidAccessTokenError(), deps);

  const media = deps.library.get(mediaId);
  // Someone else's media is indistinguishable from none at all, as in Graph API.
  if (media === undefined || !scope.has(media.phoneNumberId)) return reject(response, unknownObjectError(mediaId, method), deps);

  const phoneNumberId = url.searchParams.get('phone_number_id');
  if (phoneNumberId !== null && (media.origin !== 'upload' || media.phoneNumberId !== phoneNumberId)) {
    return reject(response, phoneNumberIdMismatchError(), deps);
  }

  if (method === 'DELETE') {
    deps.library.delete(media.id);
    return sendJson(response, 200, { success: true });
  }
  sendJson(response, 200, mediaObjectBody(media, deps.library.downloadUrl(media, deps.baseUrl())));
}

/** `GET /{media_id}` answer in Meta's shape: hex sha256, numeric file_size. */
function mediaObjectBody(media: StoredMedia, url: string): Record<string, unknown> {
  return {
    messaging_product: 'whatsapp',
    url,
    mime_type: media.mimeType,
    sha256: media.sha256,
    file_size: media.fileSize,
    id: media.id,
  };
}

/** `GET /whatsapp_business/attachments/?mid=&ext=&hash=` with `Authorization: Bearer`. */
async function handleDownload(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  method: string,
  deps: MediaEndpointDeps,
): Promise<void> {
  await drain(request);
  if (method !== 'GET' && method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return reject(response, methodNotAllowedError(method), deps);
  }
  // Only the header: a token in a download URL would leak into logs and caches.
  const scope = tokenScope(bearerToken(request), deps);
  if (scope.size === 0) return reject(response, invalidAccessTokenError(), deps);

  const resolved = deps.library.resolveDownload(url.searchParams);
  if (!resolved.ok || !scope.has(resolved.media.phoneNumberId)) return reject(response, mediaUrlNotFoundError(), deps);

  const { media } = resolved;
  response.writeHead(200, {
    'Content-Type': media.mimeType,
    'Content-Length': media.fileSize,
    'Cache-Control': 'no-store',
  });
  const cut = method === 'GET' ? deps.downloadFaults?.take(media.id, media.bytes.length) : undefined;
  if (cut !== undefined) {
    // The whole size was declared; part of the body, then the connection drops (no FIN after a complete body).
    deps.onDownloadCutOff?.(media, cut.afterBytes);
    response.flushHeaders();
    response.write(media.bytes.subarray(0, cut.afterBytes), () => response.destroy());
    return;
  }
  response.end(method === 'HEAD' ? undefined : media.bytes);
}
