import type { MessageStatus } from '@waygate/domain';
import type { ConversationKey, Direction, TranscriptEntry } from '../domain/transcript';
import type { SearchQuery } from './search-query';

/**
 * The archive's full-text search port (issue 13). Plain data in and out, no driver types: the SQLite FTS5 and MongoDB
 * adapters beside this file implement it, and one contract suite (search-index.contract.test.ts) runs against both.
 * Every method is scoped by tenant: no call reads or changes another tenant's messages.
 */

/** The filters of a search; an absent field does not filter. */
export interface SearchFilters {
  /** The customer's number (E.164). Personal data: never logged. */
  readonly customer?: string;
  /** The tenant's business number (WhatsApp phone number id). */
  readonly phoneNumberId?: string;
  readonly direction?: Direction;
  /** WhatsApp's message type (text, image, template ...). */
  readonly type?: string;
  /** Outbound messages whose latest status is this one (inbound messages have none and never match). */
  readonly status?: MessageStatus;
  /** Inclusive. */
  readonly from?: Date;
  /** Exclusive. */
  readonly to?: Date;
}

/** A page of a ranked result: `offset` hits skipped, at most `limit` returned. */
export interface SearchPageRequest {
  readonly offset: number;
  readonly limit: number;
}

/** One matching message. */
export interface SearchIndexHit {
  readonly recordId: string;
  readonly messageId: string;
  readonly conversationId: string;
  /** A short excerpt around the first match, every matched term wrapped in `[` and `]` (see snippet.ts). */
  readonly snippet: string;
  readonly occurredAt: Date;
  /** Higher is better (the negated bm25 score on SQLite, the text score on MongoDB; 0 when only a substring fallback matched). */
  readonly rank: number;
}

/** One page of hits, best first; `hasMore` when another page follows. */
export interface SearchIndexPage {
  readonly hits: readonly SearchIndexHit[];
  readonly hasMore: boolean;
}

/** What the index keeps of a message: the transcript entry and its conversation's key (for the customer and number filters). */
export interface IndexedMessage {
  readonly entry: TranscriptEntry;
  readonly conversation: ConversationKey;
}

/** The fields the index keeps of a message (what the filters and hits read) and its searchable text. */
export interface IndexedFields {
  readonly tenantId: string;
  readonly recordId: string;
  readonly messageId: string;
  readonly conversationId: string;
  /** Personal data: never logged. */
  readonly customer: string;
  readonly phoneNumberId: string;
  readonly direction: Direction;
  readonly type: string;
  readonly occurredAt: Date;
  /** The message's text, NFC-normalised and trimmed; never empty. */
  readonly text: string;
}

/**
 * What every adapter indexes of a message, or undefined when it has no text to find it by (a location, an uncaptioned
 * image): such a message is not indexed, and a former version of it is removed. Pure.
 */
export function indexedFieldsOf({ entry, conversation }: IndexedMessage): IndexedFields | undefined {
  const text = entry.text?.normalize('NFC').trim() ?? '';
  if (!text) return undefined;
  return {
    tenantId: entry.tenantId,
    recordId: entry.recordId,
    messageId: entry.messageId,
    conversationId: entry.conversationId,
    customer: conversation.customer,
    phoneNumberId: conversation.phoneNumberId,
    direction: entry.direction,
    type: entry.type,
    occurredAt: entry.occurredAt,
    text,
  };
}

/** The search index port. */
export interface SearchIndex {
  /**
   * Indexes one message (idempotent by tenant + record id: indexing it again replaces what was indexed, so a
   * redelivered record changes nothing and a corrected one wins). The entry's status, if it has one, is kept only
   * while no status was set for the message with {@link SearchIndex.setStatus}: a status set before the message was
   * indexed was computed from more events than the entry knew of.
   */
  index(message: IndexedMessage): Promise<void>;
  /**
   * Sets an outbound message's latest status, as the archive computes it from every status event it stored
   * (outboundStatusOf), for the status filter. Replaces the former one; a status set before the message is indexed
   * is kept for it. Setting the same status again changes nothing (redelivery).
   */
  setStatus(tenantId: string, messageId: string, status: MessageStatus): Promise<void>;
  /** Removes one message from the index (erasure); whether it was indexed. */
  remove(tenantId: string, recordId: string): Promise<boolean>;
  /** Removes every message of one customer of the tenant (erasure of a person); how many were removed. */
  removeCustomer(tenantId: string, customer: string): Promise<number>;
  /**
   * The tenant's messages that match every term of `query` and every filter, best first (then newest first), one
   * page. `query` is parsed and validated by parseSearchQuery; its terms are never interpreted as query syntax.
   */
  search(tenantId: string, query: SearchQuery, filters: SearchFilters, page: SearchPageRequest): Promise<SearchIndexPage>;
  close(): Promise<void>;
}
