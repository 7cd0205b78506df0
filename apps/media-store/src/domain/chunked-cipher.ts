import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The on-disk format of a stored blob ("WGMEDIA1"), AES-256-GCM in chunks:
 *
 *   header   = magic "WGMEDIA1" (8 bytes) | plaintext chunk size, uint32 BE (4) | salt (32 random bytes)
 *   record i = AES-256-GCM(chunk i) | tag (16 bytes)      each chunk CHUNK_BYTES of plaintext, the last 1..CHUNK_BYTES
 *
 * Each blob gets its own key, HKDF-SHA256(data key, salt, binding), so nonces never repeat across blobs under one
 * data key; the nonce is the record index (uint64 BE) | 3 zero bytes | final flag. The AAD of every record is the
 * header | index (uint64 BE) | final flag (1 on the last record, else 0). So a record that is altered, moved,
 * swapped with another, or taken from another blob fails to authenticate, and a blob cut at a record boundary fails
 * too (its new last record was sealed as not final). Decryption yields a record's plaintext only after its tag
 * verified.
 */
export const CHUNK_BYTES = 64 * 1024;
const MAGIC = Buffer.from('WGMEDIA1', 'latin1');
const SALT_BYTES = 32;
/** Header size in bytes. */
export const HEADER_BYTES = MAGIC.length + 4 + SALT_BYTES;
/** GCM tag per record. */
export const TAG_BYTES = 16;
const RECORD_BYTES = CHUNK_BYTES + TAG_BYTES;

/** Whose blob it is; bound into the per-blob key, so a blob presented under another identity does not decrypt. */
export interface BlobBinding {
  readonly tenantId: string;
  /** Empty for tenant-wide blobs. */
  readonly customerRef: string;
  readonly blobId: string;
  readonly keyId: string;
}

/** A blob's ciphertext did not authenticate (altered, truncated, extended, or presented under another binding). */
export class BlobIntegrityError extends Error {
  constructor(readonly detail: string) {
    super(`stored blob failed to authenticate: ${detail}`);
    this.name = 'BlobIntegrityError';
  }
}

/** Type guard for {@link BlobIntegrityError}. */
export function isBlobIntegrityError(error: unknown): error is BlobIntegrityError {
  return error instanceof BlobIntegrityError;
}

/** Stored size of a blob of `plaintextBytes` (at least 1). */
export function ciphertextSize(plaintextBytes: number): number {
  return HEADER_BYTES + plaintextBytes + Math.ceil(plaintextBytes / CHUNK_BYTES) * TAG_BYTES;
}

function blobKey(dataKey: Buffer, salt: Buffer, binding: BlobBinding): Buffer {
  const info = JSON.stringify(['waygate.media.blob.v1', binding.tenantId, binding.customerRef, binding.blobId, binding.keyId]);
  return Buffer.from(hkdfSync('sha256', dataKey, salt, info, 32));
}

function nonce(index: number, final: boolean): Buffer {
  const value = Buffer.alloc(12);
  value.writeBigUInt64BE(BigInt(index), 0);
  value[11] = final ? 1 : 0;
  return value;
}

function recordAad(header: Buffer, index: number, final: boolean): Buffer {
  const tail = Buffer.alloc(9);
  tail.writeBigUInt64BE(BigInt(index), 0);
  tail[8] = final ? 1 : 0;
  return Buffer.concat([header, tail]);
}

/**
 * Encrypts a blob as it streams in: `update` returns the ciphertext ready so far (the header first), `final` the
 * last record. Holds at most one chunk of plaintext.
 */
export class BlobEncryptor {
  private readonly key: Buffer;
  private readonly header: Buffer;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private index = 0;
  private headerSent = false;

  constructor(dataKey: Buffer, binding: BlobBinding) {
    const salt = randomBytes(SALT_BYTES);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(CHUNK_BYTES);
    this.header = Buffer.concat([MAGIC, size, salt]);
    this.key = blobKey(dataKey, salt, binding);
  }

  update(plaintext: Buffer): Buffer[] {
    const out: Buffer[] = [];
    if (!this.headerSent) {
      out.push(this.header);
      this.headerSent = true;
    }
    this.pending.push(plaintext);
    this.pendingBytes += plaintext.length;
    // Keep at least one byte back: only `final` knows which record is the last.
    if (this.pendingBytes <= CHUNK_BYTES) return out;
    const all = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    let offset = 0;
    while (all.length - offset > CHUNK_BYTES) {
      out.push(this.seal(all.subarray(offset, offset + CHUNK_BYTES), false));
      offset += CHUNK_BYTES;
    }
    this.pending = [all.subarray(offset)];
    this.pendingBytes = all.length - offset;
    return out;
  }

  final(): Buffer[] {
    if (this.pendingBytes === 0) throw new Error('a blob has at least one byte');
    const out = this.headerSent ? [] : [this.header];
    this.headerSent = true;
    out.push(this.seal(Buffer.concat(this.pending), true));
    this.pending = [];
    this.pendingBytes = 0;
    return out;
  }

  private seal(chunk: Buffer, final: boolean): Buffer {
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce(this.index, final), { authTagLength: TAG_BYTES });
    cipher.setAAD(recordAad(this.header, this.index, final));
    const sealed = Buffer.concat([cipher.update(chunk), cipher.final(), cipher.getAuthTag()]);
    this.index++;
    return sealed;
  }
}

/** Parses and checks a blob header; BlobIntegrityError if it is not one of ours. */
export function parseBlobHeader(header: Buffer): { chunkBytes: number } {
  if (header.length < HEADER_BYTES || !header.subarray(0, MAGIC.length).equals(MAGIC)) throw new BlobIntegrityError('bad header');
  const chunkBytes = header.readUInt32BE(MAGIC.length);
  if (chunkBytes !== CHUNK_BYTES) throw new BlobIntegrityError('unsupported chunk size');
  return { chunkBytes };
}

/** Where reading starts: the record holding plaintext byte `offset`, and that record's position in the stored blob. */
export function recordPosition(offset: number): { index: number; storedOffset: number; skip: number } {
  const index = Math.floor(offset / CHUNK_BYTES);
  return { index, storedOffset: HEADER_BYTES + index * RECORD_BYTES, skip: offset - index * CHUNK_BYTES };
}

/**
 * Decrypts stored records, starting at record `firstIndex` (records read from `recordPosition(...).storedOffset`),
 * yielding each chunk's plaintext after its tag verified. Throws BlobIntegrityError on any alteration, a truncated
 * blob (no final record) or bytes after the final record. `stopAfterBytes` ends early (a Range read) once that much
 * plaintext was produced, without reading the rest.
 */
export async function* decryptRecords(
  dataKey: Buffer,
  binding: BlobBinding,
  header: Buffer,
  records: AsyncIterable<Buffer>,
  options: { firstIndex?: number; stopAfterBytes?: number } = {},
): AsyncGenerator<Buffer> {
  parseBlobHeader(header);
  const headerBytes = header.subarray(0, HEADER_BYTES);
  const key = blobKey(dataKey, headerBytes.subarray(MAGIC.length + 4), binding);
  let index = options.firstIndex ?? 0;
  let produced = 0;
  let buffered: Buffer[] = [];
  let bufferedBytes = 0;
  const open = (record: Buffer, final: boolean): Buffer => {
    if (record.length <= TAG_BYTES) throw new BlobIntegrityError('short record');
    const decipher = createDecipheriv('aes-256-gcm', key, nonce(index, final), { authTagLength: TAG_BYTES });
    decipher.setAAD(recordAad(headerBytes, index, final));
    decipher.setAuthTag(record.subarray(record.length - TAG_BYTES));
    try {
      const plaintext = Buffer.concat([decipher.update(record.subarray(0, record.length - TAG_BYTES)), decipher.final()]);
      index++;
      return plaintext;
    } catch {
      throw new BlobIntegrityError(final ? `record ${index} (last) does not authenticate or the blob was truncated` : `record ${index}`);
    }
  };
  for await (const piece of records) {
    buffered.push(piece);
    bufferedBytes += piece.length;
    // A full record is opened as not-final only when more bytes follow it.
    if (bufferedBytes <= RECORD_BYTES) continue;
    const all = buffered.length === 1 ? (buffered[0] as Buffer) : Buffer.concat(buffered);
    let offset = 0;
    while (all.length - offset > RECORD_BYTES) {
      const plaintext = open(all.subarray(offset, offset + RECORD_BYTES), false);
      offset += RECORD_BYTES;
      produced += plaintext.length;
      yield plaintext;
      if (options.stopAfterBytes !== undefined && produced >= options.stopAfterBytes) return;
    }
    buffered = [all.subarray(offset)];
    bufferedBytes = all.length - offset;
  }
  if (bufferedBytes === 0) throw new BlobIntegrityError('truncated: no final record');
  yield open(Buffer.concat(buffered), true);
}
