/**
 * GetConversationMetrics and GetTenantReport through the real archive: real nats-server, the archive's own consumers
 * and SQLite store, the real text analyser (eld + nlp.js), gRPC over loopback. Conversations are scripted with fixed
 * occurred_at times, so every duration is asserted to the millisecond.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations } from '@waygate/grpc';
import {
  MessageStatus,
  SentimentLabel,
  SentimentTrend,
  type GetConversationMetricsResponse,
  type GetTenantReportRequest,
  type GetTenantReportResponse,
} from '@waygate/proto';
import { waitFor, type TestTenant } from '@waygate/testing';
import { conversationIdOf } from './domain/transcript';
import { startArchiveHarness, type ArchiveHarness } from './testing/archive-harness';

const KEYS = { acme: 'key-acme-analysis', umbrella: 'key-umbrella-analysis' };
const SCORECARD = {
  name: 'support-basics',
  criteria: [
    { name: 'fast-first-reply', weight: 2, kind: 'firstReplyWithin', minutes: 1 },
    { name: 'no-abandoned-window', weight: 1, kind: 'noWindowClosedWhileWaiting' },
    { name: 'sentiment-holds', weight: 1, kind: 'sentimentNotWorse' },
    { name: 'greets', weight: 1, kind: 'keywordsRequired', keywords: ['hola'] },
  ],
};
const TENANTS: TestTenant[] = [
  {
    id: 'acme',
    homeRegion: 'eu',
    apiKey: KEYS.acme,
    phoneNumberIds: ['200'],
    archive: {
      scorecard: SCORECARD,
      rateCard: { currency: 'EUR', rates: [{ country: 'DE', category: 'marketing', amountMicros: 131_000, effectiveFrom: '2025-01-01' }] },
    },
  },
  { id: 'umbrella', homeRegion: 'eu', apiKey: KEYS.umbrella, phoneNumberIds: ['202'] },
];

/** Day 0 of the script: 2025-03-03T00:00:00Z. */
const D0 = Date.UTC(2025, 2, 3);
const DAY = 86_400_000;
/** The first conversation starts at 09:00 on day 0. */
const T0 = D0 + 9 * 3_600_000;
const CUSTOMER_DE = '+4915112345678';
const CUSTOMER_ES = '+34911234567';

let harness: ArchiveHarness;

before(async () => {
  // No analyzeText given: the archive loads the real one (eld + nlp.js) itself.
  harness = await startArchiveHarness({ tenants: TENANTS });
});

after(() => harness?.stop());

function getMetrics(apiKey: string, conversationId: string): Promise<GetConversationMetricsResponse> {
  return harness.unary('getConversationMetrics', { conversationId }, apiKey);
}

function getReport(apiKey: string, request: Partial<GetTenantReportRequest>): Promise<GetTenantReportResponse> {
  return harness.unary('getTenantReport', { phoneNumberId: '', from: undefined, to: undefined, ...request }, apiKey);
}

async function customerWrites(from: string, waMessageId: string, occurredAt: number, text: string): Promise<void> {
  await harness.publishInbound({ tenantId: 'acme', waMessageId, from, occurredAt: new Date(occurredAt), text });
}

async function businessReplies(to: string, messageId: string, acceptedAt: number, body: string): Promise<void> {
  await harness.publishAccepted({ tenantId: 'acme', messageId, to, acceptedAt: new Date(acceptedAt), text: body });
}

async function statusOf(messageId: string, status: MessageStatus, occurredAt: number): Promise<void> {
  await harness.publishStatus({
    eventId: `evt_${messageId}_${status}`,
    tenantId: 'acme',
    messageId,
    status,
    occurredAt: new Date(occurredAt),
  });
}

const CONVERSATION_DE = conversationIdOf({ tenantId: 'acme', phoneNumberId: '200', customer: CUSTOMER_DE });
const CONVERSATION_ES = conversationIdOf({ tenantId: 'acme', phoneNumberId: '200', customer: CUSTOMER_ES });
/** The business's first reply, 83.457 s after the customer's first message. */
const FIRST_REPLY_AT = T0 + 83_457;

test('a scripted conversation: first response time to the millisecond, percentiles, read-to-reply, sentiment, scorecard', async () => {
  await customerWrites(CUSTOMER_DE, 'wamid.c1', T0, 'Terrible service, I am very disappointed and unhappy.');
  await customerWrites(CUSTOMER_DE, 'wamid.c2', T0 + 4_000, 'Order 4711 still has not arrived');
  await businessReplies(CUSTOMER_DE, 'msg_r1', FIRST_REPLY_AT, 'Hola! We are sorry, your order ships today.');
  await statusOf('msg_r1', MessageStatus.MESSAGE_STATUS_SENT, FIRST_REPLY_AT + 500);
  await statusOf('msg_r1', MessageStatus.MESSAGE_STATUS_DELIVERED, FIRST_REPLY_AT + 900);
  await statusOf('msg_r1', MessageStatus.MESSAGE_STATUS_READ, T0 + 90_000);
  await customerWrites(CUSTOMER_DE, 'wamid.c3', T0 + 150_000, 'Thank you so much, the service was excellent and fast!');
  await businessReplies(CUSTOMER_DE, 'msg_r2', T0 + 200_000, 'You are welcome.');
  await harness.waitUntilCaughtUp();

  const metrics = await getMetrics(KEYS.acme, CONVERSATION_DE);
  assert.equal(metrics.firstResponseMs, '83457');
  // Turns: 83 457 ms (c1 -> r1) and 50 000 ms (c3 -> r2).
  assert.deepEqual([metrics.responseP50Ms, metrics.responseP90Ms], ['50000', '83457']);
  // r1 READ at +90 s, the customer's next message at +150 s.
  assert.equal(metrics.readToReplyP50Ms, '60000');
  assert.deepEqual([metrics.inboundCount, metrics.outboundCount, metrics.sessionCount, metrics.windowsClosedWhileWaiting], [3, 2, 1, 0]);
  // Sentiment of each customer text (the consumer analyses it as it is archived; the RPC fills in any it lacks).
  assert.equal(metrics.sentiment?.start?.label, SentimentLabel.SENTIMENT_LABEL_NEGATIVE);
  assert.equal(metrics.sentiment?.start?.language, 'en');
  assert.equal(metrics.sentiment?.end?.label, SentimentLabel.SENTIMENT_LABEL_POSITIVE);
  assert.equal(metrics.sentiment?.trend, SentimentTrend.SENTIMENT_TREND_IMPROVING);
  // No pricing on these statuses: nothing billable, in the rate card's currency.
  assert.deepEqual(metrics.cost, { currency: 'EUR', amountMicros: '0', billableMessages: 0, billableByCategory: {}, unpricedMessages: 0 });

  assert.equal(metrics.conversation?.conversationId, CONVERSATION_DE);
  assert.equal(metrics.conversation?.customer, CUSTOMER_DE);
  assert.equal(metrics.evaluation?.scorecard, 'support-basics');
  assert.deepEqual(
    metrics.evaluation?.criteria.map((c) => [c.name, c.weight, c.passed, c.reason]),
    [
      ['fast-first-reply', 2, false, 'first reply not within 1 min in 1 of 1 session: 1 answered later (slowest 1 min 23 s)'],
      ['no-abandoned-window', 1, true, 'no customer-service window closed while the customer waited'],
      ['sentiment-holds', 1, true, 'customer sentiment improved'],
      ['greets', 1, true, 'business messages contain "hola"'],
    ],
  );
  assert.equal(metrics.evaluation?.score, 60);
  assert.equal(metrics.conversation?.score, 60);
  for (const criterion of metrics.evaluation?.criteria ?? []) assert.ok(!criterion.reason.includes('4711'));
});

test('a 3-day tenant report in daily UTC buckets', async () => {
  // Day 1: answered in 30 s. Day 2, 25 h after the customer's last message: a new session, answered in 5 min.
  await customerWrites(CUSTOMER_ES, 'wamid.e1', D0 + DAY + 10 * 3_600_000, 'ok');
  await businessReplies(CUSTOMER_ES, 'msg_e1', D0 + DAY + 10 * 3_600_000 + 30_000, 'Claro, un momento.');
  await customerWrites(CUSTOMER_ES, 'wamid.e2', D0 + 2 * DAY + 11 * 3_600_000, 'ok');
  await businessReplies(CUSTOMER_ES, 'msg_e2', D0 + 2 * DAY + 11 * 3_600_000 + 300_000, 'Listo.');
  await harness.waitUntilCaughtUp();
  await waitFor(async () => (await getMetrics(KEYS.acme, CONVERSATION_ES)).sessionCount === 2, {
    what: 'the second conversation archived',
  });

  const report = await getReport(KEYS.acme, { from: new Date(D0), to: new Date(D0 + 3 * DAY) });
  assert.deepEqual(
    report.days.map((day) => [day.date, day.conversations, day.inboundMessages, day.outboundMessages]),
    [
      ['2025-03-03', 1, 3, 2],
      ['2025-03-04', 1, 1, 1],
      ['2025-03-05', 1, 1, 1],
    ],
  );
  assert.deepEqual(
    report.days.map((day) => [day.firstResponseP50Ms, day.firstResponseP90Ms, day.windowsClosedWhileWaiting]),
    [
      ['83457', '83457', 0],
      ['30000', '30000', 0],
      ['300000', '300000', 0],
    ],
  );
  // The Spanish conversation misses "fast-first-reply" (5 min on day 2) and "greets": 2 of 5.
  assert.deepEqual(
    report.days.map((day) => day.meanScore),
    [60, 40, 40],
  );
  // Day 0: c1 negative; c3 and, by the lexicon ("order", "arrived" weigh positive), c2 positive. "ok" is too short.
  assert.deepEqual(
    report.days.map((day) => [day.positiveMessages, day.neutralMessages, day.negativeMessages]),
    [
      [2, 0, 1],
      [0, 0, 0],
      [0, 0, 0],
    ],
  );
  assert.equal(report.days[0]?.cost?.currency, 'EUR');

  // One business number filters; another tenant has none of acme's conversations.
  const otherNumber = await getReport(KEYS.acme, { from: new Date(D0), to: new Date(D0 + DAY), phoneNumberId: '999' });
  assert.deepEqual(
    otherNumber.days.map((day) => day.conversations),
    [0],
  );
  const umbrella = await getReport(KEYS.umbrella, { from: new Date(D0), to: new Date(D0 + 3 * DAY) });
  assert.deepEqual(
    umbrella.days.map((day) => day.inboundMessages),
    [0, 0, 0],
  );
});

test('bad requests: field-level INVALID_ARGUMENT, NOT_FOUND for an unknown or foreign conversation', async () => {
  const violations = async (request: Partial<GetTenantReportRequest>) => {
    try {
      await getReport(KEYS.acme, request);
    } catch (error) {
      assert.equal((error as ServiceError).code, grpcStatus.INVALID_ARGUMENT);
      return badRequestViolations(error as ServiceError).map((v) => `${v.field}: ${v.description}`);
    }
    assert.fail('accepted');
  };
  assert.deepEqual(await violations({ to: new Date(D0) }), ['from: is required']);
  assert.deepEqual(await violations({ from: new Date(D0) }), ['to: is required']);
  assert.deepEqual(await violations({ from: new Date(D0), to: new Date(D0 + 367 * DAY) }), ['to: must be at most 366 days after from']);
  assert.deepEqual(await violations({ from: new Date(D0 + DAY), to: new Date(D0) }), ['to: must be after from']);

  const code = (promise: Promise<unknown>) =>
    promise.then(
      () => 'OK',
      (error: ServiceError) => error.code,
    );
  assert.equal(await code(getMetrics(KEYS.acme, `cv_${'A'.repeat(26)}`)), grpcStatus.NOT_FOUND);
  // Not the shape of a conversation id: the caller's mistake, as GetTranscript answers it.
  assert.equal(await code(getMetrics(KEYS.acme, 'cv_unknown')), grpcStatus.INVALID_ARGUMENT);
  assert.equal(await code(getMetrics(KEYS.umbrella, CONVERSATION_DE)), grpcStatus.NOT_FOUND);
  assert.equal(await code(getMetrics(KEYS.acme, '')), grpcStatus.INVALID_ARGUMENT);
  assert.equal(await code(getMetrics('wrong-key', CONVERSATION_DE)), grpcStatus.UNAUTHENTICATED);
});

test('no log line carries a customer text or number', () => {
  const logs = harness.logLines.join('');
  for (const secret of ['4711', 'disappointed', CUSTOMER_DE, CUSTOMER_ES]) assert.ok(!logs.includes(secret), secret);
});
