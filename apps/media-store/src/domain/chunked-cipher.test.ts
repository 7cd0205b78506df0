import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  BlobEncryptor,
  CHUNK_BYTES,
  ciphertextSize,
  decryptRecords,
  HEADER_BYTES,
  isBlobIntegrityError,
  recordPosition,
  TAG_BYTES,
  type BlobBinding,
} from './chunked-cipher';

const key = randomBytes(32);
const binding: BlobBinding = { tenantId: 'acme', customerRef: '', blobId: 'ab'.repeat(16), keyId: 'tenant.acme@01' };
const RECORD = CHUNK_BYTES + TAG_BYTES;

function seal(plaintext: Buffer, pieceBytes = 100_000): Buffer {
  const encryptor = new BlobEncryptor(key, binding);
  const out: Buffer[] = [];
  for (let offset = 0; offset < plaintext.length; offset += pieceBytes)
    out.push(...encryptor.update(plaintext.subarray(offset, offset + pieceBytes)));
  out.push(...encryptor.final());
  return Buffer.concat(out);
}

async function open(stored: Buffer, options: { binding?: BlobBinding; from?: number; stopAfterBytes?: number } = {}): Promise<Buffer> {
  const position = recordPosition(options.from ?? 0);
  async function* records() {
    // Odd-sized pieces, as a disk or GridFS hands them out.
    for (let offset = position.storedOffset; offset < stored.length; offset += 77_777) yield stored.subarray(offset, offset + 77_777);
  }
  const parts: Buffer[] = [];
  for await (const part of decryptRecords(key, options.binding ?? binding, stored.subarray(0, HEADER_BYTES), records(), {
    firstIndex: position.index,
    ...(options.stopAfterBytes !== undefined ? { stopAfterBytes: options.stopAfterBytes } : {}),
  }))
    parts.push(part);
  return Buffer.concat(parts).subarray(position.skip);
}

const refused = (error: unknown) => isBlobIntegrityError(error);

test('round trip for sizes around the record size; the stored size is as documented', async () => {
  for (const size of [1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES, 1_000_003]) {
    const plaintext = randomBytes(size);
    const stored = seal(plaintext);
    assert.equal(stored.length, ciphertextSize(size), `size ${size}`);
    assert.ok((await open(stored)).equals(plaintext), `size ${size}`);
  }
});

test('a range starting mid-blob decrypts only from its record on', async () => {
  const plaintext = randomBytes(5 * CHUNK_BYTES + 123);
  const stored = seal(plaintext);
  const from = 2 * CHUNK_BYTES + 500;
  assert.ok((await open(stored, { from })).equals(plaintext.subarray(from)));
  const partial = await open(stored, { from, stopAfterBytes: 1000 + (from - 2 * CHUNK_BYTES) });
  assert.ok(partial.subarray(0, 1000).equals(plaintext.subarray(from, from + 1000)));
});

test('any flipped byte (header, record, tag), swapped records, truncation or extension is refused', async () => {
  const plaintext = randomBytes(3 * CHUNK_BYTES + 10);
  const stored = seal(plaintext);
  const flip = (at: number) => {
    const copy = Buffer.from(stored);
    copy[at] ^= 0x01;
    return copy;
  };
  for (const at of [20, HEADER_BYTES, HEADER_BYTES + RECORD + 5, HEADER_BYTES + RECORD - 1, stored.length - 1])
    await assert.rejects(open(flip(at)), refused, `flipped byte ${at}`);
  const swapped = Buffer.concat([
    stored.subarray(0, HEADER_BYTES),
    stored.subarray(HEADER_BYTES + RECORD, HEADER_BYTES + 2 * RECORD),
    stored.subarray(HEADER_BYTES, HEADER_BYTES + RECORD),
    stored.subarray(HEADER_BYTES + 2 * RECORD),
  ]);
  await assert.rejects(open(swapped), refused, 'swapped records');
  await assert.rejects(open(stored.subarray(0, HEADER_BYTES + 3 * RECORD)), refused, 'cut at a record boundary');
  await assert.rejects(open(stored.subarray(0, stored.length - 5)), refused, 'cut inside the last record');
  await assert.rejects(open(stored.subarray(0, HEADER_BYTES)), refused, 'header only');
  await assert.rejects(open(Buffer.concat([stored, randomBytes(40)])), refused, 'bytes after the final record');
  await assert.rejects(open(stored, { binding: { ...binding, tenantId: 'globex' } }), refused, 'another tenant');
  await assert.rejects(open(stored, { binding: { ...binding, blobId: 'cd'.repeat(16) } }), refused, 'another blob id');
});

test('the same plaintext never encrypts to the same bytes (a fresh salt per blob)', () => {
  const plaintext = randomBytes(1000);
  assert.equal(seal(plaintext).equals(seal(plaintext)), false);
});
