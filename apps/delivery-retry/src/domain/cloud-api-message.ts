import type {
  ContactCard,
  InteractiveAction,
  InteractiveHeader,
  LocationValue,
  MediaValue,
  MessageContent,
  TemplateParameter,
  TemplateParameterValue,
} from '@waygate/domain';

/** A JSON object as Meta's send endpoint takes it. */
export type CloudApiJson = { readonly [key: string]: unknown };

export interface CloudApiMessageOptions {
  /** The recipient, E.164 (as Meta takes it: with or without the +). */
  readonly to: string;
  /** The wamid quoted (Meta's `context.message_id`); empty or undefined for none. */
  readonly contextWaMessageId?: string;
  /**
   * Meta's media id for a media-store id (uploaded once per number by the media resolver). Called only for media
   * given by `media_id` (see `mediaIdsOf` in @waygate/domain); may throw when the media cannot be resolved.
   */
  readonly metaMediaId: (storeMediaId: string) => string;
}

/** Only fields that were given: Meta refuses some empty strings (an empty caption, an empty filename). */
function defined(fields: Record<string, unknown>): CloudApiJson {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== '' && value !== undefined));
}

function mediaObject(media: MediaValue, options: CloudApiMessageOptions, extra: Record<string, unknown> = {}): CloudApiJson {
  const source = 'mediaId' in media.source ? { id: options.metaMediaId(media.source.mediaId) } : { link: media.source.link };
  return { ...source, ...defined(extra) };
}

function locationObject(location: LocationValue): CloudApiJson {
  return { latitude: location.latitude, longitude: location.longitude, ...defined({ name: location.name, address: location.address }) };
}

function parameterJson(parameter: TemplateParameter, options: CloudApiMessageOptions): CloudApiJson {
  const name = parameter.parameterName ? { parameter_name: parameter.parameterName } : {};
  const value: TemplateParameterValue = parameter.value;
  switch (value.type) {
    case 'text':
      return { type: 'text', ...name, text: value.text };
    case 'currency':
      return {
        type: 'currency',
        ...name,
        currency: { fallback_value: value.fallbackValue, code: value.code, amount_1000: value.amount1000 },
      };
    case 'date_time':
      return { type: 'date_time', ...name, date_time: { fallback_value: value.fallbackValue } };
    case 'image':
    case 'video':
      return { type: value.type, ...name, [value.type]: mediaObject(value.media, options) };
    case 'document':
      return { type: 'document', ...name, document: mediaObject(value.media, options, { filename: value.media.filename }) };
    case 'location':
      return { type: 'location', ...name, location: locationObject(value.location) };
    case 'payload':
      return { type: 'payload', ...name, payload: value.payload };
    case 'coupon_code':
      return { type: 'coupon_code', ...name, coupon_code: value.couponCode };
    case 'action':
      return {
        type: 'action',
        ...name,
        action: defined({
          flow_token: value.action.flowToken,
          flow_action_data: value.action.flowActionDataJson ? (JSON.parse(value.action.flowActionDataJson) as unknown) : undefined,
          thumbnail_product_retailer_id: value.action.thumbnailProductRetailerId,
        }),
      };
  }
}

function templateJson(content: Extract<MessageContent, { kind: 'template' }>, options: CloudApiMessageOptions): CloudApiJson {
  return {
    name: content.name,
    language: { code: content.language },
    ...(content.components.length > 0
      ? {
          components: content.components.map((component) =>
            component.type === 'button'
              ? {
                  type: 'button',
                  sub_type: component.subType,
                  index: String(component.index),
                  parameters: component.parameters.map((parameter) => parameterJson(parameter, options)),
                }
              : { type: component.type, parameters: component.parameters.map((parameter) => parameterJson(parameter, options)) },
          ),
        }
      : {}),
  };
}

function headerJson(header: InteractiveHeader, options: CloudApiMessageOptions): CloudApiJson {
  if (header.type === 'text') return { type: 'text', text: header.text };
  const extra = header.type === 'document' ? { filename: header.media.filename } : {};
  return { type: header.type, [header.type]: mediaObject(header.media, options, extra) };
}

function actionJson(action: InteractiveAction): { type: string; action: CloudApiJson } {
  switch (action.type) {
    case 'buttons':
      return {
        type: 'button',
        action: { buttons: action.buttons.map((button) => ({ type: 'reply', reply: { id: button.id, title: button.title } })) },
      };
    case 'list':
      return {
        type: 'list',
        action: {
          button: action.button,
          sections: action.sections.map((section) => ({
            ...defined({ title: section.title }),
            rows: section.rows.map((row) => defined({ id: row.id, title: row.title, description: row.description })),
          })),
        },
      };
    case 'cta_url':
      return { type: 'cta_url', action: { name: 'cta_url', parameters: { display_text: action.displayText, url: action.url } } };
  }
}

function contactJson(card: ContactCard): CloudApiJson {
  const list = <T>(items: readonly T[], map: (item: T) => CloudApiJson) => (items.length > 0 ? items.map(map) : undefined);
  return defined({
    name: defined({
      formatted_name: card.name.formattedName,
      first_name: card.name.firstName,
      last_name: card.name.lastName,
      middle_name: card.name.middleName,
      suffix: card.name.suffix,
      prefix: card.name.prefix,
    }),
    phones: list(card.phones, (phone) => defined({ phone: phone.phone, type: phone.type, wa_id: phone.waId })),
    emails: list(card.emails, (email) => defined({ email: email.email, type: email.type })),
    addresses: list(card.addresses, (address) =>
      defined({
        street: address.street,
        city: address.city,
        state: address.state,
        zip: address.zip,
        country: address.country,
        country_code: address.countryCode,
        type: address.type,
      }),
    ),
    org: card.org ? defined({ company: card.org.company, department: card.org.department, title: card.org.title }) : undefined,
    urls: list(card.urls, (url) => defined({ url: url.url, type: url.type })),
    birthday: card.birthday,
  });
}

/** Meta's `type` and type object for a content. */
function typedPart(content: MessageContent, options: CloudApiMessageOptions): CloudApiJson {
  switch (content.kind) {
    case 'text':
      return { type: 'text', text: { preview_url: content.previewUrl, body: content.body } };
    case 'template':
      return { type: 'template', template: templateJson(content, options) };
    case 'image':
    case 'video':
      return { type: content.kind, [content.kind]: mediaObject(content, options, { caption: content.caption }) };
    case 'document':
      return { type: 'document', document: mediaObject(content, options, { caption: content.caption, filename: content.filename }) };
    case 'audio':
      return { type: 'audio', audio: mediaObject(content, options, { voice: content.voice ? true : undefined }) };
    case 'sticker':
      return { type: 'sticker', sticker: mediaObject(content, options) };
    case 'interactive': {
      const { type, action } = actionJson(content.action);
      return {
        type: 'interactive',
        interactive: {
          type,
          ...(content.header ? { header: headerJson(content.header, options) } : {}),
          body: { text: content.body },
          ...(content.footer ? { footer: { text: content.footer } } : {}),
          action,
        },
      };
    }
    case 'location':
      return { type: 'location', location: locationObject(content) };
    case 'contacts':
      return { type: 'contacts', contacts: content.contacts.map(contactJson) };
    case 'reaction':
      // An empty emoji removes the reaction (Meta's documented way).
      return { type: 'reaction', reaction: { message_id: content.messageId, emoji: content.emoji } };
  }
}

/**
 * The body of `POST /{phone_number_id}/messages` for a content, exactly as Meta documents it for each type (one
 * fixture per type in cloud-api-message.test.ts); the client adds only `biz_opaque_callback_data`. Pure: media given
 * by media-store id are named by the Meta media ids `options.metaMediaId` returns.
 */
export function toCloudApiMessage(content: MessageContent, options: CloudApiMessageOptions): CloudApiJson {
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to: options.to,
    ...(options.contextWaMessageId ? { context: { message_id: options.contextWaMessageId } } : {}),
    ...typedPart(content, options),
  };
}
