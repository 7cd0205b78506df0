import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containsKeyword, foldText, prepareKeyword } from './keywords';

const has = (text: string, keyword: string) => containsKeyword(foldText(text), prepareKeyword(keyword));

test('keywords match case- and diacritics-insensitively, as whole words or phrases', () => {
  assert.ok(has('Olá, tudo bem?', 'ola'));
  assert.ok(has('OLA', 'Olá'));
  assert.ok(has('Merci beaucoup', 'MERCI'));
  assert.ok(has('Спасибо за ожидание', 'СПАСИБО'));
  assert.ok(has('Thank you for waiting.', 'thank you'));
  assert.ok(has('Ñandú', 'nandu'));
  assert.ok(!has('this', 'hi'), 'inside a word');
  assert.ok(!has('thank  you', 'thank you'), 'a phrase matches its exact spacing');
  assert.ok(!has('anything', ''), 'an empty keyword never matches');
});

test('in scripts without spaces a keyword matches inside the text', () => {
  assert.ok(has('您好，感谢您的耐心等待', '感谢'));
  assert.ok(has('สวัสดีครับ ขอบคุณที่รอ', 'ขอบคุณ'));
});
