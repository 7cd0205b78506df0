import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@waygate/domain';
import { parseWatchRequest } from './event-watch';

const empty = { afterSequence: '0', messageIds: [], recipients: [], eventTypes: [] };

test('a valid request becomes a sequence and a filter (duplicates dropped, empty filters absent)', () => {
  assert.deepEqual(parseWatchRequest(empty), { afterSequence: 0, filter: {} });
  assert.deepEqual(
    parseWatchRequest({ afterSequence: '42', messageIds: ['m1', 'm1'], recipients: ['+4915112345678'], eventTypes: ['status', 'inbound'] }),
    { afterSequence: 42, filter: { messageIds: ['m1'], customers: ['+4915112345678'], types: ['status', 'inbound'] } },
  );
});

test('every bad field is named, without echoing phone numbers', () => {
  assert.throws(
    () =>
      parseWatchRequest({
        afterSequence: '99999999999999999999',
        messageIds: ['ok', '', 'x'.repeat(129)],
        recipients: ['004915112345678', '+4915112345678'],
        eventTypes: ['status', 'unspecified'],
      }),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.deepEqual(
        error.violations.map((v) => v.field),
        ['after_sequence', 'message_ids[1]', 'message_ids[2]', 'recipients[0]', 'event_types[1]'],
      );
      assert.doesNotMatch(error.message, /4915112345678/);
      return true;
    },
  );
});

test('filters are limited to 100 values each', () => {
  const many = Array.from({ length: 101 }, (_, i) => `m${i}`);
  assert.throws(
    () => parseWatchRequest({ ...empty, messageIds: many }),
    (error: unknown) =>
      error instanceof InvalidArgumentError && error.violations.some((v) => v.field === 'message_ids' && v.reason === 'TOO_MANY'),
  );
});
