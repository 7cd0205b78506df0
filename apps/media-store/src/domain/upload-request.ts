import { InvalidArgumentError, isE164, type FieldViolation } from '@waygate/domain';
import { mediaKindOf, sizeLimitOf, SUPPORTED_MIME_TYPES, ANIMATED_STICKER_LIMIT } from './media-types';

/** Longest accepted file name, in characters (code points). */
export const MAX_FILENAME_CHARS = 255;
/** Longest accepted MIME type, parameters included. */
export const MAX_MIME_TYPE_CHARS = 255;
/** Largest chunk of an upload stream. */
export const MAX_UPLOAD_CHUNK_BYTES = 1024 * 1024;
/** Largest blob PutMedia (one message) takes; larger ones go through UploadMedia. */
export const MAX_PUT_MEDIA_BYTES = 5 * 1024 * 1024;

/** RFC 6838 restricted-name: what a MIME type's type, subtype and parameter names are made of. */
const TOKEN = '[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}';
/** `type/subtype`, optionally with `; name=value` parameters (WhatsApp reports e.g. `audio/ogg; codecs=opus`). */
const MIME_TYPE_PATTERN = new RegExp(`^${TOKEN}/${TOKEN}(?:\\s*;\\s*${TOKEN}=[A-Za-z0-9!#$&^_.+-]+)*$`);
/** C0 controls, DEL and C1 controls: they break logs, headers and terminals when the name is shown or served. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point of this pattern
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** An upload's header as the domain sees it (the handler translates from proto). */
export interface UploadHeader {
  readonly mimeType: string;
  /** Empty when the caller gave none. */
  readonly filename: string;
  readonly sizeBytes: number;
  /** Empty when the caller declared none. */
  readonly sha256: string;
  /** E.164, or empty for a tenant-wide blob. */
  readonly customer: string;
}

/** A header that passed validation. */
export interface ValidUploadHeader {
  readonly mimeType: string;
  readonly filename?: string;
  readonly sizeBytes: number;
  readonly sha256?: string;
  readonly customer?: string;
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

function validateMimeType(mimeType: string, sizeBytes: number): FieldViolation[] {
  if (!mimeType) return [violation('mime_type', 'REQUIRED', 'the MIME type is required, e.g. image/jpeg')];
  if (mimeType.length > MAX_MIME_TYPE_CHARS || !MIME_TYPE_PATTERN.test(mimeType))
    return [violation('mime_type', 'INVALID_FORMAT', `must be a MIME type like type/subtype (e.g. image/jpeg)`)];
  if (mediaKindOf(mimeType) === undefined)
    return [violation('mime_type', 'UNSUPPORTED_TYPE', `WhatsApp supports only ${SUPPORTED_MIME_TYPES.join(', ')}`)];
  // A sticker may be animated (500 KiB) until its bytes show otherwise; every other kind has one limit.
  const limit = mediaKindOf(mimeType) === 'sticker' ? ANIMATED_STICKER_LIMIT : (sizeLimitOf(mimeType) as number);
  if (sizeBytes > limit) return [violation('size_bytes', 'TOO_LARGE', `${mimeType} may be at most ${limit} bytes (got ${sizeBytes})`)];
  return [];
}

/**
 * Validates an upload header, listing every bad field at once. Throws InvalidArgumentError (fields `mime_type`,
 * `size_bytes`, `filename`, `sha256`, `customer`).
 */
export function validateUploadHeader(header: UploadHeader): ValidUploadHeader {
  const violations: FieldViolation[] = [];
  if (!Number.isSafeInteger(header.sizeBytes) || header.sizeBytes < 1)
    violations.push(violation('size_bytes', 'REQUIRED', 'the size in bytes is required (at least 1)'));
  violations.push(...validateMimeType(header.mimeType, header.sizeBytes));
  violations.push(...validateFilename(header.filename));
  if (header.sha256 !== '' && !/^[0-9a-fA-F]{64}$/.test(header.sha256))
    violations.push(violation('sha256', 'INVALID_FORMAT', 'must be 64 hex digits'));
  if (header.customer !== '' && !isE164(header.customer))
    violations.push(violation('customer', 'INVALID_FORMAT', 'must be an E.164 phone number, e.g. +4915112345678'));
  if (violations.length > 0) throw new InvalidArgumentError(violations);
  return {
    mimeType: header.mimeType,
    sizeBytes: header.sizeBytes,
    ...(header.filename ? { filename: header.filename } : {}),
    ...(header.sha256 ? { sha256: header.sha256.toLowerCase() } : {}),
    ...(header.customer ? { customer: header.customer } : {}),
  };
}
