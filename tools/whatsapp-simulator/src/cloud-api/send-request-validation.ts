import { z } from 'zod';
import { answeredWaId, looksLikePhoneNumber } from '../phone-numbers';
import { invalidParameterError, invalidParameterValueError, missingParameterError, type MetaApiError } from './meta-errors';

/** Meta's limit for `text.body`. */
export const MAX_TEXT_BODY_LENGTH = 4096;

/** Every `type` the simulator accepts on `POST /{phone_number_id}/messages`. */
export type OutboundMessageType =
  'text' | 'image' | 'video' | 'audio' | 'document' | 'sticker' | 'template' | 'interactive' | 'location' | 'contacts' | 'reaction';

/** Message types whose payload is a single media object. */
export type MediaMessageType = 'image' | 'video' | 'audio' | 'document' | 'sticker';

/** A media object by Meta media id or by link (exactly one). */
export interface MediaReference {
  type: MediaMessageType;
  id?: string;
  link?: string;
}

/** The parts of a template send the registry needs. */
export interface TemplateSendRequest {
  name: string;
  languageCode: string;
  /** Header parameters as sent: 'text' (with count), or a media type/location. undefined when no header component. */
  header?:
    | { kind: 'text'; parameterCount: number; parameterNames: string[] }
    | { kind: 'image' | 'video' | 'document' | 'location'; media?: MediaReference };
  /** Body parameters as sent; `parameterNames` holds only the parameters that carried a `parameter_name`. */
  body: { parameterCount: number; parameterNames: string[] };
  /** Button components as sent; `subType` is lower-case, `index` a number. */
  buttons: { subType: string; index: number; parameterCount: number }[];
}

/** A message send that passed validation. */
export interface ValidMessageRequest {
  kind: 'message';
  /** `to` as given. */
  to: string;
  /** `to` as digits only. */
  waId: string;
  type: OutboundMessageType;
  /** The parsed request as sent. */
  body: Record<string, unknown>;
  /** `context.message_id`: the message this one replies to. */
  contextMessageId?: string;
  /** For image/video/audio/document/sticker, and a template's media header. */
  media?: MediaReference;
  template?: TemplateSendRequest;
  /** `emoji` '' means removing the reaction. */
  reaction?: { messageId: string; emoji: string };
}

/** `{"messaging_product":"whatsapp","status":"read","message_id":"wamid...", "typing_indicator":{"type":"text"}?}` */
export interface ValidMarkReadRequest {
  kind: 'mark_read';
  messageId: string;
  typingIndicator: boolean;
}

/** Any request body the messages endpoint accepts. */
export type ValidSendRequest = ValidMessageRequest | ValidMarkReadRequest;

/** Either a valid request or the Meta error to answer with. */
export type SendRequestValidation = { ok: true; request: ValidSendRequest } | { ok: false; error: MetaApiError };

// Limits from Meta's per-type message pages (developers.facebook.com/documentation/business-messaging/whatsapp/messages/...).
const LIMITS = {
  mediaCaption: 1024,
  interactiveBody: 1024,
  // The list-messages page allows a longer body than the other interactive types.
  listBody: 4096,
  interactiveHeaderText: 60,
  interactiveFooterText: 60,
  replyButtonId: 256,
  replyButtonTitle: 20,
  listButton: 20,
  listSections: 10,
  listRows: 10,
  listRowId: 200,
  listRowTitle: 24,
  listRowDescription: 72,
  listSectionTitle: 24,
  ctaDisplayText: 20,
  contacts: 257,
  templateHeaderText: 60,
  // A body parameter may be longer when the body is the only component sent.
  templateBodyTextAlone: 32768,
  templateBodyTextWithOthers: 1024,
  couponCode: 15,
} as const;

const OUTBOUND_MESSAGE_TYPES: readonly OutboundMessageType[] = [
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'template',
  'interactive',
  'location',
  'contacts',
  'reaction',
];

// ---------------------------------------------------------------------------------------------------------------
// zod issue -> Meta error. Schemas stay declarative; rules zod cannot express carry a `MetaIssue` as `params`.
// ---------------------------------------------------------------------------------------------------------------

/** How a custom zod issue becomes a Meta error. */
type MetaIssue =
  /** 131008 for this field (optionally "... or <sibling>"). */
  | { meta: 'missing'; orSibling?: string }
  /** 100 "Param X must be at most N characters long." */
  | { meta: 'too_long'; max: number }
  /** 131009 with Meta's own wording (`details`) or "Param X <rule>." */
  | { meta: 'invalid_value'; details?: string; rule?: string }
  /** 100 with fixed details, for the errors Meta reports that way. */
  | { meta: 'invalid'; details: string };

const metaIssueSchema = z.discriminatedUnion('meta', [
  z.object({ meta: z.literal('missing'), orSibling: z.string().optional() }),
  z.object({ meta: z.literal('too_long'), max: z.number() }),
  z.object({ meta: z.literal('invalid_value'), details: z.string().optional(), rule: z.string().optional() }),
  z.object({ meta: z.literal('invalid'), details: z.string() }),
]);

/** Refinement options that carry a {@link MetaIssue}. */
function meta(issue: MetaIssue): { params: MetaIssue } {
  return { params: issue };
}

function addMetaIssue(ctx: z.RefinementCtx, path: PropertyKey[], issue: MetaIssue): void {
  ctx.addIssue({ code: 'custom', path, message: issue.meta, params: issue });
}

/** Meta's notation for a field: `interactive['action']['buttons'][0]['reply']['title']`. */
function metaPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, position) => {
      if (typeof key === 'number') return `[${key}]`;
      return position === 0 ? String(key) : `['${String(key)}']`;
    })
    .join('');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The raw input at `path`, to tell a missing field from a wrong one (zod reports both as type errors). */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (Array.isArray(current) && typeof key === 'number') current = current[key];
    else if (isPlainObject(current) && typeof key === 'string') current = current[key];
    else return undefined;
  }
  return current;
}

const EXPECTED_TYPE_NAMES: Readonly<Record<string, string>> = {
  object: 'a JSON object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
};

function elements(count: number): string {
  return count === 1 ? '1 element' : `${count} elements`;
}

function oneOf(values: readonly unknown[]): string {
  const quoted = values.map((value) => `'${String(value)}'`);
  return quoted.length === 1 ? quoted[0] : `one of ${quoted.join(', ')}`;
}

function fromMetaIssue(issue: MetaIssue, path: readonly PropertyKey[]): MetaApiError {
  const field = metaPath(path);
  switch (issue.meta) {
    case 'missing': {
      const sibling = issue.orSibling === undefined ? '' : ` or ${metaPath([...path.slice(0, -1), issue.orSibling])}`;
      return missingParameterError(`${field}${sibling}`);
    }
    case 'too_long':
      return invalidParameterError(`Param ${field} must be at most ${issue.max} characters long.`);
    case 'invalid_value':
      return invalidParameterValueError(issue.details ?? `Param ${field} ${issue.rule ?? 'is not valid'}.`);
    case 'invalid':
      return invalidParameterError(issue.details);
  }
}

/** The one function that turns a zod issue into the Meta error Graph API would answer with. */
function toMetaError(issue: z.core.$ZodIssue, root: unknown, prefix: readonly PropertyKey[] = []): MetaApiError {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'custom') return fromMetaIssue(metaIssueSchema.parse(issue.params), path);
  const field = metaPath(path);
  const value = valueAt(root, path);
  if (value === undefined) return missingParameterError(field);
  switch (issue.code) {
    case 'invalid_type':
      return invalidParameterError(`Param ${field} must be ${EXPECTED_TYPE_NAMES[issue.expected] ?? `of type ${issue.expected}`}.`);
    case 'invalid_value':
      return invalidParameterValueError(`Param ${field} must be ${oneOf(issue.values)}, got ${JSON.stringify(value)}.`);
    case 'invalid_union': {
      if (issue.discriminator !== undefined) {
        const options = 'options' in issue ? (issue.options ?? []) : [];
        return invalidParameterValueError(`Param ${field} must be ${oneOf(options)}, got ${JSON.stringify(value)}.`);
      }
      // Report the alternative matching the JSON type sent (e.g. the string branch for "12"), else the first one.
      const branches = issue.errors.map((errors) => errors[0]).filter((branch) => branch !== undefined);
      const chosen = branches.find((branch) => branch.code !== 'invalid_type') ?? branches[0];
      return chosen === undefined ? invalidParameterError(`Param ${field} is not valid.`) : toMetaError(chosen, root, path);
    }
    case 'too_small':
      if (issue.origin === 'string') {
        // Meta treats an empty required string as absent.
        return missingParameterError(field);
      }
      return invalidParameterValueError(
        issue.origin === 'array'
          ? `Param ${field} must have at least ${elements(Number(issue.minimum))}.`
          : `Param ${field} must be at least ${String(issue.minimum)}.`,
      );
    case 'too_big':
      if (issue.origin === 'string')
        return invalidParameterError(`Param ${field} must be at most ${String(issue.maximum)} characters long.`);
      return invalidParameterValueError(
        issue.origin === 'array'
          ? `Param ${field} must have at most ${elements(Number(issue.maximum))}.`
          : `Param ${field} must be at most ${String(issue.maximum)}.`,
      );
    case 'invalid_format':
      // Every format check below sets its message to a rule such as "must be an http(s) URL".
      return invalidParameterValueError(`Param ${field} ${issue.message}.`);
    default:
      return invalidParameterError(`Param ${field} is not valid.`);
  }
}

type Parsed<T> = { ok: true; data: T } | { ok: false; error: MetaApiError };

/** Parses `root[key]` (or `root` itself) and reports only the first problem, as Meta does. */
function parseAt<T extends z.ZodType>(schema: T, root: Record<string, unknown>, key?: string): Parsed<z.output<T>> {
  const result = schema.safeParse(key === undefined ? root : root[key]);
  if (result.success) return { ok: true, data: result.data };
  const [first] = result.error.issues;
  return { ok: false, error: toMetaError(first, root, key === undefined ? [] : [key]) };
}

// ---------------------------------------------------------------------------------------------------------------
// Schema building blocks
// ---------------------------------------------------------------------------------------------------------------

/** Meta counts characters, not UTF-16 code units, so an emoji counts once. */
function characterCount(value: string): number {
  return Array.from(value).length;
}

/** A non-empty string of at most `max` characters; `tooLong` replaces the generic over-limit error. */
function requiredText(max: number, tooLong?: MetaIssue) {
  return z
    .string()
    .min(1)
    .refine((value) => characterCount(value) <= max, meta(tooLong ?? { meta: 'too_long', max }));
}

/** An optional string of at most `max` characters. */
function optionalText(max: number) {
  return z
    .string()
    .refine((value) => characterCount(value) <= max, meta({ meta: 'too_long', max }))
    .optional();
}

/** A field Meta does not accept in this position. */
function forbidden(rule: string) {
  return z
    .unknown()
    .refine(() => false, meta({ meta: 'invalid_value', rule }))
    .optional();
}

/** An array whose length is checked before its elements, so a count problem is reported first. */
function countedArray<T extends z.ZodType>(item: T, bounds: { min: number; max: number; tooFew?: MetaIssue; tooMany?: MetaIssue }) {
  return z
    .array(z.unknown())
    .superRefine((items, ctx) => {
      if (items.length < bounds.min) {
        addMetaIssue(ctx, [], bounds.tooFew ?? { meta: 'invalid_value', rule: `must have at least ${elements(bounds.min)}` });
      } else if (items.length > bounds.max) {
        addMetaIssue(ctx, [], bounds.tooMany ?? { meta: 'invalid_value', rule: `must have at most ${elements(bounds.max)}` });
      }
    })
    .pipe(z.array(item));
}

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/**
 * A media object: exactly one of `id` (uploaded media) or `link` (hosted media). A caption is allowed, rejected (audio
 * and stickers have none) or, for header media whose pages do not mention one, left alone.
 */
function mediaObject(
  type: MediaMessageType,
  options: { caption: 'allowed' | 'rejected' | 'ignored'; filename?: boolean; voice?: boolean },
) {
  return z
    .object({
      id: z.string().min(1).optional(),
      link: httpUrl.optional(),
      ...(options.caption === 'allowed' ? { caption: optionalText(LIMITS.mediaCaption) } : {}),
      ...(options.caption === 'rejected' ? { caption: forbidden(`is not supported for ${type} media`) } : {}),
      ...(options.filename ? { filename: z.string().optional() } : {}),
      ...(options.voice ? { voice: z.boolean().optional() } : {}),
    })
    .superRefine((media, ctx) => {
      if (media.id === undefined && media.link === undefined) addMetaIssue(ctx, ['id'], { meta: 'missing', orSibling: 'link' });
      else if (media.id !== undefined && media.link !== undefined) {
        addMetaIssue(ctx, [], { meta: 'invalid_value', rule: 'must have either id or link, not both' });
      }
    });
}

const MEDIA_OBJECTS = {
  image: mediaObject('image', { caption: 'allowed' }),
  video: mediaObject('video', { caption: 'allowed' }),
  audio: mediaObject('audio', { caption: 'rejected', voice: true }),
  document: mediaObject('document', { caption: 'allowed', filename: true }),
  sticker: mediaObject('sticker', { caption: 'rejected' }),
} as const;

/** Media as a template header parameter or interactive header. */
const HEADER_MEDIA = {
  image: mediaObject('image', { caption: 'ignored' }),
  video: mediaObject('video', { caption: 'ignored' }),
  document: mediaObject('document', { caption: 'ignored', filename: true }),
} as const;

const DECIMAL_NUMBER = /^-?\d+(\.\d+)?$/;

/** Meta's pages type coordinates as strings, clients send numbers; both are accepted. */
function coordinate(limit: number) {
  return z
    .union([z.number(), z.string().regex(DECIMAL_NUMBER, { error: 'must be a number in decimal degrees' }).transform(Number)])
    .pipe(z.number().min(-limit).max(limit));
}

const locationObject = z.object({
  latitude: coordinate(90),
  longitude: coordinate(180),
  name: z.string().optional(),
  address: z.string().optional(),
});

// ---------------------------------------------------------------------------------------------------------------
// Message type payloads
// ---------------------------------------------------------------------------------------------------------------

const textPayload = z.object({ body: requiredText(MAX_TEXT_BODY_LENGTH), preview_url: z.boolean().optional() });

const optionalString = z.string().optional();

const contactObject = z.object({
  name: z.object({
    formatted_name: z.string().min(1),
    first_name: optionalString,
    last_name: optionalString,
    middle_name: optionalString,
    suffix: optionalString,
    prefix: optionalString,
  }),
  addresses: z
    .array(
      z.object({
        street: optionalString,
        city: optionalString,
        state: optionalString,
        zip: optionalString,
        country: optionalString,
        country_code: optionalString,
        type: optionalString,
      }),
    )
    .optional(),
  birthday: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a date in YYYY-MM-DD format' })
    .optional(),
  emails: z.array(z.object({ email: optionalString, type: optionalString })).optional(),
  org: z.object({ company: optionalString, department: optionalString, title: optionalString }).optional(),
  phones: z.array(z.object({ phone: optionalString, type: optionalString, wa_id: optionalString })).optional(),
  urls: z.array(z.object({ url: optionalString, type: optionalString })).optional(),
});

const contactsPayload = countedArray(contactObject, { min: 1, max: LIMITS.contacts });

// One emoji, including skin tones, flags and ZWJ sequences; built at runtime because the `v` flag postdates ES2022.
const SINGLE_EMOJI = new RegExp('^(?:\\p{RGI_Emoji}|\\p{Extended_Pictographic}\\uFE0F?)$', 'v');

const reactionPayload = z.object({
  message_id: z.string().min(1),
  emoji: z
    .string()
    .refine(
      (emoji) => emoji === '' || SINGLE_EMOJI.test(emoji),
      meta({ meta: 'invalid_value', rule: 'must be a single emoji, or empty to remove the reaction' }),
    ),
});

// Interactive ------------------------------------------------------------------------------------------------

function textObject(max: number) {
  return z.object({ text: requiredText(max) });
}

const textHeader = z.object({ type: z.literal('text'), text: requiredText(LIMITS.interactiveHeaderText) });
const mediaOrTextHeader = z.discriminatedUnion('type', [
  textHeader,
  z.object({ type: z.literal('image'), image: HEADER_MEDIA.image }),
  z.object({ type: z.literal('video'), video: HEADER_MEDIA.video }),
  z.object({ type: z.literal('document'), document: HEADER_MEDIA.document }),
]);

/** Adds "must be unique" problems for duplicate values, pointing at the later duplicate. */
function requireUnique(ctx: z.RefinementCtx, values: readonly string[], pathOf: (index: number) => PropertyKey[], what: string): void {
  const seen = new Set<string>();
  values.forEach((value, index) => {
    if (seen.has(value))
      addMetaIssue(ctx, pathOf(index), { meta: 'invalid_value', rule: `must be unique: another ${what} is also ${JSON.stringify(value)}` });
    seen.add(value);
  });
}

const replyButton = z.object({
  type: z.literal('reply'),
  reply: z.object({
    id: requiredText(LIMITS.replyButtonId),
    // Meta answers title problems, empty included, with this 131009 wording.
    title: z
      .string()
      .refine(
        (title) => characterCount(title) >= 1 && characterCount(title) <= LIMITS.replyButtonTitle,
        meta({ meta: 'invalid_value', details: `Button title length invalid. Min length: 1, Max length: ${LIMITS.replyButtonTitle}` }),
      ),
  }),
});

const replyButtonsInteractive = z.object({
  type: z.literal('button'),
  header: mediaOrTextHeader.optional(),
  body: textObject(LIMITS.interactiveBody),
  footer: textObject(LIMITS.interactiveFooterText).optional(),
  action: z
    .object({
      buttons: countedArray(replyButton, {
        min: 1,
        max: 3,
        tooFew: { meta: 'invalid_value', details: 'Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3' },
        tooMany: { meta: 'invalid_value', details: 'Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3' },
      }),
    })
    .superRefine((action, ctx) => {
      const at = (field: string) => (index: number) => ['buttons', index, 'reply', field];
      requireUnique(
        ctx,
        action.buttons.map((button) => button.reply.id),
        at('id'),
        'button id',
      );
      requireUnique(
        ctx,
        action.buttons.map((button) => button.reply.title),
        at('title'),
        'button title',
      );
    }),
});

const TOTAL_ROWS_EXCEEDED: MetaIssue = { meta: 'invalid_value', details: `Total row count exceed max allowed count: ${LIMITS.listRows}` };

const listRow = z.object({
  id: requiredText(LIMITS.listRowId),
  title: requiredText(LIMITS.listRowTitle, {
    meta: 'invalid_value',
    details: `Row title is too long. Max length is ${LIMITS.listRowTitle}`,
  }),
  description: optionalText(LIMITS.listRowDescription),
});

const listSection = z.object({
  title: optionalText(LIMITS.listSectionTitle),
  rows: countedArray(listRow, { min: 1, max: LIMITS.listRows, tooMany: TOTAL_ROWS_EXCEEDED }),
});

const listInteractive = z.object({
  type: z.literal('list'),
  header: z.discriminatedUnion('type', [textHeader]).optional(),
  body: textObject(LIMITS.listBody),
  footer: textObject(LIMITS.interactiveFooterText).optional(),
  action: z
    .object({
      button: requiredText(LIMITS.listButton),
      sections: countedArray(listSection, { min: 1, max: LIMITS.listSections }),
    })
    .superRefine((action, ctx) => {
      const rowCount = action.sections.reduce((total, section) => total + section.rows.length, 0);
      if (rowCount > LIMITS.listRows) addMetaIssue(ctx, ['sections'], TOTAL_ROWS_EXCEEDED);
      // A title is only optional while there is a single section.
      if (action.sections.length > 1) {
        const untitled = action.sections.findIndex((section) => section.title === undefined || section.title === '');
        if (untitled >= 0) addMetaIssue(ctx, ['sections', untitled, 'title'], { meta: 'missing' });
      }
    }),
});

const ctaUrlInteractive = z.object({
  type: z.literal('cta_url'),
  header: mediaOrTextHeader.optional(),
  body: textObject(LIMITS.interactiveBody),
  footer: textObject(LIMITS.interactiveFooterText).optional(),
  action: z.object({
    name: z.literal('cta_url'),
    parameters: z.object({ display_text: requiredText(LIMITS.ctaDisplayText), url: httpUrl }),
  }),
});

const interactivePayload = z.discriminatedUnion('type', [replyButtonsInteractive, listInteractive, ctaUrlInteractive]);

// Template ---------------------------------------------------------------------------------------------------

const BUTTON_SUB_TYPES = ['quick_reply', 'url', 'copy_code', 'flow', 'catalog', 'mpm', 'order_details', 'voice_call'] as const;

/** Meta documents `type`/`sub_type` values in lower case, but clients often send `BODY` or `COPY_CODE`; no page says Meta rejects that. */
function caseInsensitiveKinds<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => {
    if (!isPlainObject(value)) return value;
    const lower = (kind: unknown) => (typeof kind === 'string' ? kind.toLowerCase() : kind);
    return { ...value, type: lower(value['type']), sub_type: lower(value['sub_type']) };
  }, schema);
}

// Meta answers an empty name this way (#100), like a named template sent positional parameters.
const parameterName = z.string().refine((name) => name !== '', meta({ meta: 'invalid', details: 'Parameter name is missing or empty' }));

const textParameter = z.object({ type: z.literal('text'), text: z.string().min(1), parameter_name: parameterName.optional() });
const currencyParameter = z.object({
  type: z.literal('currency'),
  currency: z.object({
    fallback_value: z.string().min(1),
    code: z.string().regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 currency code' }),
    amount_1000: z.number().int(),
  }),
  parameter_name: parameterName.optional(),
});
const dateTimeParameter = z.object({
  type: z.literal('date_time'),
  date_time: z.object({ fallback_value: z.string().min(1) }),
  parameter_name: parameterName.optional(),
});

const headerParameter = caseInsensitiveKinds(
  z.discriminatedUnion('type', [
    textParameter,
    currencyParameter,
    dateTimeParameter,
    z.object({ type: z.literal('image'), image: HEADER_MEDIA.image }),
    z.object({ type: z.literal('video'), video: HEADER_MEDIA.video }),
    z.object({ type: z.literal('document'), document: HEADER_MEDIA.document }),
    z.object({ type: z.literal('location'), location: locationObject }),
  ]),
);
const bodyParameter = caseInsensitiveKinds(z.discriminatedUnion('type', [textParameter, currencyParameter, dateTimeParameter]));
const buttonParameter = caseInsensitiveKinds(
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('payload'), payload: z.string().min(1) }),
    z.object({ type: z.literal('text'), text: z.string().min(1) }),
    z.object({ type: z.literal('coupon_code'), coupon_code: requiredText(LIMITS.couponCode) }),
    z.object({ type: z.literal('action'), action: z.record(z.string(), z.unknown()) }),
  ]),
);

// Meta's examples send the index as "0" and as 0; templates have at most 10 buttons.
const buttonIndex = z.union([
  z.number().int().min(0).max(9),
  z.string().regex(/^\d$/, { error: 'must be a button index from 0 to 9' }).transform(Number),
]);

const templateComponent = caseInsensitiveKinds(
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('header'), parameters: z.array(headerParameter).optional() }),
    z.object({ type: z.literal('body'), parameters: z.array(bodyParameter).optional() }),
    z.object({
      type: z.literal('button'),
      sub_type: z.enum(BUTTON_SUB_TYPES),
      index: buttonIndex,
      parameters: z.array(buttonParameter).optional(),
    }),
  ]),
);

// Meta rejects these in text parameters (reported as #100 with this wording).
const FORBIDDEN_PARAMETER_TEXT = /[\n\t]| {5}/;

const templatePayload = z
  .object({
    name: z.string().min(1),
    language: z.object({ code: z.string().min(1), policy: z.literal('deterministic').optional() }),
    components: z.array(templateComponent).optional(),
  })
  .superRefine((template, ctx) => {
    const components = template.components ?? [];
    const seen = new Set<string>();
    components.forEach((component, index) => {
      const key = component.type === 'button' ? `button ${component.index}` : component.type;
      if (seen.has(key)) addMetaIssue(ctx, ['components', index], { meta: 'invalid_value', rule: `repeats the ${key} component` });
      seen.add(key);
      if (component.type === 'button') return;
      const bodyAlone = components.length === 1;
      const max =
        component.type === 'header'
          ? LIMITS.templateHeaderText
          : bodyAlone
            ? LIMITS.templateBodyTextAlone
            : LIMITS.templateBodyTextWithOthers;
      (component.parameters ?? []).forEach((parameter, parameterIndex) => {
        if (parameter.type !== 'text') return;
        const path = ['components', index, 'parameters', parameterIndex, 'text'];
        if (FORBIDDEN_PARAMETER_TEXT.test(parameter.text)) {
          addMetaIssue(ctx, path, {
            meta: 'invalid',
            details: 'Param text cannot have new-line/tab characters or more than 4 consecutive spaces',
          });
        } else if (characterCount(parameter.text) > max) addMetaIssue(ctx, path, { meta: 'too_long', max });
      });
    });
  });

type TemplatePayload = z.output<typeof templatePayload>;

function mediaReference(type: MediaMessageType, media: { id?: string; link?: string }): MediaReference {
  return { type, ...(media.id === undefined ? {} : { id: media.id }), ...(media.link === undefined ? {} : { link: media.link }) };
}

/** Reduces a valid template payload to what the registry compares against the approved template. */
function summariseTemplate(template: TemplatePayload): TemplateSendRequest {
  const summary: TemplateSendRequest = {
    name: template.name,
    languageCode: template.language.code,
    body: { parameterCount: 0, parameterNames: [] },
    buttons: [],
  };
  for (const component of template.components ?? []) {
    if (component.type === 'button') {
      summary.buttons.push({ subType: component.sub_type, index: component.index, parameterCount: component.parameters?.length ?? 0 });
      continue;
    }
    const parameters = component.parameters ?? [];
    const names = parameters.flatMap((parameter) =>
      'parameter_name' in parameter && parameter.parameter_name !== undefined ? [parameter.parameter_name] : [],
    );
    if (component.type === 'body') {
      summary.body = { parameterCount: parameters.length, parameterNames: names };
      continue;
    }
    const media = parameters.find((parameter) => parameter.type === 'image' || parameter.type === 'video' || parameter.type === 'document');
    const location = parameters.find((parameter) => parameter.type === 'location');
    if (media?.type === 'image') summary.header = { kind: 'image', media: mediaReference('image', media.image) };
    else if (media?.type === 'video') summary.header = { kind: 'video', media: mediaReference('video', media.video) };
    else if (media?.type === 'document') summary.header = { kind: 'document', media: mediaReference('document', media.document) };
    else if (location !== undefined) summary.header = { kind: 'location' };
    else summary.header = { kind: 'text', parameterCount: parameters.length, parameterNames: names };
  }
  return summary;
}

// ---------------------------------------------------------------------------------------------------------------
// Envelope and entry point
// ---------------------------------------------------------------------------------------------------------------

const messagingProduct = z.literal('whatsapp');

const messageEnvelope = z.object({
  messaging_product: messagingProduct,
  recipient_type: z.literal('individual').optional(),
  to: z
    .string()
    .min(1)
    .refine(looksLikePhoneNumber, meta({ meta: 'invalid_value', rule: 'must be a phone number in international format' })),
  context: z.object({ message_id: z.string().min(1) }).optional(),
  // Meta echoes it in the message's status webhooks; at most 512 characters.
  biz_opaque_callback_data: z.string().max(512).optional(),
});

const markReadRequest = z.object({
  messaging_product: messagingProduct,
  status: z.literal('read'),
  message_id: z.string().min(1),
  typing_indicator: z.object({ type: z.literal('text') }).optional(),
});

type PayloadExtras = Pick<ValidMessageRequest, 'media' | 'template' | 'reaction'>;

function isOutboundMessageType(type: string): type is OutboundMessageType {
  return (OUTBOUND_MESSAGE_TYPES as readonly string[]).includes(type);
}

function validatePayload(type: OutboundMessageType, request: Record<string, unknown>): Parsed<PayloadExtras> {
  switch (type) {
    case 'text': {
      const parsed = parseAt(textPayload, request, 'text');
      return parsed.ok ? { ok: true, data: {} } : parsed;
    }
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker': {
      const parsed = parseAt(MEDIA_OBJECTS[type], request, type);
      return parsed.ok ? { ok: true, data: { media: mediaReference(type, parsed.data) } } : parsed;
    }
    case 'template': {
      const parsed = parseAt(templatePayload, request, 'template');
      if (!parsed.ok) return parsed;
      const template = summariseTemplate(parsed.data);
      const header = template.header;
      const media = header !== undefined && header.kind !== 'text' ? header.media : undefined;
      return { ok: true, data: { template, ...(media === undefined ? {} : { media }) } };
    }
    case 'interactive': {
      const parsed = parseAt(interactivePayload, request, 'interactive');
      return parsed.ok ? { ok: true, data: {} } : parsed;
    }
    case 'location': {
      const parsed = parseAt(locationObject, request, 'location');
      return parsed.ok ? { ok: true, data: {} } : parsed;
    }
    case 'contacts': {
      const parsed = parseAt(contactsPayload, request, 'contacts');
      return parsed.ok ? { ok: true, data: {} } : parsed;
    }
    case 'reaction': {
      const parsed = parseAt(reactionPayload, request, 'reaction');
      return parsed.ok ? { ok: true, data: { reaction: { messageId: parsed.data.message_id, emoji: parsed.data.emoji } } } : parsed;
    }
  }
}

function validateMarkRead(request: Record<string, unknown>): SendRequestValidation {
  const parsed = parseAt(markReadRequest, request);
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    request: { kind: 'mark_read', messageId: parsed.data.message_id, typingIndicator: parsed.data.typing_indicator !== undefined },
  };
}

/**
 * Validates a parsed `POST /{version}/{phone_number_id}/messages` body the way Cloud API does and reports only the
 * first problem: 131008 for a missing field, 100 for a wrong JSON type or length, 131009 for a value Meta rejects.
 * A body with `status` is a mark-as-read (optionally with a typing indicator); anything else is a message, checked
 * envelope first (`messaging_product`, `recipient_type`, `to`, `context`), then its `type` (default `text`) payload.
 */
export function validateSendRequest(parsed: unknown): SendRequestValidation {
  if (!isPlainObject(parsed)) return { ok: false, error: invalidParameterError('Request body must be a JSON object.') };
  if (parsed['status'] !== undefined) return validateMarkRead(parsed);

  const envelope = parseAt(messageEnvelope, parsed);
  if (!envelope.ok) return envelope;
  const type = parsed['type'] ?? 'text';
  if (typeof type !== 'string') return { ok: false, error: invalidParameterError('Param type must be a string.') };
  if (!isOutboundMessageType(type)) {
    return { ok: false, error: invalidParameterValueError(`Param type '${type}' is not a valid message type.`) };
  }
  const payload = validatePayload(type, parsed);
  if (!payload.ok) return payload;

  const { to, context } = envelope.data;
  // A reaction cannot quote a message (its own message_id names what it reacts to); Meta refuses the pair.
  if (type === 'reaction' && context !== undefined) {
    return { ok: false, error: invalidParameterValueError('Param context is not supported for reaction messages.') };
  }
  const request: ValidMessageRequest = {
    kind: 'message',
    to,
    // Meta's wa_id for the number (it can differ from `to`; see answeredWaId).
    waId: answeredWaId(to),
    type,
    body: parsed,
    ...(context === undefined ? {} : { contextMessageId: context.message_id }),
    ...payload.data,
  };
  return { ok: true, request };
}

/** Parses a raw request body; undefined when it is not JSON. */
export function parseJsonBody(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}
