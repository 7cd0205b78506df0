import { checkpointWalTruncate, type SqliteDatabase } from '@waygate/storage';
import type { LegalHold, LegalHoldQuery, LegalHoldStore } from '../governance/domain/legal-hold';
import { openGovernanceDatabase } from './sqlite-governance-database';

interface HoldRow {
  tenant_id: string;
  hold_id: string;
  matter: string;
  customer: string;
  placed_at_ms: number;
  placed_by: string;
  released_at_ms: number | null;
  released_by: string | null;
}

function holdOf(row: HoldRow): LegalHold {
  return {
    holdId: row.hold_id,
    tenantId: row.tenant_id,
    matter: row.matter,
    customer: row.customer,
    placedAt: new Date(row.placed_at_ms),
    placedBy: row.placed_by,
    ...(row.released_at_ms === null ? {} : { releasedAt: new Date(row.released_at_ms), releasedBy: row.released_by ?? '' }),
  };
}

/** LegalHoldStore on the archive's governance SQLite file (table `legal_holds`). */
export class SqliteLegalHoldStore implements LegalHoldStore {
  private readonly db: SqliteDatabase;

  constructor(file: string) {
    this.db = openGovernanceDatabase(file);
  }

  place(hold: LegalHold): Promise<{ hold: LegalHold; created: boolean }> {
    const placeOnce = this.db.transaction(() => {
      const existing = this.db
        .prepare<[string, string, string], HoldRow>(
          'SELECT * FROM legal_holds WHERE tenant_id = ? AND matter = ? AND customer = ? AND released_at_ms IS NULL',
        )
        .get(hold.tenantId, hold.matter, hold.customer);
      if (existing) return { hold: holdOf(existing), created: false };
      this.db
        .prepare(
          `INSERT INTO legal_holds (tenant_id, hold_id, matter, customer, placed_at_ms, placed_by)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(hold.tenantId, hold.holdId, hold.matter, hold.customer, hold.placedAt.getTime(), hold.placedBy);
      return {
        hold: {
          holdId: hold.holdId,
          tenantId: hold.tenantId,
          matter: hold.matter,
          customer: hold.customer,
          placedAt: hold.placedAt,
          placedBy: hold.placedBy,
        },
        created: true,
      };
    });
    // IMMEDIATE: two processes placing the same hold at once serialise on the write lock, so the second sees the first.
    return Promise.resolve(placeOnce.immediate());
  }

  release(tenantId: string, holdId: string, releasedAt: Date, releasedBy: string): Promise<LegalHold | undefined> {
    this.db
      .prepare('UPDATE legal_holds SET released_at_ms = ?, released_by = ? WHERE tenant_id = ? AND hold_id = ? AND released_at_ms IS NULL')
      .run(releasedAt.getTime(), releasedBy, tenantId, holdId);
    return this.get(tenantId, holdId);
  }

  get(tenantId: string, holdId: string): Promise<LegalHold | undefined> {
    const row = this.db
      .prepare<[string, string], HoldRow>('SELECT * FROM legal_holds WHERE tenant_id = ? AND hold_id = ?')
      .get(tenantId, holdId);
    return Promise.resolve(row ? holdOf(row) : undefined);
  }

  list(tenantId: string, query: LegalHoldQuery): Promise<LegalHold[]> {
    const where = ['tenant_id = @tenantId'];
    if (query.customer !== undefined) where.push("(customer = @customer OR customer = '')");
    if (!query.includeReleased) where.push('released_at_ms IS NULL');
    if (query.after) {
      where.push(
        '((released_at_ms IS NOT NULL) > @afterReleased OR ((released_at_ms IS NOT NULL) = @afterReleased AND hold_id < @afterId))',
      );
    }
    const rows = this.db
      .prepare<Record<string, unknown>, HoldRow>(
        `SELECT * FROM legal_holds WHERE ${where.join(' AND ')}
         ORDER BY (released_at_ms IS NOT NULL) ASC, hold_id DESC LIMIT @limit`,
      )
      .all({
        tenantId,
        customer: query.customer ?? '',
        afterReleased: query.after?.released ? 1 : 0,
        afterId: query.after?.holdId ?? '',
        limit: query.limit,
      });
    return Promise.resolve(rows.map(holdOf));
  }

  activeCovering(tenantId: string, customer: string): Promise<LegalHold[]> {
    const rows = this.db
      .prepare<[string, string], HoldRow>(
        `SELECT * FROM legal_holds WHERE tenant_id = ? AND released_at_ms IS NULL AND (customer = ? OR customer = '')
         ORDER BY hold_id DESC`,
      )
      .all(tenantId, customer);
    return Promise.resolve(rows.map(holdOf));
  }

  allActive(): Promise<LegalHold[]> {
    const rows = this.db.prepare<[], HoldRow>('SELECT * FROM legal_holds WHERE released_at_ms IS NULL ORDER BY tenant_id, hold_id').all();
    return Promise.resolve(rows.map(holdOf));
  }

  async pseudonymiseCustomer(tenantId: string, customer: string, customerRef: string): Promise<number> {
    const { changes } = this.db
      .prepare('UPDATE legal_holds SET customer = ? WHERE tenant_id = ? AND customer = ? AND released_at_ms IS NOT NULL')
      .run(customerRef, tenantId, customer);
    // secure_delete overwrote the old row's bytes in the database pages; the WAL's copies go with the checkpoint.
    await checkpointWalTruncate(this.db);
    return changes;
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}
