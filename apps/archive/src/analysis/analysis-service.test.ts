import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError, NotFoundError } from '@waygate/domain';
import type { TranscriptEntry } from '../domain/transcript';
import { createAnalysisService, type AnalysisReader, type ConversationRef } from './analysis-service';
import { business, customer, HOUR, MINUTE, T0 } from './transcript-fixtures';

const DAY = 24 * HOUR;
const conversation = { conversationId: 'cv_one', customer: '+4915112345678', phoneNumberId: '200' };
const entries: TranscriptEntry[] = [
  customer(T0, 'already scored', { sentiment: { language: 'en', score: -1, label: 'negative' } }),
  business(T0 + 3 * MINUTE, 'Hello!', {
    statuses: [['DELIVERED', T0 + 3 * MINUTE, { billable: true, type: 'regular', category: 'utility' }]],
  }),
  customer(T0 + 5 * MINUTE, 'needs scoring'),
];

/** An in-memory reader that records the ranges it was asked for. */
function reader(): AnalysisReader<typeof conversation> & { ranges: unknown[] } {
  const ranges: unknown[] = [];
  return {
    ranges,
    getConversation: async (tenantId, id) => (tenantId === 'acme' && id === conversation.conversationId ? conversation : undefined),
    async *transcript(_tenantId, _id, range) {
      ranges.push(range);
      yield* entries.filter((entry) => range.to === undefined || entry.occurredAt < range.to);
    },
    async *conversations(tenantId) {
      if (tenantId === 'acme') yield conversation;
    },
  };
}

function service(store = reader(), settings = true) {
  return createAnalysisService<ConversationRef & typeof conversation>({
    reader: store,
    settingsOf: () =>
      settings
        ? {
            rateCard: {
              currency: 'EUR',
              rates: [{ country: 'DE', category: 'utility', amountMicros: 25_000, effectiveFrom: '2025-01-01' }],
            },
            scorecard: {
              name: 'basics',
              criteria: [
                { name: 'fast', weight: 1, kind: 'firstReplyWithin', minutes: 5 },
                { name: 'sentiment', weight: 1, kind: 'sentimentNotWorse' },
                { name: 'greets', weight: 2, kind: 'keywordsRequired', keywords: ['hello'] },
              ],
            },
          }
        : undefined,
    // A fake analyser: the real one is tested in text-analysis.test.ts.
    analyzeText: async () => ({ language: 'en', score: 2, label: 'positive' }),
    clock: { now: () => new Date(T0 + 2 * DAY) },
  });
}

test('conversation metrics: customer texts without sentiment are analysed, cost uses the customer country', async () => {
  const { conversation: found, metrics, evaluation } = await service().conversationMetrics('acme', 'cv_one');
  assert.equal(found.conversationId, 'cv_one');
  assert.equal(metrics.firstResponseMs, 3 * MINUTE);
  assert.deepEqual(metrics.sentiment.trend, 'improving');
  assert.deepEqual([metrics.cost.currency, metrics.cost.amountMicros], ['EUR', 25_000]);
  assert.equal(evaluation?.score, 100);
  // The second customer message is unanswered and its window closed by now (2 days later).
  assert.equal(metrics.windowsClosedWhileWaiting, 1);
  const without = await service(reader(), false).conversationMetrics('acme', 'cv_one');
  assert.equal(without.evaluation, undefined);
  assert.equal(without.metrics.cost.currency, '');
});

test('conversation metrics: unknown, another tenant and malformed ids', async () => {
  await assert.rejects(service().conversationMetrics('acme', 'cv_other'), NotFoundError);
  await assert.rejects(service().conversationMetrics('umbrella', 'cv_one'), NotFoundError);
  await assert.rejects(service().conversationMetrics('acme', ''), (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError);
    assert.deepEqual(
      error.violations.map((v) => v.field),
      ['conversation_id'],
    );
    return true;
  });
});

test('tenant report: range checked field by field, transcripts read up to the end of the range', async () => {
  const store = reader();
  const from = new Date(T0 - 9 * HOUR);
  const days = await service(store).tenantReport('acme', { from, to: new Date(from.getTime() + DAY) });
  assert.equal(days.length, 1);
  assert.deepEqual(
    [days[0]?.inboundMessages, days[0]?.outboundMessages, days[0]?.positiveMessages, days[0]?.negativeMessages],
    [2, 1, 1, 1],
  );
  assert.deepEqual(store.ranges, [{ to: new Date(from.getTime() + DAY) }]);
  const violation = async (request: { from?: Date; to?: Date; phoneNumberId?: string }) => {
    try {
      await service().tenantReport('acme', request);
    } catch (error) {
      assert.ok(error instanceof InvalidArgumentError);
      return error.violations.map((v) => `${v.field} ${v.reason}: ${v.description}`);
    }
    return [];
  };
  assert.deepEqual(await violation({ to: from }), ['from REQUIRED: is required']);
  assert.deepEqual(await violation({ from }), ['to REQUIRED: is required']);
  assert.deepEqual(await violation({ from, to: from }), ['to OUT_OF_RANGE: must be after from']);
  assert.deepEqual(await violation({ from, to: new Date(from.getTime() + 367 * DAY) }), [
    'to OUT_OF_RANGE: must be at most 366 days after from',
  ]);
  assert.deepEqual(await violation({ from, to: new Date(from.getTime() + DAY), phoneNumberId: 'bad id!' }), [
    'phone_number_id INVALID_FORMAT: may contain only letters, digits and . _ : = + / -',
  ]);
});
