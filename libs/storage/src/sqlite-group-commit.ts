import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './sqlite';

/** What a group commit reports after each batch (for a metric). */
export interface GroupCommitBatch {
  /** Writes in the batch (committed or rolled back to their own savepoint). */
  readonly writes: number;
  /** Wall time of the transaction, BEGIN to COMMIT, including the fsync. */
  readonly durationMs: number;
}

/** Options of {@link SqliteGroupCommit}. */
export interface GroupCommitOptions {
  /** Most writes in one transaction (default 1,000); a longer queue is committed in several transactions. */
  readonly maxBatch?: number;
  /** Called after each committed batch. */
  readonly onBatch?: (batch: GroupCommitBatch) => void;
}

interface QueuedWrite {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Thrown for writes queued after {@link SqliteGroupCommit.close}. */
export class GroupCommitClosedError extends Error {
  override readonly name = 'GroupCommitClosedError';
  constructor(file: string) {
    super(`${file}: the store is closed`);
  }
}

/**
 * Group commit for one SQLite connection (issue 15): every write queued during one turn of the event loop runs in
 * ONE transaction, committed (with `synchronous=FULL`, one fsync) once the turn's I/O callbacks have run
 * (`setImmediate`); each caller's promise settles only after that COMMIT returned. So a caller that acknowledges
 * after `await run(...)` acknowledges a durable write, exactly as with one transaction per write: it is as safe as
 * committing each write alone, and N writes share one fsync instead of paying N.
 *
 * Each write runs inside its own SAVEPOINT: one that throws is rolled back alone and its promise rejects with its
 * error, while the other writes of the batch commit. Writes run in the order they were queued, so two writes to the
 * same row keep their order, and a write sees every write queued before it (a uniqueness check stays atomic). A
 * `db.transaction(...)` function called inside `work` nests as a savepoint (better-sqlite3 does that by itself).
 *
 * Reads need no queue: between batches no transaction is open, so a read sees every write whose promise resolved.
 * `work` must be synchronous and must not BEGIN or COMMIT itself.
 */
export class SqliteGroupCommit {
  private queue: QueuedWrite[] = [];
  private scheduled = false;
  private closed = false;
  private readonly maxBatch: number;
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly savepoint: Statement;
  private readonly release: Statement;
  private readonly rollbackTo: Statement;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1)
      throw new RangeError(`maxBatch must be a positive whole number, got ${options.maxBatch}`);
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.savepoint = db.prepare('SAVEPOINT group_commit_write');
    this.release = db.prepare('RELEASE group_commit_write');
    this.rollbackTo = db.prepare('ROLLBACK TO group_commit_write');
  }

  /** Queues `work` for the next batch; resolves with its result once the batch committed durably. */
  run<T>(work: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new GroupCommitClosedError(this.db.name));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Writes queued and not yet committed. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Commits everything queued now, synchronously, and refuses later writes: call it before closing the
   * connection, so that no queued write is lost on shutdown.
   */
  close(): void {
    this.closed = true;
    while (this.queue.length > 0) this.commitBatch();
  }

  private flush(): void {
    this.scheduled = false;
    // One batch per turn: a longer queue continues on the next turn, so a burst does not hold the loop for long.
    if (this.queue.length > 0) this.commitBatch();
    if (this.queue.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private commitBatch(): void {
    const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
    this.queue = batch === this.queue ? [] : this.queue.slice(this.maxBatch);
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    const startedAt = performance.now();
    try {
      this.begin.run();
      for (const write of batch) {
        this.savepoint.run();
        try {
          const value = write.work();
          this.release.run();
          outcomes.push({ ok: true, value });
        } catch (error) {
          this.rollbackTo.run();
          this.release.run();
          outcomes.push({ ok: false, error });
        }
      }
      this.commit.run();
    } catch (error) {
      // BEGIN or COMMIT failed (disk full, I/O error, busy beyond the timeout): nothing of the batch is durable.
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const write of batch) write.reject(error);
      return;
    }
    this.options.onBatch?.({ writes: batch.length, durationMs: performance.now() - startedAt });
    batch.forEach((write, index) => {
      const outcome = outcomes[index];
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    });
  }
}

/**
 * Prepared statements by SQL text, prepared once per connection: preparing on every call cost ingress 15 % of its
 * CPU (issue 15's profile). Do not use one cached statement for two `iterate()` loops at once (better-sqlite3 refuses
 * a statement that is still iterating); such a query prepares its own.
 */
export function statementCache(db: SqliteDatabase): (sql: string) => Statement {
  const statements = new Map<string, Statement>();
  return (sql) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
}
