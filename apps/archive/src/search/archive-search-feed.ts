import type { ArchiveService } from '../domain/archive-service';
import type { ArchiveStore } from '../domain/archive-store';
import type { MessageStatus } from '@waygate/domain';

import type { PageRequest, TranscriptCursor, TranscriptMessageEntry } from '../domain/conversation';
import { messageRowOf, outboundStatusOf, type MessageEvent } from '../domain/message-projection';
import type { TranscriptEntry } from '../domain/transcript';
import type { SearchIndex } from './search-index';
import type { LoadTranscriptEntries } from './search-messages';

/**
 * Feeds the search index from the archive's record path: after the store committed an event (or found it already
 * stored: a redelivery, perhaps after the index failed), and before the consumer acknowledges it. The index is built
 * from what the store holds, read back by message id, never from the event as it arrived, so it shows what
 * GetTranscript shows:
 * - a message's record (accepted or inbound) is indexed (idempotent: re-indexing replaces), with the latest status
 *   of the statuses stored so far (kept only while no status was set);
 * - a status event sets the message's latest status, computed from every stored status (outboundStatusOf), so
 *   statuses arriving in any order, or before their message, end as the transcript shows them.
 * The consumers handle several events at once (issue 15), so the feeds of one message run one after another, in the
 * order their records committed: each reads what is stored after the one before it wrote, and the last one, which
 * reads after every record before it committed, writes last (no older status overwrites a newer one).
 * A failure propagates: the consumer retries the event, which is then a 'duplicate' and feeds the index again.
 */
export function withSearchIndexing(service: ArchiveService, deps: SearchFeedDeps): ArchiveService {
  // The last feed of each message still running (removed when it is the last and settles): bounded by events in flight.
  const running = new Map<string, Promise<void>>();
  const feedInOrder = (tenantId: string, messageId: string, kind: 'accepted' | 'status' | 'inbound'): Promise<void> => {
    const key = `${tenantId}\u0000${messageId}`;
    const before = running.get(key);
    const feed = (before ?? Promise.resolve()).catch(() => undefined).then(() => feedSearchIndex(deps, tenantId, messageId, kind));
    running.set(key, feed);
    const forget = () => {
      if (running.get(key) === feed) running.delete(key);
    };
    feed.then(forget, forget);
    return feed;
  };
  return {
    ...service,
    async record(event) {
      const outcome = await service.record(event);
      if (outcome === 'recorded' || outcome === 'duplicate') await feedInOrder(event.tenantId, event.messageId, event.kind);
      return outcome;
    },
  };
}

/** What the search feed reads and writes. */
export interface SearchFeedDeps {
  readonly index: SearchIndex;
  /** The store the records are read back from (content opened, as GetTranscript shows it). */
  readonly store: Pick<ArchiveStore, 'listByMessage'>;
  /**
   * A message's latest status from its stored status events (outboundStatusOf), undefined while it has none: a
   * status event's feed (default: from `store.listByMessage`). The SQLite store reads just the status columns, so a
   * status neither reads nor opens its message's content (issue 15's profile).
   */
  readonly latestStatusOf?: (tenantId: string, messageId: string) => Promise<MessageStatus | undefined>;
}

async function latestStatusFrom(
  store: Pick<ArchiveStore, 'listByMessage'>,
  tenantId: string,
  messageId: string,
): Promise<MessageStatus | undefined> {
  const statuses = (await store.listByMessage(tenantId, messageId)).filter((event) => event.kind === 'status');
  return statuses.length === 0 ? undefined : outboundStatusOf(statuses).status;
}

async function feedSearchIndex(
  { index, store, latestStatusOf }: SearchFeedDeps,
  tenantId: string,
  messageId: string,
  kind: 'accepted' | 'status' | 'inbound',
): Promise<void> {
  if (kind === 'status') {
    const latest = latestStatusOf ? await latestStatusOf(tenantId, messageId) : await latestStatusFrom(store, tenantId, messageId);
    if (latest !== undefined) await index.setStatus(tenantId, messageId, latest);
    return;
  }
  const events = await store.listByMessage(tenantId, messageId);
  const statuses = events.filter((event) => event.kind === 'status');
  const record = events.find((event): event is MessageEvent => event.kind === kind);
  if (!record) return;
  const row = messageRowOf(record);
  const entry: TranscriptEntry = {
    recordId: row.recordId,
    tenantId: row.tenantId,
    conversationId: row.conversationId,
    messageId: row.messageId,
    direction: row.direction,
    type: row.type,
    occurredAt: row.occurredAt,
    ...(row.text !== undefined ? { text: row.text } : {}),
    mediaIds: row.mediaIds,
    statuses: [],
    ...(row.direction === 'outbound' ? { status: outboundStatusOf(statuses).status } : {}),
  };
  await index.index({ entry, conversation: { tenantId, phoneNumberId: row.phoneNumberId, customer: row.customer } });
}

/** Messages at one instant of a conversation read per query while looking for a hit's record. */
const SAME_INSTANT_PAGE = 100;

/**
 * The hits' messages, whole, from the archive store: each is read from its conversation's transcript at the instant
 * the index recorded for it (an indexed range query), so it carries its statuses and session like GetTranscript.
 */
export function loadEntriesFromStore(store: Pick<ArchiveStore, 'transcriptPage'>): LoadTranscriptEntries {
  return async (tenantId, hits) => {
    const entries = new Map<string, TranscriptMessageEntry>();
    await Promise.all(
      hits.map(async (hit) => {
        const range = { from: hit.occurredAt, to: new Date(hit.occurredAt.getTime() + 1) };
        let after: TranscriptCursor | undefined;
        do {
          const request: PageRequest<TranscriptCursor> = { size: SAME_INSTANT_PAGE, ...(after ? { after } : {}) };
          const page = await store.transcriptPage(tenantId, hit.conversationId, range, request);
          const found = page.items.find((item) => item.recordId === hit.recordId);
          if (found) {
            entries.set(hit.recordId, found);
            return;
          }
          after = page.next;
        } while (after);
      }),
    );
    return entries;
  };
}
