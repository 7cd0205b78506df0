import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePageTokenFields, encodePageTokenFields, requestFingerprint } from './page-token';

test('a page token round-trips its fields; anything else decodes to undefined', () => {
  const fingerprint = requestFingerprint(['+4915112345678', ['READ'], null]);
  assert.equal(fingerprint, requestFingerprint(['+4915112345678', ['READ'], null]));
  assert.notEqual(fingerprint, requestFingerprint(['+4915112345678', ['SENT'], null]));

  const token = encodePageTokenFields({ t: 1_700_000_000_000, i: 'msg_1', f: fingerprint }, 's1.');
  assert.deepEqual(decodePageTokenFields(token, { maxChars: 200, prefix: 's1.' }), { t: 1_700_000_000_000, i: 'msg_1', f: fingerprint });
  assert.equal(decodePageTokenFields(token, { maxChars: token.length - 1, prefix: 's1.' }), undefined, 'too long');
  assert.equal(decodePageTokenFields(token, { maxChars: 200 }), undefined, 'a prefixed token is not base64url without its prefix');
  assert.equal(decodePageTokenFields(token.slice(3), { maxChars: 200, prefix: 's1.' }), undefined, 'without the prefix');
  for (const bad of ['', 'not a token!', Buffer.from('[1,2]').toString('base64url'), Buffer.from('null').toString('base64url'), 'e30x'])
    assert.equal(decodePageTokenFields(bad, { maxChars: 200 }), undefined, bad);
});
