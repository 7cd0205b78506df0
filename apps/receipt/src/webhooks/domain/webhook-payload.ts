/** One entry of a webhook `errors[]` (on a status, on an inbound message, or on the change's `value`). */
export interface WebhookError {
  readonly code: number;
  readonly title: string;
  readonly message?: string;
  /** `error_data.details`. */
  readonly details?: string;
}

/** An error Meta reported for a whole change (`value.errors[]`): a system, app or account problem, not one message's. */
export interface WebhookValueError extends WebhookError {
  readonly phoneNumberId: string;
}

/** A status's `conversation` (v24.0+ sends it only for free entry point windows). */
export interface WebhookConversation {
  readonly id: string;
  /** `expiration_timestamp`; Meta sends it with `sent` only. */
  readonly expiresAt?: Date;
  /** `origin.type`, e.g. `service`, `marketing`, `referral_conversion`. */
  readonly originType?: string;
}

/** A status's `pricing`. Values are kept as Meta's strings: Meta adds categories and types without notice. */
export interface WebhookPricing {
  /** Meta has announced it will drop `billable` in favour of `type` + `category`, so it may be absent. */
  readonly billable?: boolean;
  /** `PMP` (per-message pricing, since July 1, 2025); `CBP` only on webhooks sent before that. */
  readonly pricingModel: string;
  readonly category: string;
  /** `regular`, `free_customer_service` or `free_entry_point` (PMP only). */
  readonly type?: string;
}

/** A status from a WhatsApp webhook (`entry[].changes[].value.statuses[]`), normalized. */
export interface WebhookStatus {
  /** `value.metadata.phone_number_id`: which business number (and so which tenant) it concerns. */
  readonly phoneNumberId: string;
  /** `entry[].id`: the WhatsApp Business Account the number belongs to. */
  readonly wabaId?: string;
  /** The `wamid` the Cloud API returned when the message was sent. */
  readonly waMessageId: string;
  readonly status: 'SENT' | 'DELIVERED' | 'READ' | 'FAILED';
  /** Meta's timestamp (unix seconds), not the arrival time. */
  readonly occurredAt: Date;
  /** The first error's code (all of them are in `errors`). */
  readonly errorCode?: number;
  /** The first error's title. */
  readonly errorTitle?: string;
  /** `recipient_id`: the customer's phone number (or a group id). */
  readonly recipientId?: string;
  /** `recipient_user_id`: the customer's business-scoped user id (BSUID), when Meta sends one. */
  readonly recipientUserId?: string;
  readonly conversation?: WebhookConversation;
  readonly pricing?: WebhookPricing;
  readonly errors?: readonly WebhookError[];
  /** `biz_opaque_callback_data`: echoed from the send request (delivery-retry puts Waygate's message id there). */
  readonly bizOpaqueCallbackData?: string;
}

/** The inbound message types whose content is a media asset. */
export type InboundMediaType = 'image' | 'video' | 'audio' | 'document' | 'sticker';

/** A media asset in an inbound message; download it with `mediaId` (or `url`, where Meta has rolled that out). */
export interface InboundMedia {
  readonly mediaId: string;
  readonly mimeType: string;
  readonly sha256?: string;
  readonly url?: string;
  readonly caption?: string;
  /** Documents only. */
  readonly filename?: string;
  /** Audio only: a voice note rather than an audio file. */
  readonly voice?: boolean;
  /** Stickers only. */
  readonly animated?: boolean;
}

/** What an inbound message carries, by its `type`. Unknown types and sub-types are kept whole, never dropped. */
export type InboundContent =
  | { readonly kind: 'text'; readonly body: string }
  | ({ readonly kind: InboundMediaType } & InboundMedia)
  | {
      readonly kind: 'location';
      readonly latitude: number;
      readonly longitude: number;
      readonly name?: string;
      readonly address?: string;
      readonly url?: string;
    }
  /** The shared contact cards as Meta sent them (their fields vary with what the user chose to share). */
  | { readonly kind: 'contacts'; readonly contacts: readonly Record<string, unknown>[] }
  | {
      readonly kind: 'interactive';
      readonly replyType: 'button_reply' | 'list_reply';
      readonly id: string;
      readonly title: string;
      readonly description?: string;
    }
  /** A template quick-reply button tap. */
  | { readonly kind: 'button'; readonly payload: string; readonly text: string }
  /** `emoji` is absent when the user removed their reaction. */
  | { readonly kind: 'reaction'; readonly messageId: string; readonly emoji?: string }
  | { readonly kind: 'order'; readonly order: Record<string, unknown> }
  | { readonly kind: 'system'; readonly system: Record<string, unknown> }
  /** `unsupported`, a type this parser does not know, or an interactive reply other than a button or list reply. */
  | { readonly kind: 'unknown'; readonly rawType: string; readonly raw: Record<string, unknown> };

/** A message a customer sent to a business number (`value.messages[]`), normalized. */
export interface InboundMessage {
  /** The business number it was sent to (`value.metadata.phone_number_id`). */
  readonly phoneNumberId: string;
  /** `entry[].id`. */
  readonly wabaId?: string;
  /** Its `wamid`. */
  readonly messageId: string;
  /**
   * The sender: their phone number, or, when Meta withholds it (a user with a username), their business-scoped user
   * id, which then equals `fromUserId`.
   */
  readonly from: string;
  /** `from_user_id`: the sender's business-scoped user id (BSUID), when Meta sends one. */
  readonly fromUserId?: string;
  /** Meta's timestamp (unix seconds). */
  readonly timestamp: Date;
  /** Meta's `type`, as sent. */
  readonly type: string;
  /** `context.id`: the message replied to or tapped in. */
  readonly contextMessageId?: string;
  /** `context.from`: who sent that message (the business number). */
  readonly contextFrom?: string;
  /** `contacts[].profile.name` of the sender. */
  readonly profileName?: string;
  readonly content: InboundContent;
  /** Message-level `errors[]` (sent with `unsupported` messages). */
  readonly errors?: readonly WebhookError[];
}

/** What a webhook body contained. */
export interface ParsedWebhook {
  readonly statuses: WebhookStatus[];
  readonly inboundMessages: InboundMessage[];
  /** `inboundMessages.length`, kept for callers that only count them. */
  readonly inboundMessageCount: number;
  /** Change-level errors (`value.errors[]`). */
  readonly errors: WebhookValueError[];
  /** Parts that could not be understood; they name where and why, never content, and are never fatal. */
  readonly skipped: string[];
}

const STATUS_NAMES: Readonly<Record<string, WebhookStatus['status']>> = {
  sent: 'SENT',
  delivered: 'DELIVERED',
  read: 'READ',
  failed: 'FAILED',
};

const MEDIA_TYPES: ReadonlySet<string> = new Set<InboundMediaType>(['image', 'video', 'audio', 'document', 'sticker']);

type JsonObject = Record<string, unknown>;

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** `{ [key]: value }` when the value is a non-empty string, else nothing, so absent fields stay absent. */
function optionalString<K extends string>(key: K, value: unknown): { [P in K]?: string } {
  return nonEmptyString(value) ? ({ [key]: value } as { [P in K]: string }) : {};
}

function optionalBoolean<K extends string>(key: K, value: unknown): { [P in K]?: boolean } {
  return typeof value === 'boolean' ? ({ [key]: value } as { [P in K]: boolean }) : {};
}

/** Meta's timestamps are strings of unix seconds; a number is accepted too, anything else is not a time. */
function unixSeconds(value: unknown): Date | undefined {
  const seconds = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : typeof value === 'number' ? value : NaN;
  return Number.isFinite(seconds) ? new Date(seconds * 1000) : undefined;
}

/** The items of `record[key]`; a present value that is not an array is reported, since Meta always sends arrays. */
function listAt(record: JsonObject, key: string, where: string, skipped: string[]): unknown[] {
  const value = record[key];
  if (value !== undefined && !Array.isArray(value)) skipped.push(`${where}.${key}: not an array`);
  return asArray(value);
}

/** Parses an `errors[]`; entries without a numeric code and a title are skipped with a reason. */
function parseErrors(record: JsonObject, where: string, skipped: string[]): WebhookError[] {
  const errors: WebhookError[] = [];
  listAt(record, 'errors', where, skipped).forEach((raw, index) => {
    if (!isRecord(raw) || typeof raw.code !== 'number' || !nonEmptyString(raw.title)) {
      skipped.push(`${where}.errors[${index}]: no code or title`);
      return;
    }
    errors.push({
      code: raw.code,
      title: raw.title,
      ...optionalString('message', raw.message),
      ...optionalString('details', isRecord(raw.error_data) ? raw.error_data.details : undefined),
    });
  });
  return errors;
}

function parseConversation(raw: unknown, where: string, skipped: string[]): { conversation?: WebhookConversation } {
  if (raw === undefined) return {};
  if (!isRecord(raw) || !nonEmptyString(raw.id)) {
    skipped.push(`${where}.conversation: no id`);
    return {};
  }
  const expiresAt = raw.expiration_timestamp === undefined ? undefined : unixSeconds(raw.expiration_timestamp);
  if (raw.expiration_timestamp !== undefined && !expiresAt) skipped.push(`${where}.conversation.expiration_timestamp: not a time`);
  return {
    conversation: {
      id: raw.id,
      ...(expiresAt ? { expiresAt } : {}),
      ...optionalString('originType', isRecord(raw.origin) ? raw.origin.type : undefined),
    },
  };
}

function parsePricing(raw: unknown, where: string, skipped: string[]): { pricing?: WebhookPricing } {
  if (raw === undefined) return {};
  if (!isRecord(raw) || !nonEmptyString(raw.pricing_model) || !nonEmptyString(raw.category)) {
    skipped.push(`${where}.pricing: no pricing_model or category`);
    return {};
  }
  return {
    pricing: {
      ...optionalBoolean('billable', raw.billable),
      pricingModel: raw.pricing_model,
      category: raw.category,
      ...optionalString('type', raw.type),
    },
  };
}

function parseStatus(
  raw: unknown,
  ids: { phoneNumberId: string; wabaId?: string },
  at: string,
  skipped: string[],
): WebhookStatus | undefined {
  const name = isRecord(raw) ? String(raw.status) : '';
  // Own keys only: a status named `constructor` must not resolve to Object's.
  const status = Object.hasOwn(STATUS_NAMES, name) ? STATUS_NAMES[name] : undefined;
  const occurredAt = isRecord(raw) ? unixSeconds(raw.timestamp) : undefined;
  if (!isRecord(raw) || !status || !nonEmptyString(raw.id) || !occurredAt) {
    skipped.push(`${at}: unsupported or incomplete status`);
    return undefined;
  }
  const firstError = asArray(raw.errors)[0];
  const errors = parseErrors(raw, at, skipped);
  return {
    ...ids,
    waMessageId: raw.id,
    status,
    occurredAt,
    ...(isRecord(firstError) && typeof firstError.code === 'number' ? { errorCode: firstError.code } : {}),
    ...(isRecord(firstError) && typeof firstError.title === 'string' ? { errorTitle: firstError.title } : {}),
    ...optionalString('recipientId', raw.recipient_id),
    ...optionalString('recipientUserId', raw.recipient_user_id),
    ...optionalString('bizOpaqueCallbackData', raw.biz_opaque_callback_data),
    ...parseConversation(raw.conversation, at, skipped),
    ...parsePricing(raw.pricing, at, skipped),
    ...(errors.length > 0 ? { errors } : {}),
  };
}

function parseMedia(kind: InboundMediaType, raw: unknown): InboundContent | undefined {
  if (!isRecord(raw) || !nonEmptyString(raw.id) || !nonEmptyString(raw.mime_type)) return undefined;
  return {
    kind,
    mediaId: raw.id,
    mimeType: raw.mime_type,
    ...optionalString('sha256', raw.sha256),
    ...optionalString('url', raw.url),
    ...optionalString('caption', raw.caption),
    ...optionalString('filename', raw.filename),
    ...optionalBoolean('voice', raw.voice),
    ...optionalBoolean('animated', raw.animated),
  };
}

function parseInteractive(message: JsonObject): InboundContent | undefined {
  const interactive = message.interactive;
  if (!isRecord(interactive)) return undefined;
  const replyType = interactive.type;
  // Flows (`nfm_reply`), call permission replies and later sub-types are real messages this parser has no shape for.
  if (replyType !== 'button_reply' && replyType !== 'list_reply') return { kind: 'unknown', rawType: 'interactive', raw: message };
  const reply = interactive[replyType];
  if (!isRecord(reply) || !nonEmptyString(reply.id) || typeof reply.title !== 'string') return undefined;
  return {
    kind: 'interactive',
    replyType,
    id: reply.id,
    title: reply.title,
    ...(replyType === 'list_reply' ? optionalString('description', reply.description) : {}),
  };
}

/** The content of a message by its type; `undefined` when a known type's content is malformed. */
function parseContent(type: string, message: JsonObject): InboundContent | undefined {
  const body = message[type];
  if (MEDIA_TYPES.has(type)) return parseMedia(type as InboundMediaType, body);
  switch (type) {
    case 'text':
      return isRecord(body) && typeof body.body === 'string' ? { kind: 'text', body: body.body } : undefined;
    case 'location':
      if (!isRecord(body) || typeof body.latitude !== 'number' || typeof body.longitude !== 'number') return undefined;
      return {
        kind: 'location',
        latitude: body.latitude,
        longitude: body.longitude,
        ...optionalString('name', body.name),
        ...optionalString('address', body.address),
        ...optionalString('url', body.url),
      };
    case 'contacts':
      return Array.isArray(body) && body.length > 0 && body.every(isRecord) ? { kind: 'contacts', contacts: body } : undefined;
    case 'interactive':
      return parseInteractive(message);
    case 'button':
      return isRecord(body) && typeof body.payload === 'string' && typeof body.text === 'string'
        ? { kind: 'button', payload: body.payload, text: body.text }
        : undefined;
    case 'reaction':
      if (!isRecord(body) || !nonEmptyString(body.message_id)) return undefined;
      return { kind: 'reaction', messageId: body.message_id, ...optionalString('emoji', body.emoji) };
    case 'order':
      return isRecord(body) ? { kind: 'order', order: body } : undefined;
    case 'system':
      return isRecord(body) ? { kind: 'system', system: body } : undefined;
    default:
      // `unsupported` and types Meta adds later: kept whole so a later version can handle them.
      return { kind: 'unknown', rawType: type, raw: message };
  }
}

const KNOWN_TYPES: ReadonlySet<string> = new Set([
  ...MEDIA_TYPES,
  'text',
  'location',
  'contacts',
  'interactive',
  'button',
  'reaction',
  'order',
  'system',
]);

/** The sender's profile name from `value.contacts[]`, matched by phone number or BSUID (system messages have none). */
function profileNameOf(contacts: unknown[], from: string, fromUserId: string | undefined): string | undefined {
  const sender = contacts.find(
    (contact) => isRecord(contact) && (contact.wa_id === from || (fromUserId && contact.user_id === fromUserId)),
  );
  const only = contacts.length === 1 ? contacts[0] : undefined;
  const contact = sender ?? only;
  const name = isRecord(contact) && isRecord(contact.profile) ? contact.profile.name : undefined;
  return nonEmptyString(name) ? name : undefined;
}

function parseMessage(
  raw: unknown,
  ids: { phoneNumberId: string; wabaId?: string },
  contacts: unknown[],
  at: string,
  skipped: string[],
): InboundMessage | undefined {
  const timestamp = isRecord(raw) ? unixSeconds(raw.timestamp) : undefined;
  const fromUserId = isRecord(raw) && nonEmptyString(raw.from_user_id) ? raw.from_user_id : undefined;
  const from = isRecord(raw) && nonEmptyString(raw.from) ? raw.from : fromUserId;
  if (!isRecord(raw) || !nonEmptyString(raw.id) || !timestamp || !nonEmptyString(raw.type) || !from) {
    skipped.push(`${at}: incomplete message`);
    return undefined;
  }
  const content = parseContent(raw.type, raw);
  if (!content) {
    // Only known type names go into the reason: an unknown one never reaches here, and content never does.
    skipped.push(`${at}: malformed ${KNOWN_TYPES.has(raw.type) ? raw.type : 'message'} content`);
    return undefined;
  }
  const context: JsonObject = isRecord(raw.context) ? raw.context : {};
  const errors = parseErrors(raw, at, skipped);
  return {
    ...ids,
    messageId: raw.id,
    from,
    ...(fromUserId ? { fromUserId } : {}),
    timestamp,
    type: raw.type,
    ...optionalString('contextMessageId', context.id),
    ...optionalString('contextFrom', context.from),
    ...optionalString('profileName', profileNameOf(contacts, from, fromUserId)),
    content,
    ...(errors.length > 0 ? { errors } : {}),
  };
}

/**
 * Parses a WhatsApp Business Account webhook body (already JSON-decoded): statuses, inbound messages and change-level
 * errors. Unknown fields are ignored and unknown message types kept; a malformed part is skipped with a reason rather
 * than failing the whole payload, because Meta adds fields and batches several changes per POST. Never throws.
 */
export function parseWebhookPayload(payload: unknown): ParsedWebhook {
  const statuses: WebhookStatus[] = [];
  const inboundMessages: InboundMessage[] = [];
  const errors: WebhookValueError[] = [];
  const skipped: string[] = [];
  const result = (): ParsedWebhook => ({ statuses, inboundMessages, inboundMessageCount: inboundMessages.length, errors, skipped });
  if (!isRecord(payload) || payload.object !== 'whatsapp_business_account') {
    skipped.push('not a whatsapp_business_account payload');
    return result();
  }
  listAt(payload, 'entry', 'payload', skipped).forEach((entry, entryIndex) => {
    if (!isRecord(entry)) {
      skipped.push(`entry[${entryIndex}]: not an object`);
      return;
    }
    const wabaId = nonEmptyString(entry.id) ? entry.id : undefined;
    listAt(entry, 'changes', `entry[${entryIndex}]`, skipped).forEach((change, changeIndex) => {
      const where = `entry[${entryIndex}].changes[${changeIndex}]`;
      if (!isRecord(change) || change.field !== 'messages' || !isRecord(change.value)) {
        skipped.push(`${where}: not a messages change`);
        return;
      }
      const value = change.value;
      const phoneNumberId = isRecord(value.metadata) ? String(value.metadata.phone_number_id ?? '') : '';
      if (!phoneNumberId) {
        skipped.push(`${where}: no metadata.phone_number_id`);
        return;
      }
      const at = `${where}.value`;
      const ids = { phoneNumberId, ...(wabaId ? { wabaId } : {}) };
      listAt(value, 'statuses', at, skipped).forEach((raw, index) => {
        const status = parseStatus(raw, ids, `${at}.statuses[${index}]`, skipped);
        if (status) statuses.push(status);
      });
      const contacts = listAt(value, 'contacts', at, skipped);
      listAt(value, 'messages', at, skipped).forEach((raw, index) => {
        const message = parseMessage(raw, ids, contacts, `${at}.messages[${index}]`, skipped);
        if (message) inboundMessages.push(message);
      });
      for (const error of parseErrors(value, at, skipped)) errors.push({ phoneNumberId, ...error });
    });
  });
  return result();
}
