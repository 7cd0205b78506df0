import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_VALIDITY_SECONDS, categoryOf, defaultValiditySeconds, type MessageCategory } from './validity';

test('default validity per category: authentication 10 minutes, everything else 30 days', () => {
  const expected: Record<MessageCategory, number> = {
    authentication: 600,
    text: 30 * 86_400,
    utility: 30 * 86_400,
    marketing: 30 * 86_400,
    service: 30 * 86_400,
  };
  for (const [category, seconds] of Object.entries(expected)) {
    assert.equal(defaultValiditySeconds(category as MessageCategory), seconds, category);
    assert.ok(defaultValiditySeconds(category as MessageCategory) <= MAX_VALIDITY_SECONDS, `${category} default is within the maximum`);
  }
  assert.equal(MAX_VALIDITY_SECONDS, 30 * 86_400);
});

test('free-form text is the text category', () => {
  assert.equal(categoryOf({ kind: 'text', body: 'hi', previewUrl: false }), 'text');
});
