import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createTempDir } from '@waygate/testing';
import { openSqliteDatabase } from './sqlite';

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
