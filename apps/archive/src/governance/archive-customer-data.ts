import type { CustomerDataParticipant, CustomerDataRecord, CustomerDataSubject } from '@waygate/domain';
import type { ArchiveStore } from '../domain/archive-store';
import type { SearchIndex } from '../search/search-index';

/** What the archive's participant works on. */
export interface ArchiveCustomerDataDeps {
  /** The archive store (sealed at rest): content deleted and the customer pseudonymised; read for exports. */
  readonly store: Pick<ArchiveStore, 'eraseCustomer' | 'shredRecordSalts' | 'conversations' | 'transcript'>;
  /** The search index: the customer's rows deleted (SQLite: FTS5 secure-delete). */
  readonly searchIndex: Pick<SearchIndex, 'removeCustomer'>;
  /** Makes the deletions reach the files: SQLite `wal_checkpoint(TRUNCATE)`; nothing on MongoDB. */
  readonly flush: () => Promise<void>;
}

/**
 * The archive's part in erasure and export (GDPR articles 17 and 15): the customer's records and message rows lose
 * their content (it was sealed under the customer's key, already destroyed by then; the ciphertext goes too), the
 * conversation keeps its metadata under the pseudonym, the search index forgets the customer's rows, the log's salts
 * of the records are shredded, and the WAL is checkpointed. Export: every conversation of the customer and its
 * transcript, read in pages.
 */
export function createArchiveCustomerDataParticipant(deps: ArchiveCustomerDataDeps): CustomerDataParticipant {
  return {
    service: 'archive',
    async erase({ tenantId, customer, customerRef }: CustomerDataSubject) {
      const erased = await deps.store.eraseCustomer(tenantId, customer, customerRef);
      const searchRows = await deps.searchIndex.removeCustomer(tenantId, customer);
      // The log's entries of the erased records stay (every checkpoint and proof stays valid); their salts go, so no
      // entry can be matched to anything any more. Statuses keep theirs: their records are unchanged.
      const logSalts = erased.recordIds.length > 0 ? await deps.store.shredRecordSalts(tenantId, erased.recordIds) : 0;
      await deps.flush();
      return {
        messages: erased.messages,
        records: erased.records,
        conversations: erased.conversations,
        search_rows: searchRows,
        log_salts: logSalts,
      };
    },
    exportCustomer: (subject) => exportCustomer(deps.store, subject),
  };
}

async function* exportCustomer(
  store: Pick<ArchiveStore, 'conversations' | 'transcript'>,
  { tenantId, customer }: CustomerDataSubject,
): AsyncIterable<CustomerDataRecord> {
  for await (const conversation of store.conversations(tenantId, { customer })) {
    yield { section: 'conversations.jsonl', record: { ...conversation } };
    for await (const message of store.transcript(tenantId, conversation.conversationId)) {
      yield { section: 'messages.jsonl', record: { ...message, customer } };
    }
  }
}
