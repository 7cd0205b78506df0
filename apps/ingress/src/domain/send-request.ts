import { createHash } from 'node:crypto';
import { InvalidArgumentError, MAX_WHATSAPP_ID_LENGTH, idViolations, isE164, type FieldViolation } from '@waygate/domain';
import type { Tenant } from '@waygate/tenancy';
import type { MessageContent } from '@waygate/domain';
import { contentViolations } from './content-validation';
import {
  MAX_VALIDITY_SECONDS,
  MIN_VALIDITY_SECONDS,
  categoryOf,
  defaultValiditySeconds,
  malformedDurationField,
  type RequestedValidity,
} from './validity';
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;

/** A send request as the domain sees it (the handler translates from proto). */
export interface SendRequest {
  readonly to: string;
  readonly content: MessageContent | undefined;
  readonly idempotencyKey: string;
  /** As the caller gave it (a google.protobuf.Duration); undefined when not set. */
  readonly validity: RequestedValidity | undefined;
  /** Empty for the tenant's first number. */
  readonly phoneNumberId: string;
  /** Empty when the message quotes nothing. */
  readonly replyTo: string;
  /** What the transport could not turn into content (a nested oneof left unset), reported with the rest. */
  readonly contentViolations?: readonly FieldViolation[];
}

/** A request that passed validation, with defaults applied. */
export interface ValidSendRequest {
  readonly to: string;
  readonly content: MessageContent;
  readonly idempotencyKey: string;
  /** As the caller gave it, or the content kind's default (a send policy may give a better default). */
  readonly validitySeconds: number;
  /** Whether the caller gave the validity (then no policy default replaces it; a policy's notAfter still caps it). */
  readonly validityExplicit: boolean;
  readonly phoneNumberId: string;
  /** As the caller gave it (a Waygate message id or an inbound wamid), or empty; resolved by a send policy. */
  readonly replyTo: string;
  readonly requestHash: string;
}

function violation(field: string, reason: string, description: string): FieldViolation {
  return { field, reason, description };
}

function validateContent(request: SendRequest): FieldViolation[] {
  if (request.contentViolations && request.contentViolations.length > 0) return [...request.contentViolations];
  const content = request.content;
  if (!content) return [violation('content', 'REQUIRED', 'exactly one content type (e.g. text) must be set')];
  return contentViolations(content);
}

/** `reply_to` names a message by id or wamid; a reaction cannot quote (Meta refuses it too). */
function validateReplyTo(request: SendRequest): FieldViolation[] {
  if (!request.replyTo) return [];
  if (request.content?.kind === 'reaction') {
    return [violation('reply_to', 'UNSUPPORTED', 'a reaction cannot be a reply; leave reply_to empty')];
  }
  return idViolations('reply_to', request.replyTo, MAX_WHATSAPP_ID_LENGTH);
}

/** The validity in seconds (the category's default when not given), or the violation that refuses it. */
function validateValidity(request: SendRequest): { seconds: number } | { violation: FieldViolation } {
  if (!request.validity) {
    return { seconds: request.content ? defaultValiditySeconds(categoryOf(request.content)) : MAX_VALIDITY_SECONDS };
  }
  const malformed = malformedDurationField(request.validity);
  if (malformed) {
    const rule =
      malformed === 'seconds'
        ? 'seconds must be an integer within ±315,576,000,000'
        : 'nanos must be between -999,999,999 and 999,999,999 and have the sign of seconds';
    return { violation: violation(`validity.${malformed}`, 'INVALID_FORMAT', `not a valid google.protobuf.Duration: ${rule}`) };
  }
  // An explicit validity is used as given (even beyond the category's default), within the bounds.
  const seconds = request.validity.seconds + request.validity.nanos / 1e9;
  if (seconds < MIN_VALIDITY_SECONDS || seconds > MAX_VALIDITY_SECONDS) {
    return {
      violation: violation(
        'validity',
        'OUT_OF_RANGE',
        `must be at least ${MIN_VALIDITY_SECONDS} seconds and at most ${MAX_VALIDITY_SECONDS} seconds (30 days)`,
      ),
    };
  }
  return { seconds };
}

/**
 * Validates a send request for `tenant`, listing every bad field, and applies defaults. Throws
 * InvalidArgumentError with all violations at once, so a client can fix its request in one round.
 */
export function validateSendRequest(request: SendRequest, tenant: Tenant): ValidSendRequest {
  const violations: FieldViolation[] = [];
  if (!request.to) violations.push(violation('to', 'REQUIRED', 'recipient phone number is required'));
  else if (!isE164(request.to)) violations.push(violation('to', 'INVALID_FORMAT', 'must be an E.164 phone number, e.g. +4915112345678'));
  violations.push(...validateContent(request));
  violations.push(...validateReplyTo(request));
  if (!IDEMPOTENCY_KEY_PATTERN.test(request.idempotencyKey)) {
    violations.push(
      violation('idempotency_key', request.idempotencyKey ? 'INVALID_FORMAT' : 'REQUIRED', 'must be 1 to 128 printable ASCII characters'),
    );
  }
  const validity = validateValidity(request);
  if ('violation' in validity) violations.push(validity.violation);
  const phoneNumbers = tenant.whatsapp.phoneNumbers;
  const phoneNumberId = request.phoneNumberId || phoneNumbers[0]?.id;
  if (!phoneNumbers.some((number) => number.id === phoneNumberId)) {
    violations.push(violation('phone_number_id', 'UNKNOWN', 'is not one of your WhatsApp business phone numbers'));
  }
  if (violations.length > 0 || !request.content || !('seconds' in validity)) throw new InvalidArgumentError(violations);
  const normalized = {
    to: request.to,
    content: request.content,
    validitySeconds: validity.seconds,
    validityExplicit: request.validity !== undefined,
    phoneNumberId,
    replyTo: request.replyTo,
  };
  return {
    ...normalized,
    idempotencyKey: request.idempotencyKey,
    requestHash: createHash('sha256').update(JSON.stringify(normalized)).digest('hex'),
  };
}
