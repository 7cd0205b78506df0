import type { ArchiveLogStore } from './archive-log';
import type { ArchivedEvent } from './archived-event';
import type {
  ConversationCursor,
  ConversationFilter,
  ConversationSummary,
  Page,
  PageRequest,
  TimeRange,
  TranscriptCursor,
  TranscriptMessageEntry,
} from './conversation';

/** How many rows the AsyncIterable readers (transcript, conversations) read per query: memory stays bounded. */
export const STORE_READ_PAGE_SIZE = 500;

/**
 * The archive's storage port. Every method is scoped by tenant.
 *
 * Besides the append-only events, a store keeps two projections, updated with each event (in one transaction where
 * the store has them, else idempotently re-applied when the event is redelivered):
 * - one row per message (an accepted or an inbound event), with its content, searchable text, latest status, wamid,
 *   sentiment, conversation and whether it starts a session (sessions.ts);
 * - one summary per conversation (ConversationSummary).
 * A status can arrive before its accepted event (different streams): the message row picks up the statuses already
 * recorded when it is created.
 */
export interface ArchiveStore extends ArchiveLogStore {
  /**
   * Stores `event` unless the tenant already has an event with its id; 'duplicate' (and no change) if it has.
   * Atomic: two concurrent calls with one event id store it once. Resolves once the write is durable.
   * A recorded event also gets its entry in the tenant's archive log (domain/archive-log.ts), in the same transaction
   * where the store has them; a duplicate appends nothing.
   */
  record(event: ArchivedEvent): Promise<'recorded' | 'duplicate'>;
  /** The tenant's events about one message, oldest first: by occurredAt, then recordedAt, then eventId. */
  listByMessage(tenantId: string, messageId: string): Promise<ArchivedEvent[]>;
  /** One conversation's summary, or undefined (unknown, or another tenant's). */
  getConversation(tenantId: string, conversationId: string): Promise<ConversationSummary | undefined>;
  /** One page of the tenant's conversations matching `filter`, most recently active first (lastMessageAt, then id). */
  listConversations(
    tenantId: string,
    filter: ConversationFilter,
    page: PageRequest<ConversationCursor>,
  ): Promise<Page<ConversationSummary, ConversationCursor>>;
  /**
   * One page of a conversation's messages in `range`, oldest first (occurredAt, then record id), each with its
   * statuses (oldest first) and session index. Empty for an unknown conversation or another tenant's.
   */
  transcriptPage(
    tenantId: string,
    conversationId: string,
    range: TimeRange,
    page: PageRequest<TranscriptCursor>,
  ): Promise<Page<TranscriptMessageEntry, TranscriptCursor>>;
  /** Every message of a conversation in `range`, oldest first, read in bounded pages (see transcriptPage). */
  transcript(tenantId: string, conversationId: string, range?: TimeRange): AsyncIterable<TranscriptMessageEntry>;
  /** Every conversation matching `filter`, most recently active first, read in bounded pages. */
  conversations(tenantId: string, filter?: ConversationFilter): AsyncIterable<ConversationSummary>;
  close(): Promise<void>;
}

/**
 * Every item of a paged read, page by page (at most one page in memory): what export and analysis walk a million
 * messages with.
 */
export async function* readAllPages<T, C>(readPage: (after: C | undefined) => Promise<Page<T, C>>): AsyncGenerator<T> {
  let after: C | undefined;
  do {
    const page = await readPage(after);
    yield* page.items;
    after = page.next;
  } while (after !== undefined);
}

/** A conversation's messages in `range`, oldest first, read in bounded pages (adapters' `transcript`). */
export function readTranscript(
  store: Pick<ArchiveStore, 'transcriptPage'>,
  tenantId: string,
  conversationId: string,
  range: TimeRange = {},
): AsyncIterable<TranscriptMessageEntry> {
  return readAllPages<TranscriptMessageEntry, TranscriptCursor>((after) =>
    store.transcriptPage(tenantId, conversationId, range, { size: STORE_READ_PAGE_SIZE, ...(after ? { after } : {}) }),
  );
}

/** The tenant's conversations matching `filter`, most recently active first, in bounded pages (adapters' `conversations`). */
export function readConversations(
  store: Pick<ArchiveStore, 'listConversations'>,
  tenantId: string,
  filter: ConversationFilter = {},
): AsyncIterable<ConversationSummary> {
  return readAllPages<ConversationSummary, ConversationCursor>((after) =>
    store.listConversations(tenantId, filter, { size: STORE_READ_PAGE_SIZE, ...(after ? { after } : {}) }),
  );
}
