import type { MessageStatus } from './message-status';

const STATUS_ORDER: Readonly<Record<MessageStatus, number>> = {
  ACCEPTED: 1,
  SENT: 2,
  DELIVERED: 3,
  READ: 4,
  FAILED: 5,
  EXPIRED: 6,
  CANCELED: 7,
};

/**
 * Orders a message's status events for people: by whole second, then by the state machine's order, then as given
 * (a stable sort). WhatsApp's timestamps have one-second precision and Waygate's milliseconds, so ordering by raw
 * time would put a `read` stamped 12.000 before the `accepted` of 12.597.
 */
export function orderStatusEvents<T extends { readonly status: MessageStatus; readonly occurredAt: Date }>(events: readonly T[]): T[] {
  const second = (event: T) => Math.floor(event.occurredAt.getTime() / 1000);
  return events
    .map((event, index) => ({ event, index }))
    .sort((a, b) => second(a.event) - second(b.event) || STATUS_ORDER[a.event.status] - STATUS_ORDER[b.event.status] || a.index - b.index)
    .map(({ event }) => event);
}
