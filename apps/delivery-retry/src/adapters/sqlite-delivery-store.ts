import { openSqliteDatabase, type SqliteDatabase } from '@waygate/storage';
import type { AttemptRecord, Delivery, DeliveryContent, DeliveryState } from '../domain/delivery';
import type { DeliveryStore } from '../domain/delivery-store';

const MIGRATIONS = [
  `CREATE TABLE deliveries (
     tenant_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     recipient TEXT NOT NULL,
     phone_number_id TEXT NOT NULL,
     content_json TEXT NOT NULL,
     state TEXT NOT NULL,
     attempts INTEGER NOT NULL,
     wa_message_id TEXT,
     last_error_code INTEGER,
     last_error_title TEXT,
     next_attempt_at_ms INTEGER,
     expires_at_ms INTEGER NOT NULL,
     updated_at_ms INTEGER NOT NULL,
     PRIMARY KEY (tenant_id, message_id)
   );`,
];

interface DeliveryRow {
  tenant_id: string;
  message_id: string;
  recipient: string;
  phone_number_id: string;
  content_json: string;
  state: string;
  attempts: number;
  wa_message_id: string | null;
  last_error_code: number | null;
  last_error_title: string | null;
  next_attempt_at_ms: number | null;
  expires_at_ms: number;
  updated_at_ms: number;
}

function toDelivery(row: DeliveryRow): Delivery {
  return {
    tenantId: row.tenant_id,
    messageId: row.message_id,
    to: row.recipient,
    phoneNumberId: row.phone_number_id,
    content: JSON.parse(row.content_json) as DeliveryContent,
    state: row.state as DeliveryState,
    attempts: row.attempts,
    ...(row.wa_message_id !== null ? { waMessageId: row.wa_message_id } : {}),
    ...(row.last_error_code !== null ? { lastErrorCode: row.last_error_code } : {}),
    ...(row.last_error_title !== null ? { lastErrorTitle: row.last_error_title } : {}),
    ...(row.next_attempt_at_ms !== null ? { nextAttemptAt: new Date(row.next_attempt_at_ms) } : {}),
    expiresAt: new Date(row.expires_at_ms),
    updatedAt: new Date(row.updated_at_ms),
  };
}

/** The embedded DeliveryStore: one SQLite file, WAL mode, synchronous commits. */
export class SqliteDeliveryStore implements DeliveryStore {
  private readonly db: SqliteDatabase;

  constructor(file: string) {
    this.db = openSqliteDatabase(file, MIGRATIONS);
  }

  async insertIfAbsent(delivery: Delivery): Promise<Delivery> {
    this.db
      .prepare(
        `INSERT INTO deliveries (tenant_id, message_id, recipient, phone_number_id, content_json, state, attempts, wa_message_id,
           last_error_code, last_error_title, next_attempt_at_ms, expires_at_ms, updated_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, message_id) DO NOTHING`,
      )
      .run(
        delivery.tenantId,
        delivery.messageId,
        delivery.to,
        delivery.phoneNumberId,
        JSON.stringify(delivery.content),
        delivery.state,
        delivery.attempts,
        delivery.waMessageId ?? null,
        delivery.lastErrorCode ?? null,
        delivery.lastErrorTitle ?? null,
        delivery.nextAttemptAt?.getTime() ?? null,
        delivery.expiresAt.getTime(),
        delivery.updatedAt.getTime(),
      );
    return (await this.get(delivery.tenantId, delivery.messageId)) as Delivery;
  }

  async get(tenantId: string, messageId: string): Promise<Delivery | undefined> {
    const row = this.db.prepare('SELECT * FROM deliveries WHERE tenant_id = ? AND message_id = ?').get(tenantId, messageId) as
      DeliveryRow | undefined;
    return row ? toDelivery(row) : undefined;
  }

  async recordAttempt(tenantId: string, messageId: string, attempt: AttemptRecord): Promise<void> {
    this.db
      .prepare(
        `UPDATE deliveries SET state = ?, attempts = ?, wa_message_id = COALESCE(?, wa_message_id), last_error_code = ?, last_error_title = ?,
           next_attempt_at_ms = ?, updated_at_ms = ? WHERE tenant_id = ? AND message_id = ?`,
      )
      .run(
        attempt.state,
        attempt.attempts,
        attempt.waMessageId ?? null,
        attempt.lastErrorCode ?? null,
        attempt.lastErrorTitle ?? null,
        attempt.nextAttemptAt?.getTime() ?? null,
        attempt.updatedAt.getTime(),
        tenantId,
        messageId,
      );
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
