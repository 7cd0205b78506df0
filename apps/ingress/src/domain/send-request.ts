import { createHash } from 'node:crypto';
import { InvalidArgumentError, isE164, type FieldViolation } from '@waygate/domain';
import type { Tenant } from '@waygate/tenancy';
import type { MessageContent } from './outbound-message';
import { MAX_VALIDITY_SECONDS, categoryOf, defaultValiditySeconds } from './validity';
/** WhatsApp's limit for a text body. */
export const MAX_TEXT_BODY_CHARS = 4096;
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;

/** A send request as the domain sees it (the handler translates from proto). */
export interface SendRequest {
  readonly to: string;
  readonly content: MessageContent | undefined;
  readonly idempotencyKey: string;
  /** Undefined when the caller did not set it. */
  readonly validitySeconds: number | undefined;
  /** Empty for the tenant's first number. */
  readonly phoneNumberId: string;
}

/** A request that passed validation, with defaults applied. */
export interface ValidSendRequest {
  readonly to: string;
  readonly content: MessageContent;
  readonly idempotencyKey: string;
  readonly validitySeconds: number;
  readonly phoneNumberId: string;
  readonly requestHash: string;
}

function violation(field: string, reason: string, description: string): FieldViolation {
  return { field, reason, description };
}

function validateContent(content: MessageContent | undefined): FieldViolation[] {
  if (!content) return [violation('content', 'REQUIRED', 'exactly one content type (e.g. text) must be set')];
  const length = [...content.body].length;
  if (content.body.trim().length === 0) return [violation('text.body', 'REQUIRED', 'must not be empty')];
  if (length > MAX_TEXT_BODY_CHARS)
    return [violation('text.body', 'TOO_LONG', `must be at most ${MAX_TEXT_BODY_CHARS} characters (got ${length})`)];
  return [];
}

/**
 * Validates a send request for `tenant`, listing every bad field, and applies defaults. Throws
 * InvalidArgumentError with all violations at once, so a client can fix its request in one round.
 */
export function validateSendRequest(request: SendRequest, tenant: Tenant): ValidSendRequest {
  const violations: FieldViolation[] = [];
  if (!request.to) violations.push(violation('to', 'REQUIRED', 'recipient phone number is required'));
  else if (!isE164(request.to)) violations.push(violation('to', 'INVALID_FORMAT', 'must be an E.164 phone number, e.g. +4915112345678'));
  violations.push(...validateContent(request.content));
  if (!IDEMPOTENCY_KEY_PATTERN.test(request.idempotencyKey)) {
    violations.push(
      violation('idempotency_key', request.idempotencyKey ? 'INVALID_FORMAT' : 'REQUIRED', 'must be 1 to 128 printable ASCII characters'),
    );
  }
  // An explicit validity is used as given (even beyond the category's default), within the 30-day maximum.
  const validitySeconds =
    request.validitySeconds ?? (request.content ? defaultValiditySeconds(categoryOf(request.content)) : MAX_VALIDITY_SECONDS);
  if (!(validitySeconds > 0 && validitySeconds <= MAX_VALIDITY_SECONDS)) {
    violations.push(violation('validity', 'OUT_OF_RANGE', `must be more than 0 and at most ${MAX_VALIDITY_SECONDS} seconds (30 days)`));
  }
  const phoneNumbers = tenant.whatsapp.phoneNumbers;
  const phoneNumberId = request.phoneNumberId || phoneNumbers[0]?.id;
  if (!phoneNumbers.some((number) => number.id === phoneNumberId)) {
    violations.push(violation('phone_number_id', 'UNKNOWN', 'is not one of your WhatsApp business phone numbers'));
  }
  if (violations.length > 0 || !request.content) throw new InvalidArgumentError(violations);
  const normalized = { to: request.to, content: request.content, validitySeconds, phoneNumberId };
  return {
    ...normalized,
    idempotencyKey: request.idempotencyKey,
    requestHash: createHash('sha256').update(JSON.stringify(normalized)).digest('hex'),
  };
}
