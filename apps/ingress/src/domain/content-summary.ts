import type { MessageContent } from '@waygate/domain';

/** The longest summary: GetMessage, ListMessages, the feed and the archive show it, so it stays short. */
export const MAX_CONTENT_SUMMARY_CHARS = 200;
/** How much of a text (or a caption, an interactive body) a summary quotes. */
const QUOTED_CHARS = 60;

/**
 * A run of 4 or more digits: a text may carry a one-time code or an account number, which a summary (kept after the
 * content is deleted, shown in feeds and archives) must not repeat.
 */
const DIGIT_RUN = /\d{4,}/g;

/** The first characters of a free text, on one line, with long digit runs masked. */
function quote(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  const characters = [...oneLine];
  const cut = characters.length > QUOTED_CHARS ? `${characters.slice(0, QUOTED_CHARS).join('')}…` : oneLine;
  return `"${cut.replace(DIGIT_RUN, (run) => '•'.repeat(run.length))}"`;
}

function bound(summary: string): string {
  const characters = [...summary];
  return characters.length <= MAX_CONTENT_SUMMARY_CHARS ? summary : `${characters.slice(0, MAX_CONTENT_SUMMARY_CHARS - 1).join('')}…`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * A short description of a message's content (at most MAX_CONTENT_SUMMARY_CHARS), kept after the content itself is
 * deleted: the kind, and what identifies it without repeating it — a template's name and language (never its
 * parameters, which may be an authentication code), a media's file name (and MIME type when known), the first
 * characters of a text with long digit runs masked, a location's name, the contacts' names, a reaction's emoji.
 * Links are never included (they may carry tokens).
 */
export function summarizeContent(content: MessageContent, known: { readonly mimeType?: string } = {}): string {
  switch (content.kind) {
    case 'text':
      return bound(`text ${quote(content.body)}`);
    case 'template':
      return bound(`template ${content.name} (${content.language})`);
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker': {
      const parts: string[] = [content.kind === 'audio' && content.voice ? 'voice message' : content.kind];
      if (known.mimeType) parts.push(`(${known.mimeType})`);
      if (content.filename) parts.push(content.filename);
      if (content.caption) parts.push(quote(content.caption));
      return bound(parts.join(' '));
    }
    case 'interactive': {
      const action = content.action;
      const what =
        action.type === 'buttons'
          ? plural(action.buttons.length, 'reply button')
          : action.type === 'list'
            ? `list of ${plural(
                action.sections.reduce((rows, section) => rows + section.rows.length, 0),
                'row',
              )}`
            : 'call-to-action URL button';
      return bound(`interactive ${what} ${quote(content.body)}`);
    }
    case 'location':
      return bound(content.name ? `location ${quote(content.name)}` : 'location');
    case 'contacts': {
      const names = content.contacts.map((card) => card.name.formattedName).filter((name) => name);
      const shown = names.slice(0, 3).join(', ');
      const more = content.contacts.length > 3 ? ` and ${content.contacts.length - 3} more` : '';
      return bound(`contacts (${plural(content.contacts.length, 'card')})${shown ? `: ${shown}${more}` : ''}`);
    }
    case 'reaction':
      return content.emoji ? bound(`reaction ${content.emoji}`) : 'reaction removed';
  }
}
