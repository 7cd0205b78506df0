import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageStatus } from '@waygate/domain';
import { applyStatusReport, type MessageFeedState, type StatusReport, type StatusChangeDraft } from './feed-rules';

const report = (status: MessageStatus, extra: Partial<StatusReport> = {}): StatusReport => ({
  tenantId: 'acme',
  messageId: 'm1',
  status,
  source: 'webhook',
  occurredAt: new Date(1_700_000_000_000),
  ...extra,
});

/** Applies reports in order; returns every change emitted and the final state. */
function run(...reports: StatusReport[]): { changes: StatusChangeDraft[]; state: MessageFeedState | undefined } {
  let state: MessageFeedState | undefined;
  const changes: StatusChangeDraft[] = [];
  for (const r of reports) {
    const applied = applyStatusReport(state, r);
    if (!applied) continue;
    state = applied.state;
    changes.push(...applied.changes);
  }
  return { changes, state };
}

const statuses = (changes: StatusChangeDraft[]) =>
  changes.map((c) => (c.status === c.messageStatus ? c.status : `${c.status}->${c.messageStatus}`));

test('each forward step is emitted once with the status after it; the wamid and recipient are remembered', () => {
  const { changes, state } = run(
    report('SENT', { waMessageId: 'wamid.1', recipient: '+4915112345678' }),
    report('DELIVERED'),
    report('READ'),
  );
  assert.deepEqual(statuses(changes), ['SENT', 'DELIVERED', 'READ']);
  assert.deepEqual(state, { status: 'READ', waMessageId: 'wamid.1', recipient: '+4915112345678', failureSurfaced: false });
});

test('attempt reports (ACCEPTED) and repeated statuses are not news', () => {
  assert.equal(applyStatusReport(undefined, report('ACCEPTED')), undefined);
  const sent = applyStatusReport(undefined, report('SENT', { waMessageId: 'wamid.1' }));
  assert.ok(sent);
  assert.equal(
    applyStatusReport(sent.state, report('SENT', { waMessageId: 'wamid.1' })),
    undefined,
    'webhook sent after the API said sent',
  );
  assert.equal(applyStatusReport(sent.state, report('ACCEPTED')), undefined);
});

test('a report that is no news still teaches the recipient', () => {
  const sent = applyStatusReport(undefined, report('SENT'));
  assert.ok(sent);
  assert.deepEqual(applyStatusReport(sent.state, report('SENT', { recipient: '+4915112345678' })), {
    state: { status: 'SENT', recipient: '+4915112345678', failureSurfaced: false },
    changes: [],
  });
});

test('READ before DELIVERED emits an implied DELIVERED, then READ; the late DELIVERED emits nothing', () => {
  const { changes, state } = run(report('SENT'), report('READ'), report('DELIVERED'));
  assert.deepEqual(changes.slice(1), [
    { status: 'DELIVERED', messageStatus: 'DELIVERED', implied: true },
    { status: 'READ', messageStatus: 'READ' },
  ]);
  assert.equal(state?.status, 'READ');
});

test('FAILED after DELIVERED is surfaced once with its error; the message stays DELIVERED and can still be READ', () => {
  const { changes, state } = run(
    report('SENT'),
    report('DELIVERED'),
    report('FAILED', { errorCode: 131026, errorTitle: 'Message undeliverable' }),
    report('FAILED', { errorCode: 131026, errorTitle: 'Message undeliverable' }),
    report('READ'),
  );
  assert.deepEqual(statuses(changes), ['SENT', 'DELIVERED', 'FAILED->DELIVERED', 'READ']);
  assert.deepEqual(changes[2], { status: 'FAILED', messageStatus: 'DELIVERED', errorCode: 131026, errorTitle: 'Message undeliverable' });
  assert.equal(state?.status, 'READ');
});

test('FAILED after READ is surfaced with the message staying READ', () => {
  assert.deepEqual(statuses(run(report('SENT'), report('READ'), report('FAILED', { errorCode: 131026 })).changes), [
    'SENT',
    'DELIVERED',
    'READ',
    'FAILED->READ',
  ]);
});

test('FAILED, EXPIRED and CANCELED end the message: nothing after them is emitted', () => {
  for (const terminal of ['FAILED', 'EXPIRED', 'CANCELED'] as const) {
    const { changes, state } = run(
      report('SENT'),
      report(terminal, { errorCode: 131047 }),
      report('DELIVERED'),
      report('READ'),
      report('FAILED'),
    );
    assert.deepEqual(statuses(changes), ['SENT', terminal], terminal);
    assert.equal(state?.status, terminal);
  }
  const failed = run(report('FAILED', { errorCode: 131047, errorTitle: 'Re-engagement message' })).changes;
  assert.deepEqual(failed, [{ status: 'FAILED', messageStatus: 'FAILED', errorCode: 131047, errorTitle: 'Re-engagement message' }]);
  assert.deepEqual(statuses(run(report('EXPIRED')).changes), ['EXPIRED'], 'an ACCEPTED message can expire');
});

test('EXPIRED or CANCELED reported after delivery change nothing (only a failure is surfaced)', () => {
  assert.deepEqual(statuses(run(report('SENT'), report('DELIVERED'), report('EXPIRED'), report('CANCELED')).changes), [
    'SENT',
    'DELIVERED',
  ]);
});

test('in any arrival order of SENT, DELIVERED and READ, the tenant sees each step once, in forward order', () => {
  const orders: MessageStatus[][] = [
    ['SENT', 'DELIVERED', 'READ'],
    ['SENT', 'READ', 'DELIVERED'],
    ['DELIVERED', 'SENT', 'READ'],
    ['DELIVERED', 'READ', 'SENT'],
    ['READ', 'SENT', 'DELIVERED'],
    ['READ', 'DELIVERED', 'SENT'],
  ];
  const rank: Record<string, number> = { SENT: 2, DELIVERED: 3, READ: 4 };
  for (const order of orders) {
    const { changes, state } = run(...order.map((status) => report(status)));
    const emitted = changes.map((c) => c.messageStatus);
    assert.equal(new Set(emitted).size, emitted.length, `${order.join(',')}: no status twice`);
    assert.ok(
      emitted.every((status, i) => i === 0 || rank[status] > rank[emitted[i - 1]]),
      `${order.join(',')}: forward only (${emitted.join(',')})`,
    );
    assert.equal(emitted.at(-1), 'READ');
    assert.ok(emitted.includes('DELIVERED'), `${order.join(',')}: DELIVERED is always emitted`);
    assert.equal(state?.status, 'READ');
  }
});

test('a failure delivery-retry retries (131049) is no news and not terminal; the resend is delivered', () => {
  const { changes, state } = run(
    report('SENT', { waMessageId: 'wamid.1' }),
    report('FAILED', { errorCode: 131049, waMessageId: 'wamid.1' }),
    report('SENT', { waMessageId: 'wamid.2' }),
    report('DELIVERED', { waMessageId: 'wamid.2' }),
  );
  assert.deepEqual(statuses(changes), statuses(run(report('SENT'), report('DELIVERED')).changes));
  assert.equal(state?.status, 'DELIVERED');
});

test('a FAILED from delivery-retry ends the message whatever its code: delivery-retry decided not to send it again', () => {
  const { changes, state } = run(report('SENT', { waMessageId: 'wamid.1' }), report('FAILED', { source: 'delivery', errorCode: 131049 }));
  assert.deepEqual(statuses(changes), ['SENT', 'FAILED']);
  assert.equal(state?.status, 'FAILED');
});

test('a failure delivery-retry retries is news neither before nor after delivery', () => {
  const { changes, state } = run(report('DELIVERED'), report('FAILED', { errorCode: 131000 }));
  assert.deepEqual(statuses(changes), ['DELIVERED']);
  assert.deepEqual(state, { status: 'DELIVERED', failureSurfaced: false });
});
