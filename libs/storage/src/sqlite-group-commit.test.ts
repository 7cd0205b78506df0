import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fdatasync } from 'node:fs';
import Database from 'better-sqlite3';
import path from 'node:path';
import { createTempDir, waitFor } from '@waygate/testing';
import { openSqliteDatabase } from './sqlite';
import {
  GroupCommitClosedError,
  GroupCommitSyncError,
  SqliteGroupCommit,
  statementCache,
  type GroupCommitBatch,
} from './sqlite-group-commit';

const MIGRATIONS = ['CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL)'];

function openTemp(): { db: ReturnType<typeof openSqliteDatabase>; remove(): void; file: string } {
  const dir = createTempDir();
  const file = path.join(dir.path, 'g.sqlite');
  const db = openSqliteDatabase(file, MIGRATIONS);
  return {
    db,
    file,
    remove: () => {
      if (db.open) db.close();
      dir.remove();
    },
  };
}

test('writes queued in one turn share one transaction, and each resolves after the commit with its result', async () => {
  const temp = openTemp();
  try {
    const batches: GroupCommitBatch[] = [];
    const commits = new SqliteGroupCommit(temp.db, { onBatch: (batch) => batches.push(batch) });
    const insert = temp.db.prepare('INSERT INTO t (id, n) VALUES (?, ?)');
    const count = temp.db.prepare('SELECT count(*) FROM t').pluck();
    const results = Array.from({ length: 50 }, (_, i) => commits.run(() => insert.run(`id-${i}`, i).changes));
    // Nothing is written before the turn ends.
    assert.equal(count.get(), 0);
    assert.equal(commits.pending, 50);
    assert.deepEqual(await Promise.all(results), Array(50).fill(1));
    assert.equal(count.get(), 50);
    assert.equal(batches.length, 1);
    assert.equal(batches[0].writes, 50);
    assert.equal(temp.db.inTransaction, false);
  } finally {
    temp.remove();
  }
});

test('a failing write is rolled back alone: its promise rejects, the others of the batch commit', async () => {
  const temp = openTemp();
  try {
    const commits = new SqliteGroupCommit(temp.db);
    const insert = temp.db.prepare('INSERT INTO t (id, n) VALUES (?, ?)');
    const first = commits.run(() => insert.run('a', 1));
    // Two rows, then a duplicate key: both of its rows go, not just the second.
    const failing = commits.run(() => {
      insert.run('b', 2);
      insert.run('a', 3);
    });
    const third = commits.run(() => insert.run('c', 3));
    const settled = await Promise.allSettled([first, failing, third]);
    assert.deepEqual(
      settled.map((outcome) => outcome.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.match(String((settled[1] as PromiseRejectedResult).reason), /UNIQUE constraint failed/);
    assert.deepEqual(temp.db.prepare('SELECT id, n FROM t ORDER BY id').all(), [
      { id: 'a', n: 1 },
      { id: 'c', n: 3 },
    ]);
  } finally {
    temp.remove();
  }
});

test('writes run in queue order and see the writes queued before them (a check-then-insert stays atomic)', async () => {
  const temp = openTemp();
  try {
    const commits = new SqliteGroupCommit(temp.db);
    const find = temp.db.prepare('SELECT n FROM t WHERE id = ?').pluck();
    const insert = temp.db.prepare('INSERT INTO t (id, n) VALUES (?, ?)');
    const insertIfAbsent = (n: number): Promise<number> =>
      commits.run(() => {
        const existing = find.get('key') as number | undefined;
        if (existing !== undefined) return existing;
        insert.run('key', n);
        return n;
      });
    assert.deepEqual(await Promise.all([insertIfAbsent(1), insertIfAbsent(2), insertIfAbsent(3)]), [1, 1, 1]);
    // A nested better-sqlite3 transaction becomes a savepoint inside the batch.
    const nested = temp.db.transaction((id: string) => insert.run(id, 9));
    await commits.run(() => nested('nested'));
    assert.equal(find.get('nested'), 9);
  } finally {
    temp.remove();
  }
});

test('a queue longer than maxBatch is committed in several transactions, in order', async () => {
  const temp = openTemp();
  try {
    const batches: number[] = [];
    const commits = new SqliteGroupCommit(temp.db, { maxBatch: 10, onBatch: (batch) => batches.push(batch.writes) });
    const insert = temp.db.prepare('INSERT INTO t (id, n) VALUES (?, ?)');
    const order: number[] = [];
    await Promise.all(Array.from({ length: 25 }, (_, i) => commits.run(() => insert.run(`k${i}`, i)).then(() => order.push(i))));
    assert.deepEqual(batches, [10, 10, 5]);
    assert.deepEqual(
      order,
      Array.from({ length: 25 }, (_, i) => i),
    );
    assert.throws(() => new SqliteGroupCommit(temp.db, { maxBatch: 0 }), RangeError);
  } finally {
    temp.remove();
  }
});

test('close commits what is queued, then refuses new writes', async () => {
  const temp = openTemp();
  try {
    const commits = new SqliteGroupCommit(temp.db);
    const insert = temp.db.prepare('INSERT INTO t (id, n) VALUES (?, ?)');
    const queued = commits.run(() => insert.run('queued', 1));
    commits.close();
    await queued;
    assert.equal(temp.db.prepare('SELECT count(*) FROM t').pluck().get(), 1);
    await assert.rejects(
      commits.run(() => insert.run('late', 2)),
      GroupCommitClosedError,
    );
  } finally {
    temp.remove();
  }
});

/**
 * Resolves once the event loop has run the group commit's scheduled flush (queued with `setImmediate` before this
 * one): what was queued before the call is then committed (not timing: the order of setImmediate callbacks).
 */
function afterGroupCommitTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** fs.fdatasync that holds each sync's completion until released: to see what waits for it. */
function gatedFdatasync() {
  const held: Array<() => void> = [];
  let syncs = 0;
  return {
    fdatasync: (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      syncs++;
      fdatasync(fd, (error) => held.push(() => callback(error)));
    },
    get syncs() {
      return syncs;
    },
    /** Completes the oldest sync once it has returned from the kernel. */
    async release(): Promise<void> {
      await waitFor(() => held.length > 0, { timeoutMs: 5000 });
      (held.shift() as () => void)();
    },
  };
}

test('syncOffLoop: a batch commits at once and its writes resolve only after the WAL was synced; batches meanwhile share the next sync', async () => {
  const temp = openTemp();
  try {
    const gate = gatedFdatasync();
    const batches: GroupCommitBatch[] = [];
    const commits = new SqliteGroupCommit(temp.db, {
      syncOffLoop: true,
      fdatasync: gate.fdatasync,
      onBatch: (batch) => batches.push(batch),
    });
    assert.equal(commits.syncsOffLoop, true);
    const insert = temp.db.prepare('INSERT INTO t (id, n) VALUES (?, ?)');
    const count = temp.db.prepare('SELECT count(*) FROM t').pluck();
    const resolved: string[] = [];
    const first = commits.run(() => insert.run('a', 1)).then(() => resolved.push('a'));
    await afterGroupCommitTurn();
    // Committed (visible on the connection) but not durable yet: the promise waits for the sync under way.
    assert.equal(count.get(), 1);
    assert.equal(gate.syncs, 1);
    const second = commits.run(() => insert.run('b', 2)).then(() => resolved.push('b'));
    await afterGroupCommitTurn();
    const third = commits.run(() => insert.run('c', 3)).then(() => resolved.push('c'));
    await afterGroupCommitTurn();
    assert.equal(count.get(), 3);
    assert.equal(gate.syncs, 1, 'one sync in flight at a time');
    assert.deepEqual(resolved, []);
    // The connection's own level is back after each batch: writes outside the group commit still sync at COMMIT.
    assert.equal(temp.db.pragma('synchronous', { simple: true }), 2);
    await gate.release();
    await first;
    assert.deepEqual(resolved, ['a']);
    assert.equal(gate.syncs, 2, 'the batches committed during the first sync share the second');
    await gate.release();
    await Promise.all([second, third]);
    assert.deepEqual(resolved, ['a', 'b', 'c']);
    assert.equal(gate.syncs, 2);
    assert.deepEqual(
      batches.map((batch) => batch.writes),
      [1, 1, 1],
    );
  } finally {
    temp.remove();
  }
});

test('syncOffLoop: read() returns what it read once every batch committed before it is durable', async () => {
  const temp = openTemp();
  try {
    const gate = gatedFdatasync();
    const commits = new SqliteGroupCommit(temp.db, { syncOffLoop: true, fdatasync: gate.fdatasync });
    const insert = temp.db.prepare('INSERT INTO t (id, n) VALUES (?, ?)');
    const select = temp.db.prepare('SELECT n FROM t WHERE id = ?').pluck();
    // Nothing committed and unsynced: a read answers at once.
    assert.equal(await commits.read(() => select.get('x')), undefined);
    const write = commits.run(() => insert.run('x', 7));
    await afterGroupCommitTurn();
    let answered: unknown;
    const read = commits.read(() => select.get('x')).then((value) => (answered = value));
    await afterGroupCommitTurn();
    assert.equal(answered, undefined, 'the row is visible but not yet durable: the read waits');
    await gate.release();
    await Promise.all([write, read]);
    assert.equal(answered, 7);
    await assert.rejects(
      commits.read(() => {
        throw new Error('bad query');
      }),
      /bad query/,
    );
  } finally {
    temp.remove();
  }
});

test('syncOffLoop: a failed sync fails its writes and stops the store (fail-stop); close syncs what is committed', async () => {
  const temp = openTemp();
  try {
    const failures: GroupCommitSyncError[] = [];
    const failing = new SqliteGroupCommit(temp.db, {
      syncOffLoop: true,
      // Instead of the default, which stops the process.
      onSyncFailure: (error) => failures.push(error),
      fdatasync: (_fd, callback) => setImmediate(() => callback(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))),
    });
    const insert = temp.db.prepare('INSERT INTO t (id, n) VALUES (?, ?)');
    await assert.rejects(
      failing.run(() => insert.run('lost', 1)),
      (error: Error) => error instanceof GroupCommitSyncError && /EIO/.test(error.message),
    );
    await assert.rejects(
      failing.run(() => insert.run('later', 2)),
      GroupCommitSyncError,
    );
    await assert.rejects(
      failing.read(() => 1),
      GroupCommitSyncError,
    );
    assert.equal(failures.length, 1, 'told once');
    // close() makes a committed, unsynced batch durable before it returns, and its writes resolve.
    const gate = gatedFdatasync();
    const lateFailures: GroupCommitSyncError[] = [];
    const commits = new SqliteGroupCommit(temp.db, {
      syncOffLoop: true,
      fdatasync: gate.fdatasync,
      onSyncFailure: (error) => lateFailures.push(error),
    });
    const first = commits.run(() => insert.run('first', 1));
    await afterGroupCommitTurn();
    const queued = commits.run(() => insert.run('queued', 2));
    commits.close();
    await Promise.all([first, queued]);
    // The connection closes (SQLite checkpoints and deletes the WAL) before the sync that was under way returns:
    // that late sync is no failure.
    temp.db.close();
    await gate.release();
    assert.deepEqual(lateFailures, []);
    // An in-memory database (no WAL) commits with its own level: syncOffLoop does not apply.
    const memory = new Database(':memory:');
    assert.equal(new SqliteGroupCommit(memory, { syncOffLoop: true }).syncsOffLoop, false);
    memory.close();
  } finally {
    temp.remove();
  }
});

test('syncOffLoop: by default a failed sync stops the process (its writes rejected first)', { timeout: 30_000 }, async () => {
  const dir = createTempDir();
  try {
    const file = path.join(dir.path, 'eio.sqlite');
    const script = [
      `const { openSqliteDatabase } = require(${JSON.stringify(path.join(__dirname, 'sqlite.ts'))});`,
      `const { SqliteGroupCommit } = require(${JSON.stringify(path.join(__dirname, 'sqlite-group-commit.ts'))});`,
      `const db = openSqliteDatabase(${JSON.stringify(file)}, ${JSON.stringify(MIGRATIONS)});`,
      `const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });`,
      `const commits = new SqliteGroupCommit(db, { syncOffLoop: true, fdatasync: (fd, callback) => setImmediate(() => callback(eio)) });`,
      `commits.run(() => db.prepare('INSERT INTO t (id, n) VALUES (?, ?)').run('x', 1)).catch((error) => console.log('rejected: ' + error.name));`,
      `setInterval(() => console.log('still running'), 1000);`,
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.notEqual(code, 0);
    assert.match(stdout, /rejected: GroupCommitSyncError/);
    assert.doesNotMatch(stdout, /still running/);
    assert.match(stderr, /write-ahead log could not be synced/);
  } finally {
    dir.remove();
  }
});

test('statementCache prepares each SQL text once', () => {
  const temp = openTemp();
  try {
    const sql = statementCache(temp.db);
    assert.equal(sql('SELECT 1'), sql('SELECT 1'));
    assert.notEqual(sql('SELECT 1'), sql('SELECT 2'));
  } finally {
    temp.remove();
  }
});

for (const syncOffLoop of [false, true]) {
  test(
    `a write whose promise resolved survives SIGKILL of its process right after (as durable as one commit per write${syncOffLoop ? '; WAL synced off the loop' : ''})`,
    { timeout: 60_000 },
    async () => {
      const dir = createTempDir();
      try {
        const file = path.join(dir.path, 'crash.sqlite');
        // The child queues writes continuously in bursts and prints each id once its promise resolved; the parent kills
        // it with SIGKILL mid-stream (no exit handler runs) and checks every printed id is in the file.
        const script = [
          `const { openSqliteDatabase } = require(${JSON.stringify(path.join(__dirname, 'sqlite.ts'))});`,
          `const { SqliteGroupCommit } = require(${JSON.stringify(path.join(__dirname, 'sqlite-group-commit.ts'))});`,
          `const db = openSqliteDatabase(${JSON.stringify(file)}, ${JSON.stringify(MIGRATIONS)});`,
          `const commits = new SqliteGroupCommit(db, { syncOffLoop: ${syncOffLoop} });`,
          `const insert = db.prepare('INSERT INTO t (id, n) VALUES (?, ?)');`,
          `let next = 0;`,
          `setInterval(() => { for (let i = 0; i < 20; i++) { const id = 'w' + next++; commits.run(() => insert.run(id, 1)).then(() => process.stdout.write(id + '\\n')); } }, 1);`,
        ].join('\n');
        const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        const acknowledged: string[] = [];
        let buffered = '';
        await new Promise<void>((resolve) => {
          child.stdout.on('data', (chunk: Buffer) => {
            buffered += chunk.toString();
            const lines = buffered.split('\n');
            buffered = lines.pop() as string;
            acknowledged.push(...lines);
            if (acknowledged.length >= 2000 && child.exitCode === null) child.kill('SIGKILL');
          });
          child.on('close', () => resolve());
        });
        assert.ok(acknowledged.length >= 2000, `the child acknowledged ${acknowledged.length} writes`);
        const db = openSqliteDatabase(file, MIGRATIONS);
        const stored = new Set(db.prepare('SELECT id FROM t').pluck().all() as string[]);
        db.close();
        const lost = acknowledged.filter((id) => !stored.has(id));
        assert.deepEqual(lost, [], `${lost.length} acknowledged writes lost`);
      } finally {
        dir.remove();
      }
    },
  );
}
