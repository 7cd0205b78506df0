import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_VALIDITY_SECONDS,
  MIN_VALIDITY_SECONDS,
  categoryOf,
  defaultValiditySeconds,
  malformedDurationField,
  type MessageCategory,
} from './validity';

test('default validity per category: authentication 10 minutes, everything else 30 days', () => {
  const expected: Record<MessageCategory, number> = {
    authentication: 600,
    text: 30 * 86_400,
    template: 30 * 86_400,
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

test('validity bounds: at least 30 seconds, every default within them', () => {
  assert.equal(MIN_VALIDITY_SECONDS, 30);
  for (const category of ['authentication', 'text', 'utility', 'marketing', 'service'] as const) {
    assert.ok(defaultValiditySeconds(category) >= MIN_VALIDITY_SECONDS, category);
  }
});

test('a google.protobuf.Duration is malformed when nanos exceed ±999,999,999 or disagree with the sign of seconds', () => {
  const cases: [number, number, 'seconds' | 'nanos' | undefined][] = [
    [0, 0, undefined],
    [30, 999_999_999, undefined],
    [-30, -999_999_999, undefined],
    [0, -5, undefined],
    [315_576_000_000, 0, undefined],
    [10, 2_000_000_000, 'nanos'],
    [0, 1_000_000_000, 'nanos'],
    [-1, 5, 'nanos'],
    [1, -5, 'nanos'],
    [315_576_000_001, 0, 'seconds'],
    [-315_576_000_001, 0, 'seconds'],
    [1.5, 0, 'seconds'],
    [Number.NaN, 0, 'seconds'],
  ];
  for (const [seconds, nanos, expected] of cases)
    assert.equal(malformedDurationField({ seconds, nanos }), expected, `${seconds}s ${nanos}ns`);
});
