/**
 * Keyword matching for the scorecard: case- and diacritics-insensitive ("OLÁ" matches "ola", "Merci" matches
 * "MERCI"), whole words in spaced scripts.
 */

/** Lowercase, compatibility-decomposed, without combining marks: "Olá" and "OLA" both give "ola". */
export function foldText(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/** Scripts written without spaces between words: there, a keyword matches anywhere inside the text. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const WORD_CHAR = /[\p{L}\p{N}]/u;

/** A keyword prepared for matching. */
export interface Keyword {
  /** As configured. */
  readonly keyword: string;
  readonly folded: string;
}

/** Prepares a keyword (folded once). */
export function prepareKeyword(keyword: string): Keyword {
  return { keyword, folded: foldText(keyword.trim()) };
}

/**
 * Whether a folded text contains the keyword as a whole word or phrase ("hi" is not found in "this"); a keyword
 * that starts or ends in a script without spaces (Chinese, Japanese, Thai ...) matches inside words on that side.
 */
export function containsKeyword(foldedText: string, keyword: Keyword): boolean {
  const needle = keyword.folded;
  if (needle.length === 0) return false;
  const first = needle[0] ?? '';
  const last = needle.at(-1) ?? '';
  for (let at = foldedText.indexOf(needle); at !== -1; at = foldedText.indexOf(needle, at + 1)) {
    const before = foldedText[at - 1];
    const after = foldedText[at + needle.length];
    const startsOk = UNSPACED.test(first) || before === undefined || !WORD_CHAR.test(before);
    const endsOk = UNSPACED.test(last) || after === undefined || !WORD_CHAR.test(after);
    if (startsOk && endsOk) return true;
  }
  return false;
}
