import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideStatus, isTerminalStatus } from '@waygate/domain';
import type { Delivery } from './delivery';
import {
  decideWebhookReconciliation,
  messageStatusOf,
  reconciliationWrite,
  type DeliverySnapshot,
  type ReconciledReport,
  type WebhookReconciliation,
} from './webhook-reconciliation';

const T0 = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;
const options = { retry: { baseMs: 1000, maxMs: 60_000 }, random: () => 1 };
const now = new Date(T0);

/** Delivery states as rows: `PENDING+earlier` waits for another send after its first send (wamid.1) failed. */
const DELIVERIES: Record<string, DeliverySnapshot> = {
  PENDING: { state: 'PENDING', attempts: 0, expiresAt: new Date(T0 + 7 * 24 * HOUR) },
  'PENDING+earlier': { state: 'PENDING', attempts: 1, waMessageId: 'wamid.1', expiresAt: new Date(T0 + 7 * 24 * HOUR) },
  SENT: { state: 'SENT', attempts: 1, waMessageId: 'wamid.1', expiresAt: new Date(T0 + 7 * 24 * HOUR) },
  DELIVERED: { state: 'DELIVERED', attempts: 1, waMessageId: 'wamid.1', expiresAt: new Date(T0 + 7 * 24 * HOUR) },
  FAILED: { state: 'FAILED', attempts: 1, waMessageId: 'wamid.1', expiresAt: new Date(T0 + 7 * 24 * HOUR) },
  EXPIRED: { state: 'EXPIRED', attempts: 1, waMessageId: 'wamid.1', expiresAt: new Date(T0 + 7 * 24 * HOUR) },
  CANCELED: { state: 'CANCELED', attempts: 0, expiresAt: new Date(T0 + 7 * 24 * HOUR) },
};

/**
 * Webhook reports as columns: `<status> <code> <wamid>`. wamid.1 is the send the delivery knows (a SENT delivery's
 * current send, a PENDING one's earlier send); wamid.2 one it does not know; `-` none. 131026 is final, 131049
 * (ecosystem, 24 h) and 131000 (transient) are retried.
 */
const REPORTS: Record<string, ReconciledReport> = {
  'sent w1': { status: 'SENT', waMessageId: 'wamid.1' },
  'sent w2': { status: 'SENT', waMessageId: 'wamid.2' },
  'sent -': { status: 'SENT' },
  'delivered w1': { status: 'DELIVERED', waMessageId: 'wamid.1' },
  'delivered w2': { status: 'DELIVERED', waMessageId: 'wamid.2' },
  'delivered -': { status: 'DELIVERED' },
  'read w1': { status: 'READ', waMessageId: 'wamid.1' },
  'read w2': { status: 'READ', waMessageId: 'wamid.2' },
  'failed 131026 w1': { status: 'FAILED', waMessageId: 'wamid.1', errorCode: 131026 },
  'failed 131026 w2': { status: 'FAILED', waMessageId: 'wamid.2', errorCode: 131026 },
  'failed 131049 w1': { status: 'FAILED', waMessageId: 'wamid.1', errorCode: 131049 },
  'failed 131049 w2': { status: 'FAILED', waMessageId: 'wamid.2', errorCode: 131049 },
  'failed 131000 w1': { status: 'FAILED', waMessageId: 'wamid.1', errorCode: 131000 },
  'failed nocode w1': { status: 'FAILED', waMessageId: 'wamid.1' },
  'failed 131049 -': { status: 'FAILED', errorCode: 131049 },
};

const all = (cell: string) => Object.fromEntries(Object.keys(REPORTS).map((report) => [report, cell]));

/** Each cell: the action, in short (`+24h` is the reschedule's delay, `send wamid.2` a revealed send). */
const TABLE: Record<string, Record<string, string>> = {
  PENDING: {
    'sent w1': 'record-sent wamid.1',
    'sent w2': 'record-sent wamid.2',
    'sent -': 'ignore no-wamid',
    'delivered w1': 'record-sent-then-delivered wamid.1',
    'delivered w2': 'record-sent-then-delivered wamid.2',
    'delivered -': 'ignore no-wamid',
    'read w1': 'record-sent-then-delivered wamid.1',
    'read w2': 'record-sent-then-delivered wamid.2',
    'failed 131026 w1': 'settle-failed 131026 send wamid.1',
    'failed 131026 w2': 'settle-failed 131026 send wamid.2',
    'failed 131049 w1': 'reschedule ecosystem +24h 131049 send wamid.1',
    'failed 131049 w2': 'reschedule ecosystem +24h 131049 send wamid.2',
    'failed 131000 w1': 'reschedule transient +1s 131000 send wamid.1',
    'failed nocode w1': 'settle-failed - send wamid.1',
    'failed 131049 -': 'ignore no-wamid',
  },
  'PENDING+earlier': {
    'sent w1': 'ignore earlier-send',
    'sent w2': 'record-sent wamid.2',
    'sent -': 'ignore no-wamid',
    'delivered w1': 'ignore earlier-send',
    'delivered w2': 'record-sent-then-delivered wamid.2',
    'delivered -': 'ignore no-wamid',
    'read w1': 'ignore earlier-send',
    'read w2': 'record-sent-then-delivered wamid.2',
    'failed 131026 w1': 'ignore earlier-send',
    'failed 131026 w2': 'settle-failed 131026 send wamid.2',
    'failed 131049 w1': 'ignore earlier-send',
    'failed 131049 w2': 'reschedule ecosystem +24h 131049 send wamid.2',
    'failed 131000 w1': 'ignore earlier-send',
    'failed nocode w1': 'ignore earlier-send',
    'failed 131049 -': 'ignore no-wamid',
  },
  SENT: {
    'sent w1': 'ignore not-news',
    'sent w2': 'ignore not-news',
    'sent -': 'ignore not-news',
    'delivered w1': 'settle-delivered',
    'delivered w2': 'ignore earlier-send',
    'delivered -': 'settle-delivered',
    'read w1': 'settle-delivered',
    'read w2': 'ignore earlier-send',
    'failed 131026 w1': 'settle-failed 131026',
    'failed 131026 w2': 'ignore earlier-send',
    'failed 131049 w1': 'reschedule ecosystem +24h 131049',
    'failed 131049 w2': 'ignore earlier-send',
    'failed 131000 w1': 'reschedule transient +1s 131000',
    'failed nocode w1': 'settle-failed -',
    'failed 131049 -': 'reschedule ecosystem +24h 131049',
  },
  DELIVERED: all('ignore already-delivered'),
  FAILED: all('ignore after-terminal'),
  EXPIRED: all('ignore after-terminal'),
  CANCELED: all('ignore after-terminal'),
};

/** Where the validity has ended (now = expiresAt), a failure delivery-retry would retry expires the message instead. */
const AFTER_VALIDITY: Record<string, Record<string, string>> = {
  PENDING: {
    'failed 131049 w1': 'expire 131049 send wamid.1',
    'failed 131049 w2': 'expire 131049 send wamid.2',
    'failed 131000 w1': 'expire 131000 send wamid.1',
  },
  'PENDING+earlier': { 'failed 131049 w2': 'expire 131049 send wamid.2' },
  SENT: {
    'failed 131049 w1': 'expire 131049',
    'failed 131000 w1': 'expire 131000',
    'failed 131049 -': 'expire 131049',
  },
};

function describeAction(action: WebhookReconciliation, at: Date): string {
  const send = (revealed: string | undefined) => (revealed ? ` send ${revealed}` : '');
  const code = (error: { code?: number }) => String(error.code ?? '-');
  switch (action.kind) {
    case 'ignore':
      return `ignore ${action.reason}`;
    case 'record-sent':
    case 'record-sent-then-delivered':
      return `${action.kind} ${action.waMessageId}`;
    case 'settle-delivered':
      return action.kind;
    case 'reschedule': {
      const delayMs = action.at.getTime() - at.getTime();
      const delay = delayMs % HOUR === 0 ? `${delayMs / HOUR}h` : `${delayMs / 1000}s`;
      return `reschedule ${action.reason} +${delay} ${code(action.error)}${send(action.revealedSend)}`;
    }
    case 'expire':
    case 'settle-failed':
      return `${action.kind} ${code(action.error)}${send(action.revealedSend)}`;
  }
}

describe('decideWebhookReconciliation: every delivery state × every webhook report', () => {
  for (const [row, delivery] of Object.entries(DELIVERIES)) {
    for (const [column, report] of Object.entries(REPORTS)) {
      test(`${row} + ${column}`, () => {
        assert.equal(describeAction(decideWebhookReconciliation(delivery, report, now, options), now), TABLE[row][column]);
      });
      test(`${row} + ${column}, validity ended`, () => {
        const expired = { ...delivery, expiresAt: now };
        const expected = AFTER_VALIDITY[row]?.[column] ?? TABLE[row][column];
        assert.equal(describeAction(decideWebhookReconciliation(expired, report, now, options), now), expected);
      });
    }
  }
});

describe('decideWebhookReconciliation: edges', () => {
  test('a message delivery-retry has no delivery for is ignored', () => {
    assert.deepEqual(decideWebhookReconciliation(undefined, REPORTS['delivered w1'], now, options), {
      kind: 'ignore',
      reason: 'unknown-message',
    });
  });

  test('a retry never waits past the deadline: 131049 with an hour of validity left is due when the message expires', () => {
    const delivery = { ...DELIVERIES.SENT, expiresAt: new Date(T0 + HOUR) };
    const action = decideWebhookReconciliation(delivery, REPORTS['failed 131049 w1'], now, options);
    assert.equal(action.kind === 'reschedule' && action.at.getTime(), T0 + HOUR);
  });

  test('the backoff grows with the attempts made, counting a revealed send', () => {
    const sentTwice = { ...DELIVERIES.SENT, attempts: 3 };
    const action = decideWebhookReconciliation(sentTwice, REPORTS['failed 131000 w1'], now, options);
    assert.equal(action.kind === 'reschedule' && action.at.getTime() - T0, 4000, '1 s × 2^(3-1) with full jitter at 1');
    const lost = decideWebhookReconciliation({ ...DELIVERIES.PENDING, attempts: 2 }, REPORTS['failed 131000 w1'], now, options);
    assert.equal(lost.kind === 'reschedule' && lost.at.getTime() - T0, 4000, 'the revealed send is the third attempt');
  });

  test("delivery states map onto the shared state machine's statuses", () => {
    assert.deepEqual((['PENDING', 'SENT', 'DELIVERED', 'FAILED', 'EXPIRED', 'CANCELED'] as const).map(messageStatusOf), [
      'ACCEPTED',
      'SENT',
      'DELIVERED',
      'FAILED',
      'EXPIRED',
      'CANCELED',
    ]);
  });
});

const delivery: Delivery = {
  tenantId: 'acme',
  messageId: 'msg_1',
  phoneNumberId: '100',
  to: '+4915112345678',
  laneSeq: 1,
  content: { kind: 'text', body: 'hello', previewUrl: false },
  state: 'SENT',
  attempts: 1,
  waMessageId: 'wamid.1',
  acceptedAt: new Date(T0 - HOUR),
  expiresAt: new Date(T0 + HOUR),
  updatedAt: new Date(T0 - HOUR),
  traceContext: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
};

describe('reconciliationWrite: the write each action makes, and what it announces', () => {
  const at = new Date(T0 + 5 * HOUR);
  const cases: [string, WebhookReconciliation, Delivery, string][] = [
    ['ignore', { kind: 'ignore', reason: 'not-news' }, delivery, 'none'],
    [
      'record-sent',
      { kind: 'record-sent', waMessageId: 'wamid.2' },
      { ...delivery, state: 'PENDING' },
      'SENT 2 wamid.2 | SENT msg_1:delivery:sent:2',
    ],
    [
      'record-sent of a reaction (its lost answer revealed): settled at once, announced SENT',
      { kind: 'record-sent', waMessageId: 'wamid.2' },
      { ...delivery, state: 'PENDING', content: { kind: 'reaction', messageId: 'wamid.0', emoji: '👍' } },
      'DELIVERED 2 wamid.2 | SENT msg_1:delivery:sent:2',
    ],
    [
      'record-sent-then-delivered',
      { kind: 'record-sent-then-delivered', waMessageId: 'wamid.2' },
      { ...delivery, state: 'PENDING' },
      'DELIVERED 2 wamid.2 | SENT msg_1:delivery:sent:2',
    ],
    ['settle-delivered', { kind: 'settle-delivered' }, delivery, 'DELIVERED 1 - | -'],
    [
      'reschedule',
      { kind: 'reschedule', at, reason: 'ecosystem', error: { code: 131049, title: 'held back' } },
      delivery,
      `PENDING 1 - 131049 next ${at.toISOString()} | ACCEPTED msg_1:delivery:attempt:1 131049`,
    ],
    [
      'reschedule of a revealed send',
      { kind: 'reschedule', at, reason: 'ecosystem', error: { code: 131049 }, revealedSend: 'wamid.2' },
      { ...delivery, state: 'PENDING' },
      `PENDING 2 wamid.2 131049 next ${at.toISOString()} | ACCEPTED msg_1:delivery:attempt:2 131049`,
    ],
    [
      'expire',
      { kind: 'expire', error: { code: 131049, title: 'held back' } },
      delivery,
      'EXPIRED 1 - 131049 | EXPIRED msg_1:delivery:expired 131049',
    ],
    ['settle-failed', { kind: 'settle-failed', error: { code: 131026 } }, delivery, 'FAILED 1 - 131026 | -'],
    [
      'settle-failed of a revealed send',
      { kind: 'settle-failed', error: { code: 131026 }, revealedSend: 'wamid.2' },
      delivery,
      'FAILED 2 wamid.2 131026 | -',
    ],
  ];
  for (const [name, action, before, expected] of cases) {
    test(name, () => {
      const write = reconciliationWrite(before, action, now);
      if (!write) return assert.equal(expected, 'none');
      const { update, event } = write;
      const next = update.nextAttemptAt ? ` next ${update.nextAttemptAt.toISOString()}` : '';
      const code = update.lastErrorCode !== undefined ? ` ${update.lastErrorCode}` : '';
      const announced = event ? `${event.status} ${event.eventId}${event.errorCode !== undefined ? ` ${event.errorCode}` : ''}` : '-';
      assert.equal(`${update.state} ${update.attempts} ${update.waMessageId ?? '-'}${code}${next} | ${announced}`, expected);
      assert.equal(update.updatedAt, now);
      if (event) assert.deepEqual([event.recipient, event.traceContext, event.occurredAt], [delivery.to, delivery.traceContext, now]);
    });
  }

  test('an expiry announces the error Meta gave, with its title', () => {
    const event = reconciliationWrite(delivery, { kind: 'expire', error: { code: 131049, title: 'held back' } }, now)?.event;
    assert.deepEqual([event?.status, event?.errorCode, event?.errorTitle], ['EXPIRED', 131049, 'held back']);
  });
});

describe('every settlement delivery-retry does not announce is one the webhook already made final everywhere', () => {
  // Ingress and the tenant feed apply receipt's webhook event with the same state machine. Where delivery-retry writes
  // no event, that event must bring them to the same end; otherwise they would wait for an event that never comes.
  for (const [row, base] of Object.entries(DELIVERIES)) {
    for (const [column, report] of Object.entries(REPORTS)) {
      for (const validityEnded of [false, true]) {
        const snapshot = validityEnded ? { ...base, expiresAt: now } : base;
        const action = decideWebhookReconciliation(snapshot, report, now, options);
        if (action.kind === 'ignore') continue;
        test(`${row} + ${column}${validityEnded ? ', validity ended' : ''}: ${action.kind}`, () => {
          const write = reconciliationWrite({ ...delivery, ...snapshot }, action, now);
          const elsewhere = decideStatus({ status: messageStatusOf(base.state), failureSurfaced: false }, { ...report, source: 'webhook' });
          if (write?.event === undefined) {
            assert.equal(elsewhere.effect, 'advanced', 'the webhook moved ingress and the feed on');
            assert.equal(elsewhere.state.status === 'READ' ? 'DELIVERED' : elsewhere.state.status, write?.update.state);
          } else if (elsewhere.effect === 'retried-failure') {
            assert.equal(isTerminalStatus(elsewhere.state.status), false, 'ingress and the feed wait for this event');
            assert.ok(['ACCEPTED', 'EXPIRED'].includes(write.event.status), 'another attempt is announced, or the end');
          }
        });
      }
    }
  }
});
