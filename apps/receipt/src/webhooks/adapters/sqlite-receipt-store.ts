import { checkpointWalTruncate, openSqliteDatabase, SqliteGroupCommit, statementCache, type SqliteDatabase } from '@waygate/storage';
import type { Statement } from 'better-sqlite3';
import type { ReceiptStore, SentMessageRecord } from '../domain/receipt-store';
import type { WebhookStatus } from '../domain/webhook-payload';

const MIGRATIONS = [
  `CREATE TABLE sent_messages (
     tenant_id TEXT NOT NULL,
     wa_message_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     trace_context TEXT,
     PRIMARY KEY (tenant_id, wa_message_id)
   );
   CREATE TABLE held_statuses (
     tenant_id TEXT NOT NULL,
     wa_message_id TEXT NOT NULL,
     status TEXT NOT NULL,
     status_json TEXT NOT NULL,
     PRIMARY KEY (tenant_id, wa_message_id, status)
   );`,
  `ALTER TABLE sent_messages ADD COLUMN recipient TEXT;`,
];

/**
 * The embedded ReceiptStore. Writes go through one group commit per file (issue 15): the writes of concurrent webhook
 * bodies and SENT events queued in one event-loop turn share one durable transaction, and each caller's promise
 * settles after its COMMIT (so an acknowledgement that follows still follows a durable write).
 */
export class SqliteReceiptStore implements ReceiptStore {
  private readonly db: SqliteDatabase;
  private readonly writes: SqliteGroupCommit;
  private readonly sql: (sql: string) => Statement;

  constructor(file: string) {
    this.db = openSqliteDatabase(file, MIGRATIONS);
    // The WAL is synced off the event loop (issue 15); reads go through writes.read, so what they return is durable.
    this.writes = new SqliteGroupCommit(this.db, { syncOffLoop: true });
    this.sql = statementCache(this.db);
  }

  async recordSentMessage(record: SentMessageRecord): Promise<void> {
    await this.writes.run(() =>
      this.sql(
        `INSERT INTO sent_messages (tenant_id, wa_message_id, message_id, recipient, trace_context) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ).run(record.tenantId, record.waMessageId, record.messageId, record.recipient || null, record.traceContext ?? null),
    );
  }

  async findSentMessage(tenantId: string, waMessageId: string): Promise<SentMessageRecord | undefined> {
    const row = await this.writes.read(
      () =>
        this.sql('SELECT * FROM sent_messages WHERE tenant_id = ? AND wa_message_id = ?').get(tenantId, waMessageId) as
          | { tenant_id: string; wa_message_id: string; message_id: string; recipient: string | null; trace_context: string | null }
          | undefined,
    );
    if (!row) return undefined;
    return {
      tenantId: row.tenant_id,
      waMessageId: row.wa_message_id,
      messageId: row.message_id,
      ...(row.recipient ? { recipient: row.recipient } : {}),
      ...(row.trace_context ? { traceContext: row.trace_context } : {}),
    };
  }

  async holdStatus(tenantId: string, status: WebhookStatus): Promise<void> {
    const json = JSON.stringify(status);
    await this.writes.run(() =>
      this.sql('INSERT INTO held_statuses (tenant_id, wa_message_id, status, status_json) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(
        tenantId,
        status.waMessageId,
        status.status,
        json,
      ),
    );
  }

  async listHeldStatuses(tenantId: string, waMessageId: string): Promise<WebhookStatus[]> {
    const rows = await this.writes.read(
      () =>
        this.sql('SELECT status_json FROM held_statuses WHERE tenant_id = ? AND wa_message_id = ?')
          .pluck()
          .all(tenantId, waMessageId) as string[],
    );
    return rows.map((json) => {
      // JSON keeps dates as strings; turn them back into the Dates the port promises.
      const status = JSON.parse(json) as WebhookStatus & { occurredAt: string; conversation?: { expiresAt?: string } };
      const expiresAt = status.conversation?.expiresAt;
      return {
        ...status,
        occurredAt: new Date(status.occurredAt),
        ...(status.conversation === undefined
          ? {}
          : { conversation: { ...status.conversation, ...(expiresAt === undefined ? {} : { expiresAt: new Date(expiresAt) }) } }),
      } as WebhookStatus;
    });
  }

  async releaseHeldStatuses(tenantId: string, waMessageId: string): Promise<void> {
    await this.writes.run(() => this.sql('DELETE FROM held_statuses WHERE tenant_id = ? AND wa_message_id = ?').run(tenantId, waMessageId));
  }

  async eraseCustomer(tenantId: string, customer: string, customerRef: string): Promise<{ sentMessages: number; heldStatuses: number }> {
    const forms = [customer, customer.replace(/^\+/, '')];
    return this.writes.run(() => ({
      sentMessages: this.db
        .prepare('UPDATE sent_messages SET recipient = ? WHERE tenant_id = ? AND recipient IN (?, ?)')
        .run(customerRef, tenantId, ...forms).changes,
      heldStatuses: this.db
        .prepare("DELETE FROM held_statuses WHERE tenant_id = ? AND json_extract(status_json, '$.recipientId') IN (?, ?)")
        .run(tenantId, ...forms).changes,
    }));
  }

  /** `wal_checkpoint(TRUNCATE)`, retried while readers hold the WAL: erased values leave the -wal file. */
  async checkpointWal(): Promise<void> {
    await checkpointWalTruncate(this.db);
  }

  /** Commits what is queued, then closes the file. */
  async close(): Promise<void> {
    this.writes.close();
    this.db.close();
  }
}
