import type { FieldViolation } from '@waygate/domain';

/**
 * Parses what a user typed into search terms. User input is never query syntax: quotes group a phrase, and every
 * other character (`*`, `-`, `(`, `NEAR`, `AND`, `:` ...) is text. Each term is routed to the index that can answer it:
 *
 * - `word`: terms in scripts with spaces between words (Latin, Cyrillic, Greek, Arabic ...) go to a word index that
 *   folds case and diacritics ("cafe" finds "café", "muller" finds "Müller", "привет" finds "ПРИВЕТ").
 * - `trigram`: terms of 3 or more characters that contain a script written without spaces (Chinese, Japanese, Thai,
 *   Lao, Khmer, Myanmar, Tibetan; and Korean, whose particles attach to words) go to a substring index of trigrams,
 *   so "退款" is found inside "我想申请退款可以吗". So do terms of 3 or more symbols only (":-)").
 * - `gram`: 1-2 character terms in those scripts, which a trigram index cannot answer, go to an index of every
 *   1- and 2-character substring of the runs of those scripts (Lucene's CJK bigrams, plus unigrams). It is an index,
 *   not a scan, so a 2-character Chinese word is as fast over a million messages as any other term.
 *
 * Terms of 1-2 symbols only ("-", "*", "()") cannot be indexed by any of them and are dropped; a query left without
 * a term is invalid.
 */

/** Which index answers a term. */
export type TermRoute = 'word' | 'trigram' | 'gram';

/** One term: every term of a query must match (AND). A phrase is one term. */
export interface SearchTerm {
  /** NFC, whitespace collapsed; not yet folded (each index folds as it tokenizes). */
  readonly text: string;
  readonly route: TermRoute;
}

/** A parsed query. */
export interface SearchQuery {
  readonly terms: readonly SearchTerm[];
}

/** Longest query, in characters (code points). */
export const MAX_QUERY_CHARS = 256;
/** Most terms a query may have: each is one more index lookup and intersection. */
export const MAX_QUERY_TERMS = 16;
/** Terms this long or longer in scripts without spaces are answered by the trigram index. */
export const TRIGRAM_MIN_CHARS = 3;

/** Scripts written without spaces between words (plus Hangul, see above): searched by substring. */
const NO_SPACE_SCRIPT =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}\p{Script=Hangul}]/u;
const NO_SPACE_RUNS =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}\p{Script=Hangul}]+/gu;
const WORD_CHARACTER = /[\p{L}\p{N}]/u;
const WORD_RUNS = /[\p{L}\p{N}\p{M}]+/gu;
/** Control and format characters are separators, never part of a term. */
const CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
/** A quoted phrase, or a run of anything but whitespace (an unbalanced quote is then just a character). */
const RAW_TERMS = /"([^"]*)"|(\S+)/gu;

/** Whether a character (or string) belongs to a script searched by substring. */
export function isNoSpaceScript(text: string): boolean {
  return NO_SPACE_SCRIPT.test(text);
}

/** The runs of scripts without spaces in `text` (what the gram index indexes). */
export function noSpaceRuns(text: string): string[] {
  return text.match(NO_SPACE_RUNS) ?? [];
}

function lengthOf(text: string): number {
  return [...text].length;
}

/** Routes one term as described above; a short mixed term is split into its parts. */
function routeTerm(text: string): SearchTerm[] {
  const chars = lengthOf(text);
  if (isNoSpaceScript(text)) {
    if (chars >= TRIGRAM_MIN_CHARS) return [{ text, route: 'trigram' }];
    // 1-2 characters, some in a script without spaces ("退", "退款", "a退"): the gram index for those, words for the rest.
    const grams = noSpaceRuns(text).map((run): SearchTerm => ({ text: run, route: 'gram' }));
    const words = text
      .replace(NO_SPACE_RUNS, ' ')
      .match(WORD_RUNS)
      ?.map((word): SearchTerm => ({ text: word, route: 'word' }));
    return [...grams, ...(words ?? [])];
  }
  if (WORD_CHARACTER.test(text)) return [{ text, route: 'word' }];
  return chars >= TRIGRAM_MIN_CHARS ? [{ text, route: 'trigram' }] : [];
}

/**
 * Parses `raw` (see the module comment), or returns the violations of field `field`: empty, longer than
 * {@link MAX_QUERY_CHARS}, more than {@link MAX_QUERY_TERMS} terms, or nothing searchable. Descriptions never quote
 * the query.
 */
export function parseSearchQuery(raw: string, field = 'query'): { query: SearchQuery } | { violations: FieldViolation[] } {
  if (lengthOf(raw) > MAX_QUERY_CHARS) {
    return { violations: [{ field, reason: 'TOO_LONG', description: `must be at most ${MAX_QUERY_CHARS} characters` }] };
  }
  const cleaned = raw.normalize('NFC').replace(CONTROL, ' ');
  if (cleaned.trim() === '') return { violations: [{ field, reason: 'REQUIRED', description: 'is required' }] };
  const seen = new Set<string>();
  const terms: SearchTerm[] = [];
  for (const match of cleaned.matchAll(RAW_TERMS)) {
    const text = (match[1] ?? match[2] ?? '').trim().replace(/\s+/gu, ' ');
    for (const term of text ? routeTerm(text) : []) {
      const key = `${term.route}\u0000${term.text.toLowerCase()}`;
      if (seen.has(key)) continue;
      seen.add(key);
      terms.push(term);
    }
  }
  if (terms.length === 0) {
    return { violations: [{ field, reason: 'NOTHING_TO_SEARCH', description: 'must contain a letter or digit (or at least 3 symbols)' }] };
  }
  if (terms.length > MAX_QUERY_TERMS) {
    return { violations: [{ field, reason: 'TOO_MANY_TERMS', description: `must have at most ${MAX_QUERY_TERMS} terms` }] };
  }
  return { query: { terms } };
}

/**
 * A term as an FTS5 string literal: in double quotes, inner quotes doubled. Inside a string FTS5 sees no operator,
 * column filter, prefix star or NEAR group, only text for its tokenizer, so no input can raise a syntax error.
 */
export function toFtsString(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/** A run of 3 or more characters that are not letters or digits: where a symbol term (":-)") can match. */
const SYMBOL_RUN = /[^\p{L}\p{N}]{3,}/u;

/**
 * Whether the trigram index must hold `text`: only a text with a character of a script without spaces, or with 3
 * symbols in a row, can contain a trigram term (see routeTerm), so the others (most Latin and Cyrillic messages)
 * are left out of it. That keeps the largest index small and ingest fast, and loses no match.
 */
export function needsTrigrams(text: string): boolean {
  return NO_SPACE_SCRIPT.test(text) || SYMBOL_RUN.test(text);
}

/**
 * The gram index's document for `text`: every 1- and 2-character substring of each run of a script without spaces,
 * separated by spaces (empty when there is none).
 */
export function gramsOf(text: string): string {
  const grams: string[] = [];
  for (const run of noSpaceRuns(text.normalize('NFC'))) {
    const chars = [...run];
    chars.forEach((char, index) => {
      grams.push(char);
      if (index + 1 < chars.length) grams.push(char + chars[index + 1]);
    });
  }
  return grams.join(' ');
}
