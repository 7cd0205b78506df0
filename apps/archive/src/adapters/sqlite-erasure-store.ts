import { openSqliteDatabase, type SqliteDatabase } from '@waygate/storage';
import { ERASURE_PARTS, type ErasurePartName, type ErasureRecord, type ErasureStore } from '../governance/domain/erasure';

/**
 * The migrations of the archive's erasure file (`<data dir>/<region>/archive-erasures.sqlite`): a file of its own, so
 * that its schema versions never mix with the archive store's and the archive's own erasure never reaches it. Only
 * appended.
 */
const ERASURE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE erasures (
     tenant_id TEXT NOT NULL,
     erasure_id TEXT NOT NULL,
     customer_hash TEXT NOT NULL,
     customer_ref TEXT NOT NULL,
     customer_sealed TEXT NOT NULL,
     key_epoch INTEGER NOT NULL,
     requested_by TEXT NOT NULL,
     reason TEXT NOT NULL,
     requested_at_ms INTEGER NOT NULL,
     published_at_ms INTEGER,
     completed_at_ms INTEGER,
     receipt TEXT,
     PRIMARY KEY (tenant_id, erasure_id)
   );
   -- One erasure per customer of a tenant: asking again returns it.
   CREATE UNIQUE INDEX erasures_customer ON erasures (tenant_id, customer_hash);
   CREATE INDEX erasures_in_progress ON erasures (requested_at_ms) WHERE completed_at_ms IS NULL;
   CREATE TABLE erasure_parts (
     tenant_id TEXT NOT NULL,
     erasure_id TEXT NOT NULL,
     service TEXT NOT NULL,
     completed_at_ms INTEGER,
     counts_json TEXT NOT NULL,
     PRIMARY KEY (tenant_id, erasure_id, service)
   );`,
  // One erasure per customer while it runs (asking again returns it); once complete, a new request for the same customer
  // is a new erasure (of what was stored since).
  `DROP INDEX erasures_customer;
   CREATE UNIQUE INDEX erasures_customer_open ON erasures (tenant_id, customer_hash) WHERE completed_at_ms IS NULL;
   CREATE INDEX erasures_by_customer ON erasures (tenant_id, customer_hash, requested_at_ms);`,
];

interface ErasureRow {
  tenant_id: string;
  erasure_id: string;
  customer_hash: string;
  customer_ref: string;
  customer_sealed: string;
  key_epoch: number;
  requested_by: string;
  reason: string;
  requested_at_ms: number;
  published_at_ms: number | null;
  completed_at_ms: number | null;
  receipt: string | null;
}

interface PartRow {
  service: string;
  completed_at_ms: number | null;
  counts_json: string;
}

/** ErasureStore on its own SQLite file (tables `erasures`, `erasure_parts`). */
export class SqliteErasureStore implements ErasureStore {
  private readonly db: SqliteDatabase;

  constructor(file: string) {
    this.db = openSqliteDatabase(file, ERASURE_MIGRATIONS);
  }

  private recordOf(row: ErasureRow): ErasureRecord {
    const parts = this.db
      .prepare<[string, string], PartRow>(
        'SELECT service, completed_at_ms, counts_json FROM erasure_parts WHERE tenant_id = ? AND erasure_id = ?',
      )
      .all(row.tenant_id, row.erasure_id);
    const byService = new Map(parts.map((part) => [part.service, part]));
    return {
      erasureId: row.erasure_id,
      tenantId: row.tenant_id,
      customerHash: row.customer_hash,
      customerRef: row.customer_ref,
      customerSealed: row.customer_sealed,
      keyEpoch: row.key_epoch,
      requestedBy: row.requested_by,
      reason: row.reason,
      requestedAt: new Date(row.requested_at_ms),
      ...(row.published_at_ms === null ? {} : { publishedAt: new Date(row.published_at_ms) }),
      ...(row.completed_at_ms === null ? {} : { completedAt: new Date(row.completed_at_ms) }),
      ...(row.receipt === null ? {} : { receipt: row.receipt }),
      parts: ERASURE_PARTS.map((service) => {
        const part = byService.get(service);
        return {
          service,
          ...(part?.completed_at_ms != null ? { completedAt: new Date(part.completed_at_ms) } : {}),
          counts: part ? (JSON.parse(part.counts_json) as Record<string, number>) : {},
        };
      }),
    };
  }

  private row(tenantId: string, erasureId: string): ErasureRow | undefined {
    return this.db
      .prepare<[string, string], ErasureRow>('SELECT * FROM erasures WHERE tenant_id = ? AND erasure_id = ?')
      .get(tenantId, erasureId);
  }

  async create(record: ErasureRecord): Promise<{ record: ErasureRecord; created: boolean }> {
    const createOnce = this.db.transaction(() => {
      const existing = this.db
        .prepare<[string, string], ErasureRow>(
          'SELECT * FROM erasures WHERE tenant_id = ? AND customer_hash = ? AND completed_at_ms IS NULL',
        )
        .get(record.tenantId, record.customerHash);
      if (existing) return { record: this.recordOf(existing), created: false };
      this.db
        .prepare(
          `INSERT INTO erasures (tenant_id, erasure_id, customer_hash, customer_ref, customer_sealed, key_epoch, requested_by, reason,
             requested_at_ms, published_at_ms, completed_at_ms, receipt)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)`,
        )
        .run(
          record.tenantId,
          record.erasureId,
          record.customerHash,
          record.customerRef,
          record.customerSealed,
          record.keyEpoch,
          record.requestedBy,
          record.reason,
          record.requestedAt.getTime(),
        );
      const insertPart = this.db.prepare(
        'INSERT INTO erasure_parts (tenant_id, erasure_id, service, completed_at_ms, counts_json) VALUES (?, ?, ?, NULL, ?)',
      );
      for (const service of ERASURE_PARTS) insertPart.run(record.tenantId, record.erasureId, service, '{}');
      return { record: this.recordOf(this.row(record.tenantId, record.erasureId) as ErasureRow), created: true };
    });
    return createOnce.immediate();
  }

  async byId(tenantId: string, erasureId: string): Promise<ErasureRecord | undefined> {
    const row = this.row(tenantId, erasureId);
    return row && this.recordOf(row);
  }

  async byCustomer(tenantId: string, customerHash: string): Promise<ErasureRecord | undefined> {
    const row = this.db
      .prepare<[string, string], ErasureRow>(
        'SELECT * FROM erasures WHERE tenant_id = ? AND customer_hash = ? ORDER BY requested_at_ms DESC, erasure_id DESC LIMIT 1',
      )
      .get(tenantId, customerHash);
    return row && this.recordOf(row);
  }

  async markPublished(tenantId: string, erasureId: string, at: Date): Promise<void> {
    this.db
      .prepare('UPDATE erasures SET published_at_ms = ? WHERE tenant_id = ? AND erasure_id = ? AND published_at_ms IS NULL')
      .run(at.getTime(), tenantId, erasureId);
  }

  async completePart(
    tenantId: string,
    erasureId: string,
    service: ErasurePartName,
    completedAt: Date,
    counts: Readonly<Record<string, number>>,
  ): Promise<ErasureRecord | undefined> {
    this.db
      .prepare(
        `UPDATE erasure_parts SET completed_at_ms = ?, counts_json = ?
         WHERE tenant_id = ? AND erasure_id = ? AND service = ? AND completed_at_ms IS NULL`,
      )
      .run(completedAt.getTime(), JSON.stringify(counts), tenantId, erasureId, service);
    return this.byId(tenantId, erasureId);
  }

  async complete(tenantId: string, erasureId: string, completedAt: Date, receipt: string): Promise<ErasureRecord | undefined> {
    this.db
      .prepare('UPDATE erasures SET completed_at_ms = ?, receipt = ? WHERE tenant_id = ? AND erasure_id = ? AND completed_at_ms IS NULL')
      .run(completedAt.getTime(), receipt, tenantId, erasureId);
    return this.byId(tenantId, erasureId);
  }

  async inProgress(limit: number): Promise<ErasureRecord[]> {
    return this.db
      .prepare<[number], ErasureRow>('SELECT * FROM erasures WHERE completed_at_ms IS NULL ORDER BY requested_at_ms LIMIT ?')
      .all(limit)
      .map((row) => this.recordOf(row));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
