import { isNoSpaceScript } from './search-query';

/**
 * Case and diacritics folding in JavaScript, close to what SQLite's unicode61 tokenizer (remove_diacritics 2) and
 * MongoDB's version 3 text index do: used for snippets (both adapters) and for the MongoDB adapter's word lists.
 */

/** A word of folded text: letters, digits and combining marks (unicode61 separates on everything else). */
export const FOLDED_WORD = /[\p{L}\p{N}\p{M}]+/gu;

/** Folded text, and where each of its UTF-16 units came from. */
export interface FoldedText {
  readonly folded: string;
  /** For each UTF-16 unit of `folded`: the index of the code point of the original it came from. */
  readonly origin: readonly number[];
}

/**
 * Folds code points: lower case and without diacritics, except in scripts without spaces (whose combining marks,
 * Thai vowels for one, are part of the letter).
 */
export function foldChars(chars: readonly string[]): FoldedText {
  let folded = '';
  const origin: number[] = [];
  chars.forEach((char, index) => {
    const out = isNoSpaceScript(char) ? char : char.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    for (let unit = 0; unit < out.length; unit += 1) origin.push(index);
    folded += out;
  });
  return { folded, origin };
}

/** `text` folded (see {@link foldChars}). */
export function foldText(text: string): string {
  return foldChars([...text.normalize('NFC')]).folded;
}

/** The distinct folded words of `text`. */
export function foldedWordsOf(text: string): string[] {
  return [...new Set(foldText(text).match(FOLDED_WORD) ?? [])];
}
