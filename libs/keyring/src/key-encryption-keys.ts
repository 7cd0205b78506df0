import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** AES-256 key size, for key-encryption keys and data keys alike. */
export const KEY_BYTES = 32;

/** Environment variables the region's key-encryption key (KEK) is read from. */
export const KEK_VARIABLES = {
  /** Base64 of the active KEK (32 bytes). */
  key: 'WAYGATE_KEYRING_KEK',
  /** Comma-separated base64 KEKs that data keys may still be wrapped under (kept until RotateKeyEncryptionKey ran). */
  retired: 'WAYGATE_KEYRING_RETIRED_KEKS',
  /** A file instead: first non-empty line the active KEK, further lines retired ones (`#` starts a comment). */
  file: 'WAYGATE_KEYRING_KEK_FILE',
} as const;

/** One key-encryption key; the bytes sit behind a function so logging or serializing never prints them. */
export interface KeyEncryptionKey {
  /** A fingerprint (first 16 hex digits of the SHA-256 of "waygate.kek.v1" + key): safe to log and store. */
  readonly id: string;
  readonly key: () => Buffer;
}

/** The region's KEKs: the active one wraps new and re-wrapped data keys; retired ones only unwrap. */
export interface KeyEncryptionKeys {
  readonly active: KeyEncryptionKey;
  readonly retired: readonly KeyEncryptionKey[];
}

/** A KEK setting is missing or malformed; the message names the setting, never a key. */
export class KeyEncryptionKeyConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyEncryptionKeyConfigError';
  }
}

const FORMAT = 'must be base64 of exactly 32 bytes, e.g. the output of `openssl rand -base64 32`';

/** Canonical standard base64 of exactly 32 bytes (surrounding whitespace ignored); undefined otherwise. */
export function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) return undefined;
  const key = Buffer.from(trimmed, 'base64');
  return key.length === KEY_BYTES && key.toString('base64') === trimmed ? key : undefined;
}

/** Wraps raw KEK bytes with their fingerprint id. */
export function toKeyEncryptionKey(key: Buffer): KeyEncryptionKey {
  if (key.length !== KEY_BYTES) throw new KeyEncryptionKeyConfigError(`a key-encryption key must be ${KEY_BYTES} bytes`);
  const copy = Buffer.from(key);
  const id = createHash('sha256').update('waygate.kek.v1').update(copy).digest('hex').slice(0, 16);
  return { id, key: () => copy };
}

function decodeOrFail(text: string, setting: string): KeyEncryptionKey {
  const key = decodeKey(text);
  if (!key) throw new KeyEncryptionKeyConfigError(`${setting}: ${FORMAT}`);
  return toKeyEncryptionKey(key);
}

/** Parses a KEK file's text: first key line active, later ones retired. `source` names it in errors. */
export function parseKeyEncryptionKeyFile(text: string, source: string): KeyEncryptionKeys {
  const lines = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '');
  if (lines.length === 0) throw new KeyEncryptionKeyConfigError(`${source}: holds no key; ${FORMAT}`);
  const keys = lines.map((line, index) => decodeOrFail(line, `${source} (key line ${index + 1})`));
  return { active: keys[0] as KeyEncryptionKey, retired: keys.slice(1) };
}

/**
 * Reads the region's KEKs from the environment: WAYGATE_KEYRING_KEK (+ WAYGATE_KEYRING_RETIRED_KEKS), or
 * WAYGATE_KEYRING_KEK_FILE. Undefined when none is set (the caller decides whether a development key may be
 * generated); throws KeyEncryptionKeyConfigError naming the setting when one is malformed or both are set.
 *
 * A KMS plugs in here: resolve the KEK from it (or unwrap with it) and return the same shape.
 */
export function loadKeyEncryptionKeys(env: NodeJS.ProcessEnv): KeyEncryptionKeys | undefined {
  const inline = env[KEK_VARIABLES.key];
  const file = env[KEK_VARIABLES.file];
  const retired = env[KEK_VARIABLES.retired];
  if (inline !== undefined && file !== undefined)
    throw new KeyEncryptionKeyConfigError(`${KEK_VARIABLES.key} and ${KEK_VARIABLES.file}: set one, not both`);
  if (file !== undefined) {
    if (retired !== undefined)
      throw new KeyEncryptionKeyConfigError(`${KEK_VARIABLES.retired}: only with ${KEK_VARIABLES.key}; list retired keys in the file`);
    if (file.trim() === '') throw new KeyEncryptionKeyConfigError(`${KEK_VARIABLES.file}: must be a path (set but empty)`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new KeyEncryptionKeyConfigError(`${KEK_VARIABLES.file}: cannot read ${file} (${(error as NodeJS.ErrnoException).code})`);
    }
    return parseKeyEncryptionKeyFile(text, KEK_VARIABLES.file);
  }
  if (inline === undefined) {
    if (retired !== undefined) throw new KeyEncryptionKeyConfigError(`${KEK_VARIABLES.retired}: only with ${KEK_VARIABLES.key}`);
    return undefined;
  }
  const active = decodeOrFail(inline, KEK_VARIABLES.key);
  const retiredKeys = (retired ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part, index) => decodeOrFail(part, `${KEK_VARIABLES.retired} (entry ${index + 1})`));
  return { active, retired: retiredKeys };
}
