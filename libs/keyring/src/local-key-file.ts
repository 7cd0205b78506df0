import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { decodeKey, KEY_BYTES } from './key-encryption-keys';

/**
 * For local development only: reads the key from `file`, or creates it there (32 random bytes, base64, mode 0600)
 * when it does not exist yet, so blobs stored by one run can be read by the next. Creation is atomic: the key is
 * written and synced to a temporary file that is then hard-linked into place, so a crash or a concurrent start never
 * leaves a partial key, and an existing key is never overwritten.
 */
export function loadOrCreateKeyFile(file: string): { key: Buffer; created: boolean; permissionsTooOpen: boolean } {
  const existing = readKeyFile(file);
  if (existing) return { ...existing, created: false };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, `${randomBytes(KEY_BYTES).toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  let created = true;
  try {
    linkSync(temporary, file);
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    created = false;
  } finally {
    unlinkSync(temporary);
  }
  syncDirectory(path.dirname(file));
  const stored = readKeyFile(file);
  if (!stored) throw new Error(`key-encryption key file ${file} disappeared while it was being created`);
  return { ...stored, created };
}

function readKeyFile(file: string): { key: Buffer; permissionsTooOpen: boolean } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read key-encryption key file ${file}: ${(error as Error).message}`);
  }
  const key = decodeKey(text);
  // Refuse rather than replace: a new key would make every blob stored so far unreadable.
  if (!key)
    throw new Error(
      `key-encryption key file ${file} does not hold base64 of exactly ${KEY_BYTES} bytes; restore it, or delete it only if every data key wrapped with it (and so all media) may be lost`,
    );
  return { key, permissionsTooOpen: (statSync(file).mode & 0o077) !== 0 };
}

/** Makes the new directory entry durable, so a crash right after start cannot lose the key while keeping the data. */
function syncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
