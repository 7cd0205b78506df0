import type { AccessLogEntry, RecordedAccessLogEntry } from './access-log-entry';

/** Which entries of one tenant's access log to read, oldest first. */
export interface AccessLogQuery {
  readonly tenantId: string;
  /** Entries at or after this time. */
  readonly from?: Date;
  /** Entries before this time. */
  readonly to?: Date;
  /** Only this action. */
  readonly action?: string;
  /** Only entries after this index (paging). */
  readonly afterIndex?: number;
  /** Only entries before this index (the tree size a listing's checkpoint covers). */
  readonly beforeIndex?: number;
  readonly limit: number;
}

/**
 * The access log's storage: one append-only log per tenant, each entry at the next index (0, 1, 2, … without gaps)
 * with its leaf hash. Appends are durable when they resolve (SQLite: a `synchronous = FULL` commit; MongoDB: a
 * majority-acknowledged write by default), so the interceptor may let the call's status go only then.
 */
export interface AccessLogStore {
  /** Appends an entry at the tenant's next index; durable when it resolves. */
  append(entry: AccessLogEntry, leafHash: Buffer): Promise<RecordedAccessLogEntry>;
  /** Entries matching `query`, by index ascending, at most `limit`. */
  list(query: AccessLogQuery): Promise<RecordedAccessLogEntry[]>;
  /** Leaf hashes of the entries at indexes [from, to), in order (fewer when the log is shorter). */
  leafHashes(tenantId: string, from: number, to: number): Promise<Buffer[]>;
  /** The number of entries in the tenant's log (its tree size). */
  size(tenantId: string): Promise<number>;
  /** The tenant's tree size and its RFC 9162 root hash (the empty tree's for an empty log), read consistently. */
  treeHead(tenantId: string): Promise<{ size: number; rootHash: Buffer }>;
  /**
   * The tenant's secret for pseudonymising customers in filters (HMAC-SHA256), 32 random bytes created on first
   * use and kept for good, so the same customer always gets the same pseudonym within a tenant.
   */
  pseudonymKey(tenantId: string): Promise<Buffer>;
  close(): Promise<void>;
}
