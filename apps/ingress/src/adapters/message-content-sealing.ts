import type { CustomerSealer } from '@waygate/keyring';
import type { ContentKind, MessageContent, OutboundMessage } from '../domain/outbound-message';

/** A message's content and summary as stored: each sealed under the customer's data key (sealed text). */
export interface SealedMessageContent {
  /** The content's JSON, sealed; undefined when the message has no content (deleted). */
  readonly content: string | undefined;
  /** The summary, sealed: it quotes the start of a text or caption, so it is content too. */
  readonly summary: string;
}

/** What a message whose content and summary can no longer be opened (its customer was erased) shows as summary. */
export function erasedSummary(contentType: string): string {
  return `${contentType} (erased)`;
}

/** Seals the message's content and summary under the data key of its recipient (issue 14, at rest). */
export async function sealMessageContent(sealer: CustomerSealer, message: OutboundMessage): Promise<SealedMessageContent> {
  const [content, summary] = await Promise.all([
    message.content === undefined ? undefined : sealer.seal(message.tenantId, message.to, JSON.stringify(message.content)),
    message.contentSummary === '' ? '' : sealer.seal(message.tenantId, message.to, message.contentSummary),
  ]);
  return { content, summary };
}

/**
 * Opens a stored content and summary. A customer whose data key was destroyed reads as erased: no content (like a
 * message whose content was deleted at a terminal status) and the summary `<type> (erased)`. Rows stored before
 * sealing existed are read as they are.
 */
export async function openMessageContent(
  sealer: CustomerSealer,
  tenantId: string,
  contentType: ContentKind,
  stored: { readonly content: string | null | undefined; readonly summary: string },
): Promise<{ content: MessageContent | undefined; contentSummary: string }> {
  const [content, summary] = await Promise.all([
    stored.content === null || stored.content === undefined ? undefined : sealer.open(tenantId, stored.content),
    stored.summary === '' ? '' : sealer.open(tenantId, stored.summary),
  ]);
  return {
    content: content === undefined ? undefined : (JSON.parse(content) as MessageContent),
    contentSummary: summary ?? erasedSummary(contentType),
  };
}
