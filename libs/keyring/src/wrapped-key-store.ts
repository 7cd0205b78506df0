/** A stored wrapped data key with the revision it was read at (for compare-and-set). */
export interface WrappedKeyEntry {
  readonly value: Buffer;
  readonly revision: number;
}

/**
 * Where the region's wrapped data keys live (one owner: the JetStream key-value bucket of the region, see
 * docs/decisions/0007-regional-keyring.md). Values are opaque, already wrapped by a KEK; names are dot-separated
 * tokens of `[A-Za-z0-9_-]`.
 */
export interface WrappedKeyStore {
  /** The entry, or undefined if there is none (or it was destroyed). */
  get(name: string): Promise<WrappedKeyEntry | undefined>;
  /** Creates the entry; false (and nothing changed) if one exists already. */
  create(name: string, value: Buffer): Promise<boolean>;
  /** Replaces the entry if it is still at `revision`; false if it changed meanwhile. */
  replace(name: string, value: Buffer, revision: number): Promise<boolean>;
  /** Removes the entry and its history for good (crypto-shredding); true if there was one. */
  destroy(name: string): Promise<boolean>;
  /** Every live entry's name; with `filter`, only those matching it (NATS subject wildcards: `*` one token, `>` the rest). */
  names(filter?: string): Promise<string[]>;
}
