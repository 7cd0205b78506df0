import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SENTIMENT_TREND_THRESHOLD } from '../domain/conversation';
import { CUSTOMER_SERVICE_WINDOW_MS as SERVICE_WINDOW_MS } from '../domain/sessions';
import { computeConversationMetrics } from './conversation-metrics';
import { business, customer, HOUR, MINUTE, SECOND, T0 } from './transcript-fixtures';

const LATER = { now: new Date(T0 + 30 * 24 * HOUR) };

test('first response time: the customer first message of the session to the business first reply, to the millisecond', () => {
  const metrics = computeConversationMetrics(
    [customer(T0), customer(T0 + 5 * SECOND), business(T0 + 90_123), customer(T0 + 200 * SECOND), business(T0 + 260 * SECOND)],
    LATER,
  );
  assert.equal(metrics.firstResponseMs, 90_123);
  // Turns: 90 123 ms and 60 000 ms; nearest rank: p50 is the 1st of 2, p90 the 2nd.
  assert.equal(metrics.responseP50Ms, 60_000);
  assert.equal(metrics.responseP90Ms, 90_123);
  assert.equal(metrics.inboundCount, 3);
  assert.equal(metrics.outboundCount, 2);
  assert.equal(metrics.sessionCount, 1);
  assert.equal(metrics.windowsClosedWhileWaiting, 0);
});

test('a business-initiated template before the customer writes does not count as a response', () => {
  const metrics = computeConversationMetrics(
    [business(T0, 'order shipped', { type: 'template' }), customer(T0 + HOUR), business(T0 + HOUR + 42 * SECOND)],
    LATER,
  );
  // The sessions rule: the customer's first message finds the window closed (no earlier customer message), so it
  // starts a session of its own.
  assert.equal(metrics.sessionCount, 2);
  assert.equal(metrics.sessions[0]?.firstCustomerAt, undefined);
  assert.equal(metrics.firstResponseMs, 42 * SECOND);
});

test('sessions: a customer message after the window closed, or a template sent while it is closed, starts one', () => {
  const metrics = computeConversationMetrics(
    [
      customer(T0),
      business(T0 + MINUTE),
      // 24 h after the customer's last message, exactly: the window is closed.
      customer(T0 + SERVICE_WINDOW_MS),
      business(T0 + SERVICE_WINDOW_MS + 2 * MINUTE),
      // A template inside the open window stays in the session.
      business(T0 + SERVICE_WINDOW_MS + HOUR, 'reminder', { type: 'template' }),
      // A plain message after the window closed stays in the session (Meta refuses it; it is not a new session).
      business(T0 + 2 * SERVICE_WINDOW_MS, 'late'),
      // A template after the window closed starts a session, and so does the customer's answer to it.
      business(T0 + 2 * SERVICE_WINDOW_MS + HOUR, 'offer', { type: 'template' }),
      customer(T0 + 2 * SERVICE_WINDOW_MS + 2 * HOUR),
      business(T0 + 2 * SERVICE_WINDOW_MS + 2 * HOUR + 3 * SECOND),
    ],
    LATER,
  );
  assert.equal(metrics.sessionCount, 4);
  assert.deepEqual(
    metrics.sessions.map((session) => [session.index, session.startedAt.getTime() - T0, session.firstResponseMs]),
    [
      [0, 0, MINUTE],
      [1, SERVICE_WINDOW_MS, 2 * MINUTE],
      [2, 2 * SERVICE_WINDOW_MS + HOUR, undefined],
      [3, 2 * SERVICE_WINDOW_MS + 2 * HOUR, 3 * SECOND],
    ],
  );
  assert.equal(metrics.firstResponseMs, MINUTE);
});

test('windows closed while the customer waited: by the next session, by now, or answered only after closing', () => {
  // Unanswered, then the customer writes again 25 h later: the first session closed while waiting.
  const byNextSession = computeConversationMetrics([customer(T0), customer(T0 + 25 * HOUR), business(T0 + 25 * HOUR + MINUTE)], LATER);
  assert.equal(byNextSession.sessionCount, 2);
  assert.deepEqual(
    byNextSession.sessions.map((session) => session.closedWhileWaiting),
    [true, false],
  );
  assert.equal(byNextSession.windowsClosedWhileWaiting, 1);
  assert.equal(byNextSession.firstResponseMs, MINUTE, 'the first session that had an answer');

  // The last message is unanswered: open window at `now` - not yet; closed - counted.
  const last = [customer(T0), business(T0 + MINUTE), customer(T0 + HOUR)];
  assert.equal(computeConversationMetrics(last, { now: new Date(T0 + HOUR + SERVICE_WINDOW_MS - 1) }).windowsClosedWhileWaiting, 0);
  assert.equal(computeConversationMetrics(last, { now: new Date(T0 + HOUR + SERVICE_WINDOW_MS) }).windowsClosedWhileWaiting, 1);

  // A (non-template) reply after the window closed answers the turn, but the window closed first.
  const late = computeConversationMetrics([customer(T0), business(T0 + 25 * HOUR)], LATER);
  assert.equal(late.sessionCount, 1);
  assert.equal(late.firstResponseMs, 25 * HOUR);
  assert.equal(late.windowsClosedWhileWaiting, 1);
});

test('failed business messages and reactions neither open nor answer a turn', () => {
  const metrics = computeConversationMetrics(
    [
      business(T0, 'hi', { type: 'template' }),
      customer(T0 + SECOND, '👍', { type: 'reaction' }),
      customer(T0 + MINUTE),
      business(T0 + 2 * MINUTE, 'lost', { statuses: [['FAILED', T0 + 2 * MINUTE + SECOND]] }),
      business(T0 + 3 * MINUTE, '👍', { type: 'reaction' }),
      business(T0 + 4 * MINUTE),
    ],
    LATER,
  );
  assert.equal(metrics.firstResponseMs, 3 * MINUTE);
  assert.equal(metrics.responseP50Ms, 3 * MINUTE);
  assert.equal(metrics.inboundCount, 2);
  assert.equal(metrics.outboundCount, 4);
});

test('read-to-reply: from the business message being READ to the customer next message', () => {
  const metrics = computeConversationMetrics(
    [
      customer(T0),
      business(T0 + MINUTE, 'a', {
        statuses: [
          ['DELIVERED', T0 + MINUTE + SECOND],
          ['READ', T0 + 2 * MINUTE],
        ],
      }),
      business(T0 + MINUTE + SECOND, 'b', { statuses: [['READ', T0 + 2 * MINUTE + 5 * SECOND]] }),
      // 10 s after the first READ (the earliest since the customer's previous message).
      customer(T0 + 2 * MINUTE + 10 * SECOND),
      business(T0 + 3 * MINUTE, 'c', { statuses: [['READ', T0 + 10 * MINUTE]] }),
      // Written before the READ of "c": not a reply to having read it.
      customer(T0 + 4 * MINUTE),
      customer(T0 + 10 * MINUTE + 30 * SECOND),
    ],
    LATER,
  );
  assert.equal(metrics.readToReplyP50Ms, 10 * SECOND);
  const samples = computeConversationMetrics(
    [business(T0, 'x', { type: 'template', statuses: [['READ', T0 + MINUTE]] }), customer(T0 + 4 * MINUTE)],
    LATER,
  );
  assert.equal(samples.readToReplyP50Ms, 3 * MINUTE);
  assert.equal(computeConversationMetrics([customer(T0), business(T0 + MINUTE)], LATER).readToReplyP50Ms, undefined);
});

test('sentiment summary: start, end, trend by the threshold, scored count', () => {
  const positive = { language: 'en', score: 1, label: 'positive' as const };
  const negative = { language: 'en', score: -1, label: 'negative' as const };
  const slightlyLower = { language: 'en', score: 1 - SENTIMENT_TREND_THRESHOLD / 2, label: 'positive' as const };
  const unscored = { language: 'zh' };
  const worsening = computeConversationMetrics(
    [
      customer(T0, 'a', { sentiment: positive }),
      customer(T0 + 1, 'b', { sentiment: unscored }),
      customer(T0 + 2, 'c', { sentiment: negative }),
    ],
    LATER,
  );
  assert.deepEqual(worsening.sentiment, { start: positive, end: negative, trend: 'worsening', scoredMessages: 2 });
  const improving = computeConversationMetrics(
    [customer(T0, 'a', { sentiment: negative }), customer(T0 + 1, 'c', { sentiment: positive })],
    LATER,
  );
  assert.equal(improving.sentiment.trend, 'improving');
  const stable = computeConversationMetrics(
    [customer(T0, 'a', { sentiment: positive }), customer(T0 + 1, 'c', { sentiment: slightlyLower })],
    LATER,
  );
  assert.equal(stable.sentiment.trend, 'stable');
  const one = computeConversationMetrics(
    [customer(T0, 'a', { sentiment: positive }), customer(T0 + 1, 'b', { sentiment: unscored })],
    LATER,
  );
  assert.deepEqual(one.sentiment, { start: positive, end: positive, scoredMessages: 1 });
  assert.deepEqual(computeConversationMetrics([], LATER).sentiment, { scoredMessages: 0 });
});

test('an empty conversation has no sessions and no times', () => {
  const metrics = computeConversationMetrics([], LATER);
  assert.equal(metrics.sessionCount, 0);
  assert.equal(metrics.firstResponseMs, undefined);
  assert.equal(metrics.responseP50Ms, undefined);
  assert.equal(metrics.windowsClosedWhileWaiting, 0);
});

test('keyword hits count business messages only, case- and diacritics-insensitively', () => {
  const metrics = computeConversationMetrics(
    [customer(T0, 'GRACIAS idiot'), business(T0 + 1, '¡Hola! Gracias por escribir.'), business(T0 + 2, 'OLÁ, obrigado')],
    { ...LATER, keywords: ['hola', 'Olá', 'idiot', 'gracias'] },
  );
  assert.deepEqual(
    [...metrics.keywordHits],
    [
      ['hola', 1],
      // "¡Hola!" is not the word "ola"; "OLÁ," is.
      ['Olá', 1],
      ['idiot', 0],
      ['gracias', 1],
    ],
  );
});
