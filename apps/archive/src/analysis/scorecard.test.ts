import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeConversationMetrics } from './conversation-metrics';
import { evaluateConversation, formatDuration, keywordsOf, type Scorecard } from './scorecard';
import { business, customer, HOUR, MINUTE, SECOND, T0 } from './transcript-fixtures';

const SCORECARD: Scorecard = {
  name: 'support-basics',
  criteria: [
    { name: 'fast-first-reply', weight: 3, kind: 'firstReplyWithin', minutes: 15 },
    { name: 'no-abandoned-window', weight: 2, kind: 'noWindowClosedWhileWaiting' },
    { name: 'sentiment-holds', weight: 1, kind: 'sentimentNotWorse' },
    { name: 'greets', weight: 1, kind: 'keywordsRequired', keywords: ['hola', 'hello'], match: 'any' },
    { name: 'polite', weight: 1, kind: 'keywordsForbidden', keywords: ['stupid', 'idiot'] },
  ],
};
const happy = { language: 'en', score: 1.2, label: 'positive' as const };
const angry = { language: 'en', score: -1.4, label: 'negative' as const };
const SECRET = 'my order 4711 is late';

function evaluate(entries: Parameters<typeof computeConversationMetrics>[0], now = T0 + 30 * 24 * HOUR) {
  const metrics = computeConversationMetrics(entries, { now: new Date(now), keywords: keywordsOf(SCORECARD) });
  return evaluateConversation(SCORECARD, metrics, new Date(now));
}

test('every criterion met: score 100, each with its reason', () => {
  const evaluation = evaluate([
    customer(T0, SECRET, { sentiment: angry }),
    business(T0 + 4 * MINUTE + 30 * SECOND, 'HOLA, lo siento'),
    customer(T0 + 10 * MINUTE, 'thanks', { sentiment: happy }),
    business(T0 + 11 * MINUTE, 'you are welcome'),
  ]);
  assert.equal(evaluation.scorecard, 'support-basics');
  assert.equal(evaluation.score, 100);
  assert.deepEqual(
    evaluation.criteria.map((c) => [c.name, c.weight, c.passed, c.reason]),
    [
      ['fast-first-reply', 3, true, 'first reply within 15 min in 1 session (slowest 4 min 30 s)'],
      ['no-abandoned-window', 2, true, 'no customer-service window closed while the customer waited'],
      ['sentiment-holds', 1, true, 'customer sentiment improved'],
      ['greets', 1, true, 'business messages contain "hola"'],
      ['polite', 1, true, 'no business message contains a forbidden keyword'],
    ],
  );
});

test('failures: weighted share met, reasons never quote a message', () => {
  const evaluation = evaluate([
    customer(T0, SECRET, { sentiment: happy }),
    business(T0 + HOUR + 2 * SECOND, `Idiot question. ${SECRET}`),
    customer(T0 + 2 * HOUR, SECRET, { sentiment: angry }),
    // No answer, and the window closed (now is 30 days later).
  ]);
  // Nothing met: 0 of 8.
  assert.deepEqual(
    evaluation.criteria.map((c) => [c.name, c.passed, c.reason]),
    [
      ['fast-first-reply', false, 'first reply not within 15 min in 1 of 1 session: 1 answered later (slowest 1 h 2 s)'],
      ['no-abandoned-window', false, "1 window closed with the customer's last message unanswered"],
      ['sentiment-holds', false, 'customer sentiment worsened from the first scored message to the last'],
      ['greets', false, 'no business message contains any of "hola", "hello"'],
      ['polite', false, 'forbidden keywords in business messages: "idiot" in 1 message'],
    ],
  );
  assert.equal(evaluation.score, 0);
  for (const criterion of evaluation.criteria) assert.ok(!criterion.reason.includes('4711'), criterion.reason);
});

test('partial: the score is the weighted share, rounded', () => {
  const evaluation = evaluate([customer(T0), business(T0 + 20 * MINUTE, 'hello')]);
  // fast-first-reply (3) fails; 2 + 1 + 1 + 1 of 8 met.
  assert.equal(evaluation.score, Math.round((100 * 5) / 8));
  assert.equal(evaluation.criteria[2]?.reason, 'not applicable: 0 scored customer messages');
});

test('a first reply still within its time is not late; past it, unanswered fails', () => {
  const entries = [customer(T0)];
  assert.equal(evaluate(entries, T0 + 14 * MINUTE).criteria[0]?.passed, true);
  const late = evaluate(entries, T0 + 16 * MINUTE).criteria[0];
  assert.deepEqual([late?.passed, late?.reason], [false, 'first reply not within 15 min in 1 of 1 session: 1 not answered']);
  assert.equal(evaluate([]).criteria[0]?.reason, 'no customer message to answer');
});

test('durations in reasons', () => {
  assert.equal(formatDuration(850), '850 ms');
  assert.equal(formatDuration(42_000), '42 s');
  assert.equal(formatDuration(3_600_000), '1 h');
  assert.equal(formatDuration(3_723_000), '1 h 2 min 3 s');
});
