import { invalidParameterError, invalidParameterValueError, missingParameterError, type MetaApiError } from './meta-errors';
import { looksLikePhoneNumber, toWaId } from './phone-numbers';

/** Meta's limit for `text.body`. */
export const MAX_TEXT_BODY_LENGTH = 4096;

/** A send request that passed validation. */
export interface ValidSendMessageRequest {
  /** `to` as given. */
  to: string;
  waId: string;
  type: string;
  body: Record<string, unknown>;
}

/** Either a valid request or the Meta error to answer with. */
export type SendMessageValidation = { ok: true; request: ValidSendMessageRequest } | { ok: false; error: MetaApiError };

/** Checks the type-specific object (e.g. `text` for `type: "text"`); returns the first problem. */
type MessageTypeValidator = (request: Record<string, unknown>) => MetaApiError | undefined;

// Message types Meta supports that the simulator does not implement yet; named in the error so the gap is obvious.
const KNOWN_UNIMPLEMENTED_TYPES = new Set([
  'audio',
  'contacts',
  'document',
  'image',
  'interactive',
  'location',
  'reaction',
  'sticker',
  'template',
  'video',
]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validateTextMessage(request: Record<string, unknown>): MetaApiError | undefined {
  const text = request['text'];
  if (text === undefined) return missingParameterError('text');
  if (!isPlainObject(text)) return invalidParameterError('Param text must be a JSON object.');
  const body = text['body'];
  if (body === undefined || body === '') return missingParameterError("text['body']");
  if (typeof body !== 'string') return invalidParameterError("Param text['body'] must be a string.");
  // Meta counts characters, not UTF-16 code units, so an emoji counts once.
  if (Array.from(body).length > MAX_TEXT_BODY_LENGTH) {
    return invalidParameterError(`Param text['body'] must be at most ${MAX_TEXT_BODY_LENGTH} characters long.`);
  }
  const previewUrl = text['preview_url'];
  if (previewUrl !== undefined && typeof previewUrl !== 'boolean') {
    return invalidParameterError("Param text['preview_url'] must be a boolean.");
  }
  return undefined;
}

/** One validator per supported `type`; add entries here as more message types are simulated. */
const MESSAGE_TYPE_VALIDATORS: Readonly<Record<string, MessageTypeValidator>> = {
  text: validateTextMessage,
};

function validateEnvelope(request: Record<string, unknown>): MetaApiError | undefined {
  const product = request['messaging_product'];
  if (product === undefined) return missingParameterError('messaging_product');
  if (product !== 'whatsapp') {
    return invalidParameterValueError(`Param messaging_product must be 'whatsapp', got ${JSON.stringify(product)}.`);
  }
  const recipientType = request['recipient_type'];
  if (recipientType !== undefined && recipientType !== 'individual') {
    return invalidParameterValueError(`Param recipient_type must be 'individual', got ${JSON.stringify(recipientType)}.`);
  }
  const to = request['to'];
  if (to === undefined || to === '') return missingParameterError('to');
  if (typeof to !== 'string' || !looksLikePhoneNumber(to)) {
    return invalidParameterValueError('Param to must be a phone number in international format.');
  }
  return undefined;
}

function validateType(request: Record<string, unknown>, type: unknown): MetaApiError | undefined {
  if (typeof type !== 'string') return invalidParameterValueError('Param type must be a string.');
  const validator = MESSAGE_TYPE_VALIDATORS[type];
  if (validator !== undefined) return validator(request);
  const reason = KNOWN_UNIMPLEMENTED_TYPES.has(type) ? 'is not supported by the simulator yet' : 'is not a valid message type';
  return invalidParameterValueError(`Param type '${type}' ${reason}.`);
}

/**
 * Validates a parsed `POST /{phone_number_id}/messages` body in Meta's order: envelope, then type payload.
 * A missing `type` means `text`, as Meta documents.
 */
export function validateSendMessageRequest(parsed: unknown): SendMessageValidation {
  if (!isPlainObject(parsed)) {
    return { ok: false, error: invalidParameterError('Request body must be a JSON object.') };
  }
  const type = parsed['type'] ?? 'text';
  const error = validateEnvelope(parsed) ?? validateType(parsed, type);
  if (error !== undefined) return { ok: false, error };
  const to = parsed['to'] as string;
  return { ok: true, request: { to, waId: toWaId(to), type: type as string, body: parsed } };
}

/** Parses a raw request body; undefined when it is not JSON. */
export function parseJsonBody(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}
