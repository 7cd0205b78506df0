import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MESSAGE_STATUSES, type MessageStatus } from './message-status';
import { decideStatus, type StatusEffect, type StatusSource } from './status-machine';

/**
 * Every current status × every reported status, for a report from a webhook and from delivery-retry (a FAILED carries
 * 131026, a code nobody retries). Each cell: the status after the report, the effect, and the transitions as
 * `status>messageStatus` (`*` marks an implied one). Read a row as "the message is <row>, then <column> is reported".
 */
const TABLE: Record<MessageStatus, Record<MessageStatus, string>> = {
  ACCEPTED: {
    ACCEPTED: 'ACCEPTED attempt',
    SENT: 'SENT advanced SENT>SENT',
    DELIVERED: 'DELIVERED advanced DELIVERED>DELIVERED',
    READ: 'READ advanced *DELIVERED>DELIVERED,READ>READ',
    FAILED: 'FAILED advanced FAILED>FAILED',
    EXPIRED: 'EXPIRED advanced EXPIRED>EXPIRED',
    CANCELED: 'CANCELED advanced CANCELED>CANCELED',
  },
  SENT: {
    ACCEPTED: 'SENT attempt',
    SENT: 'SENT late',
    DELIVERED: 'DELIVERED advanced DELIVERED>DELIVERED',
    READ: 'READ advanced *DELIVERED>DELIVERED,READ>READ',
    FAILED: 'FAILED advanced FAILED>FAILED',
    EXPIRED: 'EXPIRED advanced EXPIRED>EXPIRED',
    CANCELED: 'CANCELED advanced CANCELED>CANCELED',
  },
  DELIVERED: {
    ACCEPTED: 'DELIVERED attempt',
    SENT: 'DELIVERED late',
    DELIVERED: 'DELIVERED late',
    READ: 'READ advanced READ>READ',
    FAILED: 'DELIVERED failure-surfaced FAILED>DELIVERED',
    EXPIRED: 'DELIVERED late',
    CANCELED: 'DELIVERED late',
  },
  READ: {
    ACCEPTED: 'READ attempt',
    SENT: 'READ late',
    DELIVERED: 'READ late',
    READ: 'READ late',
    FAILED: 'READ failure-surfaced FAILED>READ',
    EXPIRED: 'READ late',
    CANCELED: 'READ late',
  },
  FAILED: Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, 'FAILED after-terminal'])) as Record<MessageStatus, string>,
  EXPIRED: Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, 'EXPIRED after-terminal'])) as Record<MessageStatus, string>,
  CANCELED: Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, 'CANCELED after-terminal'])) as Record<MessageStatus, string>,
};

function describeDecision(
  current: MessageStatus,
  reported: MessageStatus,
  source: StatusSource,
  errorCode?: number,
  failureSurfaced = false,
): string {
  const decision = decideStatus({ status: current, failureSurfaced }, { status: reported, source, errorCode });
  const transitions = decision.transitions.map((t) => `${t.implied ? '*' : ''}${t.status}>${t.messageStatus}`).join(',');
  return [decision.state.status, decision.effect, transitions].filter(Boolean).join(' ');
}

describe('decideStatus: every current status × every report', () => {
  for (const source of ['webhook', 'delivery'] as const) {
    for (const current of MESSAGE_STATUSES) {
      for (const reported of MESSAGE_STATUSES) {
        test(`${current} + ${reported} from ${source}`, () => {
          const errorCode = reported === 'FAILED' ? 131026 : undefined;
          assert.equal(describeDecision(current, reported, source, errorCode), TABLE[current][reported]);
        });
      }
    }
  }
});

describe('decideStatus: failures delivery-retry retries', () => {
  const expected: Record<MessageStatus, { status: MessageStatus; effect: StatusEffect }> = {
    ACCEPTED: { status: 'ACCEPTED', effect: 'retried-failure' },
    SENT: { status: 'SENT', effect: 'retried-failure' },
    DELIVERED: { status: 'DELIVERED', effect: 'retried-failure' },
    READ: { status: 'READ', effect: 'retried-failure' },
    FAILED: { status: 'FAILED', effect: 'after-terminal' },
    EXPIRED: { status: 'EXPIRED', effect: 'after-terminal' },
    CANCELED: { status: 'CANCELED', effect: 'after-terminal' },
  };
  for (const current of MESSAGE_STATUSES) {
    for (const code of [131049, 131000, 130429, 2]) {
      test(`a webhook FAILED ${code} while ${current} is not terminal`, () => {
        const decision = decideStatus(
          { status: current, failureSurfaced: false },
          { status: 'FAILED', source: 'webhook', errorCode: code },
        );
        assert.deepEqual({ status: decision.state.status, effect: decision.effect }, expected[current]);
        assert.deepEqual(decision.transitions, []);
      });
    }
  }

  test('a FAILED from delivery-retry is final whatever its code (delivery-retry decided not to retry)', () => {
    const decision = decideStatus({ status: 'SENT', failureSurfaced: false }, { status: 'FAILED', source: 'delivery', errorCode: 131049 });
    assert.equal(decision.state.status, 'FAILED');
    assert.equal(decision.effect, 'advanced');
  });

  test('a FAILED webhook without an error code is final', () => {
    assert.equal(decideStatus({ status: 'SENT', failureSurfaced: false }, { status: 'FAILED', source: 'webhook' }).state.status, 'FAILED');
  });
});

describe('decideStatus: a failure after delivery is surfaced once', () => {
  for (const current of ['DELIVERED', 'READ'] as const) {
    test(`a second FAILED while ${current} is late`, () => {
      const first = decideStatus({ status: current, failureSurfaced: false }, { status: 'FAILED', source: 'webhook', errorCode: 131026 });
      assert.equal(first.effect, 'failure-surfaced');
      assert.equal(first.state.failureSurfaced, true);
      const second = decideStatus(first.state, { status: 'FAILED', source: 'webhook', errorCode: 131026 });
      assert.deepEqual(second, { state: first.state, transitions: [], effect: 'late' });
    });
  }

  test('the surfaced failure is remembered when the message is read afterwards', () => {
    const surfaced = decideStatus(
      { status: 'DELIVERED', failureSurfaced: false },
      { status: 'FAILED', source: 'webhook', errorCode: 131026 },
    );
    const read = decideStatus(surfaced.state, { status: 'READ', source: 'webhook' });
    assert.deepEqual(read.state, { status: 'READ', failureSurfaced: true });
    assert.equal(describeDecision('READ', 'FAILED', 'webhook', 131026, true), 'READ late');
  });

  test('ingress reports (its acceptance, its CANCELED) follow the same rules', () => {
    assert.equal(describeDecision('ACCEPTED', 'CANCELED', 'ingress'), 'CANCELED advanced CANCELED>CANCELED');
    assert.equal(describeDecision('ACCEPTED', 'ACCEPTED', 'ingress'), 'ACCEPTED attempt');
  });
});
