import { randomBytes } from 'node:crypto';
import type { Clock } from '@waygate/domain';
import { toKeyEncryptionKey } from './key-encryption-keys';
import { createKeyring, type Keyring } from './keyring';
import type { WrappedKeyEntry, WrappedKeyStore } from './wrapped-key-store';

/**
 * A WrappedKeyStore in memory: for store and participant tests that need a keyring without a NATS server, and for
 * nothing that must survive the process (services use JetStreamWrappedKeyStore).
 */
export function createMemoryWrappedKeyStore(): WrappedKeyStore {
  const entries = new Map<string, WrappedKeyEntry>();
  let revision = 0;
  return {
    async get(name) {
      return entries.get(name);
    },
    async create(name, value) {
      if (entries.has(name)) return false;
      entries.set(name, { value: Buffer.from(value), revision: ++revision });
      return true;
    },
    async replace(name, value, expected) {
      if (entries.get(name)?.revision !== expected) return false;
      entries.set(name, { value: Buffer.from(value), revision: ++revision });
      return true;
    },
    async destroy(name) {
      return entries.delete(name);
    },
    async names() {
      return [...entries.keys()];
    },
  };
}

/** A keyring over a {@link createMemoryWrappedKeyStore} and a random KEK: for tests only (nothing survives). */
export function createInMemoryKeyring(clock: Clock = { now: () => new Date() }): Keyring {
  return createKeyring({ store: createMemoryWrappedKeyStore(), keks: { active: toKeyEncryptionKey(randomBytes(32)), retired: [] }, clock });
}
