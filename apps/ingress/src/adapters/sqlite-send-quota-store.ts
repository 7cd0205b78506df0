import { openSqliteDatabase, type SqliteDatabase } from '@waygate/storage';
import type { SendQuotaStore } from '../domain/send-quota';

/** Schema versions, applied in order once each. */
const MIGRATIONS = [
  `CREATE TABLE daily_sends (
     tenant_id TEXT NOT NULL,
     day TEXT NOT NULL,
     used INTEGER NOT NULL,
     -- consume, used: one counter per tenant and UTC day.
     PRIMARY KEY (tenant_id, day)
   );`,
];

/** Days of counters kept (older ones are deleted as new days start). */
const KEEP_DAYS = 7;

/** The embedded SendQuotaStore: its own SQLite file beside the message store's. */
export class SqliteSendQuotaStore implements SendQuotaStore {
  private readonly db: SqliteDatabase;

  constructor(file: string) {
    this.db = openSqliteDatabase(file, MIGRATIONS);
  }

  async consume(tenantId: string, day: string, limit: number): Promise<boolean> {
    const { changes } = this.db
      .prepare(
        `INSERT INTO daily_sends (tenant_id, day, used) VALUES (?, ?, 1)
         ON CONFLICT (tenant_id, day) DO UPDATE SET used = used + 1 WHERE used < ?`,
      )
      .run(tenantId, day, limit);
    if (changes === 1 && this.db.prepare('SELECT used FROM daily_sends WHERE tenant_id = ? AND day = ?').pluck().get(tenantId, day) === 1) {
      // The tenant's first send of the day: old counters go.
      const cutoff = new Date(Date.parse(`${day}T00:00:00Z`) - KEEP_DAYS * 86_400_000).toISOString().slice(0, 10);
      this.db.prepare('DELETE FROM daily_sends WHERE tenant_id = ? AND day < ?').run(tenantId, cutoff);
    }
    return changes === 1;
  }

  async used(tenantId: string, day: string): Promise<number> {
    return (
      (this.db.prepare('SELECT used FROM daily_sends WHERE tenant_id = ? AND day = ?').pluck().get(tenantId, day) as number | undefined) ??
      0
    );
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
