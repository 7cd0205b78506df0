import { InvalidArgumentError, type FieldViolation } from '@waygate/domain';

/** The largest blob PutMedia accepts for now: 5 MiB. */
export const MAX_MEDIA_BYTES = 5 * 1024 * 1024;
/** Longest accepted file name, in characters (code points). */
export const MAX_FILENAME_CHARS = 255;
/** Longest accepted MIME type, parameters included. */
export const MAX_MIME_TYPE_CHARS = 255;

/** RFC 6838 restricted-name: what a MIME type's type, subtype and parameter names are made of. */
const TOKEN = '[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}';
/**
 * `type/subtype`, optionally with simple `; name=value` parameters, because WhatsApp itself reports types such as
 * `audio/ogg; codecs=opus`.
 */
const MIME_TYPE_PATTERN = new RegExp(`^${TOKEN}/${TOKEN}(?:\\s*;\\s*${TOKEN}=[A-Za-z0-9!#$&^_.+-]+)*$`);
/** C0 controls, DEL and C1 controls: they break logs, headers and terminals when the name is shown or served. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point of this pattern
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** A PutMedia request as the domain sees it (the handler translates from proto). */
export interface PutMediaRequest {
  readonly content: Buffer;
  readonly mimeType: string;
  /** Empty when the caller gave none. */
  readonly filename: string;
}

/** A request that passed validation. */
export interface ValidPutMediaRequest {
  readonly content: Buffer;
  readonly mimeType: string;
  readonly filename?: string;
}

function violation(field: string, reason: string, description: string): FieldViolation {
  return { field, reason, description };
}

function validateFilename(filename: string): FieldViolation[] {
  if (filename === '') return [];
  const violations: FieldViolation[] = [];
  const length = [...filename].length;
  if (length > MAX_FILENAME_CHARS)
    violations.push(violation('filename', 'TOO_LONG', `must be at most ${MAX_FILENAME_CHARS} characters (got ${length})`));
  // A name, never a path: whoever later writes it to disk or a Content-Disposition header must not be steered elsewhere.
  if (/[/\\]/.test(filename) || filename === '.' || filename === '..')
    violations.push(violation('filename', 'INVALID_FORMAT', 'must be a file name without path separators'));
  if (CONTROL_CHARACTER.test(filename)) violations.push(violation('filename', 'INVALID_FORMAT', 'must not contain control characters'));
  return violations;
}

/**
 * Validates a PutMedia request, listing every bad field at once, so a client can fix its request in one round.
 * Throws InvalidArgumentError (fields `content`, `mime_type`, `filename`).
 */
export function validatePutMediaRequest(request: PutMediaRequest): ValidPutMediaRequest {
  const violations: FieldViolation[] = [];
  if (request.content.length === 0) violations.push(violation('content', 'REQUIRED', 'must not be empty'));
  else if (request.content.length > MAX_MEDIA_BYTES) {
    violations.push(violation('content', 'TOO_LARGE', `must be at most ${MAX_MEDIA_BYTES} bytes (5 MiB; got ${request.content.length})`));
  }
  if (!request.mimeType) violations.push(violation('mime_type', 'REQUIRED', 'the MIME type is required, e.g. image/jpeg'));
  else if (request.mimeType.length > MAX_MIME_TYPE_CHARS || !MIME_TYPE_PATTERN.test(request.mimeType)) {
    violations.push(
      violation(
        'mime_type',
        'INVALID_FORMAT',
        `must be a MIME type like type/subtype (e.g. image/jpeg), at most ${MAX_MIME_TYPE_CHARS} characters`,
      ),
    );
  }
  violations.push(...validateFilename(request.filename));
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return { content: request.content, mimeType: request.mimeType, ...(request.filename ? { filename: request.filename } : {}) };
}
