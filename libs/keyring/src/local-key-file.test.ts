import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTempDir } from '@waygate/testing';
import { decodeKey as decodeMediaKey } from './key-encryption-keys';
import { loadOrCreateKeyFile } from './local-key-file';

test('accepts canonical base64 of exactly 32 bytes only', () => {
  const key = randomBytes(32);
  assert.deepEqual(decodeMediaKey(key.toString('base64')), key);
  assert.deepEqual(decodeMediaKey(`${key.toString('base64')}\n`), key, 'a trailing newline (from a file) is fine');
  assert.equal(decodeMediaKey(''), undefined);
  assert.equal(decodeMediaKey(randomBytes(31).toString('base64')), undefined);
  assert.equal(decodeMediaKey(randomBytes(33).toString('base64')), undefined);
  assert.equal(decodeMediaKey(key.toString('hex')), undefined, '64 hex characters are not base64 of 32 bytes');
  assert.equal(decodeMediaKey(key.toString('base64').slice(0, -1)), undefined, 'missing padding');
  assert.equal(decodeMediaKey(key.toString('base64url')), undefined);
});

test('creates the key file once with mode 0600 and reuses it', () => {
  const dir = createTempDir();
  try {
    const file = path.join(dir.path, 'data', 'eu', 'media-store.key');
    const first = loadOrCreateKeyFile(file);
    assert.equal(first.created, true);
    assert.equal(first.key.length, 32);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(decodeMediaKey(readFileSync(file, 'utf8')), first.key);
    assert.deepEqual(readdirSync(path.dirname(file)), ['media-store.key'], 'no temporary file left behind');

    const second = loadOrCreateKeyFile(file);
    assert.equal(second.created, false);
    assert.deepEqual(second.key, first.key);
    assert.equal(second.permissionsTooOpen, false);

    chmodSync(file, 0o644);
    assert.equal(loadOrCreateKeyFile(file).permissionsTooOpen, true);
  } finally {
    dir.remove();
  }
});

test('refuses a damaged key file rather than replacing it, naming the file and not its content', () => {
  const dir = createTempDir();
  try {
    const file = path.join(dir.path, 'media-store.key');
    writeFileSync(file, 'not-a-key-at-all', { mode: 0o600 });
    assert.throws(
      () => loadOrCreateKeyFile(file),
      (error: unknown) => {
        assert.match((error as Error).message, /media-store\.key does not hold base64 of exactly 32 bytes/);
        assert.ok(!(error as Error).message.includes('not-a-key-at-all'));
        return true;
      },
    );
    assert.equal(readFileSync(file, 'utf8'), 'not-a-key-at-all');
  } finally {
    dir.remove();
  }
});
