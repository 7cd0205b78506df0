import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orderStatusEvents } from './status-event-order';

test('orders by whole second, then state order, then as given', () => {
  const at = (ms: number) => new Date(1_700_000_000_000 + ms);
  const events = [
    { id: 'read', status: 'READ' as const, occurredAt: at(0) },
    { id: 'accepted', status: 'ACCEPTED' as const, occurredAt: at(597) },
    { id: 'sent-webhook', status: 'SENT' as const, occurredAt: at(0) },
    { id: 'sent-delivery', status: 'SENT' as const, occurredAt: at(640) },
    { id: 'late-delivered', status: 'DELIVERED' as const, occurredAt: at(1000) },
    { id: 'earlier', status: 'READ' as const, occurredAt: at(-1000) },
  ];
  assert.deepEqual(
    orderStatusEvents(events).map((e) => e.id),
    ['earlier', 'accepted', 'sent-webhook', 'sent-delivery', 'read', 'late-delivered'],
  );
});
