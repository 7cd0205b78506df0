import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createTempDir } from '@waygate/testing';
import { openSqliteDatabase } from './sqlite';
import { GroupCommitClosedError, SqliteGroupCommit, statementCache, type GroupCommitBatch } from './sqlite-group-commit';

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

test(
  'a write whose promise resolved survives SIGKILL of its process right after (as durable as one commit per write)',
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
        `const commits = new SqliteGroupCommit(db);`,
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
