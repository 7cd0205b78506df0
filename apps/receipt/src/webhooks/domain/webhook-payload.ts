import { boundJson, isJsonObject, type JsonObject } from './bounded-json';

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

/**
 * What an inbound message carries, by its `type`. Unknown types and sub-types are kept, never dropped. Content Waygate
 * keeps without understanding it (contact cards, orders, system notices, unknown types) is bounded (see
 * {@link OPAQUE_LIMITS}); `truncated` says that parts of it were left out, each replaced by a marker string.
 */
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
  | { readonly kind: 'contacts'; readonly contacts: readonly Record<string, unknown>[]; readonly truncated?: true }
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
  | { readonly kind: 'order'; readonly order: Record<string, unknown>; readonly truncated?: true }
  | { readonly kind: 'system'; readonly system: Record<string, unknown>; readonly truncated?: true }
  /** `unsupported`, a type this parser does not know, or an interactive reply other than a button or list reply. */
  | { readonly kind: 'unknown'; readonly rawType: string; readonly raw: Record<string, unknown>; readonly truncated?: true };

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

/**
 * A change of a customer's marketing preference (`user_preferences` webhook, `value.user_preferences[]`): the
 * customer stopped or resumed marketing messages from the business.
 */
export interface WebhookUserPreference {
  readonly phoneNumberId: string;
  readonly wabaId?: string;
  /** The customer's wa_id. */
  readonly waId: string;
  /** `marketing_messages` (the only category Meta sends today). */
  readonly category: string;
  readonly value: 'stop' | 'resume';
  readonly occurredAt: Date;
}

/** What a webhook body contained. */
export interface ParsedWebhook {
  readonly statuses: WebhookStatus[];
  readonly inboundMessages: InboundMessage[];
  /** Marketing preference changes (`user_preferences` changes). */
  readonly userPreferences: WebhookUserPreference[];
  /** `inboundMessages.length`, kept for callers that only count them. */
  readonly inboundMessageCount: number;
  /** Change-level errors (`value.errors[]`). */
  readonly errors: WebhookValueError[];
  /**
   * Parts that could not be understood or were cut to size; they name where and why, never content, and are never
   * fatal. At most {@link MAX_SKIPPED_REASONS}, the last one saying how many more there were.
   */
  readonly skipped: string[];
}

/**
 * Limits of content kept without being understood: nesting (Meta's deepest documented shapes have fewer than ten
 * levels) and JSON size (a cart of a hundred items is a few kilobytes). Deeper or larger parts are replaced by a
 * marker string, so a pathological field can neither overflow a stack later (JSON.stringify, BSON, protobuf all
 * recurse) nor make an event too large to publish.
 */
export const OPAQUE_LIMITS = { maxDepth: 32, maxBytes: 64 * 1024 } as const;

/** Longest text kept (a body, caption, title…): four times Meta's longest (4,096 characters); longer is cut, ending in `…`. */
export const MAX_TEXT_CHARS = 16_384;

/** Longest identifier accepted (wamids, phone number ids, media ids are under 100): a longer one makes its part invalid. */
export const MAX_ID_CHARS = 512;

/** Most reasons kept in `skipped`, and most `errors[]` entries kept per status, message or change. */
export const MAX_SKIPPED_REASONS = 50;
export const MAX_ERRORS_PER_ITEM = 10;

const STATUS_NAMES: Readonly<Record<string, WebhookStatus['status']>> = {
  sent: 'SENT',
  delivered: 'DELIVERED',
  read: 'READ',
  failed: 'FAILED',
};

const MEDIA_TYPES: ReadonlySet<string> = new Set<InboundMediaType>(['image', 'video', 'audio', 'document', 'sticker']);

/** Where the reasons for skipped or cut parts go: a webhook with a million bad parts must not make a million strings. */
interface Reasons {
  add(reason: string): void;
}

/** Keeps the first MAX_SKIPPED_REASONS reasons; past that, the list ends in how many more there were. */
function createReasons(): Reasons & { list(): string[] } {
  const kept: string[] = [];
  let total = 0;
  return {
    add(reason) {
      total++;
      if (kept.length < MAX_SKIPPED_REASONS) kept.push(reason);
    },
    list: () =>
      total <= MAX_SKIPPED_REASONS
        ? [...kept]
        : [...kept.slice(0, MAX_SKIPPED_REASONS - 1), `… and ${total - MAX_SKIPPED_REASONS + 1} more`],
  };
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** A non-empty identifier of a sane length (anything longer is not one of Meta's ids). */
function isId(value: unknown): value is string {
  return nonEmptyString(value) && value.length <= MAX_ID_CHARS;
}

/** Text cut to {@link MAX_TEXT_CHARS}. */
function boundedText(value: string): string {
  return value.length > MAX_TEXT_CHARS ? `${value.slice(0, MAX_TEXT_CHARS - 1)}…` : value;
}

/** `{ [key]: value }` when the value is a non-empty string (cut to size), else nothing, so absent fields stay absent. */
function optionalString<K extends string>(key: K, value: unknown): { [P in K]?: string } {
  return nonEmptyString(value) ? ({ [key]: boundedText(value) } as { [P in K]: string }) : {};
}

/** A JSON value kept as it is, within {@link OPAQUE_LIMITS}; a cut is reported in `skipped`. */
function opaque<T>(value: T, what: string, at: string, skipped: Reasons): { value: T; truncated?: true } {
  const bounded = boundJson(value, OPAQUE_LIMITS);
  if (bounded.omitted.size === 0) return { value };
  const why = [
    ...(bounded.omitted.has('depth') ? [`nested deeper than ${OPAQUE_LIMITS.maxDepth} levels`] : []),
    ...(bounded.omitted.has('size') ? [`over ${OPAQUE_LIMITS.maxBytes} bytes`] : []),
  ].join(', ');
  skipped.add(`${at}: ${what} content truncated (${why})`);
  return { value: bounded.value as T, truncated: true };
}

function optionalBoolean<K extends string>(key: K, value: unknown): { [P in K]?: boolean } {
  return typeof value === 'boolean' ? ({ [key]: value } as { [P in K]: boolean }) : {};
}

/** The latest time a Date (and a protobuf Timestamp) can hold comfortably: the end of year 9999. */
const MAX_UNIX_SECONDS = 253_402_300_799;

/**
 * Meta's timestamps are strings of unix seconds; a number is accepted too, anything else — or a time no Date can
 * hold — is not a time.
 */
function unixSeconds(value: unknown): Date | undefined {
  const seconds = typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : typeof value === 'number' ? value : NaN;
  return Number.isFinite(seconds) && seconds >= 0 && seconds <= MAX_UNIX_SECONDS ? new Date(Math.floor(seconds * 1000)) : undefined;
}

/** An int32 error code (Meta's codes are; protobuf fields carrying them are int32). */
function isErrorCode(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 2_147_483_647;
}

/** The items of `record[key]`; a present value that is not an array is reported, since Meta always sends arrays. */
function listAt(record: JsonObject, key: string, where: string, skipped: Reasons): unknown[] {
  const value = record[key];
  if (value !== undefined && !Array.isArray(value)) skipped.add(`${where}.${key}: not an array`);
  return asArray(value);
}

/** Parses an `errors[]`; entries without a numeric code and a title are skipped with a reason. */
function parseErrors(record: JsonObject, where: string, skipped: Reasons): WebhookError[] {
  const errors: WebhookError[] = [];
  const list = listAt(record, 'errors', where, skipped);
  if (list.length > MAX_ERRORS_PER_ITEM) skipped.add(`${where}.errors: only the first ${MAX_ERRORS_PER_ITEM} of ${list.length} kept`);
  list.slice(0, MAX_ERRORS_PER_ITEM).forEach((raw, index) => {
    if (!isJsonObject(raw) || !isErrorCode(raw.code) || !nonEmptyString(raw.title)) {
      skipped.add(`${where}.errors[${index}]: no code or title`);
      return;
    }
    errors.push({
      code: raw.code,
      title: boundedText(raw.title),
      ...optionalString('message', raw.message),
      ...optionalString('details', isJsonObject(raw.error_data) ? raw.error_data.details : undefined),
    });
  });
  return errors;
}

function parseConversation(raw: unknown, where: string, skipped: Reasons): { conversation?: WebhookConversation } {
  if (raw === undefined) return {};
  if (!isJsonObject(raw) || !isId(raw.id)) {
    skipped.add(`${where}.conversation: no id`);
    return {};
  }
  const expiresAt = raw.expiration_timestamp === undefined ? undefined : unixSeconds(raw.expiration_timestamp);
  if (raw.expiration_timestamp !== undefined && !expiresAt) skipped.add(`${where}.conversation.expiration_timestamp: not a time`);
  return {
    conversation: {
      id: raw.id,
      ...(expiresAt ? { expiresAt } : {}),
      ...optionalString('originType', isJsonObject(raw.origin) ? raw.origin.type : undefined),
    },
  };
}

function parsePricing(raw: unknown, where: string, skipped: Reasons): { pricing?: WebhookPricing } {
  if (raw === undefined) return {};
  if (!isJsonObject(raw) || !isId(raw.pricing_model) || !isId(raw.category)) {
    skipped.add(`${where}.pricing: no pricing_model or category`);
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
  skipped: Reasons,
): WebhookStatus | undefined {
  // Only a string: String() of an object with an own `toString` that is not a function throws.
  const name = isJsonObject(raw) && typeof raw.status === 'string' ? raw.status : '';
  // Own keys only: a status named `constructor` must not resolve to Object's.
  const status = Object.hasOwn(STATUS_NAMES, name) ? STATUS_NAMES[name] : undefined;
  const occurredAt = isJsonObject(raw) ? unixSeconds(raw.timestamp) : undefined;
  if (!isJsonObject(raw) || !status || !isId(raw.id) || !occurredAt) {
    skipped.add(`${at}: unsupported or incomplete status`);
    return undefined;
  }
  const firstError = asArray(raw.errors)[0];
  const errors = parseErrors(raw, at, skipped);
  return {
    ...ids,
    waMessageId: raw.id,
    status,
    occurredAt,
    ...(isJsonObject(firstError) && isErrorCode(firstError.code) ? { errorCode: firstError.code } : {}),
    ...(isJsonObject(firstError) && typeof firstError.title === 'string' ? { errorTitle: boundedText(firstError.title) } : {}),
    ...optionalString('recipientId', raw.recipient_id),
    ...optionalString('recipientUserId', raw.recipient_user_id),
    ...optionalString('bizOpaqueCallbackData', raw.biz_opaque_callback_data),
    ...parseConversation(raw.conversation, at, skipped),
    ...parsePricing(raw.pricing, at, skipped),
    ...(errors.length > 0 ? { errors } : {}),
  };
}

function parseMedia(kind: InboundMediaType, raw: unknown): InboundContent | undefined {
  if (!isJsonObject(raw) || !isId(raw.id) || !isId(raw.mime_type)) return undefined;
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

function parseInteractive(message: JsonObject, at: string, skipped: Reasons): InboundContent | undefined {
  const interactive = message.interactive;
  if (!isJsonObject(interactive)) return undefined;
  const replyType = interactive.type;
  // Flows (`nfm_reply`), call permission replies and later sub-types are real messages this parser has no shape for.
  if (replyType !== 'button_reply' && replyType !== 'list_reply') return unknownContent('interactive', message, at, skipped);
  const reply = interactive[replyType];
  if (!isJsonObject(reply) || !isId(reply.id) || typeof reply.title !== 'string') return undefined;
  return {
    kind: 'interactive',
    replyType,
    id: reply.id,
    title: boundedText(reply.title),
    ...(replyType === 'list_reply' ? optionalString('description', reply.description) : {}),
  };
}

/** A message of a type (or sub-type) this parser has no shape for, kept whole within bounds. */
function unknownContent(rawType: string, message: JsonObject, at: string, skipped: Reasons): InboundContent {
  const raw = opaque(message, 'unknown-type', at, skipped);
  return { kind: 'unknown', rawType, raw: raw.value, ...(raw.truncated ? { truncated: true as const } : {}) };
}

/** A latitude or longitude: a finite number in range (JSON.parse turns `1e999` into Infinity). */
function isCoordinate(value: unknown, limit: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= limit;
}

/** The content of a message by its type; `undefined` when a known type's content is malformed. */
function parseContent(type: string, message: JsonObject, at: string, skipped: Reasons): InboundContent | undefined {
  const body = Object.hasOwn(message, type) ? message[type] : undefined;
  if (MEDIA_TYPES.has(type)) return parseMedia(type as InboundMediaType, body);
  switch (type) {
    case 'text':
      return isJsonObject(body) && typeof body.body === 'string' ? { kind: 'text', body: boundedText(body.body) } : undefined;
    case 'location':
      if (!isJsonObject(body) || !isCoordinate(body.latitude, 90) || !isCoordinate(body.longitude, 180)) return undefined;
      return {
        kind: 'location',
        latitude: body.latitude,
        longitude: body.longitude,
        ...optionalString('name', body.name),
        ...optionalString('address', body.address),
        ...optionalString('url', body.url),
      };
    case 'contacts': {
      if (!Array.isArray(body) || body.length === 0 || !body.every(isJsonObject)) return undefined;
      const contacts = opaque(body, 'contacts', at, skipped);
      // A cut list ends in a marker string, which is not a contact card.
      return {
        kind: 'contacts',
        contacts: contacts.value.filter(isJsonObject),
        ...(contacts.truncated ? { truncated: true as const } : {}),
      };
    }
    case 'interactive':
      return parseInteractive(message, at, skipped);
    case 'button':
      return isJsonObject(body) && typeof body.payload === 'string' && typeof body.text === 'string'
        ? { kind: 'button', payload: boundedText(body.payload), text: boundedText(body.text) }
        : undefined;
    case 'reaction':
      if (!isJsonObject(body) || !isId(body.message_id)) return undefined;
      return { kind: 'reaction', messageId: body.message_id, ...optionalString('emoji', body.emoji) };
    case 'order': {
      if (!isJsonObject(body)) return undefined;
      const order = opaque(body, 'order', at, skipped);
      return { kind: 'order', order: order.value, ...(order.truncated ? { truncated: true as const } : {}) };
    }
    case 'system': {
      if (!isJsonObject(body)) return undefined;
      const system = opaque(body, 'system', at, skipped);
      return { kind: 'system', system: system.value, ...(system.truncated ? { truncated: true as const } : {}) };
    }
    default:
      // `unsupported` and types Meta adds later: kept (within bounds) so a later version can handle them.
      return unknownContent(type, message, at, skipped);
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
    (contact) => isJsonObject(contact) && (contact.wa_id === from || (fromUserId && contact.user_id === fromUserId)),
  );
  const only = contacts.length === 1 ? contacts[0] : undefined;
  const contact = sender ?? only;
  const name = isJsonObject(contact) && isJsonObject(contact.profile) ? contact.profile.name : undefined;
  return nonEmptyString(name) ? boundedText(name) : undefined;
}

function parseMessage(
  raw: unknown,
  ids: { phoneNumberId: string; wabaId?: string },
  contacts: unknown[],
  at: string,
  skipped: Reasons,
): InboundMessage | undefined {
  const timestamp = isJsonObject(raw) ? unixSeconds(raw.timestamp) : undefined;
  const fromUserId = isJsonObject(raw) && isId(raw.from_user_id) ? raw.from_user_id : undefined;
  const from = isJsonObject(raw) && isId(raw.from) ? raw.from : fromUserId;
  if (!isJsonObject(raw) || !isId(raw.id) || !timestamp || !isId(raw.type) || !from) {
    skipped.add(`${at}: incomplete message`);
    return undefined;
  }
  const content = parseContent(raw.type, raw, at, skipped);
  if (!content) {
    // Only known type names go into the reason: an unknown one never reaches here, and content never does.
    skipped.add(`${at}: malformed ${KNOWN_TYPES.has(raw.type) ? raw.type : 'message'} content`);
    return undefined;
  }
  const context: JsonObject = isJsonObject(raw.context) ? raw.context : {};
  const errors = parseErrors(raw, at, skipped);
  return {
    ...ids,
    messageId: raw.id,
    from,
    ...(fromUserId ? { fromUserId } : {}),
    timestamp,
    type: raw.type,
    ...(isId(context.id) ? { contextMessageId: context.id } : {}),
    ...(isId(context.from) ? { contextFrom: context.from } : {}),
    ...optionalString('profileName', profileNameOf(contacts, from, fromUserId)),
    content,
    ...(errors.length > 0 ? { errors } : {}),
  };
}

function parseUserPreference(
  raw: unknown,
  ids: { phoneNumberId: string; wabaId?: string },
  at: string,
  skipped: Reasons,
): WebhookUserPreference | undefined {
  const occurredAt = isJsonObject(raw) ? unixSeconds(raw.timestamp) : undefined;
  if (!isJsonObject(raw) || !isId(raw.wa_id) || !isId(raw.category) || (raw.value !== 'stop' && raw.value !== 'resume') || !occurredAt) {
    skipped.add(`${at}: unsupported or incomplete user preference`);
    return undefined;
  }
  return { ...ids, waId: raw.wa_id, category: raw.category, value: raw.value, occurredAt };
}

/**
 * Parses a WhatsApp Business Account webhook body (already JSON-decoded): statuses, inbound messages and change-level
 * errors. Unknown fields are ignored and unknown message types kept; a malformed part is skipped with a reason rather
 * than failing the whole payload, because Meta adds fields and batches several changes per POST. Never throws, and
 * never recurses: whatever the input's shape, every part of the result is bounded (ids at most MAX_ID_CHARS, texts at
 * most MAX_TEXT_CHARS, kept-as-is content within OPAQUE_LIMITS, at most MAX_ERRORS_PER_ITEM errors per part and
 * MAX_SKIPPED_REASONS reasons), and every time is a valid Date.
 */
export function parseWebhookPayload(payload: unknown): ParsedWebhook {
  const statuses: WebhookStatus[] = [];
  const inboundMessages: InboundMessage[] = [];
  const userPreferences: WebhookUserPreference[] = [];
  const errors: WebhookValueError[] = [];
  const skipped = createReasons();
  const result = (): ParsedWebhook => ({
    statuses,
    inboundMessages,
    inboundMessageCount: inboundMessages.length,
    userPreferences,
    errors,
    skipped: skipped.list(),
  });
  if (!isJsonObject(payload) || payload.object !== 'whatsapp_business_account') {
    skipped.add('not a whatsapp_business_account payload');
    return result();
  }
  listAt(payload, 'entry', 'payload', skipped).forEach((entry, entryIndex) => {
    if (!isJsonObject(entry)) {
      skipped.add(`entry[${entryIndex}]: not an object`);
      return;
    }
    const wabaId = isId(entry.id) ? entry.id : undefined;
    listAt(entry, 'changes', `entry[${entryIndex}]`, skipped).forEach((change, changeIndex) => {
      const where = `entry[${entryIndex}].changes[${changeIndex}]`;
      const field = isJsonObject(change) ? change.field : undefined;
      if (!isJsonObject(change) || (field !== 'messages' && field !== 'user_preferences') || !isJsonObject(change.value)) {
        skipped.add(`${where}: not a messages change`);
        return;
      }
      const value = change.value;
      const rawNumberId = isJsonObject(value.metadata) ? value.metadata.phone_number_id : undefined;
      // A string, or a number Meta never sends but JSON allows; String() of anything else may throw.
      const phoneNumberId = typeof rawNumberId === 'number' && Number.isSafeInteger(rawNumberId) ? String(rawNumberId) : rawNumberId;
      if (!isId(phoneNumberId)) {
        skipped.add(`${where}: no metadata.phone_number_id`);
        return;
      }
      const at = `${where}.value`;
      const ids = { phoneNumberId, ...(wabaId ? { wabaId } : {}) };
      if (field === 'user_preferences') {
        listAt(value, 'user_preferences', at, skipped).forEach((raw, index) => {
          const preference = parseUserPreference(raw, ids, `${at}.user_preferences[${index}]`, skipped);
          if (preference) userPreferences.push(preference);
        });
        return;
      }
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
