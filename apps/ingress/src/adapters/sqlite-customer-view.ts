import type { Statement } from 'better-sqlite3';
import { checkpointWalTruncate, openSqliteDatabase, SqliteGroupCommit, statementCache, type SqliteDatabase } from '@waygate/storage';
import type { CustomerKey, CustomerView, CustomerWindow, InboundMessageEntry } from '../domain/customer-view';
import type { InboundMessageRef } from '../domain/inbound-message-index';

/** Schema versions, applied in order once each. */
const MIGRATIONS = [
  `CREATE TABLE customer_windows (
     tenant_id TEXT NOT NULL,
     phone_number_id TEXT NOT NULL,
     customer_key TEXT NOT NULL,
     last_inbound_at_ms INTEGER NOT NULL,
     closes_at_ms INTEGER NOT NULL,
     -- findWindow: one window per business number and customer.
     PRIMARY KEY (tenant_id, phone_number_id, customer_key)
   );
   CREATE TABLE inbound_messages (
     tenant_id TEXT NOT NULL,
     wa_message_id TEXT NOT NULL,
     phone_number_id TEXT NOT NULL,
     customer TEXT NOT NULL,
     customer_key TEXT NOT NULL,
     occurred_at_ms INTEGER NOT NULL,
     -- findInbound and recordInbound's de-duplication.
     PRIMARY KEY (tenant_id, wa_message_id)
   );
   CREATE TABLE wa_ids (
     tenant_id TEXT NOT NULL,
     recipient TEXT NOT NULL,
     wa_id TEXT NOT NULL,
     learned_at_ms INTEGER NOT NULL,
     -- findWaId: one wa_id per tenant and recipient (the latest answer).
     PRIMARY KEY (tenant_id, recipient)
   );`,
  // eraseCustomer, customerWindows, listInboundOf: one customer's rows by number or customer key (issue 14).
  `CREATE INDEX inbound_messages_by_customer ON inbound_messages (tenant_id, customer);
   CREATE INDEX inbound_messages_by_customer_key ON inbound_messages (tenant_id, customer_key);
   CREATE INDEX customer_windows_by_customer_key ON customer_windows (tenant_id, customer_key);`,
];

interface WindowRow {
  tenant_id: string;
  phone_number_id: string;
  customer_key: string;
  last_inbound_at_ms: number;
  closes_at_ms: number;
}

interface InboundRow {
  tenant_id: string;
  wa_message_id: string;
  phone_number_id: string;
  customer: string;
  occurred_at_ms: number;
}

/** The embedded CustomerView: its own SQLite file beside the message store's (WAL, synchronous commits). */
export class SqliteCustomerView implements CustomerView {
  private readonly db: SqliteDatabase;
  /** Each SQL text prepared once (issue 15: preparing on every call cost 15 % of ingress CPU). */
  private readonly sql: (text: string) => Statement;
  /**
   * This file's writes share one group commit (issue 15): writes queued in one event-loop turn commit in one durable
   * transaction; each promise settles after its COMMIT.
   */
  private readonly commits: SqliteGroupCommit;

  constructor(file: string) {
    this.db = openSqliteDatabase(file, MIGRATIONS);
    this.sql = statementCache(this.db);
    // The WAL is synced off the event loop (issue 15); reads go through commits.read, so what they return is durable.
    this.commits = new SqliteGroupCommit(this.db, { syncOffLoop: true });
  }

  async recordInbound(entry: InboundMessageEntry): Promise<void> {
    await this.commits.run(() => {
      this.sql(
        `INSERT INTO inbound_messages (tenant_id, wa_message_id, phone_number_id, customer, customer_key, occurred_at_ms)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ).run(entry.tenantId, entry.waMessageId, entry.phoneNumberId, entry.customer, entry.customerKey, entry.occurredAt.getTime());
      if (!entry.windowClosesAt) return;
      // Never shortens a window: an older message arriving late changes nothing.
      this.sql(
        `INSERT INTO customer_windows (tenant_id, phone_number_id, customer_key, last_inbound_at_ms, closes_at_ms)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (tenant_id, phone_number_id, customer_key) DO UPDATE SET
               last_inbound_at_ms = MAX(last_inbound_at_ms, excluded.last_inbound_at_ms),
               closes_at_ms = MAX(closes_at_ms, excluded.closes_at_ms)`,
      ).run(entry.tenantId, entry.phoneNumberId, entry.customerKey, entry.occurredAt.getTime(), entry.windowClosesAt.getTime());
    });
  }

  async findWindow(tenantId: string, phoneNumberId: string, customerKey: CustomerKey): Promise<CustomerWindow | undefined> {
    const row = await this.commits.read(
      () =>
        this.sql('SELECT * FROM customer_windows WHERE tenant_id = ? AND phone_number_id = ? AND customer_key = ?').get(
          tenantId,
          phoneNumberId,
          customerKey,
        ) as WindowRow | undefined,
    );
    return row
      ? {
          tenantId: row.tenant_id,
          phoneNumberId: row.phone_number_id,
          customerKey: row.customer_key,
          lastInboundAt: new Date(row.last_inbound_at_ms),
          closesAt: new Date(row.closes_at_ms),
        }
      : undefined;
  }

  async findInbound(tenantId: string, waMessageId: string): Promise<InboundMessageRef | undefined> {
    const row = await this.commits.read(
      () =>
        this.sql('SELECT * FROM inbound_messages WHERE tenant_id = ? AND wa_message_id = ?').get(tenantId, waMessageId) as
          InboundRow | undefined,
    );
    return row
      ? {
          tenantId: row.tenant_id,
          waMessageId: row.wa_message_id,
          customer: row.customer,
          phoneNumberId: row.phone_number_id,
          occurredAt: new Date(row.occurred_at_ms),
        }
      : undefined;
  }

  async recordWaId(tenantId: string, to: string, waId: string, learnedAt: Date): Promise<void> {
    // The latest answer wins (a number can be ported to another account); an older one arriving late changes nothing.
    await this.commits.run(() =>
      this.sql(
        `INSERT INTO wa_ids (tenant_id, recipient, wa_id, learned_at_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (tenant_id, recipient) DO UPDATE SET wa_id = excluded.wa_id, learned_at_ms = excluded.learned_at_ms
         WHERE excluded.learned_at_ms >= wa_ids.learned_at_ms`,
      ).run(tenantId, to, waId, learnedAt.getTime()),
    );
  }

  async findWaId(tenantId: string, to: string): Promise<string | undefined> {
    const row = await this.commits.read(
      () => this.sql('SELECT wa_id FROM wa_ids WHERE tenant_id = ? AND recipient = ?').get(tenantId, to) as { wa_id: string } | undefined,
    );
    return row?.wa_id;
  }

  async eraseCustomer(tenantId: string, customer: string, customerKeys: readonly CustomerKey[]): Promise<number> {
    const keys = JSON.stringify(customerKeys);
    return this.db
      .transaction(() => {
        const inbound = this.sql(
          `DELETE FROM inbound_messages WHERE tenant_id = ? AND (customer = ? OR customer_key IN (SELECT value FROM json_each(?)))`,
        ).run(tenantId, customer, keys).changes;
        const windows = this.sql(
          'DELETE FROM customer_windows WHERE tenant_id = ? AND customer_key IN (SELECT value FROM json_each(?))',
        ).run(tenantId, keys).changes;
        const waIds = this.sql('DELETE FROM wa_ids WHERE tenant_id = ? AND recipient = ?').run(tenantId, customer).changes;
        return inbound + windows + waIds;
      })
      .immediate();
  }

  async customerWindows(tenantId: string, customerKeys: readonly CustomerKey[]): Promise<CustomerWindow[]> {
    const rows = await this.commits.read(
      () =>
        this.sql(
          `SELECT * FROM customer_windows WHERE tenant_id = ? AND customer_key IN (SELECT value FROM json_each(?))
             ORDER BY phone_number_id, customer_key`,
        ).all(tenantId, JSON.stringify(customerKeys)) as WindowRow[],
    );
    return rows.map((row) => ({
      tenantId: row.tenant_id,
      phoneNumberId: row.phone_number_id,
      customerKey: row.customer_key,
      lastInboundAt: new Date(row.last_inbound_at_ms),
      closesAt: new Date(row.closes_at_ms),
    }));
  }

  async listInboundOf(
    tenantId: string,
    customer: string,
    customerKeys: readonly CustomerKey[],
    page: { readonly afterWaMessageId?: string; readonly limit: number },
  ): Promise<InboundMessageRef[]> {
    const rows = await this.commits.read(
      () =>
        this.sql(
          `SELECT * FROM inbound_messages WHERE tenant_id = ? AND (customer = ? OR customer_key IN (SELECT value FROM json_each(?)))
               AND wa_message_id > ? ORDER BY wa_message_id LIMIT ?`,
        ).all(tenantId, customer, JSON.stringify(customerKeys), page.afterWaMessageId ?? '', page.limit) as InboundRow[],
    );
    return rows.map((row) => ({
      tenantId: row.tenant_id,
      waMessageId: row.wa_message_id,
      customer: row.customer,
      phoneNumberId: row.phone_number_id,
      occurredAt: new Date(row.occurred_at_ms),
    }));
  }

  async flushDeleted(): Promise<void> {
    await checkpointWalTruncate(this.db);
  }

  async close(): Promise<void> {
    this.commits.close();
    this.db.close();
  }
}
