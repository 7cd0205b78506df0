import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundJson, deeperThanMarker, largerThanMarker, nestsDeeperThan, OMITTED_KEY } from './bounded-json';

const deep = (depth: number) => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`) as unknown;

test('a value within the limits is copied whole', () => {
  const value = { id: 'x', items: [{ sku: 'a', qty: 2, price: 9.5, gift: false, note: null }], nested: { deeper: [[1], []] } };
  const bounded = boundJson(value, { maxDepth: 32, maxBytes: 64 * 1024 });
  assert.deepEqual(bounded.value, value);
  assert.notEqual(bounded.value, value, 'a copy');
  assert.equal(bounded.omitted.size, 0);
});

test('containers deeper than maxDepth become a marker; the shallow parts stay', () => {
  const bounded = boundJson({ keep: 'me', deep: deep(10_000) }, { maxDepth: 4, maxBytes: 64 * 1024 });
  assert.deepEqual(bounded.value, { keep: 'me', deep: { a: { a: { a: deeperThanMarker(4) } } } }, 'root, deep, a, a: four levels');
  assert.deepEqual([...bounded.omitted], ['depth']);
  assert.deepEqual(boundJson([[[1]]], { maxDepth: 3, maxBytes: 100 }).value, [[[1]]], 'exactly maxDepth levels are kept');
});

test('what does not fit into maxBytes is left out, marked once per container that lost entries', () => {
  const value = { head: 'h', items: Array.from({ length: 10_000 }, (_, i) => ({ i })), tail: 't' };
  const bounded = boundJson(value, { maxDepth: 32, maxBytes: 1000 });
  const text = JSON.stringify(bounded.value);
  assert.ok(text.length <= 1000 + 200, `${text.length} bytes`);
  const copy = bounded.value as { head: string; items: unknown[]; [OMITTED_KEY]: string };
  assert.equal(copy.head, 'h');
  assert.equal(copy.items.at(-1), largerThanMarker(1000));
  assert.deepEqual(copy.items[0], { i: 0 });
  assert.equal(copy[OMITTED_KEY], largerThanMarker(1000));
  assert.ok(!('tail' in copy));
  assert.deepEqual([...bounded.omitted], ['size']);
});

test('escapes count: a string of control characters is measured as JSON, not by its length', () => {
  const bounded = boundJson({ s: '\u0000'.repeat(1000) }, { maxDepth: 32, maxBytes: 2000 });
  assert.deepEqual(bounded.value, { [OMITTED_KEY]: largerThanMarker(2000) });
  assert.deepEqual(boundJson('x'.repeat(100), { maxDepth: 32, maxBytes: 10 }).value, largerThanMarker(10));
});

test('a `__proto__` key stays an ordinary key and never sets a prototype', () => {
  const value = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
  const copy = boundJson(value, { maxDepth: 32, maxBytes: 1000 }).value as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(copy), Object.prototype);
  assert.equal(JSON.stringify(copy), '{"__proto__":{"polluted":true},"a":1}');
  assert.equal((copy as { polluted?: boolean }).polluted, undefined);
});

test('no recursion: a million levels are measured and cut without overflowing the stack', () => {
  const value = deep(1_000_000);
  assert.equal(nestsDeeperThan(value, 64), true);
  assert.equal(nestsDeeperThan(deep(64), 64), false);
  assert.equal(nestsDeeperThan(deep(65), 64), true);
  assert.equal(nestsDeeperThan('scalar', 0), false);
  const bounded = boundJson(value, { maxDepth: 64, maxBytes: Number.POSITIVE_INFINITY });
  assert.equal(nestsDeeperThan(bounded.value, 64), false);
  assert.doesNotThrow(() => JSON.stringify(bounded.value));
});
