import { openSqliteDatabase, type SqliteDatabase } from '@waygate/storage';

/**
 * The migrations of the archive's governance file (`<data dir>/<region>/archive-governance.sqlite`): legal holds and
 * the persisted retention floors. A file of its own, beside `archive.sqlite`, so that its schema versions never mix
 * with the archive store's (each file keeps its own `schema_migrations`), and so that holds and floors are not touched
 * by the archive's erasure and sweeping. Only appended.
 */
const GOVERNANCE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE legal_holds (
     tenant_id TEXT NOT NULL,
     hold_id TEXT NOT NULL,
     matter TEXT NOT NULL,
     -- E.164, or '' for the whole tenant.
     customer TEXT NOT NULL,
     placed_at_ms INTEGER NOT NULL,
     placed_by TEXT NOT NULL,
     released_at_ms INTEGER,
     released_by TEXT,
     PRIMARY KEY (tenant_id, hold_id)
   );
   -- place: one active hold per tenant, matter and scope (placing it again returns it).
   CREATE UNIQUE INDEX legal_holds_active_scope ON legal_holds (tenant_id, matter, customer) WHERE released_at_ms IS NULL;
   -- activeCovering and the sweeper: active holds by customer.
   CREATE INDEX legal_holds_active_customer ON legal_holds (tenant_id, customer) WHERE released_at_ms IS NULL;`,
  `CREATE TABLE retention_floors (
     tenant_id TEXT NOT NULL,
     -- e.g. 'archiveRetentionDays'.
     setting TEXT NOT NULL,
     -- The highest retention ever in force in compliance mode.
     days INTEGER NOT NULL,
     -- Whether the tenant was ever in compliance mode for this setting (1): it can never go back to operational.
     compliance INTEGER NOT NULL,
     updated_at_ms INTEGER NOT NULL,
     PRIMARY KEY (tenant_id, setting)
   );`,
];

/** Opens (creating and migrating) the archive's governance file. */
export function openGovernanceDatabase(file: string): SqliteDatabase {
  return openSqliteDatabase(file, GOVERNANCE_MIGRATIONS);
}
