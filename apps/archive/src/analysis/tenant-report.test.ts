import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TranscriptEntry } from '../domain/transcript';
import type { RateCard } from './cost';
import type { Scorecard } from './scorecard';
import { checkReportRange, MAX_REPORT_DAYS, ReportRangeError, TenantReportBuilder } from './tenant-report';
import { business, customer, HOUR, MINUTE, SECOND, T0 } from './transcript-fixtures';

const DAY = 24 * HOUR;
/** 2025-03-03T00:00:00Z. */
const D0 = T0 - 9 * HOUR;
const CARD: RateCard = {
  currency: 'EUR',
  rates: [{ country: 'DE', category: 'marketing', amountMicros: 100_000, effectiveFrom: '2025-01-01' }],
};
const SCORECARD: Scorecard = { name: 'basics', criteria: [{ name: 'fast', weight: 1, kind: 'firstReplyWithin', minutes: 5 }] };
const FIFTEEN_MINUTES: Scorecard = { name: 'basics', criteria: [{ name: 'fast', weight: 1, kind: 'firstReplyWithin', minutes: 15 }] };
const marketing = { billable: true, pricingModel: 'PMP', type: 'regular', category: 'marketing' };
const positive = { language: 'en', score: 1, label: 'positive' as const };
const negative = { language: 'en', score: -1, label: 'negative' as const };

function report(conversations: { country?: string; entries: TranscriptEntry[] }[], from = D0, to = D0 + 3 * DAY, scorecard = SCORECARD) {
  const builder = new TenantReportBuilder({
    from: new Date(from),
    to: new Date(to),
    rateCard: CARD,
    scorecard,
    now: new Date(D0 + 40 * DAY),
  });
  for (const conversation of conversations) {
    const walker = builder.conversation(conversation.country);
    for (const entry of conversation.entries) walker.add(entry);
    walker.finish();
  }
  return builder.finish();
}

test('a 3-day report: daily buckets of counts, first responses, windows, scores, cost and sentiment', () => {
  const days = report(
    [
      {
        country: 'DE',
        entries: [
          // Before the range: context for the sessions only.
          customer(D0 - HOUR),
          business(D0 - HOUR + MINUTE),
          // Day 0: same session as the message before midnight (its window is open).
          customer(D0 + HOUR, 'x', { sentiment: positive }),
          business(D0 + HOUR + 2 * MINUTE),
          // Day 1: a new session (window closed), answered in 10 min; a marketing template priced on day 2.
          customer(D0 + DAY + 2 * HOUR, 'y', { sentiment: negative }),
          business(D0 + DAY + 2 * HOUR + 10 * MINUTE),
          business(D0 + DAY + 23 * HOUR, 'offer', { type: 'template', statuses: [['DELIVERED', D0 + 2 * DAY + HOUR, marketing]] }),
        ],
      },
      {
        country: 'FR',
        entries: [
          // Day 1: answered in 30 s; day 2: unanswered, window closed by `now`; a marketing message FR has no rate for.
          customer(D0 + DAY + 5 * HOUR, 'z', { sentiment: { language: 'zh' } }),
          business(D0 + DAY + 5 * HOUR + 30 * SECOND, 'm', { statuses: [['DELIVERED', D0 + DAY + 6 * HOUR, marketing]] }),
          customer(D0 + 2 * DAY + 12 * HOUR + 6 * HOUR),
        ],
      },
      // Entirely after the range: not counted.
      { entries: [customer(D0 + 3 * DAY), business(D0 + 3 * DAY + SECOND)] },
    ],
    D0,
    D0 + 3 * DAY,
    FIFTEEN_MINUTES,
  );
  assert.deepEqual(
    days.map((day) => day.date),
    ['2025-03-03', '2025-03-04', '2025-03-05'],
  );
  const [day0, day1, day2] = days;
  assert.deepEqual(
    days.map((day) => [day.conversations, day.inboundMessages, day.outboundMessages]),
    [
      [1, 1, 1],
      [2, 2, 3],
      [1, 1, 0],
    ],
  );
  // Day 0 has no session start inside the range (its session began the evening before).
  assert.equal(day0?.firstResponseP50Ms, undefined);
  assert.deepEqual([day1?.firstResponseP50Ms, day1?.firstResponseP90Ms], [30 * SECOND, 10 * MINUTE]);
  assert.deepEqual([day2?.firstResponseP50Ms, day2?.windowsClosedWhileWaiting], [undefined, 1]);
  // First reply within 15 min: conversation 1 scores 100 (1 min, 10 min), conversation 2 scores 0 (day 2 unanswered).
  assert.deepEqual(
    days.map((day) => day.meanScore),
    [100, 50, 0],
  );
  assert.deepEqual(day1?.cost, {
    currency: 'EUR',
    amountMicros: 0,
    billableMessages: 1,
    billableByCategory: { marketing: 1 },
    unpricedMessages: 1,
  });
  assert.deepEqual(day2?.cost, {
    currency: 'EUR',
    amountMicros: 100_000,
    billableMessages: 1,
    billableByCategory: { marketing: 1 },
    unpricedMessages: 0,
  });
  assert.deepEqual(
    days.map((day) => [day.positiveMessages, day.neutralMessages, day.negativeMessages]),
    [
      [1, 0, 0],
      [0, 0, 1],
      [0, 0, 0],
    ],
  );
});

test('mean score: of the conversations active that day', () => {
  const days = report(
    [
      { entries: [customer(D0 + HOUR), business(D0 + HOUR + MINUTE)] },
      { entries: [customer(D0 + 2 * HOUR), business(D0 + 2 * HOUR + 6 * MINUTE)] },
    ],
    D0,
    D0 + DAY,
  );
  assert.equal(days.length, 1);
  assert.equal(days[0]?.meanScore, 50);
});

test('a range is required, ordered and at most 366 days; partial days are whole buckets', () => {
  const error = (from?: number, to?: number) => {
    try {
      checkReportRange(from === undefined ? undefined : new Date(from), to === undefined ? undefined : new Date(to));
    } catch (caught) {
      assert.ok(caught instanceof ReportRangeError);
      return `${caught.field}: ${caught.message}`;
    }
    return 'ok';
  };
  assert.equal(error(undefined, D0), 'from: is required');
  assert.equal(error(D0, undefined), 'to: is required');
  assert.equal(error(D0, D0), 'to: must be after from');
  assert.equal(error(D0, D0 + MAX_REPORT_DAYS * DAY + 1), 'to: must be at most 366 days after from');
  assert.equal(error(D0, D0 + MAX_REPORT_DAYS * DAY), 'ok');
  assert.equal(report([], D0 + HOUR, D0 + DAY + HOUR).length, 2);
  assert.equal(report([], D0, D0 + MAX_REPORT_DAYS * DAY).length, MAX_REPORT_DAYS);
});
