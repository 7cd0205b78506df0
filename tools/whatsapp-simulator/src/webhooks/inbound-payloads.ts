import { z } from 'zod';
import { toWaId, WA_ID_PATTERN } from '../phone-numbers';
import { SimulatorInputError } from '../simulator-input-error';

/*
 * Inbound ("a customer sent something") webhook objects, shaped after Meta's per-type references (read 2026-09):
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/{text,image,
 * video,audio,document,sticker,location,contacts,interactive,button,reaction,unsupported,errors}
 */

// ---------------------------------------------------------------------------------------------------------------------
// Meta's webhook objects
// ---------------------------------------------------------------------------------------------------------------------

/** `value.contacts[]` of an inbound webhook: the customer who sent the message. */
export interface InboundWebhookContact {
  profile: { name: string };
  wa_id: string;
}

/** `context` of an inbound message: the business message it replies to or was sent from. */
export interface InboundMessageContext {
  /** The business display number, digits only. */
  from: string;
  id: string;
}

/** The media fields every inbound media object carries. */
export interface InboundWebhookMedia {
  mime_type: string;
  /** SHA-256 of the file, base64 like Meta's examples. */
  sha256: string;
  /** Media id; a GET on it returns the download URL. Webhook media ids live 7 days. */
  id: string;
  /** Direct download URL (with the access token); Meta rolled it out from November 2025. */
  url?: string;
}

/** Error entry inside an `unsupported` message; unlike value-level errors it has no `href`. */
export interface InboundMessageError {
  code: number;
  title: string;
  message: string;
  error_data: { details: string };
}

/** Entry of `value.errors`: a system-, app- or account-level problem (Meta's errors webhook reference). */
export interface ValueLevelError {
  code: number;
  title: string;
  message: string;
  error_data: { details: string };
  href: string;
}

/** A contact card the customer shared (`messages[].contacts[]`); Meta omits whatever the customer did not share. */
export interface SharedContactCard {
  addresses?: { city?: string; country?: string; country_code?: string; state?: string; street?: string; type?: string; zip?: string }[];
  /** `YYYY-MM-DD`. */
  birthday?: string;
  emails?: { email: string; type?: string }[];
  name: { formatted_name: string; first_name?: string; last_name?: string; middle_name?: string; suffix?: string; prefix?: string };
  org?: { company?: string; department?: string; title?: string };
  phones?: { phone: string; wa_id?: string; type?: string }[];
  urls?: { url: string; type?: string }[];
}

/** Values Meta documents for `unsupported.type`. */
export const UNSUPPORTED_MESSAGE_TYPES = [
  'button',
  'edit',
  'errors',
  'gif',
  'group_invite',
  'hsm',
  'image',
  'interactive',
  'keep_in_chat',
  'link_preview',
  'list',
  'location',
  'media_placeholder',
  'order',
  'pin',
  'poll_creation',
  'poll_update',
  'product',
  'reaction',
] as const;

/** What kind of message Cloud API could not represent. */
export type UnsupportedMessageType = (typeof UNSUPPORTED_MESSAGE_TYPES)[number];

interface InboundWebhookMessageBase {
  context?: InboundMessageContext;
  /** The customer's wa_id. */
  from: string;
  id: string;
  /** Unix seconds as a string. */
  timestamp: string;
}

/** `value.messages[]` of an inbound webhook, one variant per message type. */
export type InboundWebhookMessage =
  | (InboundWebhookMessageBase & { type: 'text'; text: { body: string } })
  | (InboundWebhookMessageBase & { type: 'image'; image: { caption?: string } & InboundWebhookMedia })
  | (InboundWebhookMessageBase & { type: 'video'; video: { caption?: string } & InboundWebhookMedia })
  | (InboundWebhookMessageBase & { type: 'audio'; audio: InboundWebhookMedia & { voice: boolean } })
  | (InboundWebhookMessageBase & { type: 'document'; document: { caption?: string; filename?: string } & InboundWebhookMedia })
  | (InboundWebhookMessageBase & { type: 'sticker'; sticker: InboundWebhookMedia & { animated: boolean } })
  | (InboundWebhookMessageBase & {
      type: 'location';
      location: { address?: string; latitude: number; longitude: number; name?: string; url?: string };
    })
  | (InboundWebhookMessageBase & { type: 'contacts'; contacts: SharedContactCard[] })
  | (InboundWebhookMessageBase & {
      type: 'interactive';
      interactive:
        | { type: 'button_reply'; button_reply: { id: string; title: string } }
        | { type: 'list_reply'; list_reply: { id: string; title: string; description?: string } };
    })
  | (InboundWebhookMessageBase & { type: 'button'; button: { payload: string; text: string } })
  | (InboundWebhookMessageBase & { type: 'reaction'; reaction: { message_id: string; emoji?: string } })
  | (InboundWebhookMessageBase & { type: 'unsupported'; errors: InboundMessageError[]; unsupported: { type: UnsupportedMessageType } });

// ---------------------------------------------------------------------------------------------------------------------
// What a test asks a simulated customer to send
// ---------------------------------------------------------------------------------------------------------------------

interface InboundSenderInput {
  /** The customer's wa_id: 5 to 15 digits. */
  from: string;
  /** WhatsApp profile name; defaults to {@link DEFAULT_PROFILE_NAME} because WhatsApp always sends one. */
  profileName?: string;
}

/** A file the simulated customer attaches. */
export interface InboundMediaFileInput {
  base64: string;
  mimeType: string;
  /** Only documents carry a filename in Meta's webhooks; the parser rejects it on other types. */
  filename?: string;
}

/** Interactive reply: which button or list row the customer tapped. */
export type InboundInteractiveReplyInput =
  { kind: 'button_reply'; id: string; title: string } | { kind: 'list_reply'; id: string; title: string; description?: string };

/**
 * What a test asks a simulated customer to send (control API JSON or code). Per Meta, only image, video and document
 * carry a caption, only documents a filename; audio says whether it is a voice note, stickers whether they animate.
 */
export type InboundMessageInput =
  | (InboundSenderInput & { type: 'text'; text: string; contextMessageId?: string })
  | (InboundSenderInput & { type: 'image' | 'video'; media: InboundMediaFileInput; caption?: string; contextMessageId?: string })
  | (InboundSenderInput & { type: 'document'; media: InboundMediaFileInput; caption?: string; contextMessageId?: string })
  | (InboundSenderInput & {
      type: 'audio';
      media: InboundMediaFileInput;
      /** Voice note (recorded in WhatsApp) or audio file; defaults to true for `audio/ogg`, WhatsApp's voice format. */
      voice?: boolean;
      contextMessageId?: string;
    })
  | (InboundSenderInput & { type: 'sticker'; media: InboundMediaFileInput; animated?: boolean; contextMessageId?: string })
  | (InboundSenderInput & { type: 'location'; latitude: number; longitude: number; name?: string; address?: string; url?: string })
  | (InboundSenderInput & { type: 'contacts'; contacts: SharedContactCard[] })
  | (InboundSenderInput & { type: 'interactive'; reply: InboundInteractiveReplyInput; contextMessageId: string })
  | (InboundSenderInput & { type: 'button'; payload: string; text: string; contextMessageId: string })
  /** `emoji: ''` removes the customer's reaction. */
  | (InboundSenderInput & { type: 'reaction'; messageId: string; emoji: string })
  | (InboundSenderInput & { type: 'unsupported'; unsupportedType?: UnsupportedMessageType });

/** Message types that carry a file. */
export type InboundMediaMessageType = 'image' | 'video' | 'audio' | 'document' | 'sticker';

/** Profile name used when a test does not give one. */
export const DEFAULT_PROFILE_NAME = 'Simulated Customer';

// ---------------------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------------------

function isCanonicalBase64(value: string): boolean {
  if (value.length === 0 || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return false;
  // Node decodes leniently (stops at junk, ignores bad padding bits); re-encoding exposes anything it silently dropped.
  return Buffer.from(value, 'base64').toString('base64') === value;
}

const nonEmpty = z.string().min(1, 'must not be empty');
const waIdSchema = z.string().regex(WA_ID_PATTERN, 'must be a wa_id: 5 to 15 digits');
const wamidSchema = z.string().regex(/^wamid\.[A-Za-z0-9+/=_-]+$/, "must be a WhatsApp message id ('wamid.…')");

const sender = { from: waIdSchema, profileName: nonEmpty.optional() };

function mediaFileSchema(mimeType: RegExp, expected: string) {
  return z.strictObject({
    base64: z.string().refine(isCanonicalBase64, 'must be non-empty, valid base64'),
    mimeType: z.string().min(1, 'must not be empty').regex(mimeType, `must be ${expected}`),
  });
}

// WhatsApp clients only send these kinds of file as each message type.
const imageFile = mediaFileSchema(/^image\/[\w.+-]+/, 'an image/* MIME type');
const videoFile = mediaFileSchema(/^video\/[\w.+-]+/, 'a video/* MIME type');
const audioFile = mediaFileSchema(/^audio\/[\w.+-]+/, 'an audio/* MIME type');
const stickerFile = mediaFileSchema(/^image\/webp$/, 'image/webp (WhatsApp stickers are WebP)');
const documentFile = mediaFileSchema(/^[\w.+-]+\/[\w.+-]+/, 'a MIME type like application/pdf').extend({ filename: nonEmpty.optional() });

const sharedContactCardSchema = z.strictObject({
  addresses: z
    .array(
      z.strictObject({
        city: z.string().optional(),
        country: z.string().optional(),
        country_code: z.string().optional(),
        state: z.string().optional(),
        street: z.string().optional(),
        type: z.string().optional(),
        zip: z.string().optional(),
      }),
    )
    .optional(),
  birthday: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
    .optional(),
  emails: z.array(z.strictObject({ email: nonEmpty, type: z.string().optional() })).optional(),
  name: z.strictObject({
    formatted_name: nonEmpty,
    first_name: z.string().optional(),
    last_name: z.string().optional(),
    middle_name: z.string().optional(),
    suffix: z.string().optional(),
    prefix: z.string().optional(),
  }),
  org: z.strictObject({ company: z.string().optional(), department: z.string().optional(), title: z.string().optional() }).optional(),
  phones: z.array(z.strictObject({ phone: nonEmpty, wa_id: waIdSchema.optional(), type: z.string().optional() })).optional(),
  urls: z.array(z.strictObject({ url: nonEmpty, type: z.string().optional() })).optional(),
});

const interactiveReplySchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('button_reply'), id: nonEmpty, title: nonEmpty }),
    z.strictObject({ kind: z.literal('list_reply'), id: nonEmpty, title: nonEmpty, description: nonEmpty.optional() }),
  ],
  { error: "must be 'button_reply' or 'list_reply'" },
);

const INBOUND_TYPES = 'text, image, video, audio, document, sticker, location, contacts, interactive, button, reaction, unsupported';

const inboundMessageInputSchema: z.ZodType<InboundMessageInput> = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('text'), ...sender, text: nonEmpty, contextMessageId: wamidSchema.optional() }),
    z.strictObject({
      type: z.literal('image'),
      ...sender,
      media: imageFile,
      caption: nonEmpty.optional(),
      contextMessageId: wamidSchema.optional(),
    }),
    z.strictObject({
      type: z.literal('video'),
      ...sender,
      media: videoFile,
      caption: nonEmpty.optional(),
      contextMessageId: wamidSchema.optional(),
    }),
    z.strictObject({
      type: z.literal('document'),
      ...sender,
      media: documentFile,
      caption: nonEmpty.optional(),
      contextMessageId: wamidSchema.optional(),
    }),
    z.strictObject({
      type: z.literal('audio'),
      ...sender,
      media: audioFile,
      voice: z.boolean().optional(),
      contextMessageId: wamidSchema.optional(),
    }),
    z.strictObject({
      type: z.literal('sticker'),
      ...sender,
      media: stickerFile,
      animated: z.boolean().optional(),
      contextMessageId: wamidSchema.optional(),
    }),
    z.strictObject({
      type: z.literal('location'),
      ...sender,
      latitude: z.number().min(-90).max(90),
      longitude: z.number().min(-180).max(180),
      name: nonEmpty.optional(),
      address: nonEmpty.optional(),
      url: nonEmpty.optional(),
    }),
    z.strictObject({
      type: z.literal('contacts'),
      ...sender,
      contacts: z.array(sharedContactCardSchema).min(1, 'must hold at least one contact'),
    }),
    z.strictObject({ type: z.literal('interactive'), ...sender, reply: interactiveReplySchema, contextMessageId: wamidSchema }),
    z.strictObject({ type: z.literal('button'), ...sender, payload: nonEmpty, text: nonEmpty, contextMessageId: wamidSchema }),
    z.strictObject({ type: z.literal('reaction'), ...sender, messageId: wamidSchema, emoji: z.string() }),
    z.strictObject({ type: z.literal('unsupported'), ...sender, unsupportedType: z.enum(UNSUPPORTED_MESSAGE_TYPES).optional() }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? `must be one of ${INBOUND_TYPES}` : undefined) },
);

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const path = issue.path.map(String);
  // zod reports unknown keys on the parent object; name each key itself, since that is the field to fix.
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${[...path, key].join('.')}: not a field of this message type`);
  return [path.length === 0 ? issue.message : `${path.join('.')}: ${issue.message}`];
}

/**
 * Validates untrusted input (control API JSON). Throws {@link SimulatorInputError} naming each bad field, e.g.
 * `media.base64: must be non-empty, valid base64`. `from` is the customer's wa_id (digits, 5-15).
 */
export function parseInboundMessageInput(value: unknown): InboundMessageInput {
  const parsed = inboundMessageInputSchema.safeParse(value);
  if (!parsed.success) {
    throw new SimulatorInputError(`invalid inbound message: ${parsed.error.issues.flatMap(describeIssue).join('; ')}`);
  }
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------------------------------
// Building Meta's objects
// ---------------------------------------------------------------------------------------------------------------------

/** After the runtime stored the media (7-day media id). */
export interface StoredInboundMedia {
  id: string;
  mimeType: string;
  /** SHA-256 of the bytes, base64 as in Meta's examples. */
  sha256: string;
  filename?: string;
  /** Download URL, sent as the media object's `url`. */
  url?: string;
}

/** What the runtime resolved for one inbound message. */
export interface ResolvedInboundMessage {
  messageId: string;
  timestampSec: number;
  /** Required for media messages. */
  media?: StoredInboundMedia;
  /** The business display number (digits) the customer replies to; required when the message has a context. */
  contextFrom?: string;
}

// Meta's entry for a message type Cloud API cannot show (unsupported messages reference, code 131051).
const UNSUPPORTED_ERROR: InboundMessageError = {
  code: 131051,
  title: 'Message type unknown',
  message: 'Message type unknown',
  error_data: { details: 'Message type is currently not supported.' },
};

function buildContext(contextMessageId: string | undefined, contextFrom: string | undefined): { context?: InboundMessageContext } {
  if (contextMessageId === undefined) return {};
  if (contextFrom === undefined)
    throw new Error('buildInboundMessage: contextFrom is required when the message replies to a business message');
  return { context: { from: toWaId(contextFrom), id: contextMessageId } };
}

function mediaFields(media: StoredInboundMedia): InboundWebhookMedia {
  return { mime_type: media.mimeType, sha256: media.sha256, id: media.id, ...(media.url === undefined ? {} : { url: media.url }) };
}

function requireMedia(type: InboundMediaMessageType, media: StoredInboundMedia | undefined): StoredInboundMedia {
  if (media === undefined) throw new Error(`buildInboundMessage: a ${type} message needs the stored media`);
  return media;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function copyContactCard(card: SharedContactCard): SharedContactCard {
  // Meta's key order; parts the customer did not share stay absent rather than empty.
  return {
    ...optional(
      'addresses',
      card.addresses?.map((address) => ({ ...address })),
    ),
    ...optional('birthday', card.birthday),
    ...optional(
      'emails',
      card.emails?.map((email) => ({ ...email })),
    ),
    name: { ...card.name },
    ...optional('org', card.org === undefined ? undefined : { ...card.org }),
    ...optional(
      'phones',
      card.phones?.map((phone) => ({ ...phone })),
    ),
    ...optional(
      'urls',
      card.urls?.map((url) => ({ ...url })),
    ),
  };
}

/**
 * Builds Meta's `contacts[0]` and `messages[0]` objects for one inbound message. `contextFrom` is the business display
 * number digits when replying to a business message. Throws (a programming error, not bad input) when a media message
 * has no `media` or a reply has no `contextFrom`.
 */
export function buildInboundMessage(
  input: InboundMessageInput,
  resolved: ResolvedInboundMessage,
): { contact: InboundWebhookContact; message: InboundWebhookMessage } {
  const contact: InboundWebhookContact = { profile: { name: input.profileName ?? DEFAULT_PROFILE_NAME }, wa_id: input.from };
  const head = (contextMessageId?: string) => ({
    ...buildContext(contextMessageId, resolved.contextFrom),
    from: input.from,
    id: resolved.messageId,
    timestamp: String(resolved.timestampSec),
  });
  return { contact, message: buildMessage(input, resolved, head) };
}

function buildMessage(
  input: InboundMessageInput,
  resolved: ResolvedInboundMessage,
  head: (contextMessageId?: string) => InboundWebhookMessageBase,
): InboundWebhookMessage {
  switch (input.type) {
    case 'text':
      return { ...head(input.contextMessageId), type: 'text', text: { body: input.text } };
    case 'image':
    case 'video': {
      const media = mediaFields(requireMedia(input.type, resolved.media));
      const object = { ...optional('caption', input.caption), ...media };
      return input.type === 'image'
        ? { ...head(input.contextMessageId), type: 'image', image: object }
        : { ...head(input.contextMessageId), type: 'video', video: object };
    }
    case 'document': {
      const stored = requireMedia(input.type, resolved.media);
      const filename = stored.filename ?? input.media.filename;
      return {
        ...head(input.contextMessageId),
        type: 'document',
        document: { ...optional('caption', input.caption), ...optional('filename', filename), ...mediaFields(stored) },
      };
    }
    case 'audio': {
      const stored = requireMedia(input.type, resolved.media);
      // WhatsApp records voice notes as Ogg/Opus, so an ogg file is a voice note unless the test says otherwise.
      const voice = input.voice ?? stored.mimeType.startsWith('audio/ogg');
      return { ...head(input.contextMessageId), type: 'audio', audio: { ...mediaFields(stored), voice } };
    }
    case 'sticker': {
      const stored = requireMedia(input.type, resolved.media);
      return { ...head(input.contextMessageId), type: 'sticker', sticker: { ...mediaFields(stored), animated: input.animated ?? false } };
    }
    case 'location':
      return {
        ...head(),
        type: 'location',
        location: {
          ...optional('address', input.address),
          latitude: input.latitude,
          longitude: input.longitude,
          ...optional('name', input.name),
          ...optional('url', input.url),
        },
      };
    case 'contacts':
      return { ...head(), type: 'contacts', contacts: input.contacts.map(copyContactCard) };
    case 'interactive': {
      const { reply } = input;
      const interactive =
        reply.kind === 'button_reply'
          ? { type: 'button_reply' as const, button_reply: { id: reply.id, title: reply.title } }
          : {
              type: 'list_reply' as const,
              list_reply: { id: reply.id, title: reply.title, ...optional('description', reply.description) },
            };
      return { ...head(input.contextMessageId), type: 'interactive', interactive };
    }
    case 'button':
      return { ...head(input.contextMessageId), type: 'button', button: { payload: input.payload, text: input.text } };
    case 'reaction':
      // Meta drops the `emoji` key (not an empty string) when the customer removes their reaction.
      return { ...head(), type: 'reaction', reaction: { message_id: input.messageId, ...optional('emoji', input.emoji || undefined) } };
    case 'unsupported':
      return {
        ...head(),
        type: 'unsupported',
        errors: [{ ...UNSUPPORTED_ERROR, error_data: { ...UNSUPPORTED_ERROR.error_data } }],
        unsupported: { type: input.unsupportedType ?? 'edit' },
      };
  }
}

// Meta's inbound wamids decode to 0x1C 0x18 <len> <wa_id> 0x15 0x02 0x00 0x12 0x18 0x14 "3A" <18 hex> 0x00; outbound
// ones (see ../ids.ts) have 0x11 and an 18-char id instead, so the direction stays recognisable as it is in real ids.
const INBOUND_WAMID_MIDDLE = Buffer.from([0x15, 0x02, 0x00, 0x12, 0x18, 0x14]);

/**
 * A wamid for an inbound message, shaped like Meta's (same record as outbound ones, with the inbound marker):
 * `inboundWamid('16503879439', '4A6599AEE03810144F')` is Meta's documented example id. `uniqueHex` is 18 hex chars.
 */
export function inboundWamid(waId: string, uniqueHex: string): string {
  if (!/^\d{1,20}$/.test(waId)) throw new Error('inboundWamid: waId must be digits');
  if (!/^[0-9a-fA-F]{18}$/.test(uniqueHex)) throw new Error('inboundWamid: uniqueHex must be 18 hex characters');
  const record = Buffer.concat([
    Buffer.from([0x1c, 0x18, waId.length]),
    Buffer.from(waId, 'ascii'),
    INBOUND_WAMID_MIDDLE,
    Buffer.from(`3A${uniqueHex.toUpperCase()}`, 'ascii'),
    Buffer.from([0x00]),
  ]);
  return `wamid.${record.toString('base64')}`;
}
