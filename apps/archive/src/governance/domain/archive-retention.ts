/**
 * Retention of archive records (issue 14): what the sweeper asks of the archive store. A record here is one message
 * (an accepted or inbound event with its message row); disposing of it removes the event, the message row, the
 * message's status events and its part of the conversation summary (rebuilt from what remains, or removed).
 */

/** A message past its retention, as the sweeper sees it. */
export interface ExpiredRecord {
  /** The event id of its accepted or inbound event (the search index's and the archive log's key). */
  readonly recordId: string;
  readonly messageId: string;
  readonly conversationId: string;
  /** E.164: checked against legal holds right before disposal. Never logged. */
  readonly customer: string;
}

/** The storage port of retention (implemented by the SQLite and MongoDB archive stores). */
export interface ArchiveRetentionStore {
  /**
   * Up to `limit` of the tenant's messages that happened before `before`, oldest first, skipping the customers in
   * `exceptCustomers` (held). Reads only.
   */
  expiredRecords(
    tenantId: string,
    before: Date,
    options: { readonly exceptCustomers: readonly string[]; readonly limit: number },
  ): Promise<ExpiredRecord[]>;
  /**
   * Disposes of the records (idempotent: one already gone is skipped) and rebuilds the summaries of their
   * conversations (removed when no message is left). Returns how many were disposed of, and the ids of every event
   * deleted (the records' own and their status events': the archive log's salts to shred).
   */
  disposeRecords(tenantId: string, records: readonly ExpiredRecord[]): Promise<{ disposed: number; eventIds: string[] }>;
}
