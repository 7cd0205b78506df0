/**
 * What an outbound message carries, as every service's domain sees it (the proto `content` oneof of
 * SendMessageRequest and MessageAccepted, translated by @waygate/contracts). Field names follow the proto in
 * camelCase; Meta's JSON is built from this model by delivery-retry. Validation rules live in ingress
 * (docs/message-types.md lists every limit).
 */

/** Every content kind, in the order of the proto's ContentType enum. */
export const CONTENT_KINDS = [
  'text',
  'template',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'interactive',
  'location',
  'contacts',
  'reaction',
] as const;
export type ContentKind = (typeof CONTENT_KINDS)[number];

/** The kinds whose content is one MediaValue. */
export const MEDIA_CONTENT_KINDS = ['image', 'video', 'audio', 'document', 'sticker'] as const;
export type MediaContentKind = (typeof MEDIA_CONTENT_KINDS)[number];

export function isMediaContentKind(kind: string): kind is MediaContentKind {
  return (MEDIA_CONTENT_KINDS as readonly string[]).includes(kind);
}

/** Where media bytes come from: a media-store id of the tenant, or an https link WhatsApp fetches itself. */
export type MediaSource = { readonly mediaId: string } | { readonly link: string };

/** An image, video, audio, document or sticker (also a template or interactive header's media). */
export interface MediaValue {
  readonly source: MediaSource;
  /** Empty when not given. */
  readonly caption: string;
  /** Empty when not given. */
  readonly filename: string;
  /** Audio only: a voice message. */
  readonly voice: boolean;
}

export interface LocationValue {
  readonly latitude: number;
  readonly longitude: number;
  readonly name: string;
  readonly address: string;
}

/** One contact card, Meta's shape in camelCase; empty strings and arrays for what was not given. */
export interface ContactCard {
  readonly name: {
    readonly formattedName: string;
    readonly firstName: string;
    readonly lastName: string;
    readonly middleName: string;
    readonly suffix: string;
    readonly prefix: string;
  };
  readonly phones: readonly { readonly phone: string; readonly type: string; readonly waId: string }[];
  readonly emails: readonly { readonly email: string; readonly type: string }[];
  readonly addresses: readonly {
    readonly street: string;
    readonly city: string;
    readonly state: string;
    readonly zip: string;
    readonly country: string;
    readonly countryCode: string;
    readonly type: string;
  }[];
  readonly org: { readonly company: string; readonly department: string; readonly title: string } | undefined;
  readonly urls: readonly { readonly url: string; readonly type: string }[];
  /** YYYY-MM-DD or empty. */
  readonly birthday: string;
}

export type TemplateComponentType = 'header' | 'body' | 'button';
export type TemplateCategory = 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';

export interface TemplateButtonAction {
  readonly flowToken: string;
  /** A JSON object as text, or empty. */
  readonly flowActionDataJson: string;
  readonly thumbnailProductRetailerId: string;
}

/** One template parameter's value (Meta's parameter `type` is the `type` here). */
export type TemplateParameterValue =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'currency'; readonly fallbackValue: string; readonly code: string; readonly amount1000: number }
  | { readonly type: 'date_time'; readonly fallbackValue: string }
  | { readonly type: 'image' | 'video' | 'document'; readonly media: MediaValue }
  | { readonly type: 'location'; readonly location: LocationValue }
  | { readonly type: 'payload'; readonly payload: string }
  | { readonly type: 'coupon_code'; readonly couponCode: string }
  | { readonly type: 'action'; readonly action: TemplateButtonAction };

export interface TemplateParameter {
  /** Named templates only; empty for positional ones. */
  readonly parameterName: string;
  readonly value: TemplateParameterValue;
}

export interface TemplateComponent {
  readonly type: TemplateComponentType;
  /** Buttons only (Meta's sub_type: quick_reply, url, copy_code, flow, catalog, ...); empty otherwise. */
  readonly subType: string;
  /** Buttons only. */
  readonly index: number;
  readonly parameters: readonly TemplateParameter[];
}

export type InteractiveHeader =
  { readonly type: 'text'; readonly text: string } | { readonly type: 'image' | 'video' | 'document'; readonly media: MediaValue };

export type InteractiveAction =
  | { readonly type: 'buttons'; readonly buttons: readonly { readonly id: string; readonly title: string }[] }
  | {
      readonly type: 'list';
      readonly button: string;
      readonly sections: readonly {
        readonly title: string;
        readonly rows: readonly { readonly id: string; readonly title: string; readonly description: string }[];
      }[];
    }
  | { readonly type: 'cta_url'; readonly displayText: string; readonly url: string };

/** What a message says: exactly one kind. */
export type MessageContent =
  | { readonly kind: 'text'; readonly body: string; readonly previewUrl: boolean }
  | {
      readonly kind: 'template';
      readonly name: string;
      readonly language: string;
      readonly components: readonly TemplateComponent[];
    }
  | ({ readonly kind: MediaContentKind } & MediaValue)
  | {
      readonly kind: 'interactive';
      readonly header: InteractiveHeader | undefined;
      readonly body: string;
      readonly footer: string;
      readonly action: InteractiveAction;
    }
  | ({ readonly kind: 'location' } & LocationValue)
  | { readonly kind: 'contacts'; readonly contacts: readonly ContactCard[] }
  | {
      readonly kind: 'reaction';
      /** As the caller gave it (a Waygate message id or an inbound wamid) until ingress resolves it to a wamid. */
      readonly messageId: string;
      /** Empty removes the reaction. */
      readonly emoji: string;
    };
