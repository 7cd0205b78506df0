import { openSqliteDatabase, SqliteGroupCommit, type SqliteDatabase } from '@waygate/storage';
import { rateToleranceMs, rateWaitMs, type SendQuotaStore, type SendRate } from '../domain/send-quota';

/** Schema versions, applied in order once each. */
const MIGRATIONS = [
  `CREATE TABLE daily_sends (
     tenant_id TEXT NOT NULL,
     day TEXT NOT NULL,
     used INTEGER NOT NULL,
     -- consume, used: one counter per tenant and UTC day.
     PRIMARY KEY (tenant_id, day)
   );`,
  // takeRate, returnRate: the send rate's state (GCRA's theoretical arrival time), one row per tenant.
  `CREATE TABLE send_rate (
     tenant_id TEXT PRIMARY KEY,
     tat_ms REAL NOT NULL
   );`,
];

/** Days of counters kept (older ones are deleted as new days start). */
const KEEP_DAYS = 7;

function prepareStatements(db: SqliteDatabase) {
  return {
    countSend: db
      .prepare(
        `INSERT INTO daily_sends (tenant_id, day, used) VALUES (?, ?, 1)
         ON CONFLICT (tenant_id, day) DO UPDATE SET used = used + 1 WHERE used < ?
         RETURNING used`,
      )
      .pluck(),
    usedOn: db.prepare('SELECT used FROM daily_sends WHERE tenant_id = ? AND day = ?').pluck(),
    deleteDaysBefore: db.prepare('DELETE FROM daily_sends WHERE tenant_id = ? AND day < ?'),
    takeRate: db.prepare(
      `INSERT INTO send_rate (tenant_id, tat_ms) VALUES (?, ?)
       ON CONFLICT (tenant_id) DO UPDATE SET tat_ms = MAX(tat_ms, ?) + ? WHERE tat_ms <= ?`,
    ),
    arrivalTime: db.prepare('SELECT tat_ms FROM send_rate WHERE tenant_id = ?').pluck(),
    returnRate: db.prepare('UPDATE send_rate SET tat_ms = tat_ms - ? WHERE tenant_id = ?'),
  };
}

/** The embedded SendQuotaStore: its own SQLite file beside the message store's. */
export class SqliteSendQuotaStore implements SendQuotaStore {
  private readonly db: SqliteDatabase;
  /** Prepared once: consume and takeRate run on every send of a tenant with limits. */
  private readonly statements: ReturnType<typeof prepareStatements>;
  /** This file's writes share one group commit (issue 15); each promise settles after its COMMIT. */
  private readonly commits: SqliteGroupCommit;

  constructor(file: string) {
    this.db = openSqliteDatabase(file, MIGRATIONS);
    this.statements = prepareStatements(this.db);
    this.commits = new SqliteGroupCommit(this.db);
  }

  consume(tenantId: string, day: string, limit: number): Promise<boolean> {
    return this.commits.run(() => {
      // The count after this send, or undefined when the limit held the update back.
      const used = this.statements.countSend.get(tenantId, day, limit) as number | undefined;
      if (used === 1) {
        // The tenant's first send of the day: old counters go.
        const cutoff = new Date(Date.parse(`${day}T00:00:00Z`) - KEEP_DAYS * 86_400_000).toISOString().slice(0, 10);
        this.statements.deleteDaysBefore.run(tenantId, cutoff);
      }
      return used !== undefined;
    });
  }

  takeRate(tenantId: string, nowMs: number, rate: SendRate): Promise<number> {
    return this.commits.run(() => {
      // One statement: taken only while the stored arrival time is within the burst tolerance of now.
      const { changes } = this.statements.takeRate.run(
        tenantId,
        nowMs + rate.intervalMs,
        nowMs,
        rate.intervalMs,
        nowMs + rateToleranceMs(rate),
      );
      if (changes === 1) return 0;
      return rateWaitMs(this.statements.arrivalTime.get(tenantId) as number, nowMs, rate);
    });
  }

  async returnRate(tenantId: string, rate: SendRate): Promise<void> {
    await this.commits.run(() => this.statements.returnRate.run(rate.intervalMs, tenantId));
  }

  async used(tenantId: string, day: string): Promise<number> {
    return (this.statements.usedOn.get(tenantId, day) as number | undefined) ?? 0;
  }

  async close(): Promise<void> {
    this.commits.close();
    this.db.close();
  }
}
