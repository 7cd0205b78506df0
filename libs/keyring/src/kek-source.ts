import type { JetStreamClient } from 'nats';
import type { Clock } from '@waygate/domain';
import { JetStreamWrappedKeyStore } from './jetstream-wrapped-key-store';
import { createKeyring, type Keyring } from './keyring';
import {
  KEK_VARIABLES,
  KeyEncryptionKeyConfigError,
  loadKeyEncryptionKeys,
  toKeyEncryptionKey,
  type KeyEncryptionKeys,
} from './key-encryption-keys';

import { loadOrCreateKeyFile } from './local-key-file';

/**
 * Where a service's region KEKs come from: configured (WAYGATE_KEYRING_KEK or _FILE), or, in local development on
 * SQLite only, the region's generated key file (`<data dir>/<region>/keyring.kek`, shared by every service of the
 * region on one machine). The keys sit behind a function so a logged configuration never prints them.
 */
export type KekSource =
  { readonly kind: 'configured'; readonly keys: () => KeyEncryptionKeys } | { readonly kind: 'local-file'; readonly file: string };

/**
 * Reads the KEK settings: configured keys, else `localFile` when given (SQLite development), else a
 * KeyEncryptionKeyConfigError naming the required variable.
 */
export function kekSourceFromEnv(env: NodeJS.ProcessEnv, localFile: string | undefined, why: string): KekSource {
  const keys = loadKeyEncryptionKeys(env);
  if (keys) return { kind: 'configured', keys: () => keys };
  if (localFile) return { kind: 'local-file', file: localFile };
  throw new KeyEncryptionKeyConfigError(`${KEK_VARIABLES.key} or ${KEK_VARIABLES.file}: required ${why}`);
}

/** The KEKs of a source (creating the local development file on first use); `created` says whether it was new. */
export function resolveKekSource(source: KekSource): { keys: KeyEncryptionKeys; localFile?: string; created?: boolean } {
  if (source.kind === 'configured') return { keys: source.keys() };
  const { key, created } = loadOrCreateKeyFile(source.file);
  return { keys: { active: toKeyEncryptionKey(key), retired: [] }, localFile: source.file, created };
}

/**
 * Opens the region keyring over the region's JetStream bucket with the KEKs of `source` (every service of a region
 * does the same, so each can open what another sealed). `localFile` is set when the local development KEK file is in
 * use, for a warning at startup (never the key).
 */
export async function openRegionKeyring(options: {
  js: JetStreamClient;
  region: string;
  kek: KekSource;
  clock: Clock;
}): Promise<{ keyring: Keyring; localFile?: string; created?: boolean }> {
  const { keys, localFile, created } = resolveKekSource(options.kek);
  const store = await JetStreamWrappedKeyStore.open(options.js, options.region);
  return { keyring: createKeyring({ store, keks: keys, clock: options.clock }), ...(localFile ? { localFile, created } : {}) };
}
