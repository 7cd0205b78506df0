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
 * before it returns, because consumers acknowledge NATS messages right after a commit. `secure_delete=ON` (issue 14)
 * overwrites deleted content with zeros in the database pages, so that an erased customer's text does not linger in
 * free pages or cell slack; the WAL still holds the old page images until {@link checkpointWalTruncate} runs.
 */
export function openSqliteDatabase(file: string, migrations: readonly string[]): SqliteDatabase {
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  enableWal(db);
  db.pragma('secure_delete = ON');
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

/** How long {@link checkpointWalTruncate} keeps retrying while readers pin the WAL, unless told otherwise. */
export const WAL_CHECKPOINT_TIMEOUT_MS = 30_000;
const WAL_CHECKPOINT_PAUSE_MS = 50;

/** Thrown when the WAL could not be checkpointed and truncated before the deadline (readers kept it busy). */
export class WalCheckpointBusyError extends Error {
  override readonly name = 'WalCheckpointBusyError';
  readonly retryable = true;
  constructor(
    readonly file: string,
    readonly timeoutMs: number,
  ) {
    super(`the WAL of ${file} stayed busy for ${timeoutMs} ms: checkpoint(TRUNCATE) not completed`);
  }
}

interface CheckpointRow {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

/**
 * Copies every WAL frame into the database file and truncates the `-wal` file to zero bytes
 * (`PRAGMA wal_checkpoint(TRUNCATE)`), so that page images holding deleted rows (an erased customer's text) leave
 * the WAL. A reader still on an old snapshot (another connection or process) makes SQLite answer busy; the
 * checkpoint is then retried, yielding to the event loop between tries, until it completes or `timeoutMs` passes
 * ({@link WalCheckpointBusyError}, retryable). Resolves with the number of frames that were checkpointed.
 */
export async function checkpointWalTruncate(db: SqliteDatabase, options: { readonly timeoutMs?: number } = {}): Promise<number> {
  const timeoutMs = options.timeoutMs ?? WAL_CHECKPOINT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let row: CheckpointRow | undefined;
    // The busy handler would block the event loop (and any reader of this process it waits for) for the whole busy
    // timeout: each try answers at once instead, and the loop below waits between tries without blocking.
    const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
    db.pragma('busy_timeout = 0');
    try {
      row = (db.pragma('wal_checkpoint(TRUNCATE)') as CheckpointRow[])[0];
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' && (error as { code?: string }).code !== 'SQLITE_LOCKED') {
        throw error;
      }
    } finally {
      db.pragma(`busy_timeout = ${busyTimeout}`);
    }
    if (row && row.busy === 0) return Math.max(row.checkpointed, 0);
    if (Date.now() >= deadline) throw new WalCheckpointBusyError(db.name, timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, WAL_CHECKPOINT_PAUSE_MS));
  }
}
