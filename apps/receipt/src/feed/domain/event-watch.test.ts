import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { InvalidArgumentError } from '@waygate/domain';
import { createTempDir } from '@waygate/testing';
import { SqliteFeedStore } from '../adapters/sqlite-feed-store';
import { parseWatchRequest, watchEvents } from './event-watch';
import { FeedWakeups } from './feed-wakeups';
import type { TenantEvent } from './tenant-event';

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

test('after pruning, 0 starts at the oldest retained event and a position inside the pruned part is refused', async () => {
  const dir = createTempDir();
  const store = new SqliteFeedStore(path.join(dir.path, 'feed.sqlite'));
  try {
    for (let i = 1; i <= 5; i++) {
      await store.appendEvent({
        type: 'inbound',
        tenantId: 'acme',
        eventId: `inbound.w${i}`,
        occurredAt: new Date(i * 1000),
        recordedAt: new Date(i * 1000),
        inbound: { waMessageId: `w${i}`, phoneNumberId: '1', from: '+4915112345678', type: 'text' },
      });
    }
    await store.prune(new Date(3_500)); // drops 1..3
    const deps = { store, wakeups: new FeedWakeups(), recheckMs: 60_000 };
    const stop = new AbortController();
    const written: number[] = [];
    const sink = {
      write: async (event: TenantEvent) => {
        written.push(event.sequence);
        if (written.length === 2) stop.abort();
      },
    };
    await watchEvents(deps, 'acme', parseWatchRequest({ ...empty, afterSequence: '0' }), sink, stop.signal);
    assert.deepEqual(written, [4, 5]);
    await watchEvents(deps, 'acme', parseWatchRequest({ ...empty, afterSequence: '3' }), sink, AbortSignal.abort());
    await assert.rejects(
      watchEvents(deps, 'acme', parseWatchRequest({ ...empty, afterSequence: '2' }), sink, new AbortController().signal),
      (error: unknown) => error instanceof InvalidArgumentError && error.violations[0].reason === 'NOT_RETAINED',
    );
  } finally {
    await store.close();
    dir.remove();
  }
});
