import type {
  ContactCard,
  ContentKind,
  FieldViolation,
  InteractiveAction,
  InteractiveHeader,
  LocationValue,
  MediaValue,
  MessageContent,
  TemplateButtonAction,
  TemplateComponent,
  TemplateComponentType,
  TemplateParameter,
  TemplateParameterValue,
} from '@waygate/domain';
import {
  ContentType,
  TemplateComponentType as ProtoComponentType,
  type Contact,
  type InteractiveContent,
  type InteractiveHeader as ProtoInteractiveHeader,
  type LocationContent,
  type MediaContent,
  type SendMessageRequest,
  type TemplateButtonAction as ProtoButtonAction,
  type TemplateContent,
  type TemplateParameter as ProtoTemplateParameter,
} from '@waygate/proto';

/**
 * The `content` oneof as SendMessageRequest and MessageAccepted both carry it (the same cases and messages).
 * Undefined means no case is set.
 */
export type ProtoContent = SendMessageRequest['content'];

/** What decoding a proto content gave: the domain content, or the oneofs left unset (each with its field path). */
export type ContentDecoding =
  | { readonly ok: true; readonly content: MessageContent | undefined }
  | { readonly ok: false; readonly violations: readonly FieldViolation[] };

const CONTENT_TYPES: Readonly<Record<ContentKind, ContentType>> = {
  text: ContentType.CONTENT_TYPE_TEXT,
  template: ContentType.CONTENT_TYPE_TEMPLATE,
  image: ContentType.CONTENT_TYPE_IMAGE,
  video: ContentType.CONTENT_TYPE_VIDEO,
  audio: ContentType.CONTENT_TYPE_AUDIO,
  document: ContentType.CONTENT_TYPE_DOCUMENT,
  sticker: ContentType.CONTENT_TYPE_STICKER,
  interactive: ContentType.CONTENT_TYPE_INTERACTIVE,
  location: ContentType.CONTENT_TYPE_LOCATION,
  contacts: ContentType.CONTENT_TYPE_CONTACTS,
  reaction: ContentType.CONTENT_TYPE_REACTION,
};

/** The wire ContentType of a content kind. */
export function toProtoContentType(kind: ContentKind): ContentType {
  return CONTENT_TYPES[kind];
}

/** The content kind of a wire ContentType; undefined for UNSPECIFIED or a value this build does not know. */
export function fromProtoContentType(type: ContentType): ContentKind | undefined {
  return (Object.keys(CONTENT_TYPES) as ContentKind[]).find((kind) => CONTENT_TYPES[kind] === type);
}

const COMPONENT_TYPES: Readonly<Record<TemplateComponentType, ProtoComponentType>> = {
  header: ProtoComponentType.TEMPLATE_COMPONENT_TYPE_HEADER,
  body: ProtoComponentType.TEMPLATE_COMPONENT_TYPE_BODY,
  button: ProtoComponentType.TEMPLATE_COMPONENT_TYPE_BUTTON,
};

function required(field: string, what: string): FieldViolation {
  return { field, reason: 'REQUIRED', description: `${what} must be set` };
}

// ---------------------------------------------------------------------------------------------------------------
// domain -> proto

function toProtoMedia(media: MediaValue): MediaContent {
  return {
    source: 'mediaId' in media.source ? { $case: 'mediaId', value: media.source.mediaId } : { $case: 'link', value: media.source.link },
    caption: media.caption,
    filename: media.filename,
    voice: media.voice,
  };
}

function toProtoLocation(location: LocationValue): LocationContent {
  return { latitude: location.latitude, longitude: location.longitude, name: location.name, address: location.address };
}

function toProtoButtonAction(action: TemplateButtonAction): ProtoButtonAction {
  return {
    flowToken: action.flowToken,
    flowActionDataJson: action.flowActionDataJson,
    thumbnailProductRetailerId: action.thumbnailProductRetailerId,
  };
}

function toProtoParameterValue(value: TemplateParameterValue): ProtoTemplateParameter['value'] {
  switch (value.type) {
    case 'text':
      return { $case: 'text', value: value.text };
    case 'currency':
      return { $case: 'currency', value: { fallbackValue: value.fallbackValue, code: value.code, amount1000: String(value.amount1000) } };
    case 'date_time':
      return { $case: 'dateTime', value: { fallbackValue: value.fallbackValue } };
    case 'image':
    case 'video':
    case 'document':
      return { $case: value.type, value: toProtoMedia(value.media) };
    case 'location':
      return { $case: 'location', value: toProtoLocation(value.location) };
    case 'payload':
      return { $case: 'payload', value: value.payload };
    case 'coupon_code':
      return { $case: 'couponCode', value: value.couponCode };
    case 'action':
      return { $case: 'action', value: toProtoButtonAction(value.action) };
  }
}

function toProtoTemplate(content: Extract<MessageContent, { kind: 'template' }>): TemplateContent {
  return {
    name: content.name,
    language: content.language,
    components: content.components.map((component) => ({
      type: COMPONENT_TYPES[component.type],
      subType: component.subType,
      index: component.index,
      parameters: component.parameters.map((parameter) => ({
        parameterName: parameter.parameterName,
        value: toProtoParameterValue(parameter.value),
      })),
    })),
  };
}

function toProtoHeader(header: InteractiveHeader): ProtoInteractiveHeader {
  return header.type === 'text'
    ? { header: { $case: 'text', value: header.text } }
    : { header: { $case: header.type, value: toProtoMedia(header.media) } };
}

function toProtoAction(action: InteractiveAction): InteractiveContent['action'] {
  switch (action.type) {
    case 'buttons':
      return { $case: 'buttons', value: { buttons: action.buttons.map((button) => ({ id: button.id, title: button.title })) } };
    case 'list':
      return {
        $case: 'list',
        value: {
          button: action.button,
          sections: action.sections.map((section) => ({
            title: section.title,
            rows: section.rows.map((row) => ({ id: row.id, title: row.title, description: row.description })),
          })),
        },
      };
    case 'cta_url':
      return { $case: 'ctaUrl', value: { displayText: action.displayText, url: action.url } };
  }
}

function toProtoContact(card: ContactCard): Contact {
  return {
    name: { ...card.name },
    phones: card.phones.map((phone) => ({ ...phone })),
    emails: card.emails.map((email) => ({ ...email })),
    addresses: card.addresses.map((address) => ({ ...address })),
    org: card.org ? { ...card.org } : undefined,
    urls: card.urls.map((url) => ({ ...url })),
    birthday: card.birthday,
  };
}

/** The proto `content` oneof for a domain content (SendMessageRequest.content and MessageAccepted.content alike). */
export function toProtoContent(content: MessageContent): NonNullable<ProtoContent> {
  switch (content.kind) {
    case 'text':
      return { $case: 'text', value: { body: content.body, previewUrl: content.previewUrl } };
    case 'template':
      return { $case: 'template', value: toProtoTemplate(content) };
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker':
      return { $case: content.kind, value: toProtoMedia(content) };
    case 'interactive':
      return {
        $case: 'interactive',
        value: {
          header: content.header ? toProtoHeader(content.header) : undefined,
          body: content.body,
          footer: content.footer,
          action: toProtoAction(content.action),
        },
      };
    case 'location':
      return { $case: 'location', value: toProtoLocation(content) };
    case 'contacts':
      return { $case: 'contacts', value: { contacts: content.contacts.map(toProtoContact) } };
    case 'reaction':
      return { $case: 'reaction', value: { messageId: content.messageId, emoji: content.emoji } };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// proto -> domain. A oneof left unset has no domain value; it is reported with its path (e.g. `image.source`), so a
// caller gets INVALID_ARGUMENT naming it. Everything else is carried over as given and validated by ingress.

/** Collects the unset oneofs met while decoding. */
class Decoder {
  readonly violations: FieldViolation[] = [];

  missing(field: string, what: string): void {
    this.violations.push(required(field, what));
  }

  media(media: MediaContent, path: string): MediaValue {
    const source = media.source;
    if (!source) this.missing(`${path}.source`, 'exactly one of media_id or link');
    return {
      source: source?.$case === 'mediaId' ? { mediaId: source.value } : { link: source?.value ?? '' },
      caption: media.caption,
      filename: media.filename,
      voice: media.voice,
    };
  }

  location(location: LocationContent): LocationValue {
    return { latitude: location.latitude, longitude: location.longitude, name: location.name, address: location.address };
  }

  parameterValue(parameter: ProtoTemplateParameter, path: string): TemplateParameterValue {
    const value = parameter.value;
    switch (value?.$case) {
      case 'text':
        return { type: 'text', text: value.value };
      case 'currency':
        return {
          type: 'currency',
          fallbackValue: value.value.fallbackValue,
          code: value.value.code,
          // int64 arrives as a decimal string; beyond 2^53 it is refused by validation (not a safe integer).
          amount1000: Number(value.value.amount1000),
        };
      case 'dateTime':
        return { type: 'date_time', fallbackValue: value.value.fallbackValue };
      case 'image':
      case 'video':
      case 'document':
        return { type: value.$case, media: this.media(value.value, `${path}.${value.$case}`) };
      case 'location':
        return { type: 'location', location: this.location(value.value) };
      case 'payload':
        return { type: 'payload', payload: value.value };
      case 'couponCode':
        return { type: 'coupon_code', couponCode: value.value };
      case 'action':
        return {
          type: 'action',
          action: {
            flowToken: value.value.flowToken,
            flowActionDataJson: value.value.flowActionDataJson,
            thumbnailProductRetailerId: value.value.thumbnailProductRetailerId,
          },
        };
      case undefined:
        this.missing(`${path}.value`, 'exactly one parameter value');
        return { type: 'text', text: '' };
    }
  }

  componentType(type: ProtoComponentType, path: string): TemplateComponentType {
    const known = (Object.keys(COMPONENT_TYPES) as TemplateComponentType[]).find((key) => COMPONENT_TYPES[key] === type);
    if (known) return known;
    if (type === ProtoComponentType.TEMPLATE_COMPONENT_TYPE_FOOTER) {
      this.violations.push({ field: `${path}.type`, reason: 'UNSUPPORTED', description: 'a footer takes no parameters; leave it out' });
    } else if (type === ProtoComponentType.TEMPLATE_COMPONENT_TYPE_UNSPECIFIED) {
      this.missing(`${path}.type`, 'the component type (HEADER, BODY or BUTTON)');
    } else {
      this.violations.push({ field: `${path}.type`, reason: 'UNKNOWN', description: 'must be HEADER, BODY or BUTTON' });
    }
    return 'body';
  }

  template(template: TemplateContent): MessageContent {
    const components: TemplateComponent[] = template.components.map((component, i) => {
      const path = `template.components[${i}]`;
      return {
        type: this.componentType(component.type, path),
        subType: component.subType,
        index: component.index,
        parameters: component.parameters.map((parameter, j): TemplateParameter => ({
          parameterName: parameter.parameterName,
          value: this.parameterValue(parameter, `${path}.parameters[${j}]`),
        })),
      };
    });
    return { kind: 'template', name: template.name, language: template.language, components };
  }

  header(header: ProtoInteractiveHeader): InteractiveHeader {
    const value = header.header;
    switch (value?.$case) {
      case 'text':
        return { type: 'text', text: value.value };
      case 'image':
      case 'video':
      case 'document':
        return { type: value.$case, media: this.media(value.value, `interactive.header.${value.$case}`) };
      case undefined:
        this.missing('interactive.header', 'exactly one of text, image, video or document (or leave the header out)');
        return { type: 'text', text: '' };
    }
  }

  action(action: InteractiveContent['action']): InteractiveAction {
    switch (action?.$case) {
      case 'buttons':
        return { type: 'buttons', buttons: action.value.buttons.map((button) => ({ id: button.id, title: button.title })) };
      case 'list':
        return {
          type: 'list',
          button: action.value.button,
          sections: action.value.sections.map((section) => ({
            title: section.title,
            rows: section.rows.map((row) => ({ id: row.id, title: row.title, description: row.description })),
          })),
        };
      case 'ctaUrl':
        return { type: 'cta_url', displayText: action.value.displayText, url: action.value.url };
      case undefined:
        this.missing('interactive.action', 'exactly one of buttons, list or cta_url');
        return { type: 'buttons', buttons: [] };
    }
  }

  contact(contact: Contact): ContactCard {
    const name = contact.name;
    return {
      name: {
        formattedName: name?.formattedName ?? '',
        firstName: name?.firstName ?? '',
        lastName: name?.lastName ?? '',
        middleName: name?.middleName ?? '',
        suffix: name?.suffix ?? '',
        prefix: name?.prefix ?? '',
      },
      phones: contact.phones.map((phone) => ({ phone: phone.phone, type: phone.type, waId: phone.waId })),
      emails: contact.emails.map((email) => ({ email: email.email, type: email.type })),
      addresses: contact.addresses.map((address) => ({
        street: address.street,
        city: address.city,
        state: address.state,
        zip: address.zip,
        country: address.country,
        countryCode: address.countryCode,
        type: address.type,
      })),
      org: contact.org ? { company: contact.org.company, department: contact.org.department, title: contact.org.title } : undefined,
      urls: contact.urls.map((url) => ({ url: url.url, type: url.type })),
      birthday: contact.birthday,
    };
  }

  content(content: NonNullable<ProtoContent>): MessageContent {
    switch (content.$case) {
      case 'text':
        return { kind: 'text', body: content.value.body, previewUrl: content.value.previewUrl };
      case 'template':
        return this.template(content.value);
      case 'image':
      case 'video':
      case 'audio':
      case 'document':
      case 'sticker':
        return { kind: content.$case, ...this.media(content.value, content.$case) };
      case 'interactive':
        return {
          kind: 'interactive',
          header: content.value.header ? this.header(content.value.header) : undefined,
          body: content.value.body,
          footer: content.value.footer,
          action: this.action(content.value.action),
        };
      case 'location':
        return { kind: 'location', ...this.location(content.value) };
      case 'contacts':
        return { kind: 'contacts', contacts: content.value.contacts.map((contact) => this.contact(contact)) };
      case 'reaction':
        return { kind: 'reaction', messageId: content.value.messageId, emoji: content.value.emoji };
    }
  }
}

/**
 * The domain content of a proto `content` oneof (SendMessageRequest.content or MessageAccepted.content). No case set
 * decodes to undefined content (the caller decides whether that is allowed); a nested oneof left unset (a media
 * source, an interactive action or header, a template parameter value) or a template component type that is not
 * HEADER, BODY or BUTTON is reported as a violation with its field path.
 */
export function fromProtoContent(content: ProtoContent): ContentDecoding {
  if (!content) return { ok: true, content: undefined };
  const decoder = new Decoder();
  const decoded = decoder.content(content);
  return decoder.violations.length > 0 ? { ok: false, violations: decoder.violations } : { ok: true, content: decoded };
}
