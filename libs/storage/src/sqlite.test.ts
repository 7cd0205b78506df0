import { test } from 'node:test';
import assert from 'node:assert/strict';
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
