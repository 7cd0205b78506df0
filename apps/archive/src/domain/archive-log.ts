import { createHash, randomBytes } from 'node:crypto';
import type { ArchivedEvent } from './archived-event';

/** The first byte of every archive log entry: the entry layout and the canonical record encoding below. */
export const ARCHIVE_LOG_ENTRY_VERSION = 0x01;

/** Bytes of a record's salt: 32 random bytes, one per record, kept in their own table so they can be shredded. */
export const RECORD_SALT_BYTES = 32;

/** Longest record id an entry can carry (the ids the archive stores are far shorter). */
const MAX_RECORD_ID_BYTES = 0xffff;

/** The checkpoint origin line of a tenant's archive log: `waygate/<region>/archive/<tenant id>`. */
export function archiveLogOrigin(region: string, tenantId: string): string {
  return `waygate/${region}/archive/${tenantId}`;
}

/** Salts drawn from the CSPRNG at once: one call per 128 records instead of one each (issue 15's profile). */
const SALT_POOL_BYTES = RECORD_SALT_BYTES * 128;
let saltPool = Buffer.alloc(0);
let saltPoolOffset = 0;

/** A fresh random salt for one record (its own copy: no two records share bytes). */
export function newRecordSalt(): Buffer {
  if (saltPoolOffset + RECORD_SALT_BYTES > saltPool.length) {
    saltPool = randomBytes(SALT_POOL_BYTES);
    saltPoolOffset = 0;
  }
  const salt = Buffer.from(saltPool.subarray(saltPoolOffset, saltPoolOffset + RECORD_SALT_BYTES));
  // A salt is shredded at erasure: its bytes do not linger in the pool once handed out.
  saltPool.fill(0, saltPoolOffset, saltPoolOffset + RECORD_SALT_BYTES);
  saltPoolOffset += RECORD_SALT_BYTES;
  return salt;
}

function canonicalValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(canonicalValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const field = (value as Record<string, unknown>)[key];
      if (field !== undefined) out[key] = canonicalValue(field);
    }
    return out;
  }
  return value;
}

/**
 * The canonical bytes of an archive record (version 1): the record as the store reads it back (every field of the
 * ArchivedEvent: kind, ids, times, content, statuses' fields), as JSON with object keys sorted by UTF-16 code unit,
 * absent fields omitted, times as ISO 8601 UTC with milliseconds (`Date.toISOString`), no whitespace, UTF-8. Export
 * bundles carry these bytes verbatim, so a verifier never has to re-derive them.
 */
export function canonicalRecordBytes(event: ArchivedEvent): Buffer {
  return Buffer.from(JSON.stringify(canonicalValue(event)), 'utf8');
}

/** SHA-256(salt || canonical record bytes): what an entry commits to. Without the salt it cannot be matched to content. */
export function saltedRecordHash(salt: Uint8Array, canonicalRecord: Uint8Array): Buffer {
  return createHash('sha256').update(salt).update(canonicalRecord).digest();
}

/**
 * The log entry of one archive record (the RFC 9162 leaf is SHA-256(0x00 || entry)):
 *
 *     entry = 0x01 || uint16 big-endian length of the record id || record id (UTF-8) || SHA-256(salt || record bytes)
 *
 * The record id is in the clear (it is an event id, never a phone number or content) so that a proof names its record;
 * the content only as a salted hash, so phone numbers and texts cannot be guessed from the log, and shredding the salt
 * leaves an entry that can no longer be matched to anything.
 */
export function archiveLogEntry(recordId: string, recordHash: Uint8Array): Buffer {
  const id = Buffer.from(recordId, 'utf8');
  if (id.length === 0 || id.length > MAX_RECORD_ID_BYTES) throw new RangeError('a record id is 1 to 65535 bytes');
  if (recordHash.length !== 32) throw new RangeError('a salted record hash is 32 bytes');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(id.length);
  return Buffer.concat([Buffer.from([ARCHIVE_LOG_ENTRY_VERSION]), length, id, recordHash]);
}

/** An entry split into its parts, or undefined when it is not a version-1 archive log entry. */
export function parseArchiveLogEntry(entry: Uint8Array): { recordId: string; recordHash: Buffer } | undefined {
  const bytes = Buffer.from(entry);
  if (bytes.length < 3 + 32 || bytes[0] !== ARCHIVE_LOG_ENTRY_VERSION) return undefined;
  const length = bytes.readUInt16BE(1);
  if (bytes.length !== 3 + length + 32) return undefined;
  return { recordId: bytes.subarray(3, 3 + length).toString('utf8'), recordHash: bytes.subarray(3 + length) };
}

/** One record's place in its tenant's log, as a store keeps it. */
export interface ArchiveLogLeaf {
  readonly recordId: string;
  readonly leafIndex: number;
  readonly entry: Buffer;
  /** Undefined once shredded (erasure, retention): the entry stays, the record can no longer be matched to it. */
  readonly salt?: Buffer;
}

/**
 * The archive log as a store keeps it, per tenant (implemented by the SQLite and MongoDB archive stores; the record
 * path appends, see ArchiveStore.record).
 */
export interface ArchiveLogStore {
  /** How many entries the tenant's log has (the newest tree size). */
  logSize(tenantId: string): Promise<number>;
  /** MTH of the tenant's first `treeSize` entries. */
  logRoot(tenantId: string, treeSize: number): Promise<Buffer>;
  /** The record's leaf, or undefined when the tenant has no such record in its log. */
  logLeaf(tenantId: string, recordId: string): Promise<ArchiveLogLeaf | undefined>;
  /** RFC 9162 inclusion proof of leaf `leafIndex` in the tree of `treeSize` (leafIndex < treeSize <= logSize). */
  logInclusionProof(tenantId: string, leafIndex: number, treeSize: number): Promise<Buffer[]>;
  /** RFC 9162 consistency proof between two tree sizes (first <= second <= logSize). */
  logConsistencyProof(tenantId: string, firstSize: number, secondSize: number): Promise<Buffer[]>;
  /**
   * Shreds the salts of these records (erasure, retention): their entries stay in the log and every proof stays valid,
   * but the records can no longer be matched to them. Idempotent; resolves to how many salts were shredded.
   */
  shredRecordSalts(tenantId: string, recordIds: readonly string[]): Promise<number>;
}
