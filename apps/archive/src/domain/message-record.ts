import { mediaIdsOf, type MessageContent, type TemplateCategory } from '@waygate/domain';

/** What the archive keeps of an accepted message's content (see AcceptedArchivedEvent). */
export interface ArchivedContent {
  /** The content as JSON: the domain MessageContent, minus an authentication template's parameters. */
  readonly contentJson: string;
  /** The searchable text; absent when the content has none (a location, a sticker without caption ...). */
  readonly text?: string;
  readonly templateName?: string;
  /** media-store ids the content names (never those of an authentication template, which has no media). */
  readonly mediaIds: readonly string[];
}

/** The words of a content a person would search for, joined by newlines; empty parts left out. */
function joinText(parts: readonly (string | undefined)[]): string | undefined {
  const kept = parts.map((part) => part?.trim()).filter((part): part is string => !!part);
  return kept.length > 0 ? kept.join('\n') : undefined;
}

/**
 * Whether a template must be kept without its parameters: its category is AUTHENTICATION or, when the catalog did
 * not report a category, it has an authentication template's shape (the code as a body text parameter and again as
 * a url button's text parameter), so a code never reaches the archive for want of a catalog entry.
 */
export function isAuthenticationTemplate(content: MessageContent, templateCategory?: TemplateCategory): boolean {
  if (content.kind !== 'template') return false;
  if (templateCategory !== undefined) return templateCategory === 'AUTHENTICATION';
  const textsOf = (type: string, subType?: string) =>
    content.components
      .filter((component) => component.type === type && (subType === undefined || component.subType === subType))
      .flatMap((component) => component.parameters.map((parameter) => (parameter.value.type === 'text' ? parameter.value.text : undefined)))
      .filter((text): text is string => text !== undefined);
  const body = new Set(textsOf('body'));
  return textsOf('button', 'url').some((text) => body.has(text));
}

/**
 * The searchable text of an outbound content: a text's body; a media caption and a document's filename; a template's
 * name is not text, its parameters are (text, currency and date fallbacks, coupon codes, media captions and
 * filenames); an interactive message's header text, body, footer, button titles, list button, section and row titles
 * and descriptions, and a call-to-action's display text; a location's name and address; contact names and companies;
 * a reaction's emoji. Pure; an authentication template gives no text at all (its parameters are one-time codes).
 */
export function searchableTextOf(content: MessageContent, templateCategory?: TemplateCategory): string | undefined {
  switch (content.kind) {
    case 'text':
      return joinText([content.body]);
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker':
      return joinText([content.caption, content.filename]);
    case 'template': {
      if (isAuthenticationTemplate(content, templateCategory)) return undefined;
      return joinText(
        content.components.flatMap((component) =>
          component.parameters.map((parameter) => {
            const value = parameter.value;
            switch (value.type) {
              case 'text':
                return value.text;
              case 'currency':
              case 'date_time':
                return value.fallbackValue;
              case 'coupon_code':
                return value.couponCode;
              case 'image':
              case 'video':
              case 'document':
                return joinText([value.media.caption, value.media.filename]);
              case 'location':
                return joinText([value.location.name, value.location.address]);
              default:
                return undefined;
            }
          }),
        ),
      );
    }
    case 'interactive': {
      const header = content.header;
      const headerText = header === undefined ? undefined : header.type === 'text' ? header.text : header.media.filename;
      const action = content.action;
      const actionTexts =
        action.type === 'buttons'
          ? action.buttons.map((button) => button.title)
          : action.type === 'list'
            ? [
                action.button,
                ...action.sections.flatMap((section) => [section.title, ...section.rows.flatMap((row) => [row.title, row.description])]),
              ]
            : [action.displayText];
      return joinText([headerText, content.body, content.footer, ...actionTexts]);
    }
    case 'location':
      return joinText([content.name, content.address]);
    case 'contacts':
      return joinText(content.contacts.flatMap((card) => [card.name.formattedName, card.org?.company]));
    case 'reaction':
      return joinText([content.emoji]);
  }
}

/**
 * What the archive keeps of an accepted message's content. An AUTHENTICATION template keeps its name and language
 * only: its parameters are one-time codes, which must never be stored anywhere they outlive their use.
 */
export function archivedContentOf(content: MessageContent, templateCategory?: TemplateCategory): ArchivedContent {
  if (content.kind === 'template' && isAuthenticationTemplate(content, templateCategory)) {
    return {
      contentJson: JSON.stringify({ kind: 'template', name: content.name, language: content.language }),
      templateName: content.name,
      mediaIds: [],
    };
  }
  const text = searchableTextOf(content, templateCategory);
  return {
    contentJson: JSON.stringify(content),
    ...(text !== undefined ? { text } : {}),
    ...(content.kind === 'template' ? { templateName: content.name } : {}),
    mediaIds: mediaIdsOf(content),
  };
}

/**
 * The searchable text of an inbound message: receipt's text (body, caption, or the title of a button or list reply)
 * plus a document's filename and a location's name and address from its content JSON. Pure; tolerant of any JSON.
 */
export function inboundSearchTextOf(text: string | undefined, contentJson: string | undefined): string | undefined {
  let extra: (string | undefined)[] = [];
  if (contentJson) {
    try {
      const parsed: unknown = JSON.parse(contentJson);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        const record = parsed as Record<string, unknown>;
        const stringOf = (key: string) => (typeof record[key] === 'string' ? (record[key] as string) : undefined);
        extra = [stringOf('filename'), stringOf('name'), stringOf('address'), stringOf('description')];
      }
    } catch {
      // Not JSON: there is nothing more to search than the text.
    }
  }
  const parts = [text, ...extra.filter((part) => part !== undefined && part !== text)];
  return joinText(parts);
}
