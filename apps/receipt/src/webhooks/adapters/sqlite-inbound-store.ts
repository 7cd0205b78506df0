import type { Statement } from 'better-sqlite3';
import { checkpointWalTruncate, openSqliteDatabase, SqliteGroupCommit, statementCache, type SqliteDatabase } from '@waygate/storage';
import {
  ERASED_CONTENT,
  type InboundMessageRecord,
  type InboundStore,
  type ServiceWindowKey,
  type ServiceWindowState,
} from '../domain/inbound-store';
import type { InboundContent } from '../domain/webhook-payload';

const MIGRATIONS = [
  `CREATE TABLE inbound_messages (
     tenant_id TEXT NOT NULL,
     wa_message_id TEXT NOT NULL,
     phone_number_id TEXT NOT NULL,
     customer TEXT NOT NULL,
     occurred_at INTEGER NOT NULL,
     type TEXT NOT NULL,
     content_json TEXT NOT NULL,
     context_wa_message_id TEXT,
     profile_name TEXT,
     media_json TEXT,
     media_unavailable TEXT,
     received_at INTEGER NOT NULL,
     PRIMARY KEY (tenant_id, wa_message_id)
   );
   CREATE INDEX inbound_messages_by_customer ON inbound_messages (tenant_id, phone_number_id, customer, occurred_at);
   CREATE TABLE service_windows (
     tenant_id TEXT NOT NULL,
     phone_number_id TEXT NOT NULL,
     customer TEXT NOT NULL,
     last_inbound_at INTEGER NOT NULL,
     PRIMARY KEY (tenant_id, phone_number_id, customer)
   );`,
];

interface InboundRow {
  tenant_id: string;
  wa_message_id: string;
  phone_number_id: string;
  customer: string;
  occurred_at: number;
  type: string;
  content_json: string;
  context_wa_message_id: string | null;
  profile_name: string | null;
  media_json: string | null;
  media_unavailable: string | null;
  received_at: number;
}

function toRecord(row: InboundRow): InboundMessageRecord {
  return {
    tenantId: row.tenant_id,
    phoneNumberId: row.phone_number_id,
    customer: row.customer,
    waMessageId: row.wa_message_id,
    occurredAt: new Date(row.occurred_at),
    type: row.type,
    content: JSON.parse(row.content_json) as InboundContent,
    ...(row.context_wa_message_id ? { contextWaMessageId: row.context_wa_message_id } : {}),
    ...(row.profile_name ? { profileName: row.profile_name } : {}),
    ...(row.media_json ? { media: JSON.parse(row.media_json) as InboundMessageRecord['media'] } : {}),
    ...(row.media_unavailable ? { mediaUnavailable: row.media_unavailable } : {}),
    receivedAt: new Date(row.received_at),
  };
}

/**
 * The embedded InboundStore. It has its own file (next to the ReceiptStore's): each SQLite file's migrations are
 * numbered by the one store that owns it. Writes go through one group commit for the file (issue 15): those of
 * concurrent webhook bodies share one durable transaction; each promise settles after its COMMIT.
 */
export class SqliteInboundStore implements InboundStore {
  private readonly db: SqliteDatabase;
  private readonly writes: SqliteGroupCommit;
  private readonly sql: (sql: string) => Statement;

  constructor(file: string) {
    this.db = openSqliteDatabase(file, MIGRATIONS);
    // The WAL is synced off the event loop (issue 15); reads go through writes.read, so what they return is durable.
    this.writes = new SqliteGroupCommit(this.db, { syncOffLoop: true });
    this.sql = statementCache(this.db);
  }

  async recordInboundMessage(record: InboundMessageRecord): Promise<InboundMessageRecord> {
    const contentJson = JSON.stringify(record.content);
    const mediaJson = record.media ? JSON.stringify(record.media) : null;
    // The row as stored (the first recording wins): read in the same transaction as the insert.
    const row = await this.writes.run(() => {
      this.sql(
        `INSERT INTO inbound_messages (tenant_id, wa_message_id, phone_number_id, customer, occurred_at, type, content_json,
           context_wa_message_id, profile_name, media_json, media_unavailable, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ).run(
        record.tenantId,
        record.waMessageId,
        record.phoneNumberId,
        record.customer,
        record.occurredAt.getTime(),
        record.type,
        contentJson,
        record.contextWaMessageId ?? null,
        record.profileName ?? null,
        mediaJson,
        record.mediaUnavailable ?? null,
        record.receivedAt.getTime(),
      );
      return this.inboundRow(record.tenantId, record.waMessageId) as InboundRow;
    });
    return toRecord(row);
  }

  private inboundRow(tenantId: string, waMessageId: string): InboundRow | undefined {
    return this.sql('SELECT * FROM inbound_messages WHERE tenant_id = ? AND wa_message_id = ?').get(tenantId, waMessageId) as
      InboundRow | undefined;
  }

  async findInboundMessage(tenantId: string, waMessageId: string): Promise<InboundMessageRecord | undefined> {
    const row = await this.writes.read(() => this.inboundRow(tenantId, waMessageId));
    return row ? toRecord(row) : undefined;
  }

  async extendServiceWindow(key: ServiceWindowKey, inboundAt: Date): Promise<ServiceWindowState> {
    const lastInboundAt = await this.writes.run(() => {
      // MAX keeps the later time, so an out-of-order older message never shortens the window.
      this.sql(
        `INSERT INTO service_windows (tenant_id, phone_number_id, customer, last_inbound_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (tenant_id, phone_number_id, customer) DO UPDATE SET last_inbound_at = MAX(last_inbound_at, excluded.last_inbound_at)`,
      ).run(key.tenantId, key.phoneNumberId, key.customer, inboundAt.getTime());
      return this.lastInboundAt(key) as number;
    });
    return { lastInboundAt: new Date(lastInboundAt) };
  }

  private lastInboundAt(key: ServiceWindowKey): number | undefined {
    return this.sql('SELECT last_inbound_at FROM service_windows WHERE tenant_id = ? AND phone_number_id = ? AND customer = ?')
      .pluck()
      .get(key.tenantId, key.phoneNumberId, key.customer) as number | undefined;
  }

  async findServiceWindow(key: ServiceWindowKey): Promise<ServiceWindowState | undefined> {
    const lastInboundAt = await this.writes.read(() => this.lastInboundAt(key));
    return lastInboundAt === undefined ? undefined : { lastInboundAt: new Date(lastInboundAt) };
  }

  async customerMessages(
    tenantId: string,
    customer: string,
    page: { readonly after?: { readonly occurredAt: Date; readonly waMessageId: string }; readonly limit: number },
  ): Promise<InboundMessageRecord[]> {
    const after = page.after ? [page.after.occurredAt.getTime(), page.after.waMessageId] : [Number.MIN_SAFE_INTEGER, ''];
    const rows = await this.writes.read(
      () =>
        this.db
          .prepare(
            `SELECT * FROM inbound_messages WHERE tenant_id = ? AND customer = ? AND (occurred_at, wa_message_id) > (?, ?)
               ORDER BY occurred_at, wa_message_id LIMIT ?`,
          )
          .all(tenantId, customer, ...after, page.limit) as InboundRow[],
    );
    return rows.map(toRecord);
  }

  async eraseCustomer(tenantId: string, customer: string, customerRef: string): Promise<{ messages: number; windows: number }> {
    return this.writes.run(() => {
      const messages = this.db
        .prepare(
          `UPDATE inbound_messages SET content_json = ?, profile_name = NULL, media_json = NULL, customer = ?
             WHERE tenant_id = ? AND customer = ?`,
        )
        .run(JSON.stringify(ERASED_CONTENT), customerRef, tenantId, customer).changes;
      const windows = this.db.prepare('DELETE FROM service_windows WHERE tenant_id = ? AND customer = ?').run(tenantId, customer).changes;
      return { messages, windows };
    });
  }

  /** `wal_checkpoint(TRUNCATE)`, retried while readers keep it busy: an erasure's deletions leave the -wal file. */
  async checkpointWal(): Promise<void> {
    await checkpointWalTruncate(this.db);
  }

  /** Commits what is queued, then closes the file. */
  async close(): Promise<void> {
    this.writes.close();
    this.db.close();
  }
}
