import { decodePageTokenFields, encodePageTokenFields } from '@waygate/domain';

/**
 * SearchMessages' opaque page token: the offset into the ranked result, bound to the query and filters it was issued
 * for (a fingerprint), so a token replayed with another query is refused instead of paging through something else.
 * Ranked results are paged by offset: a bm25 score is not a stable key (it moves as messages are added), and offset
 * pages are what a person reading "page 3" expects. The offset is bounded by {@link MAX_SEARCH_OFFSET}.
 */

/** How deep a search pages: beyond the first 10,000 hits, narrow the query or the filters. */
export const MAX_SEARCH_OFFSET = 10_000;
const TOKEN_PREFIX = 's1.';
const MAX_TOKEN_CHARS = 200;

export function encodeSearchPageToken(offset: number, fingerprint: string): string {
  return encodePageTokenFields({ o: offset, f: fingerprint }, TOKEN_PREFIX);
}

/** The offset a token stands for, or undefined when it is malformed, too deep or issued for another search. */
export function decodeSearchPageToken(token: string, fingerprint: string): number | undefined {
  const value = decodePageTokenFields(token, { maxChars: MAX_TOKEN_CHARS, prefix: TOKEN_PREFIX });
  const offset = value?.o;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset <= 0 || offset > MAX_SEARCH_OFFSET) return undefined;
  return value?.f === fingerprint ? offset : undefined;
}
