import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@waygate/domain';
import type { ConversationCursor, TranscriptCursor } from './conversation';

/** What a page token continues: its kind names the cursor it carries. */
interface Cursors {
  readonly conversations: ConversationCursor;
  readonly transcript: TranscriptCursor;
}
type TokenKind = keyof Cursors;

/** Longer tokens are never ours; refused before decoding. */
const MAX_PAGE_TOKEN_LENGTH = 512;

/** A short digest of the request's other fields: a token only continues the request it came from. */
function fingerprintOf(scope: object): string {
  const canonical = JSON.stringify(scope, (_key, value: unknown) => (value instanceof Date ? value.getTime() : value));
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

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
  return Buffer.from(JSON.stringify({ k: kind, f: fingerprintOf(scope), t: at, i: id })).toString('base64url');
}

/**
 * The cursor of a token made by {@link encodePageToken} for the same kind and scope; InvalidArgumentError naming
 * `page_token` (never quoting it) for anything else, including a token of a request with other filters.
 */
export function decodePageToken<K extends TokenKind>(kind: K, token: string, scope: object): Cursors[K] {
  if (token.length > MAX_PAGE_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw malformed();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (parsed === null || typeof parsed !== 'object') throw malformed();
  const { k, f, t, i } = parsed as Record<string, unknown>;
  if (k !== kind || typeof t !== 'number' || !Number.isSafeInteger(t) || typeof i !== 'string' || i.length === 0 || i.length > 256)
    throw malformed();
  if (f !== fingerprintOf(scope)) throw malformed('belongs to a request with other filters');
  const cursor = kind === 'conversations' ? { lastMessageAt: new Date(t), conversationId: i } : { occurredAt: new Date(t), recordId: i };
  return cursor as Cursors[K];
}
