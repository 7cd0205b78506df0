import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { noteSignerFromSeed, type NoteSigner } from './signed-note';

/** The setting that holds the region's log signing key: base64 of a 32-byte Ed25519 private key seed. */
export const LOG_SIGNING_KEY_VARIABLE = 'WAYGATE_LOG_SIGNING_KEY';

/** The local key file's name under the region's data dir (SQLite / local runs). */
export const LOG_SIGNING_KEY_FILE = 'log-signing.key';

const SEED_BYTES = 32;

/** The log signing key setting or file is missing or malformed; the message names it. */
export class LogSigningKeyConfigError extends Error {
  override readonly name = 'LogSigningKeyConfigError';
}

/** The key name of a region's logs and receipts: `waygate-<region>` (no spaces or `+`, as note key names require). */
export function logSigningKeyName(region: string): string {
  return `waygate-${region}`;
}

/** Where the region's key came from. */
export type LogSigningKeySource = 'setting' | 'local-file-created' | 'local-file';

/** The region's signing key and where it came from. */
export interface LoadedLogSigningKey {
  readonly signer: NoteSigner;
  readonly source: LogSigningKeySource;
  /** The local key file is readable by group or others (the caller warns). */
  readonly permissionsTooOpen: boolean;
}

function decodeSeed(text: string): Buffer | undefined {
  const trimmed = text.trim();
  const seed = Buffer.from(trimmed, 'base64');
  return seed.length === SEED_BYTES && seed.toString('base64') === trimmed ? seed : undefined;
}

/**
 * The region's Ed25519 log signing key, named `keyName`: from `WAYGATE_LOG_SIGNING_KEY` in `env` (base64 of a 32-byte
 * seed, e.g. `openssl rand -base64 32`) when set, else from `localKeyFile` (created with a random seed, mode 0600, on
 * first start; SQLite and local runs), else a LogSigningKeyConfigError. A malformed setting or file is an error naming
 * it, never replaced: a new key would orphan every checkpoint and receipt signed so far.
 */
export function loadOrCreateLogSigningKey(options: {
  env: Readonly<Record<string, string | undefined>>;
  keyName: string;
  localKeyFile?: string;
}): LoadedLogSigningKey {
  const setting = options.env[LOG_SIGNING_KEY_VARIABLE];
  if (setting !== undefined) {
    const seed = decodeSeed(setting);
    if (!seed)
      throw new LogSigningKeyConfigError(
        `${LOG_SIGNING_KEY_VARIABLE}: must be base64 of exactly ${SEED_BYTES} bytes (an Ed25519 private key seed, e.g. \`openssl rand -base64 32\`)`,
      );
    return { signer: noteSignerFromSeed(options.keyName, seed), source: 'setting', permissionsTooOpen: false };
  }
  if (!options.localKeyFile)
    throw new LogSigningKeyConfigError(
      `${LOG_SIGNING_KEY_VARIABLE}: required when there is no local data dir (base64 of a 32-byte Ed25519 seed)`,
    );
  const { seed, created, permissionsTooOpen } = loadOrCreateSeedFile(options.localKeyFile);
  return {
    signer: noteSignerFromSeed(options.keyName, seed),
    source: created ? 'local-file-created' : 'local-file',
    permissionsTooOpen,
  };
}

/** Reads the seed file or creates it atomically (temporary file, fsync, hard link: a concurrent start keeps one key). */
function loadOrCreateSeedFile(file: string): { seed: Buffer; created: boolean; permissionsTooOpen: boolean } {
  const existing = readSeedFile(file);
  if (existing) return { ...existing, created: false };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, `${randomBytes(SEED_BYTES).toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  let created = true;
  try {
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    created = false;
  } finally {
    unlinkSync(temporary);
  }
  const directory = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
  const stored = readSeedFile(file);
  if (!stored) throw new LogSigningKeyConfigError(`log signing key file ${file} disappeared while it was being created`);
  return { ...stored, created };
}

function readSeedFile(file: string): { seed: Buffer; permissionsTooOpen: boolean } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LogSigningKeyConfigError(`cannot read log signing key file ${file}: ${(error as Error).message}`);
  }
  const seed = decodeSeed(text);
  if (!seed)
    throw new LogSigningKeyConfigError(
      `log signing key file ${file} does not hold base64 of exactly ${SEED_BYTES} bytes; restore it (a new key cannot vouch for the checkpoints signed so far)`,
    );
  return { seed, permissionsTooOpen: (statSync(file).mode & 0o077) !== 0 };
}
