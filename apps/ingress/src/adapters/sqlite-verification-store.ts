import type { Statement } from 'better-sqlite3';
import { checkpointWalTruncate, openSqliteDatabase, type SqliteDatabase, statementCache } from '@waygate/storage';
import type { Verification, VerificationStatus } from '../domain/verification';
import type { ReserveOutcome, ReserveRules, VerificationStore } from '../domain/verification-store';

/** Schema versions, applied in order once each. */
const MIGRATIONS = [
  `CREATE TABLE verifications (
     tenant_id TEXT NOT NULL,
     verification_id TEXT NOT NULL,
     recipient TEXT NOT NULL,
     phone_number_id TEXT NOT NULL,
     template_name TEXT NOT NULL,
     template_language TEXT NOT NULL,
     code_hash TEXT NOT NULL,
     status TEXT NOT NULL,
     checks INTEGER NOT NULL,
     created_at_ms INTEGER NOT NULL,
     expires_at_ms INTEGER NOT NULL,
     approved_at_ms INTEGER,
     error_code INTEGER,
     error_title TEXT,
     version INTEGER NOT NULL,
     -- get, update, remove.
     PRIMARY KEY (tenant_id, verification_id)
   );
   -- latestFor, the resend guard and the per-number limit: a number's verifications, newest first.
   CREATE INDEX verifications_by_recipient ON verifications (tenant_id, recipient, created_at_ms DESC);
   -- the per-tenant limit (a tenant's verifications in the last hour) and purgeCreatedBefore.
   CREATE INDEX verifications_by_time ON verifications (tenant_id, created_at_ms);
   CREATE INDEX verifications_created ON verifications (created_at_ms);`,
];

interface VerificationRow {
  tenant_id: string;
  verification_id: string;
  recipient: string;
  phone_number_id: string;
  template_name: string;
  template_language: string;
  code_hash: string;
  status: string;
  checks: number;
  created_at_ms: number;
  expires_at_ms: number;
  approved_at_ms: number | null;
  error_code: number | null;
  error_title: string | null;
  version: number;
}

function toVerification(row: VerificationRow): Verification {
  return {
    tenantId: row.tenant_id,
    verificationId: row.verification_id,
    to: row.recipient,
    phoneNumberId: row.phone_number_id,
    templateName: row.template_name,
    templateLanguage: row.template_language,
    codeHash: row.code_hash,
    status: row.status as VerificationStatus,
    checks: row.checks,
    createdAt: new Date(row.created_at_ms),
    expiresAt: new Date(row.expires_at_ms),
    ...(row.approved_at_ms !== null ? { approvedAt: new Date(row.approved_at_ms) } : {}),
    ...(row.error_code !== null ? { errorCode: row.error_code } : {}),
    ...(row.error_title !== null ? { errorTitle: row.error_title } : {}),
    version: row.version,
  };
}

function toRow(v: Verification): VerificationRow {
  return {
    tenant_id: v.tenantId,
    verification_id: v.verificationId,
    recipient: v.to,
    phone_number_id: v.phoneNumberId,
    template_name: v.templateName,
    template_language: v.templateLanguage,
    code_hash: v.codeHash,
    status: v.status,
    checks: v.checks,
    created_at_ms: v.createdAt.getTime(),
    expires_at_ms: v.expiresAt.getTime(),
    approved_at_ms: v.approvedAt?.getTime() ?? null,
    error_code: v.errorCode ?? null,
    error_title: v.errorTitle ?? null,
    version: v.version,
  };
}

/** The embedded VerificationStore: its own SQLite file (`ingress-verifications.sqlite`) beside the message store. */
export class SqliteVerificationStore implements VerificationStore {
  private readonly db: SqliteDatabase;
  /** Each SQL text prepared once (issue 15: preparing on every call cost 15 % of ingress CPU). */
  private readonly sql: (text: string) => Statement;
  private readonly reserveInTransaction: (candidate: Verification, rules: ReserveRules) => ReserveOutcome;

  constructor(file: string) {
    this.db = openSqliteDatabase(file, MIGRATIONS);
    this.sql = statementCache(this.db);
    const pending = this.sql(
      `SELECT * FROM verifications WHERE tenant_id = ? AND recipient = ? AND status = 'PENDING' AND created_at_ms >= ? AND expires_at_ms > ?
       ORDER BY created_at_ms DESC LIMIT 1`,
    );
    const perNumber = this.sql(
      'SELECT COUNT(*) AS count, MIN(created_at_ms) AS oldest FROM verifications WHERE tenant_id = ? AND recipient = ? AND created_at_ms >= ?',
    );
    const perTenant = this.sql(
      'SELECT COUNT(*) AS count, MIN(created_at_ms) AS oldest FROM verifications WHERE tenant_id = ? AND created_at_ms >= ?',
    );
    const insert = this.sql(
      `INSERT INTO verifications VALUES (@tenant_id, @verification_id, @recipient, @phone_number_id, @template_name, @template_language,
         @code_hash, @status, @checks, @created_at_ms, @expires_at_ms, @approved_at_ms, @error_code, @error_title, @version)`,
    );
    // One transaction (BEGIN IMMEDIATE): a second replica on the same file waits, so two starts never both pass a limit.
    const transaction = this.db.transaction((candidate: Verification, rules: ReserveRules): ReserveOutcome => {
      const now = candidate.createdAt.getTime();
      const recent = pending.get(candidate.tenantId, candidate.to, rules.resendWindowStart.getTime(), now) as VerificationRow | undefined;
      if (recent) return { kind: 'pending', verification: toVerification(recent) };
      const number = perNumber.get(candidate.tenantId, candidate.to, rules.limitWindowStart.getTime()) as {
        count: number;
        oldest: number | null;
      };
      if (number.count >= rules.sendsPerNumber) return { kind: 'limited', scope: 'number', oldestInWindow: new Date(number.oldest ?? now) };
      const tenant = perTenant.get(candidate.tenantId, rules.limitWindowStart.getTime()) as { count: number; oldest: number | null };
      if (tenant.count >= rules.sendsPerTenant) return { kind: 'limited', scope: 'tenant', oldestInWindow: new Date(tenant.oldest ?? now) };
      insert.run(toRow(candidate));
      return { kind: 'reserved' };
    });
    this.reserveInTransaction = (candidate, rules) => transaction.immediate(candidate, rules);
  }

  async reserve(candidate: Verification, rules: ReserveRules): Promise<ReserveOutcome> {
    return this.reserveInTransaction(candidate, rules);
  }

  async get(tenantId: string, verificationId: string): Promise<Verification | undefined> {
    const row = this.sql('SELECT * FROM verifications WHERE tenant_id = ? AND verification_id = ?').get(tenantId, verificationId) as
      VerificationRow | undefined;
    return row ? toVerification(row) : undefined;
  }

  async latestFor(tenantId: string, to: string): Promise<Verification | undefined> {
    const row = this.sql(
      'SELECT * FROM verifications WHERE tenant_id = ? AND recipient = ? ORDER BY created_at_ms DESC, verification_id DESC LIMIT 1',
    ).get(tenantId, to) as VerificationRow | undefined;
    return row ? toVerification(row) : undefined;
  }

  async update(next: Verification): Promise<boolean> {
    const row = toRow(next);
    const { changes } = this.sql(
      `UPDATE verifications SET status = @status, checks = @checks, approved_at_ms = @approved_at_ms,
           error_code = @error_code, error_title = @error_title, version = @version
         WHERE tenant_id = @tenant_id AND verification_id = @verification_id AND version = @version - 1`,
    ).run(row);
    return changes === 1;
  }

  async remove(tenantId: string, verificationId: string): Promise<void> {
    this.sql('DELETE FROM verifications WHERE tenant_id = ? AND verification_id = ?').run(tenantId, verificationId);
  }

  async purgeCreatedBefore(before: Date): Promise<number> {
    return this.sql('DELETE FROM verifications WHERE created_at_ms < ?').run(before.getTime()).changes;
  }

  async eraseCustomer(tenantId: string, to: string): Promise<number> {
    return this.sql('DELETE FROM verifications WHERE tenant_id = ? AND recipient = ?').run(tenantId, to).changes;
  }

  async listFor(
    tenantId: string,
    to: string,
    page: { readonly afterVerificationId?: string; readonly limit: number },
  ): Promise<Verification[]> {
    const rows = this.sql(
      'SELECT * FROM verifications WHERE tenant_id = ? AND recipient = ? AND verification_id > ? ORDER BY verification_id LIMIT ?',
    ).all(tenantId, to, page.afterVerificationId ?? '', page.limit) as VerificationRow[];
    return rows.map(toVerification);
  }

  async flushDeleted(): Promise<void> {
    await checkpointWalTruncate(this.db);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
