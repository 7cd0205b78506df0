import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSearchQuery, type SearchTerm } from './search-query';
import { buildSnippet } from './snippet';

function termsOf(raw: string): readonly SearchTerm[] {
  const parsed = parseSearchQuery(raw);
  assert.ok('query' in parsed);
  return parsed.query.terms;
}

test('wraps every match in brackets, folding case and diacritics', () => {
  assert.equal(buildSnippet('Ein Café mit Herrn MÜLLER', termsOf('cafe muller')), 'Ein [Café] mit Herrn [MÜLLER]');
  assert.equal(buildSnippet('ПРИВЕТ и привет', termsOf('привет')), '[ПРИВЕТ] и [привет]');
  assert.equal(buildSnippet('我想申请退款可以吗', termsOf('退款')), '我想申请[退款]可以吗');
  assert.equal(buildSnippet('order orderly reorder', termsOf('order')), '[order] orderly reorder', 'word terms match whole words');
  assert.equal(buildSnippet('cafe order please', termsOf('"cafe order"')), '[cafe order] please');
  assert.equal(buildSnippet('smile :-) now', termsOf(':-)')), 'smile [:-)] now');
});

test('cuts long text around the first match, at a word boundary, with ellipses', () => {
  const text = `${'lorem ipsum '.repeat(20)}the refund arrived ${'dolor sit '.repeat(30)}`;
  const snippet = buildSnippet(text, termsOf('refund'), 60);
  assert.match(snippet, /^….*\[refund\] arrived.*…$/u);
  assert.ok(snippet.replace(/[[\]…]/gu, '').length <= 60, snippet);
  assert.match(snippet, /^…(lorem|ipsum) /u, 'starts at a word');
});

test('keeps characters outside the basic plane whole and shows the start when nothing matches', () => {
  assert.equal(buildSnippet('😀 𠮷野家 refund', termsOf('refund')), '😀 𠮷野家 [refund]');
  assert.equal(buildSnippet('no match here', termsOf('absent')), 'no match here');
});
