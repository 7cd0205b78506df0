import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createTempDir } from '@waygate/testing';
import { checkpointWalTruncate, openSqliteDatabase, WalCheckpointBusyError } from './sqlite';

test('applies each migration once, in WAL mode', () => {
  const dir = createTempDir();
  const file = path.join(dir.path, 'nested', 'db.sqlite');
  const migrations = ['CREATE TABLE a (id TEXT PRIMARY KEY)', 'CREATE TABLE b (id TEXT PRIMARY KEY)'];
  openSqliteDatabase(file, migrations.slice(0, 1)).close();
  const db = openSqliteDatabase(file, migrations);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.deepEqual(db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all(), [1, 2]);
  db.close();
  dir.remove();
});

test('processes opening one new file at once apply each migration once (replicas starting together)', { timeout: 120_000 }, async () => {
  const dir = createTempDir();
  try {
    const migrations = Array.from({ length: 20 }, (_, i) => `CREATE TABLE t${i} (id TEXT PRIMARY KEY)`);
    for (let round = 0; round < 3; round++) {
      const file = path.join(dir.path, `race-${round}.sqlite`);
      // Every child waits for the same instant, then opens the file: their migration steps overlap.
      const goAt = Date.now() + 3000;
      const script = [
        `const { openSqliteDatabase } = require(${JSON.stringify(path.join(__dirname, 'sqlite.ts'))});`,
        `while (Date.now() < ${goAt}) {}`,
        `openSqliteDatabase(${JSON.stringify(file)}, ${JSON.stringify(migrations)}).close();`,
      ].join('\n');
      const results = await Promise.all(
        Array.from(
          { length: 4 },
          () =>
            new Promise<{ code: number | null; stderr: string }>((resolve) => {
              const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
              let stderr = '';
              child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
              child.on('close', (code) => resolve({ code, stderr }));
            }),
        ),
      );
      for (const result of results) assert.equal(result.code, 0, result.stderr);
      const db = openSqliteDatabase(file, migrations);
      assert.deepEqual(
        db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all(),
        migrations.map((_, i) => i + 1),
      );
      db.close();
    }
  } finally {
    dir.remove();
  }
});

/** Every file of the database (main, -wal, -shm) that exists, with its bytes. */
function databaseFiles(file: string): Buffer[] {
  return [file, `${file}-wal`, `${file}-shm`].filter((f) => existsSync(f)).map((f) => readFileSync(f));
}

test('secure_delete is on, and a TRUNCATE checkpoint takes deleted text out of every file', async () => {
  const dir = createTempDir();
  try {
    const file = path.join(dir.path, 'db.sqlite');
    const db = openSqliteDatabase(file, ['CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL)']);
    assert.equal(db.pragma('secure_delete', { simple: true }), 1);
    const insert = db.prepare('INSERT INTO notes (id, body) VALUES (?, ?)');
    for (let i = 0; i < 50; i++) insert.run(`keep-${i}`, `keep-marker-${i} ${'x'.repeat(200)}`);
    insert.run('gone', 'erase-marker-7f3a9c');
    await checkpointWalTruncate(db);
    assert.ok(
      databaseFiles(file).some((bytes) => bytes.includes('erase-marker-7f3a9c')),
      'the marker was written',
    );
    db.prepare('DELETE FROM notes WHERE id = ?').run('gone');
    // Before the checkpoint the WAL still holds the page image with the marker.
    assert.ok(databaseFiles(file).some((bytes) => bytes.includes('erase-marker-7f3a9c')));
    await checkpointWalTruncate(db);
    assert.equal(statSync(`${file}-wal`).size, 0);
    for (const bytes of databaseFiles(file)) assert.equal(bytes.includes('erase-marker-7f3a9c'), false);
    assert.ok(readFileSync(file).includes('keep-marker-49'));
    db.close();
  } finally {
    dir.remove();
  }
});

test('the TRUNCATE checkpoint waits for a reader to leave its snapshot, and gives up with a retryable error', async () => {
  const dir = createTempDir();
  try {
    const file = path.join(dir.path, 'db.sqlite');
    const db = openSqliteDatabase(file, ['CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL)']);
    db.prepare('INSERT INTO notes (id, body) VALUES (?, ?)').run('a', 'first');
    const reader = openSqliteDatabase(file, []);
    reader.exec('BEGIN');
    assert.equal(reader.prepare('SELECT count(*) FROM notes').pluck().get(), 1);
    db.prepare('INSERT INTO notes (id, body) VALUES (?, ?)').run('b', 'second');

    await assert.rejects(checkpointWalTruncate(db, { timeoutMs: 150 }), (error: unknown) => {
      assert.ok(error instanceof WalCheckpointBusyError);
      assert.equal(error.retryable, true);
      return true;
    });

    const released = setTimeout(() => reader.exec('COMMIT'), 200);
    await checkpointWalTruncate(db, { timeoutMs: 5_000 });
    clearTimeout(released);
    assert.equal(reader.inTransaction, false);
    assert.equal(statSync(`${file}-wal`).size, 0);
    reader.close();
    db.close();
  } finally {
    dir.remove();
  }
});
