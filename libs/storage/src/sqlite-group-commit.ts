import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './sqlite';

/** What a group commit reports after each batch (for a metric). */
export interface GroupCommitBatch {
  /** Writes in the batch (committed or rolled back to their own savepoint). */
  readonly writes: number;
  /** Wall time from BEGIN until the batch was durable: the COMMIT and its fsync (on or off the event loop). */
  readonly durationMs: number;
}

/** Options of {@link SqliteGroupCommit}. */
export interface GroupCommitOptions {
  /** Most writes in one transaction (default 1,000); a longer queue is committed in several transactions. */
  readonly maxBatch?: number;
  /** Called once each batch is durable. */
  readonly onBatch?: (batch: GroupCommitBatch) => void;
  /**
   * Sync the WAL off the event loop (default false): see {@link SqliteGroupCommit}. Only for a store whose reads go
   * through {@link SqliteGroupCommit.read} wherever what they return may leave the process; ignored (the COMMIT
   * syncs) unless the database is a file in WAL mode.
   */
  readonly syncOffLoop?: boolean;
  /**
   * Called once when a sync of the WAL fails, after every write and read waiting for it was rejected. By default it
   * throws the {@link GroupCommitSyncError} once the rejections were handled (`setImmediate`): the process stops and
   * restarts from what is on disk, the only safe course after a failed fsync (PostgreSQL does the same).
   */
  readonly onSyncFailure?: (error: GroupCommitSyncError) => void;
  /**
   * The fdatasync used off the loop; tests only, to produce a failing sync (an I/O error cannot be made here).
   * @internal
   */
  readonly fdatasync?: (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => void;
}

interface QueuedWrite {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Someone waiting until every batch up to `upTo` (a count of committed batches) is durable. */
interface SyncWaiter {
  readonly upTo: number;
  readonly settle: (error?: unknown) => void;
}

/** Thrown for writes queued after {@link SqliteGroupCommit.close}. */
export class GroupCommitClosedError extends Error {
  override readonly name = 'GroupCommitClosedError';
  constructor(file: string) {
    super(`${file}: the store is closed`);
  }
}

/**
 * The WAL could not be synced: what was committed since the last good sync may not be on disk. Every later write and
 * read of the store fails with it, and by default the process stops (fail-stop: after a failed fsync the kernel may
 * have dropped the dirty pages, so retrying the fsync would report success for data that is gone).
 */
export class GroupCommitSyncError extends Error {
  override readonly name = 'GroupCommitSyncError';
  constructor(
    file: string,
    override readonly cause: unknown,
  ) {
    super(`${file}: the write-ahead log could not be synced to disk (${(cause as Error)?.message ?? String(cause)})`);
  }
}

/**
 * Group commit for one SQLite connection (issue 15): every write queued during one turn of the event loop runs in
 * ONE transaction, committed once the turn's I/O callbacks have run (`setImmediate`); each caller's promise settles
 * only after that transaction is durable. So a caller that acknowledges after `await run(...)` acknowledges a durable
 * write, exactly as with one transaction per write: it is as safe as committing each write alone, and N writes share
 * one fsync instead of paying N.
 *
 * Each write runs inside its own SAVEPOINT: one that throws is rolled back alone and its promise rejects with its
 * error, while the other writes of the batch commit. Writes run in the order they were queued, so two writes to the
 * same row keep their order, and a write sees every write queued before it (a uniqueness check stays atomic). A
 * `db.transaction(...)` function called inside `work` nests as a savepoint (better-sqlite3 does that by itself).
 * `work` must be synchronous and must not BEGIN or COMMIT itself.
 *
 * Where the fsync happens:
 * - By default the COMMIT itself syncs (`synchronous=FULL`), on the event loop: 0.2 ms typically, several ms at the
 *   tail on a busy disk, during which the process does nothing else.
 * - With `syncOffLoop` (a file in WAL mode), the batch commits with `synchronous=NORMAL` (the WAL frames are written,
 *   not synced) and the WAL file is then `fdatasync`ed on libuv's thread pool; the batch's promises settle when that
 *   sync is done. Both give the same guarantee: the COMMIT has written the transaction's frames, and a completed
 *   fdatasync of the WAL puts them, and every frame before them, on disk, which is exactly what FULL's sync at
 *   commit does (checkpoints sync the WAL first in either mode). The event loop goes on meanwhile; batches committed
 *   during a sync share the next one, so at most one sync is in flight. Other writes on the connection keep its
 *   own `synchronous` level.
 *
 * Reads: with the sync on the loop, a read sees only durable writes. With `syncOffLoop`, a write is visible to reads
 * for the length of one fsync before it is durable. A process crash cannot lose it (it is in the OS), a power loss
 * could; so a read whose result may leave the process (an answer, a stream, an event) goes through
 * {@link SqliteGroupCommit.read}, which returns it once everything committed before it is durable, and nothing read
 * leaves the process before it is as durable as with FULL.
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
  /** Off-loop sync only: switch the connection to NORMAL for a batch's COMMIT and back to its own level after. */
  private readonly offLoop: { readonly normal: Statement; readonly restore: Statement; readonly walFile: string } | undefined;
  private readonly fdatasync: (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => void;
  private walFd: number | undefined;
  /** Batches committed, and of those the ones known durable (the WAL synced after their COMMIT). */
  private committedBatches = 0;
  private syncedBatches = 0;
  private syncing = false;
  private readonly waiters: SyncWaiter[] = [];
  private syncFailure: GroupCommitSyncError | undefined;

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
    const wal = !db.memory && String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    if (options.syncOffLoop && wal) {
      const level = Number(db.pragma('synchronous', { simple: true }));
      this.offLoop = {
        normal: db.prepare('PRAGMA synchronous = NORMAL'),
        restore: db.prepare(`PRAGMA synchronous = ${Number.isInteger(level) && level >= 0 && level <= 3 ? level : 2}`),
        walFile: `${db.name}-wal`,
      };
    }
    this.fdatasync = options.fdatasync ?? fdatasync;
  }

  /** Queues `work` for the next batch; resolves with its result once the batch committed durably. */
  run<T>(work: () => T): Promise<T> {
    if (this.syncFailure) return Promise.reject(this.syncFailure);
    if (this.closed) return Promise.reject(new GroupCommitClosedError(this.db.name));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Runs the synchronous read `query` now and resolves with its result once every batch committed before it is
   * durable (at once unless a sync is under way): what it returns may then leave the process, as with FULL.
   */
  read<T>(query: () => T): Promise<T> {
    if (this.syncFailure) return Promise.reject(this.syncFailure);
    let value: T;
    try {
      value = query();
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.syncedBatches === this.committedBatches) return Promise.resolve(value);
    return new Promise<T>((resolve, reject) => {
      this.waiters.push({ upTo: this.committedBatches, settle: (error) => (error === undefined ? resolve(value) : reject(error)) });
    });
  }

  /** Writes queued and not yet committed. */
  get pending(): number {
    return this.queue.length;
  }

  /** Whether the WAL is synced off the event loop (`syncOffLoop` on a file in WAL mode). */
  get syncsOffLoop(): boolean {
    return this.offLoop !== undefined;
  }

  /**
   * Commits everything queued now, synchronously, syncs it, and refuses later writes: call it before closing the
   * connection, so that no queued write is lost on shutdown.
   */
  close(): void {
    this.closed = true;
    while (this.queue.length > 0) this.commitBatch();
    if (this.offLoop && this.syncedBatches < this.committedBatches && !this.syncFailure) {
      try {
        fdatasyncSync(this.openWal());
        this.synced(this.committedBatches);
      } catch (error) {
        this.failSync(error);
      }
    }
    if (!this.syncing) this.closeWal();
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
    if (this.syncFailure) {
      for (const write of batch) write.reject(this.syncFailure);
      return;
    }
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    const startedAt = performance.now();
    this.offLoop?.normal.run();
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
    } finally {
      this.offLoop?.restore.run();
    }
    const settle = (error?: unknown) => {
      if (error !== undefined) {
        for (const write of batch) write.reject(error);
        return;
      }
      this.options.onBatch?.({ writes: batch.length, durationMs: performance.now() - startedAt });
      batch.forEach((write, index) => {
        const outcome = outcomes[index];
        if (outcome.ok) write.resolve(outcome.value);
        else write.reject(outcome.error);
      });
    };
    if (!this.offLoop) {
      settle();
      return;
    }
    this.committedBatches++;
    this.waiters.push({ upTo: this.committedBatches, settle });
    this.startSync();
  }

  /** Starts an fdatasync of the WAL covering every batch committed so far, unless one is under way (it restarts after). */
  private startSync(): void {
    if (this.syncing || this.syncFailure || this.syncedBatches === this.committedBatches) return;
    let fd: number;
    try {
      fd = this.openWal();
    } catch (error) {
      this.failSync(error);
      return;
    }
    const target = this.committedBatches;
    this.syncing = true;
    this.fdatasync(fd, (error) => {
      this.syncing = false;
      if (this.closed) {
        // close() synced everything committed itself; the connection (and with it the WAL file) may be gone by now.
        this.closeWal();
        return;
      }
      if (error) {
        this.failSync(error);
      } else {
        try {
          // The WAL deleted under us (only if every connection closed and reopened it): sync the file now in its place.
          if (fstatSync(fd).nlink === 0) {
            this.closeWal();
            fdatasyncSync(this.openWal());
          }
          this.synced(target);
        } catch (syncError) {
          this.failSync(syncError);
        }
      }
      this.startSync();
    });
  }

  private openWal(): number {
    this.walFd ??= openSync((this.offLoop as { walFile: string }).walFile, 'r');
    return this.walFd;
  }

  private closeWal(): void {
    if (this.walFd === undefined) return;
    const fd = this.walFd;
    this.walFd = undefined;
    closeSync(fd);
  }

  /** Every batch up to `upTo` is durable: settle whoever waited for it (in the order they came). */
  private synced(upTo: number): void {
    this.syncedBatches = Math.max(this.syncedBatches, upTo);
    while (this.waiters.length > 0 && this.waiters[0].upTo <= this.syncedBatches) (this.waiters.shift() as SyncWaiter).settle();
  }

  private failSync(cause: unknown): void {
    if (this.syncFailure) return;
    const failure = new GroupCommitSyncError(this.db.name, cause);
    this.syncFailure = failure;
    for (const waiter of this.waiters.splice(0)) waiter.settle(failure);
    const onSyncFailure =
      this.options.onSyncFailure ??
      (() =>
        // After the rejections' handlers ran (they may log or answer), before anything else is started.
        setImmediate(() => {
          throw failure;
        }));
    onSyncFailure(failure);
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
