import { leafHash } from '@waygate/tlog';

/**
 * One recorded access to the archive (a read, search or export of ArchiveService, a governance action, a call of
 * ArchiveLogService): who, what, with which filters, how much it returned and how it ended. It never holds a message
 * text, a search query, a phone number or a credential: the filters name customers by pseudonym and queries by length.
 */
export interface AccessLogEntry {
  readonly tenantId: string;
  /** When the call ended (the entry is written before its status is sent). */
  readonly at: Date;
  /** The API key id (`key_…`), or `internal` for the region's internal token acting for the tenant. */
  readonly keyId: string;
  /** `<service>.<Method>`, e.g. `archive.SearchMessages`, `governance.EraseCustomer`. */
  readonly action: string;
  /** The request's filters as canonical JSON (customers pseudonymised, search text as its length). */
  readonly filtersJson: string;
  /** Items returned: conversations, messages, hits, exported files, holds, entries. */
  readonly resultCount: number;
  /** The gRPC status code the call ended with (0 OK). */
  readonly statusCode: number;
}

/** An entry as the tenant's access log holds it: its position (0-based leaf index) and RFC 9162 leaf hash. */
export interface RecordedAccessLogEntry extends AccessLogEntry {
  readonly index: number;
  /** SHA-256(0x00 || entry bytes), see {@link accessLogEntryBytes}. */
  readonly leafHash: Buffer;
}

/** Version tag of the entry encoding; part of every entry, so a later encoding cannot be confused with this one. */
export const ACCESS_LOG_ENTRY_VERSION = 'waygate-access-log/v1';

/**
 * The canonical bytes of an entry, what its leaf hash commits to: UTF-8 JSON of an array in a fixed order,
 * `["waygate-access-log/v1", tenant id, time (ISO 8601, milliseconds, UTC), key id, action, filters JSON (the
 * string), result count, status code]`. An array, not an object, so that no key order can vary; anyone can rebuild
 * the bytes from a listed entry (docs/governance.md, "Access log").
 */
export function accessLogEntryBytes(entry: AccessLogEntry): Buffer {
  return Buffer.from(
    JSON.stringify([
      ACCESS_LOG_ENTRY_VERSION,
      entry.tenantId,
      entry.at.toISOString(),
      entry.keyId,
      entry.action,
      entry.filtersJson,
      entry.resultCount,
      entry.statusCode,
    ]),
    'utf8',
  );
}

/** RFC 9162 leaf hash of an entry: SHA-256(0x00 || entry bytes). */
export function accessLogLeafHash(entry: AccessLogEntry): Buffer {
  return leafHash(accessLogEntryBytes(entry));
}
