import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { InvalidArgumentError, NotFoundError, type Clock } from '@waygate/domain';
import { parseTenants, type Tenant } from '@waygate/tenancy';
import { createTempDir, tenantsYaml } from '@waygate/testing';
import { SqliteMediaStore } from '../adapters/sqlite-media-store';
import { createMediaCipher } from './media-cipher';
import { createMediaService, isMediaIntegrityError, type MediaService } from './media-service';
import type { MediaStore, StoredMedia } from './media-store';
import { MAX_MEDIA_BYTES, type PutMediaRequest } from './put-media-request';

const tenants = parseTenants(
  tenantsYaml([
    { id: 'acme', homeRegion: 'eu', apiKey: 'key-acme', phoneNumberIds: ['200'] },
    { id: 'globex', homeRegion: 'eu', apiKey: 'key-globex', phoneNumberIds: ['201'] },
  ]),
);
const acme = tenants.get('acme') as Tenant;
const globex = tenants.get('globex') as Tenant;
const clock: Clock = { now: () => new Date(1_700_000_000_000) };
const photo: PutMediaRequest = {
  content: Buffer.from('not really a jpeg, but private bytes'),
  mimeType: 'image/jpeg',
  filename: 'holiday.jpg',
};

/** Our own port, wrapping the real adapter: lets a test alter what a read returns, as a corrupted disk or a hostile DBA would. */
function tamperable(inner: MediaStore) {
  let alter: ((record: StoredMedia) => StoredMedia) | undefined;
  const store: MediaStore = {
    put: (record) => inner.put(record),
    get: async (tenantId, mediaId) => {
      const record = await inner.get(tenantId, mediaId);
      return record && alter ? alter(record) : record;
    },
    close: () => inner.close(),
  };
  return { store, tamper: (change: (record: StoredMedia) => StoredMedia) => (alter = change) };
}

function flipFirstByte(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  copy[0] ^= 0x01;
  return copy;
}

let dir: ReturnType<typeof createTempDir>;
let sqlite: SqliteMediaStore;
let store: ReturnType<typeof tamperable>;
let service: MediaService;

beforeEach(() => {
  dir = createTempDir();
  sqlite = new SqliteMediaStore(path.join(dir.path, 'media-store.sqlite'));
  store = tamperable(sqlite);
  service = createMediaService({ store: store.store, cipher: createMediaCipher(randomBytes(32)), clock });
});
afterEach(async () => {
  await sqlite.close();
  dir.remove();
});

async function assertIntegrityFailure(
  promise: Promise<unknown>,
  reason: 'decryption-failed' | 'sha256-mismatch',
  mediaId: string,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isMediaIntegrityError(error), String(error));
    assert.equal(error.reason, reason);
    assert.equal(error.mediaId, mediaId);
    return true;
  });
}

test('stores a blob encrypted and returns it whole, with its SHA-256', async () => {
  const stored = await service.put(acme, photo);
  assert.match(stored.mediaId, /^med_[0-9a-f]{32}$/);
  assert.equal(stored.sha256, createHash('sha256').update(photo.content).digest('hex'));
  assert.equal(stored.sizeBytes, photo.content.length);

  const record = await sqlite.get('acme', stored.mediaId);
  assert.ok(record);
  assert.equal(record.ciphertext.includes(photo.content), false, 'the store holds ciphertext, not the plaintext');
  assert.equal(record.iv.length, 12);
  assert.equal(record.authTag.length, 16);

  const media = await service.get(acme, stored.mediaId);
  assert.deepEqual(media.content, photo.content);
  assert.equal(media.mimeType, 'image/jpeg');
  assert.equal(media.filename, 'holiday.jpg');
  assert.equal(media.sha256, stored.sha256);
  assert.deepEqual(media.createdAt, clock.now());
});

test('a filename is optional; every blob gets a fresh IV', async () => {
  const first = await service.put(acme, { ...photo, filename: '' });
  const second = await service.put(acme, { ...photo, filename: '' });
  assert.equal((await service.get(acme, first.mediaId)).filename, undefined);
  const [a, b] = await Promise.all([sqlite.get('acme', first.mediaId), sqlite.get('acme', second.mediaId)]);
  assert.notDeepEqual(a?.iv, b?.iv);
  assert.notDeepEqual(a?.ciphertext, b?.ciphertext, 'same plaintext, different ciphertext');
});

test("another tenant's id and an unknown id are both NOT_FOUND; an empty or over-long id is INVALID_ARGUMENT", async () => {
  const { mediaId } = await service.put(acme, photo);
  await assert.rejects(service.get(globex, mediaId), NotFoundError);
  await assert.rejects(service.get(acme, 'med_unknown'), NotFoundError);
  await assert.rejects(service.get(acme, ''), InvalidArgumentError);
  await assert.rejects(service.get(acme, 'med_'.repeat(100)), InvalidArgumentError);
});

test('a row copied to another tenant or another media id does not decrypt (AAD binding)', async () => {
  const { mediaId } = await service.put(acme, photo);
  const original = await sqlite.get('acme', mediaId);
  assert.ok(original);
  await sqlite.put({ ...original, tenantId: 'globex' });
  await assertIntegrityFailure(service.get(globex, mediaId), 'decryption-failed', mediaId);
  await sqlite.put({ ...original, mediaId: 'med_copy' });
  await assertIntegrityFailure(service.get(acme, 'med_copy'), 'decryption-failed', 'med_copy');
  assert.deepEqual((await service.get(acme, mediaId)).content, photo.content, 'the original still reads');
});

test('a tampered ciphertext, tag or IV fails to decrypt; a tampered SHA-256 or size is caught after decryption', async () => {
  const { mediaId } = await service.put(acme, photo);
  const cases: [string, (record: StoredMedia) => StoredMedia, 'decryption-failed' | 'sha256-mismatch'][] = [
    ['ciphertext', (r) => ({ ...r, ciphertext: flipFirstByte(r.ciphertext) }), 'decryption-failed'],
    ['truncated ciphertext', (r) => ({ ...r, ciphertext: r.ciphertext.subarray(1) }), 'decryption-failed'],
    ['auth tag', (r) => ({ ...r, authTag: flipFirstByte(r.authTag) }), 'decryption-failed'],
    ['iv', (r) => ({ ...r, iv: flipFirstByte(r.iv) }), 'decryption-failed'],
    ['sha256', (r) => ({ ...r, sha256: createHash('sha256').update('other').digest('hex') }), 'sha256-mismatch'],
    ['size', (r) => ({ ...r, sizeBytes: r.sizeBytes + 1 }), 'sha256-mismatch'],
  ];
  for (const [what, change, reason] of cases) {
    store.tamper(change);
    await assertIntegrityFailure(service.get(acme, mediaId), reason, mediaId).catch((error: unknown) =>
      assert.fail(`${what}: ${String(error)}`),
    );
  }
});

test('a blob stored with one key does not decrypt with another', async () => {
  const { mediaId } = await service.put(acme, photo);
  const otherKey = createMediaService({ store: sqlite, cipher: createMediaCipher(randomBytes(32)), clock });
  await assertIntegrityFailure(otherKey.get(acme, mediaId), 'decryption-failed', mediaId);
});

test('the integrity error names ids only, never content or file name', async () => {
  const { mediaId } = await service.put(acme, photo);
  store.tamper((r) => ({ ...r, authTag: flipFirstByte(r.authTag) }));
  const error = await service.get(acme, mediaId).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e as Error,
  );
  assert.match(error.message, new RegExp(mediaId));
  assert.ok(!error.message.includes('holiday') && !error.message.includes('private bytes'));
});

async function violationsOf(request: PutMediaRequest): Promise<string[]> {
  const error = await service.put(acme, request).then(
    () => assert.fail('expected InvalidArgumentError'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof InvalidArgumentError, String(error));
  return error.violations.map((v) => `${v.field}:${v.reason}`).sort();
}

test('validation: content must be 1 byte to 5 MiB', async () => {
  assert.deepEqual(await violationsOf({ ...photo, content: Buffer.alloc(0) }), ['content:REQUIRED']);
  assert.deepEqual(await violationsOf({ ...photo, content: Buffer.alloc(MAX_MEDIA_BYTES + 1) }), ['content:TOO_LARGE']);
  const largest = await service.put(acme, { ...photo, content: Buffer.alloc(MAX_MEDIA_BYTES, 7) });
  assert.equal((await service.get(acme, largest.mediaId)).content.length, MAX_MEDIA_BYTES);
});

test('validation: mime_type is required and shaped like type/subtype', async () => {
  assert.deepEqual(await violationsOf({ ...photo, mimeType: '' }), ['mime_type:REQUIRED']);
  for (const bad of [
    'jpeg',
    'image/',
    '/jpeg',
    'image/jpeg/extra',
    'image jpeg',
    'image/jp eg',
    'image/jpeg;',
    `image/${'x'.repeat(300)}`,
    'image/jpeg\n',
  ]) {
    assert.deepEqual(await violationsOf({ ...photo, mimeType: bad }), ['mime_type:INVALID_FORMAT'], JSON.stringify(bad));
  }
  for (const good of [
    'application/pdf',
    'audio/ogg; codecs=opus',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  ]) {
    await service.put(acme, { ...photo, mimeType: good });
  }
});

test('validation: filename is optional, at most 255 characters, a name without path separators or control characters', async () => {
  assert.deepEqual(await violationsOf({ ...photo, filename: 'x'.repeat(256) }), ['filename:TOO_LONG']);
  for (const bad of ['../etc/passwd', 'dir/file.pdf', 'C:\\Users\\file.pdf', '..', '.']) {
    assert.deepEqual(await violationsOf({ ...photo, filename: bad }), ['filename:INVALID_FORMAT'], bad);
  }
  for (const bad of ['a\u0000b.pdf', 'line\nbreak.pdf', 'tab\t.pdf', 'del\u007f.pdf', 'c1\u0085.pdf']) {
    assert.deepEqual(await violationsOf({ ...photo, filename: bad }), ['filename:INVALID_FORMAT'], JSON.stringify(bad));
  }
  const longest = 'ü'.repeat(255); // 255 characters, 510 UTF-8 bytes
  const stored = await service.put(acme, { ...photo, filename: longest });
  assert.equal((await service.get(acme, stored.mediaId)).filename, longest);
});

test('validation lists every bad field at once', async () => {
  assert.deepEqual(await violationsOf({ content: Buffer.alloc(0), mimeType: 'nonsense', filename: `${'a/'.repeat(200)}\u0001` }), [
    'content:REQUIRED',
    'filename:INVALID_FORMAT',
    'filename:INVALID_FORMAT',
    'filename:TOO_LONG',
    'mime_type:INVALID_FORMAT',
  ]);
});
