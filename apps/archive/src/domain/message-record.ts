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

/** What the archive reads out of an inbound message's content JSON beyond receipt's fields. */
export interface InboundDetails {
  /** WhatsApp's type, refined: an interactive reply other than a button or list reply is its sub-type (nfm_reply ...). */
  readonly type: string;
  /** The text an edit puts in place of the original, or the body of a Flows reply. */
  readonly text?: string;
  /** The message an edit or a revoke changes, or a reaction reacts to (when receipt did not name it already). */
  readonly contextWaMessageId?: string;
}

const MAX_REFERENCED_ID_LENGTH = 256;

function objectAt(value: unknown, ...keys: string[]): Record<string, unknown> | undefined {
  let current = value;
  for (const key of keys) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current !== null && typeof current === 'object' && !Array.isArray(current) ? (current as Record<string, unknown>) : undefined;
}

function stringAt(value: Record<string, unknown> | undefined, key: string): string | undefined {
  const found = value?.[key];
  return typeof found === 'string' && found.length > 0 ? found : undefined;
}

/**
 * Details of an inbound message that receipt keeps only inside its content JSON (receipt keeps content it has no
 * shape for whole, as `{ kind: 'unknown', rawType, raw }`): a Flows reply (`interactive.nfm_reply`), an edit
 * (`edit.original_message_id` and `edit.message`) and a revoke (`revoke.original_message_id`), as Meta's webhooks
 * send them. Pure; any other or malformed JSON gives the type unchanged.
 */
export function inboundDetailsOf(messageType: string, contentJson: string | undefined): InboundDetails {
  if (!contentJson) return { type: messageType };
  let content: unknown;
  try {
    content = JSON.parse(contentJson);
  } catch {
    return { type: messageType };
  }
  const raw = objectAt(content, 'raw');
  if (stringAt(objectAt(content), 'kind') !== 'unknown' || !raw) return { type: messageType };
  const referenced = (change: Record<string, unknown> | undefined) => {
    const id = stringAt(change, 'original_message_id');
    return id !== undefined && id.length <= MAX_REFERENCED_ID_LENGTH ? { contextWaMessageId: id } : {};
  };
  if (messageType === 'interactive') {
    const interactive = objectAt(raw, 'interactive');
    const subType = stringAt(interactive, 'type');
    if (!subType) return { type: messageType };
    const body = stringAt(objectAt(interactive, subType), 'body');
    return { type: subType, ...(body !== undefined ? { text: body } : {}) };
  }
  if (messageType === 'edit') {
    const edit = objectAt(raw, 'edit');
    const message = objectAt(edit, 'message');
    const editedType = stringAt(message, 'type');
    const text =
      editedType === 'text'
        ? stringAt(objectAt(message, 'text'), 'body')
        : editedType
          ? stringAt(objectAt(message, editedType), 'caption')
          : undefined;
    return { type: 'edit', ...(text !== undefined ? { text } : {}), ...referenced(edit) };
  }
  if (messageType === 'revoke') return { type: 'revoke', ...referenced(objectAt(raw, 'revoke')) };
  return { type: messageType };
}
