import type { MessageStatus } from '@waygate/domain';
import type { TimelineEntry } from './outbound-message';

const STATUS_ORDER: Readonly<Record<MessageStatus, number>> = { ACCEPTED: 1, SENT: 2, DELIVERED: 3, READ: 4, FAILED: 5, EXPIRED: 6 };

/**
 * Orders a timeline for display. Entries keep WhatsApp's own timestamps, which have one-second precision, while
 * Waygate's have milliseconds; so entries are ordered by whole second, then by the state machine's order, then by
 * arrival. (By raw time, a `read` stamped 12.000 would come before the `accepted` of 12.597.)
 */
export function orderTimeline(entries: readonly TimelineEntry[]): TimelineEntry[] {
  return entries
    .map((entry, arrival) => ({ entry, arrival, second: Math.floor(entry.occurredAt.getTime() / 1000) }))
    .sort((a, b) => a.second - b.second || STATUS_ORDER[a.entry.status] - STATUS_ORDER[b.entry.status] || a.arrival - b.arrival)
    .map(({ entry }) => entry);
}
