import { decodePageTokenFields, encodePageTokenFields, InvalidArgumentError, requestFingerprint } from '@waygate/domain';
import type { ConversationCursor, TranscriptCursor } from './conversation';

/** What a page token continues: its kind names the cursor it carries. */
interface Cursors {
  readonly conversations: ConversationCursor;
  readonly transcript: TranscriptCursor;
}
type TokenKind = keyof Cursors;

/** Longer tokens are never ours; refused before decoding. */
const MAX_PAGE_TOKEN_LENGTH = 512;

function malformed(description = 'is not a page token of this request'): InvalidArgumentError {
  return new InvalidArgumentError([{ field: 'page_token', reason: 'INVALID_FORMAT', description }]);
}

/**
 * An opaque page token: base64url JSON of the kind, a fingerprint of the request's filters and the cursor (a time in
 * ms and an id). Opaque to callers; not secret (it names only what the caller may read anyway).
 */
export function encodePageToken<K extends TokenKind>(kind: K, cursor: Cursors[K], scope: object): string {
  const [at, id] =
    kind === 'conversations'
      ? [(cursor as ConversationCursor).lastMessageAt.getTime(), (cursor as ConversationCursor).conversationId]
      : [(cursor as TranscriptCursor).occurredAt.getTime(), (cursor as TranscriptCursor).recordId];
  return encodePageTokenFields({ k: kind, f: requestFingerprint(scope), t: at, i: id });
}

/**
 * The cursor of a token made by {@link encodePageToken} for the same kind and scope; InvalidArgumentError naming
 * `page_token` (never quoting it) for anything else, including a token of a request with other filters.
 */
export function decodePageToken<K extends TokenKind>(kind: K, token: string, scope: object): Cursors[K] {
  const parsed = decodePageTokenFields(token, { maxChars: MAX_PAGE_TOKEN_LENGTH });
  if (!parsed) throw malformed();
  const { k, f, t, i } = parsed;
  if (k !== kind || typeof t !== 'number' || !Number.isSafeInteger(t) || typeof i !== 'string' || i.length === 0 || i.length > 256)
    throw malformed();
  if (f !== requestFingerprint(scope)) throw malformed('belongs to a request with other filters');
  const cursor = kind === 'conversations' ? { lastMessageAt: new Date(t), conversationId: i } : { occurredAt: new Date(t), recordId: i };
  return cursor as Cursors[K];
}
