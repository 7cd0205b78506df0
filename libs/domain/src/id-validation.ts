import { InvalidArgumentError, type FieldViolation } from './errors';

/**
 * Longest id accepted where Waygate or the tenants file makes the ids (message, media and event ids, callback
 * endpoints). Waygate's own ids are 49 characters.
 */
export const MAX_ID_LENGTH = 128;

/**
 * Longest id accepted where WhatsApp makes the id (wamids, and event ids built from them). Meta documents no maximum;
 * real wamids are well under 100 characters.
 */
export const MAX_WHATSAPP_ID_LENGTH = 256;

/** Every id Waygate hands out or takes in fits: `msg_…`, `med_…`, `wamid.…` (base64), `wa:in:…`, tenants-file ids. */
const ID_PATTERN = /^[A-Za-z0-9._:=+/-]+$/;

/**
 * Why `value` is not an acceptable id for `field` (empty if it is). Descriptions never quote the value: an id may be
 * anything a client sent (10 KB, a phone number, control characters) and errors end up in clients' logs and ours.
 */
export function idViolations(field: string, value: string, maxLength: number = MAX_ID_LENGTH): FieldViolation[] {
  if (value.length === 0) return [{ field, reason: 'REQUIRED', description: 'must be set' }];
  if (value.length > maxLength) return [{ field, reason: 'TOO_LONG', description: `must be at most ${maxLength} characters` }];
  if (!ID_PATTERN.test(value)) {
    return [{ field, reason: 'INVALID_FORMAT', description: 'may contain only letters, digits and . _ : = + / -' }];
  }
  return [];
}

/** Throws InvalidArgumentError (with a BadRequest field violation for `field`) unless `value` is an acceptable id. */
export function validateId(field: string, value: string, maxLength: number = MAX_ID_LENGTH): void {
  const violations = idViolations(field, value, maxLength);
  if (violations.length > 0) throw new InvalidArgumentError(violations);
}

/** {@link validateId} for Waygate's message ids (`msg_…`), as every service that takes one checks it. */
export function validateMessageId(field: string, value: string): void {
  validateId(field, value, MAX_ID_LENGTH);
}
