import type { SearchTerm } from './search-query';
import { foldChars, foldText, FOLDED_WORD, type FoldedText } from './text-folding';

/**
 * Highlighted snippets, built the same way for every adapter (MongoDB has no highlighter outside Atlas Search, and
 * SQLite's snippet() knows only one FTS table while a query may use three). Matching folds case and diacritics
 * like the indexes do: a word term matches whole words (a phrase: consecutive words), the other terms match
 * substrings.
 */

/** Longest snippet, in characters, before the `…` marks. */
export const SNIPPET_CHARS = 160;
/** Characters of context kept before the first match. */
const LEAD_CHARS = 40;

type Range = [start: number, end: number];

/** Code point ranges [start, end) of `text` that `term` matches. */
function matchRanges(text: FoldedText, words: readonly { start: number; end: number; word: string }[], term: SearchTerm): Range[] {
  const ranges: Range[] = [];
  const toRange = (start: number, endExclusive: number): Range => [text.origin[start] ?? 0, (text.origin[endExclusive - 1] ?? 0) + 1];
  if (term.route === 'word') {
    const phrase = foldText(term.text).match(FOLDED_WORD) ?? [];
    if (phrase.length === 0) return ranges;
    for (let i = 0; i + phrase.length <= words.length; i += 1) {
      if (phrase.every((word, k) => words[i + k]?.word === word)) {
        ranges.push(toRange(words[i]?.start ?? 0, words[i + phrase.length - 1]?.end ?? 0));
      }
    }
    return ranges;
  }
  const needle = foldText(term.text);
  if (!needle) return ranges;
  for (let at = text.folded.indexOf(needle); at >= 0; at = text.folded.indexOf(needle, at + needle.length)) {
    ranges.push(toRange(at, at + needle.length));
  }
  return ranges;
}

function mergeRanges(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: Range[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  return merged;
}

/**
 * An excerpt of `text` of at most {@link SNIPPET_CHARS} characters around its first match, each match wrapped in
 * `[` and `]`, with `…` where text was cut. Without a match (the index matched a form the folding here does not
 * reproduce) it is the start of the text, unmarked.
 */
export function buildSnippet(text: string, terms: readonly SearchTerm[], maxChars = SNIPPET_CHARS): string {
  const chars = [...text.normalize('NFC')];
  const folded = foldChars(chars);
  const words = [...folded.folded.matchAll(FOLDED_WORD)].map((m) => ({
    start: m.index,
    end: m.index + m[0].length,
    word: m[0],
  }));
  const ranges = mergeRanges(terms.flatMap((term) => matchRanges(folded, words, term)));
  const first = ranges[0];
  let start = first ? Math.max(0, first[0] - LEAD_CHARS) : 0;
  // Start at a word boundary when one is near, rather than in the middle of a word.
  if (start > 0) {
    const space = chars.slice(start, first?.[0] ?? start).findIndex((char) => /\s/u.test(char));
    if (space >= 0) start += space + 1;
  }
  const end = Math.min(chars.length, start + maxChars);
  let snippet = start > 0 ? '…' : '';
  let at = start;
  for (const [from, to] of ranges) {
    if (to <= start || from >= end) continue;
    const open = Math.max(from, start);
    const close = Math.min(to, end);
    snippet += `${chars.slice(at, open).join('')}[${chars.slice(open, close).join('')}]`;
    at = close;
  }
  snippet += chars.slice(at, end).join('');
  if (end < chars.length) snippet += '…';
  return snippet.replace(/\s+/gu, ' ');
}
