import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gramsOf, MAX_QUERY_CHARS, MAX_QUERY_TERMS, needsTrigrams, parseSearchQuery, toFtsString, type SearchTerm } from './search-query';

function terms(raw: string): SearchTerm[] {
  const parsed = parseSearchQuery(raw);
  assert.ok('query' in parsed, `${raw} parses`);
  return [...parsed.query.terms];
}

function violation(raw: string): string {
  const parsed = parseSearchQuery(raw);
  assert.ok('violations' in parsed, `${raw} is refused`);
  assert.equal(parsed.violations.length, 1);
  assert.equal(parsed.violations[0]?.field, 'query');
  return parsed.violations[0]?.reason ?? '';
}

test('routes each term to the index that can answer it', () => {
  const cases: [string, SearchTerm[]][] = [
    [
      'café Müller',
      [
        { text: 'café', route: 'word' },
        { text: 'Müller', route: 'word' },
      ],
    ],
    ['привет', [{ text: 'привет', route: 'word' }]],
    ['申请退款', [{ text: '申请退款', route: 'trigram' }]],
    ['退款', [{ text: '退款', route: 'gram' }]],
    ['退', [{ text: '退', route: 'gram' }]],
    [
      'คืนเงิน ดี',
      [
        { text: 'คืนเงิน', route: 'trigram' },
        { text: 'ดี', route: 'gram' },
      ],
    ],
    [
      'a退',
      [
        { text: '退', route: 'gram' },
        { text: 'a', route: 'word' },
      ],
    ],
    ['iPhone退款', [{ text: 'iPhone退款', route: 'trigram' }]],
    [':-)', [{ text: ':-)', route: 'trigram' }]],
    [
      '"refund request" now',
      [
        { text: 'refund request', route: 'word' },
        { text: 'now', route: 'word' },
      ],
    ],
    ['"  spaced   out  "', [{ text: 'spaced out', route: 'word' }]],
    [
      'NEAR(a b) AND -x *',
      [
        { text: 'NEAR(a', route: 'word' },
        { text: 'b)', route: 'word' },
        { text: 'AND', route: 'word' },
        { text: '-x', route: 'word' },
      ],
    ],
    [
      '"unbalanced quote',
      [
        { text: '"unbalanced', route: 'word' },
        { text: 'quote', route: 'word' },
      ],
    ],
    ['Same same SAME', [{ text: 'Same', route: 'word' }]],
    [
      'tab\there\u0000nul',
      [
        { text: 'tab', route: 'word' },
        { text: 'here', route: 'word' },
        { text: 'nul', route: 'word' },
      ],
    ],
  ];
  for (const [raw, expected] of cases) assert.deepEqual(terms(raw), expected, raw);
});

test('composes decomposed input (NFC) so it matches composed text', () => {
  assert.deepEqual(terms('cafe\u0301'), [{ text: 'café', route: 'word' }]);
});

test('refuses an empty, over-long, over-many-terms or unsearchable query, naming the field', () => {
  assert.equal(violation(''), 'REQUIRED');
  assert.equal(violation('   \t '), 'REQUIRED');
  assert.equal(violation('a'.repeat(MAX_QUERY_CHARS + 1)), 'TOO_LONG');
  assert.equal(terms('退'.repeat(MAX_QUERY_CHARS)).length, 1, 'the limit counts characters, not bytes');
  assert.equal(violation(Array.from({ length: MAX_QUERY_TERMS + 1 }, (_, i) => `w${i}`).join(' ')), 'TOO_MANY_TERMS');
  assert.equal(terms(Array.from({ length: MAX_QUERY_TERMS }, (_, i) => `w${i}`).join(' ')).length, MAX_QUERY_TERMS);
  assert.equal(violation('* - ()'), 'NOTHING_TO_SEARCH');
  assert.equal(violation('""'), 'NOTHING_TO_SEARCH');
  const parsed = parseSearchQuery('x'.repeat(300));
  assert.ok('violations' in parsed && !parsed.violations[0]?.description.includes('xxx'), 'the description never quotes the query');
});

test('quotes every term as an FTS5 string', () => {
  assert.equal(toFtsString('say "hi"'), '"say ""hi"""');
  assert.equal(toFtsString('NEAR(a'), '"NEAR(a"');
});

test('grams are every 1- and 2-character substring of runs of scripts without spaces', () => {
  assert.equal(gramsOf('我想 ok 退款!'), '我 我想 想 退 退款 款');
  assert.equal(gramsOf('only latin'), '');
});

test('the trigram index holds only texts that can contain a trigram term', () => {
  assert.equal(needsTrigrams('我想申请退款'), true);
  assert.equal(needsTrigrams('smile :-)'), true);
  assert.equal(needsTrigrams('Wait... what'), true);
  assert.equal(needsTrigrams('Ein Café, bitte. Danke!'), false);
  assert.equal(needsTrigrams('привет, мир'), false);
});
