import {
  MAX_WHATSAPP_ID_LENGTH,
  idViolations,
  type ContactCard,
  type FieldViolation,
  type InteractiveAction,
  type LocationValue,
  type MediaValue,
  type MessageContent,
  type TemplateComponent,
  type TemplateParameterValue,
} from '@waygate/domain';
import {
  CONTENT_LIMITS,
  MEDIA_KIND_RULES,
  TEMPLATE_BUTTON_PARAMETER_TYPES,
  TEMPLATE_COMPONENT_PARAMETER_TYPES,
  type ContentLimitName,
} from './content-limits';

/**
 * Control characters (Unicode category Cc: C0, DEL and C1) other than tab, line feed and carriage return, and
 * unpaired surrogates. WhatsApp would get them verbatim (a NUL, a BEL, an ESC sequence) although no person can read
 * them; they are refused instead.
 */
const FORBIDDEN_TEXT_CHARACTER = /(?![\t\n\r])[\p{Cc}\p{Cs}]/u;
/** Exactly one emoji (RGI: what Unicode recommends for general interchange, with skin tones and ZWJ sequences). */
const SINGLE_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');
const TEMPLATE_NAME = /^[a-z0-9_]+$/;
/** Meta's template language codes: `en`, `en_US`, `zh_CN`, `pt_BR`, `es_LA`, ... */
const LANGUAGE_CODE = /^[a-z]{2,3}(_[A-Za-z]{2,4})?$/;
const BIRTHDAY = /^\d{4}-\d{2}-\d{2}$/;
const CURRENCY_CODE = /^[A-Z]{3}$/;

function violation(field: string, reason: string, description: string): FieldViolation {
  return { field, reason, description };
}

/** The text's first forbidden character as `U+XXXX at character N` (never the text itself), if any. */
function describeForbiddenCharacter(text: string): string | undefined {
  const match = FORBIDDEN_TEXT_CHARACTER.exec(text);
  if (!match) return undefined;
  const codePoint = (match[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
  return `U+${codePoint} at character ${[...text.slice(0, match.index)].length + 1}`;
}

/** Collects violations; every check names the field by its proto path (e.g. `interactive.list.sections[0].title`). */
class ContentChecker {
  readonly violations: FieldViolation[] = [];

  add(field: string, reason: string, description: string): void {
    this.violations.push(violation(field, reason, description));
  }

  /** A text field: required or not, at most the named limit, no control characters. Never quotes the value. */
  text(field: string, value: string, limit: ContentLimitName, options: { required?: boolean } = {}): void {
    if (value.trim().length === 0) {
      if (options.required) this.add(field, 'REQUIRED', 'must not be empty');
      return;
    }
    const { max } = CONTENT_LIMITS[limit];
    const length = [...value].length;
    if (length > max) this.add(field, 'TOO_LONG', `must be at most ${max} characters (got ${length})`);
    const forbidden = describeForbiddenCharacter(value);
    if (forbidden) {
      this.add(
        field,
        'INVALID_CHARACTER',
        `must not contain control characters other than tab, line feed and carriage return (found ${forbidden})`,
      );
    }
  }

  /** An https URL (WhatsApp fetches or opens it; plain http is refused). */
  httpsUrl(field: string, value: string, limit: ContentLimitName): void {
    if (value.length === 0) return this.add(field, 'REQUIRED', 'must be an https URL');
    const { max } = CONTENT_LIMITS[limit];
    if (value.length > max) return this.add(field, 'TOO_LONG', `must be at most ${max} characters`);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return this.add(field, 'INVALID_FORMAT', 'must be an absolute https URL');
    }
    if (url.protocol !== 'https:') this.add(field, 'INVALID_FORMAT', 'must be an https URL');
    else if (url.username || url.password) this.add(field, 'INVALID_FORMAT', 'must not carry credentials');
  }

  count(field: string, count: number, limit: ContentLimitName, min = 0): void {
    const { max } = CONTENT_LIMITS[limit];
    if (count < min) this.add(field, 'REQUIRED', min === 1 ? 'at least one is required' : `at least ${min} are required`);
    else if (count > max) this.add(field, 'TOO_MANY', `at most ${max} allowed (got ${count})`);
  }

  /** Media by media-store id or https link; caption, file name and voice only where Meta takes them. */
  media(path: string, kind: keyof typeof MEDIA_KIND_RULES, media: MediaValue, options: { header?: boolean } = {}): void {
    if ('mediaId' in media.source) {
      for (const found of idViolations(`${path}.media_id`, media.source.mediaId)) this.violations.push(found);
    } else {
      this.httpsUrl(`${path}.link`, media.source.link, 'mediaLink');
    }
    const rule = MEDIA_KIND_RULES[kind];
    if (media.caption) {
      if (!rule.caption || options.header)
        this.add(`${path}.caption`, 'UNSUPPORTED', `${options.header ? 'a header' : kind} takes no caption`);
      else this.text(`${path}.caption`, media.caption, 'caption');
    }
    if (media.filename) {
      if (kind !== 'document') this.add(`${path}.filename`, 'UNSUPPORTED', 'only a document takes a file name');
      else this.text(`${path}.filename`, media.filename, 'filename');
    }
    if (media.voice && kind !== 'audio') this.add(`${path}.voice`, 'UNSUPPORTED', 'only audio can be a voice message');
  }

  location(path: string, location: LocationValue): void {
    if (!Number.isFinite(location.latitude) || Math.abs(location.latitude) > 90) {
      this.add(`${path}.latitude`, 'OUT_OF_RANGE', 'must be between -90 and 90');
    }
    if (!Number.isFinite(location.longitude) || Math.abs(location.longitude) > 180) {
      this.add(`${path}.longitude`, 'OUT_OF_RANGE', 'must be between -180 and 180');
    }
    this.text(`${path}.name`, location.name, 'locationText');
    this.text(`${path}.address`, location.address, 'locationText');
  }

  contact(path: string, card: ContactCard): void {
    this.text(`${path}.name.formatted_name`, card.name.formattedName, 'contactField', { required: true });
    for (const [key, value] of [
      ['first_name', card.name.firstName],
      ['last_name', card.name.lastName],
      ['middle_name', card.name.middleName],
      ['suffix', card.name.suffix],
      ['prefix', card.name.prefix],
    ] as const) {
      this.text(`${path}.name.${key}`, value, 'contactField');
    }
    this.count(`${path}.phones`, card.phones.length, 'contactEntries');
    card.phones.forEach((phone, i) => {
      this.text(`${path}.phones[${i}].phone`, phone.phone, 'contactField', { required: true });
      this.text(`${path}.phones[${i}].type`, phone.type, 'contactField');
      if (phone.waId && !/^\d{5,20}$/.test(phone.waId)) this.add(`${path}.phones[${i}].wa_id`, 'INVALID_FORMAT', 'must be digits only');
    });
    this.count(`${path}.emails`, card.emails.length, 'contactEntries');
    card.emails.forEach((email, i) => {
      this.text(`${path}.emails[${i}].email`, email.email, 'contactField', { required: true });
      if (email.email && !/^[^@\s]+@[^@\s]+$/.test(email.email))
        this.add(`${path}.emails[${i}].email`, 'INVALID_FORMAT', 'must be an e-mail address');
      this.text(`${path}.emails[${i}].type`, email.type, 'contactField');
    });
    this.count(`${path}.addresses`, card.addresses.length, 'contactEntries');
    card.addresses.forEach((address, i) => {
      for (const [key, value] of Object.entries(address)) this.text(`${path}.addresses[${i}].${snakeCase(key)}`, value, 'contactField');
    });
    if (card.org) for (const [key, value] of Object.entries(card.org)) this.text(`${path}.org.${key}`, value, 'contactField');
    this.count(`${path}.urls`, card.urls.length, 'contactEntries');
    card.urls.forEach((url, i) => {
      this.httpsUrl(`${path}.urls[${i}].url`, url.url, 'contactField');
      this.text(`${path}.urls[${i}].type`, url.type, 'contactField');
    });
    if (card.birthday && (!BIRTHDAY.test(card.birthday) || Number.isNaN(Date.parse(`${card.birthday}T00:00:00Z`)))) {
      this.add(`${path}.birthday`, 'INVALID_FORMAT', 'must be a date as YYYY-MM-DD');
    }
  }

  interactiveAction(action: InteractiveAction): void {
    switch (action.type) {
      case 'buttons': {
        const path = 'interactive.buttons.buttons';
        this.count(path, action.buttons.length, 'replyButtons', 1);
        action.buttons.forEach((button, i) => {
          this.text(`${path}[${i}].id`, button.id, 'replyButtonId', { required: true });
          this.text(`${path}[${i}].title`, button.title, 'replyButtonTitle', { required: true });
        });
        this.unique(
          path,
          'title',
          action.buttons.map((button) => button.title),
        );
        this.unique(
          path,
          'id',
          action.buttons.map((button) => button.id),
        );
        return;
      }
      case 'list': {
        this.text('interactive.list.button', action.button, 'listButton', { required: true });
        this.count('interactive.list.sections', action.sections.length, 'listSections', 1);
        const rows = action.sections.flatMap((section) => section.rows);
        this.count('interactive.list.sections[].rows', rows.length, 'listRows', 1);
        action.sections.forEach((section, i) => {
          const path = `interactive.list.sections[${i}]`;
          this.text(`${path}.title`, section.title, 'listSectionTitle', { required: action.sections.length > 1 });
          if (section.rows.length === 0) this.add(`${path}.rows`, 'REQUIRED', 'a section needs at least one row');
          section.rows.forEach((row, j) => {
            this.text(`${path}.rows[${j}].id`, row.id, 'listRowId', { required: true });
            this.text(`${path}.rows[${j}].title`, row.title, 'listRowTitle', { required: true });
            this.text(`${path}.rows[${j}].description`, row.description, 'listRowDescription');
          });
        });
        this.unique(
          'interactive.list.sections[].rows',
          'id',
          rows.map((row) => row.id),
        );
        return;
      }
      case 'cta_url':
        this.text('interactive.cta_url.display_text', action.displayText, 'ctaDisplayText', { required: true });
        this.httpsUrl('interactive.cta_url.url', action.url, 'ctaUrl');
        return;
    }
  }

  unique(path: string, key: string, values: readonly string[]): void {
    const seen = new Set<string>();
    values.forEach((value, i) => {
      if (value && seen.has(value)) this.add(`${path}[${i}].${key}`, 'DUPLICATE', `every ${key} must be unique`);
      seen.add(value);
    });
  }

  templateParameterValue(path: string, component: TemplateComponent, value: TemplateParameterValue): void {
    switch (value.type) {
      case 'text': {
        const limit =
          component.type === 'header' ? 'templateHeaderText' : component.type === 'body' ? 'templateBodyText' : 'templateButtonText';
        return this.text(`${path}.text`, value.text, limit, { required: true });
      }
      case 'currency':
        this.text(`${path}.currency.fallback_value`, value.fallbackValue, 'templateBodyText', { required: true });
        if (!CURRENCY_CODE.test(value.code)) this.add(`${path}.currency.code`, 'INVALID_FORMAT', 'must be an ISO 4217 code, e.g. EUR');
        if (!Number.isSafeInteger(value.amount1000))
          this.add(`${path}.currency.amount_1000`, 'OUT_OF_RANGE', 'must be an integer within ±2^53');
        return;
      case 'date_time':
        return this.text(`${path}.date_time.fallback_value`, value.fallbackValue, 'templateBodyText', { required: true });
      case 'image':
      case 'video':
      case 'document':
        return this.media(`${path}.${value.type}`, value.type, value.media, { header: true });
      case 'location':
        return this.location(`${path}.location`, value.location);
      case 'payload':
        return this.text(`${path}.payload`, value.payload, 'templatePayload', { required: true });
      case 'coupon_code':
        return this.text(`${path}.coupon_code`, value.couponCode, 'templateCouponCode', { required: true });
      case 'action':
        this.text(`${path}.action.flow_token`, value.action.flowToken, 'templateAction');
        this.text(`${path}.action.thumbnail_product_retailer_id`, value.action.thumbnailProductRetailerId, 'templateAction');
        if (value.action.flowActionDataJson) this.jsonObject(`${path}.action.flow_action_data_json`, value.action.flowActionDataJson);
        return;
    }
  }

  jsonObject(field: string, text: string): void {
    if (text.length > CONTENT_LIMITS.templateAction.max)
      return this.add(field, 'TOO_LONG', `must be at most ${CONTENT_LIMITS.templateAction.max} characters`);
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        this.add(field, 'INVALID_FORMAT', 'must be a JSON object');
    } catch {
      this.add(field, 'INVALID_FORMAT', 'must be a JSON object');
    }
  }

  /** The template's shape, as far as it can be checked without the catalog (the catalog policy checks the rest). */
  template(content: Extract<MessageContent, { kind: 'template' }>): void {
    if (!content.name) this.add('template.name', 'REQUIRED', 'must be set');
    else if (content.name.length > CONTENT_LIMITS.templateName.max || !TEMPLATE_NAME.test(content.name)) {
      this.add('template.name', 'INVALID_FORMAT', `must be lower-case letters, digits and _ (at most ${CONTENT_LIMITS.templateName.max})`);
    }
    if (!content.language) this.add('template.language', 'REQUIRED', 'must be set, e.g. en_US');
    else if (!LANGUAGE_CODE.test(content.language))
      this.add('template.language', 'INVALID_FORMAT', 'must be a language code, e.g. en or en_US');
    this.count('template.components', content.components.length, 'templateComponents');
    const singles = new Set<string>();
    const buttons = new Set<number>();
    content.components.forEach((component, i) => {
      const path = `template.components[${i}]`;
      this.count(`${path}.parameters`, component.parameters.length, 'templateParameters');
      let allowed: readonly string[];
      if (component.type === 'button') {
        const known = TEMPLATE_BUTTON_PARAMETER_TYPES[component.subType];
        if (!component.subType) this.add(`${path}.sub_type`, 'REQUIRED', 'a button needs its sub_type, e.g. quick_reply or url');
        else if (!known)
          this.add(`${path}.sub_type`, 'UNKNOWN', `must be one of ${Object.keys(TEMPLATE_BUTTON_PARAMETER_TYPES).join(', ')}`);
        if (component.index < 0 || component.index > CONTENT_LIMITS.templateButtonIndex.max) {
          this.add(`${path}.index`, 'OUT_OF_RANGE', `must be between 0 and ${CONTENT_LIMITS.templateButtonIndex.max}`);
        } else if (buttons.has(component.index)) {
          this.add(`${path}.index`, 'DUPLICATE', 'each button index may appear once');
        }
        buttons.add(component.index);
        allowed = known ?? [];
      } else {
        if (component.subType) this.add(`${path}.sub_type`, 'UNSUPPORTED', 'only buttons have a sub_type');
        if (component.index !== 0) this.add(`${path}.index`, 'UNSUPPORTED', 'only buttons have an index');
        if (singles.has(component.type)) this.add(`${path}.type`, 'DUPLICATE', `a template has one ${component.type}`);
        singles.add(component.type);
        allowed = TEMPLATE_COMPONENT_PARAMETER_TYPES[component.type];
      }
      component.parameters.forEach((parameter, j) => {
        const parameterPath = `${path}.parameters[${j}]`;
        if (parameter.parameterName && !/^[a-z0-9_]{1,100}$/.test(parameter.parameterName)) {
          this.add(`${parameterPath}.parameter_name`, 'INVALID_FORMAT', 'must be lower-case letters, digits and _');
        }
        if (!allowed.includes(parameter.value.type)) {
          const where = component.type === 'button' ? `a ${component.subType || 'button'} button` : `a ${component.type}`;
          this.add(
            parameterPath,
            'UNSUPPORTED',
            `${where} does not take a ${parameter.value.type} parameter (allowed: ${allowed.join(', ') || 'none'})`,
          );
          return;
        }
        this.templateParameterValue(parameterPath, component, parameter.value);
      });
      if (component.type === 'header' && component.parameters.length > 1)
        this.add(`${path}.parameters`, 'TOO_MANY', 'a header takes one parameter');
    });
  }

  content(content: MessageContent): void {
    switch (content.kind) {
      case 'text':
        return this.text('text.body', content.body, 'textBody', { required: true });
      case 'template':
        return this.template(content);
      case 'image':
      case 'video':
      case 'audio':
      case 'document':
      case 'sticker':
        return this.media(content.kind, content.kind, content);
      case 'interactive': {
        const isList = content.action.type === 'list';
        this.text('interactive.body', content.body, isList ? 'interactiveListBody' : 'interactiveBody', { required: true });
        this.text('interactive.footer', content.footer, 'interactiveFooter');
        const header = content.header;
        if (header?.type === 'text') this.text('interactive.header.text', header.text, 'interactiveHeaderText', { required: true });
        else if (header) {
          // A list takes only a text header (Meta's list page).
          if (isList) this.add(`interactive.header.${header.type}`, 'UNSUPPORTED', 'a list takes only a text header');
          else this.media(`interactive.header.${header.type}`, header.type, header.media, { header: true });
        }
        return this.interactiveAction(content.action);
      }
      case 'location':
        return this.location('location', content);
      case 'contacts':
        this.count('contacts.contacts', content.contacts.length, 'contacts', 1);
        // Past the bound the cards are not looked at: the request is refused anyway.
        if (content.contacts.length <= CONTENT_LIMITS.contacts.max)
          content.contacts.forEach((card, i) => this.contact(`contacts.contacts[${i}]`, card));
        return;
      case 'reaction':
        for (const found of idViolations('reaction.message_id', content.messageId, MAX_WHATSAPP_ID_LENGTH)) this.violations.push(found);
        if (content.emoji && !SINGLE_EMOJI.test(content.emoji)) {
          this.add('reaction.emoji', 'INVALID_FORMAT', 'must be a single emoji, or empty to remove the reaction');
        }
        return;
    }
  }
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * Every way `content` breaks Meta's documented limits (CONTENT_LIMITS) or shape, each with its field path as in the
 * proto (`text.body`, `image.link`, `interactive.buttons.buttons[1].title`, `template.components[0].parameters[1]`).
 * Descriptions never quote the content. Template parameters are checked against the catalog by the template policy.
 */
export function contentViolations(content: MessageContent): FieldViolation[] {
  const checker = new ContentChecker();
  checker.content(content);
  return checker.violations;
}
