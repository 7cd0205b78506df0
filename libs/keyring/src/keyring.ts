import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '@waygate/domain';
import { KEY_BYTES, type KeyEncryptionKey, type KeyEncryptionKeys } from './key-encryption-keys';
import type { WrappedKeyStore } from './wrapped-key-store';

/** Whose data key: a tenant's, or one customer's of a tenant (so that erasing the customer can shred it). */
export interface KeyScope {
  readonly tenantId: string;
  /** A customer reference from {@link Keyring.customerRef}, never a raw phone number. */
  readonly customerRef?: string;
  /**
   * A short-lived key of the tenant for one purpose and time epoch (e.g. sealed authentication codes, one key per
   * 15 minutes), destroyed by {@link Keyring.destroyEphemeralKeys} once nothing it sealed may still be needed.
   * Not combined with `customerRef`.
   */
  readonly ephemeral?: { readonly purpose: string; readonly epoch: number };
}

/** An unwrapped data key with its id (stored next to whatever it encrypts). */
export interface DataKey {
  /** `<scope name>@<version>`: names the key and which incarnation of it (a destroyed and re-created key differs). */
  readonly keyId: string;
  readonly key: Buffer;
}

/** The data key a blob names no longer exists: its scope was shredded (erasure) or the id is unknown. */
export class DataKeyUnavailableError extends Error {
  readonly retryable = false;
  constructor(readonly keyId: string) {
    super(`data key ${keyId} is not available (destroyed or unknown)`);
    this.name = 'DataKeyUnavailableError';
  }
}

/** Type guard for {@link DataKeyUnavailableError}. */
export function isDataKeyUnavailableError(error: unknown): error is DataKeyUnavailableError {
  return error instanceof DataKeyUnavailableError;
}

/** A wrapped data key names a KEK this process was not given (a retired KEK removed before rotation finished). */
export class UnknownKeyEncryptionKeyError extends Error {
  constructor(
    readonly keyName: string,
    readonly kekId: string,
  ) {
    super(`data key ${keyName} is wrapped under key-encryption key ${kekId}, which is not configured (add it as a retired KEK)`);
    this.name = 'UnknownKeyEncryptionKeyError';
  }
}

/** What RotateKeyEncryptionKey did. */
export interface RotationResult {
  readonly rewrapped: number;
  readonly unchanged: number;
  readonly keyEncryptionKeyId: string;
}

/**
 * The regional keyring: data keys per tenant and per (tenant, customer), generated on first use, stored only wrapped
 * (AES-256-GCM) under the region's KEK in the {@link WrappedKeyStore}. Every service of the region that encrypts
 * personal data (media-store, the archive) uses it with the same store and KEKs.
 */
export interface Keyring {
  /** The scope's current data key, created (and stored wrapped) on first use. */
  dataKeyFor(scope: KeyScope): Promise<DataKey>;
  /** The data key a stored item names; DataKeyUnavailableError if it was destroyed since. */
  dataKeyById(keyId: string): Promise<Buffer>;
  /**
   * A stable pseudonym for a customer of a tenant (HMAC under the tenant's data key, 32 hex digits): usable in key
   * names and storage without the phone number, and not reversible without the keyring.
   */
  customerRef(tenantId: string, customer: string): Promise<string>;
  /** Shreds the scope's data key (erasure): everything encrypted under it becomes unreadable. True if it existed. */
  destroyKey(scope: KeyScope): Promise<boolean>;
  /**
   * Destroys every ephemeral key of `purpose` (any tenant) whose epoch is below `beforeEpoch`; returns how many.
   * What they sealed becomes unreadable: the crypto-shredding of short-lived secrets.
   */
  destroyEphemeralKeys(purpose: string, beforeEpoch: number): Promise<number>;
  /** Re-wraps every data key under the active KEK; the data keys (and what they encrypt) stay the same. */
  rotateKeyEncryptionKey(): Promise<RotationResult>;
  readonly activeKeyEncryptionKeyId: string;
}

const WRAP_LABEL = 'waygate.keyring.v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** How long an unwrapped key is reused in memory; bounds how long another replica's destroyKey takes to bite here. */
export const DATA_KEY_CACHE_MS = 30_000;
/**
 * At most this many unwrapped keys are kept in memory (the oldest loaded go first): every customer a service sees has
 * a key, and a process must not hold one for each customer it ever met.
 */
export const DATA_KEY_CACHE_ENTRIES = 10_000;
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

interface WrappedRecord {
  v: 1;
  version: string;
  kek: string;
  iv: string;
  tag: string;
  key: string;
  createdAt: string;
}

/** An ephemeral key's purpose: lowercase letters (never `customer`, which names customer keys). */
const PURPOSE = /^[a-z]{1,32}$/;
/** `tenant.<id>.<purpose>.e<epoch>`: an ephemeral key's store name. */
const EPHEMERAL_NAME = /^tenant\.[A-Za-z0-9_-]{1,64}\.([a-z]{1,32})\.e(\d{1,15})$/;

/**
 * The store name of a scope: `tenant.<id>`, `tenant.<id>.customer.<ref>` or (ephemeral) `tenant.<id>.<purpose>.e<epoch>`.
 */
export function scopeName(scope: KeyScope): string {
  if (!TOKEN.test(scope.tenantId)) throw new Error('tenant id is not a valid keyring token');
  if (scope.ephemeral !== undefined) {
    const { purpose, epoch } = scope.ephemeral;
    if (scope.customerRef !== undefined) throw new Error('an ephemeral key is not a customer key');
    if (!PURPOSE.test(purpose) || purpose === 'customer') throw new Error('ephemeral key purpose must be lowercase letters');
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new Error('ephemeral key epoch must be a non-negative integer');
    return `tenant.${scope.tenantId}.${purpose}.e${epoch}`;
  }
  if (scope.customerRef === undefined) return `tenant.${scope.tenantId}`;
  if (!/^[0-9a-f]{32}$/.test(scope.customerRef)) throw new Error('customer reference must come from Keyring.customerRef');
  return `tenant.${scope.tenantId}.customer.${scope.customerRef}`;
}

function aad(name: string, version: string): Buffer {
  return Buffer.from(JSON.stringify([WRAP_LABEL, name, version]), 'utf8');
}

function wrap(kek: KeyEncryptionKey, name: string, version: string, dataKey: Buffer, createdAt: Date): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek.key(), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(name, version));
  const wrapped = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  const record: WrappedRecord = {
    v: 1,
    version,
    kek: kek.id,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    key: wrapped.toString('base64'),
    createdAt: createdAt.toISOString(),
  };
  return Buffer.from(JSON.stringify(record), 'utf8');
}

function parseRecord(name: string, value: Buffer): WrappedRecord {
  const record = JSON.parse(value.toString('utf8')) as WrappedRecord;
  if (record.v !== 1 || typeof record.version !== 'string' || typeof record.kek !== 'string')
    throw new Error(`wrapped data key ${name} has an unknown format`);
  return record;
}

function unwrap(keks: Map<string, KeyEncryptionKey>, name: string, record: WrappedRecord): Buffer {
  const kek = keks.get(record.kek);
  if (!kek) throw new UnknownKeyEncryptionKeyError(name, record.kek);
  const decipher = createDecipheriv('aes-256-gcm', kek.key(), Buffer.from(record.iv, 'base64'), { authTagLength: TAG_BYTES });
  decipher.setAAD(aad(name, record.version));
  decipher.setAuthTag(Buffer.from(record.tag, 'base64'));
  // Throws if the wrapped key was altered, moved to another name, or wrapped under another KEK with the same id.
  const key = Buffer.concat([decipher.update(Buffer.from(record.key, 'base64')), decipher.final()]);
  if (key.length !== KEY_BYTES) throw new Error(`wrapped data key ${name} does not hold ${KEY_BYTES} bytes`);
  return key;
}

/** Builds the keyring over a wrapped-key store and the region's KEKs. */
export function createKeyring(options: { store: WrappedKeyStore; keks: KeyEncryptionKeys; clock: Clock }): Keyring {
  const { store, clock } = options;
  const keks = new Map<string, KeyEncryptionKey>([options.keks.active, ...options.keks.retired].map((kek) => [kek.id, kek]));
  const active = options.keks.active;
  const cache = new Map<string, { dataKey: DataKey; loadedAt: number }>();

  /**
   * Store reads and key creations in flight, by key name: concurrent callers that miss the cache share one (issue 15).
   * Sealing a message's content and its summary, or opening a sealed event and sealing it again, asks for the same
   * key at once; each would otherwise cost its own store round trip (and, for a new customer, its own create that
   * all but one lose).
   */
  const loading = new Map<string, Promise<DataKey | undefined>>();
  const obtaining = new Map<string, Promise<DataKey>>();

  /** Runs `start` unless a call for `name` is already in flight in `pending`, whose result is then shared. */
  function shared<T>(pending: Map<string, Promise<T>>, name: string, start: () => Promise<T>): Promise<T> {
    const running = pending.get(name);
    if (running) return running;
    const started = start();
    pending.set(name, started);
    const settle = () => {
      if (pending.get(name) === started) pending.delete(name);
    };
    started.then(settle, settle);
    return started;
  }

  function cachedKey(name: string): DataKey | undefined {
    const cached = cache.get(name);
    return cached && clock.now().getTime() - cached.loadedAt < DATA_KEY_CACHE_MS ? cached.dataKey : undefined;
  }

  async function read(name: string): Promise<DataKey | undefined> {
    const entry = await store.get(name);
    cache.delete(name);
    if (!entry) return undefined;
    const record = parseRecord(name, entry.value);
    return remember(name, { keyId: `${name}@${record.version}`, key: unwrap(keks, name, record) });
  }

  /** The key from the cache, else from the store (one read per name at a time); `fresh` skips the cache and sharing. */
  async function load(name: string, options: { fresh?: boolean } = {}): Promise<DataKey | undefined> {
    if (options.fresh) return read(name);
    return cachedKey(name) ?? shared(loading, name, () => read(name));
  }

  /** Drops the cached key and any read or creation in flight: callers after a destroy ask the store again. */
  function forget(name: string): void {
    cache.delete(name);
    loading.delete(name);
    obtaining.delete(name);
  }

  function remember(name: string, dataKey: DataKey): DataKey {
    // Re-inserted at the end: the Map's order is the load order, so the first entry is the one to evict.
    cache.delete(name);
    cache.set(name, { dataKey, loadedAt: clock.now().getTime() });
    if (cache.size > DATA_KEY_CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
    return dataKey;
  }

  async function dataKeyFor(scope: KeyScope): Promise<DataKey> {
    const name = scopeName(scope);
    return cachedKey(name) ?? shared(obtaining, name, () => loadOrCreate(name));
  }

  async function loadOrCreate(name: string): Promise<DataKey> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await load(name);
      if (existing) return existing;
      const version = randomBytes(8).toString('hex');
      const key = randomBytes(KEY_BYTES);
      // Created only if absent: two replicas racing on a new tenant agree on the one that got there first (the loser
      // reads the winner's). The winner knows what it stored: no second read (a first message to each new customer
      // creates a key, so this is on the hot path).
      if (await store.create(name, wrap(active, name, version, key, clock.now())))
        return remember(name, { keyId: `${name}@${version}`, key });
    }
    const created = await load(name);
    if (!created) throw new Error(`data key ${name} could not be created`);
    return created;
  }

  return {
    activeKeyEncryptionKeyId: active.id,
    dataKeyFor,
    async dataKeyById(keyId) {
      const at = keyId.lastIndexOf('@');
      const name = keyId.slice(0, at);
      let current = at > 0 ? await load(name) : undefined;
      // A cached incarnation that is not the one named: the key may have been destroyed and created again elsewhere
      // since it was cached (an erased customer who writes again), so ask the store before calling it unavailable.
      if (current && current.keyId !== keyId) current = await load(name, { fresh: true });
      if (!current || current.keyId !== keyId) throw new DataKeyUnavailableError(keyId);
      return current.key;
    },
    async customerRef(tenantId, customer) {
      const tenantKey = await dataKeyFor({ tenantId });
      return createHmac('sha256', tenantKey.key).update(`customer-ref:${customer}`, 'utf8').digest('hex').slice(0, 32);
    },
    async destroyKey(scope) {
      const name = scopeName(scope);
      forget(name);
      return store.destroy(name);
    },
    async destroyEphemeralKeys(purpose, beforeEpoch) {
      let destroyed = 0;
      if (!PURPOSE.test(purpose)) throw new Error('ephemeral key purpose must be lowercase letters');
      for (const name of await store.names(`tenant.*.${purpose}.*`)) {
        const match = EPHEMERAL_NAME.exec(name);
        if (!match || match[1] !== purpose || Number(match[2]) >= beforeEpoch) continue;
        forget(name);
        if (await store.destroy(name)) destroyed++;
      }
      return destroyed;
    },
    async rotateKeyEncryptionKey() {
      let rewrapped = 0;
      let unchanged = 0;
      for (const name of await store.names()) {
        for (let attempt = 0; ; attempt++) {
          const entry = await store.get(name);
          if (!entry) break; // destroyed meanwhile
          const record = parseRecord(name, entry.value);
          if (record.kek === active.id) {
            unchanged++;
            break;
          }
          const key = unwrap(keks, name, record);
          if (await store.replace(name, wrap(active, name, record.version, key, new Date(record.createdAt)), entry.revision)) {
            rewrapped++;
            break;
          }
          if (attempt >= 5) throw new Error(`data key ${name} kept changing during rotation`);
        }
      }
      cache.clear();
      return { rewrapped, unchanged, keyEncryptionKeyId: active.id };
    },
  };
}
