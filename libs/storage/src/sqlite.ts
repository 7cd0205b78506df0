import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

const BUSY_TIMEOUT_MS = 5_000;
const WAL_RETRY_PAUSE_MS = 20;

/**
 * Switches a connection to WAL. Switching needs an exclusive lock for a moment, and SQLite answers SQLITE_BUSY at once
 * (without its busy handler) while another process that is opening the same new file holds one, so the switch is
 * retried for up to the busy timeout.
 */
function enableWal(db: SqliteDatabase): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, WAL_RETRY_PAUSE_MS);
    }
  }
}

/**
 * Opens (creating if needed) a SQLite file in WAL mode and applies `migrations` in order, each once, recorded in
 * `schema_migrations`. WAL lets readers run beside the one writer; `synchronous=FULL` makes each commit durable
 * before it returns, because consumers acknowledge NATS messages right after a commit.
 */
export function openSqliteDatabase(file: string, migrations: readonly string[]): SqliteDatabase {
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  enableWal(db);
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').pluck();
  const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  // Each migration in its own IMMEDIATE transaction that checks again whether it is applied: processes opening one
  // file at once (replicas starting together) wait for each other's write lock instead of both running it.
  const apply = db.transaction((version: number, sql: string) => {
    if (isApplied.get(version)) return;
    db.exec(sql);
    record.run(version, new Date().toISOString());
  });
  migrations.forEach((sql, index) => apply.immediate(index + 1, sql));
  return db;
}
