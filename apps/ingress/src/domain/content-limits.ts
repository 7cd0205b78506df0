import type { MediaContentKind } from '@waygate/domain';

/** One limit: the number, and where it comes from (Meta's page, or Waygate's own bound where Meta documents none). */
export interface ContentLimit {
  readonly max: number;
  readonly source: 'meta' | 'waygate';
}

/**
 * Every length and count limit ingress checks on a message's content, in one table (docs/message-types.md lists the
 * same table; a test keeps the two in step). Lengths count Unicode characters (code points), as WhatsApp does.
 * `source: 'waygate'` marks bounds Meta does not document, kept so no request is unbounded.
 */
export const CONTENT_LIMITS = {
  /** Text message body. */
  textBody: { max: 4096, source: 'meta' },
  /** Image, video and document caption. */
  caption: { max: 1024, source: 'meta' },
  /** Document file name. */
  filename: { max: 240, source: 'meta' },
  /** A media link (https). */
  mediaLink: { max: 2048, source: 'waygate' },
  /** Interactive message body (reply buttons, cta_url). */
  interactiveBody: { max: 1024, source: 'meta' },
  /** Interactive list body. */
  interactiveListBody: { max: 4096, source: 'meta' },
  /** Interactive text header. */
  interactiveHeaderText: { max: 60, source: 'meta' },
  /** Interactive footer. */
  interactiveFooter: { max: 60, source: 'meta' },
  /** Reply buttons per message. */
  replyButtons: { max: 3, source: 'meta' },
  /** Reply button title (unique within the message). */
  replyButtonTitle: { max: 20, source: 'meta' },
  /** Reply button id. */
  replyButtonId: { max: 256, source: 'meta' },
  /** The button that opens a list. */
  listButton: { max: 20, source: 'meta' },
  /** Sections per list. */
  listSections: { max: 10, source: 'meta' },
  /** Rows per list, all sections together. */
  listRows: { max: 10, source: 'meta' },
  /** List section title. */
  listSectionTitle: { max: 24, source: 'meta' },
  /** List row id (unique within the list). */
  listRowId: { max: 200, source: 'meta' },
  /** List row title. */
  listRowTitle: { max: 24, source: 'meta' },
  /** List row description. */
  listRowDescription: { max: 72, source: 'meta' },
  /** Call-to-action URL button text. */
  ctaDisplayText: { max: 20, source: 'meta' },
  /** Call-to-action URL (https). */
  ctaUrl: { max: 2048, source: 'waygate' },
  /** Location name and address. */
  locationText: { max: 1000, source: 'waygate' },
  /** Contact cards per message. */
  contacts: { max: 257, source: 'meta' },
  /** Phones, e-mails, addresses and URLs per contact card, each. */
  contactEntries: { max: 20, source: 'waygate' },
  /** Any text field of a contact card. */
  contactField: { max: 1000, source: 'waygate' },
  /** Template name. */
  templateName: { max: 512, source: 'meta' },
  /** Components per template send. */
  templateComponents: { max: 20, source: 'waygate' },
  /** Parameters per component. */
  templateParameters: { max: 100, source: 'waygate' },
  /** Button index within a template. */
  templateButtonIndex: { max: 9, source: 'meta' },
  /** Text parameter of a header. */
  templateHeaderText: { max: 60, source: 'meta' },
  /** Text parameter of a body (and currency / date_time fallback values). */
  templateBodyText: { max: 1024, source: 'meta' },
  /** Text parameter of a url button (the URL suffix, or an authentication code). */
  templateButtonText: { max: 2000, source: 'waygate' },
  /** Quick-reply button payload. */
  templatePayload: { max: 1000, source: 'waygate' },
  /** Marketing coupon code. */
  templateCouponCode: { max: 15, source: 'meta' },
  /** Flow token, flow action data and catalog product id. */
  templateAction: { max: 10_000, source: 'waygate' },
} as const satisfies Readonly<Record<string, ContentLimit>>;

export type ContentLimitName = keyof typeof CONTENT_LIMITS;

/** What a media kind may be (for media sent by media-store id, whose type and size are known at acceptance). */
export interface MediaKindRule {
  readonly mimeTypes: readonly string[];
  readonly maxBytes: number;
  /** Whether Meta takes a caption. */
  readonly caption: boolean;
}

const MB = 1024 * 1024;

/** Meta's supported MIME types and sizes per media kind (image/jpeg, image/png 5 MB, ...). */
export const MEDIA_KIND_RULES: Readonly<Record<MediaContentKind, MediaKindRule>> = {
  image: { mimeTypes: ['image/jpeg', 'image/png'], maxBytes: 5 * MB, caption: true },
  video: { mimeTypes: ['video/mp4', 'video/3gpp'], maxBytes: 16 * MB, caption: true },
  audio: { mimeTypes: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'], maxBytes: 16 * MB, caption: false },
  document: {
    mimeTypes: [
      'text/plain',
      'application/pdf',
      'application/msword',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.ms-excel',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'application/vnd.ms-powerpoint',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    ],
    maxBytes: 100 * MB,
    caption: true,
  },
  // 100 KB static, 500 KB animated: the size of an animated one is the bound checkable without decoding it.
  sticker: { mimeTypes: ['image/webp'], maxBytes: 500 * 1024, caption: false },
};

/** Template button sub_types Meta documents for sends, and the parameter value each takes. */
export const TEMPLATE_BUTTON_PARAMETER_TYPES: Readonly<Record<string, readonly string[]>> = {
  quick_reply: ['payload'],
  url: ['text'],
  copy_code: ['coupon_code'],
  flow: ['action'],
  catalog: ['action'],
  mpm: ['action'],
  voice_call: [],
};

/** Parameter value types each non-button component takes. */
export const TEMPLATE_COMPONENT_PARAMETER_TYPES = {
  header: ['text', 'image', 'video', 'document', 'location'],
  body: ['text', 'currency', 'date_time'],
} as const;
