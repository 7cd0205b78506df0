import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  DOWNLOAD_URL_TTL_MS,
  INBOUND_RETENTION_MS,
  MEDIA_LIMITS,
  MediaLibrary,
  STATIC_STICKER_MAX_BYTES,
  UPLOAD_RETENTION_MS,
} from './media-library';

const START_MS = 1_750_000_000_000;
const PHONE = '1000001';
const OTHER_PHONE = '1000002';

/** A clock the test moves by hand: the library's injected notion of "now". */
function movableClock(): { nowMs(): number; advance(ms: number): void } {
  let now = START_MS;
  return { nowMs: () => now, advance: (ms) => (now += ms) };
}

function newLibrary(options: { linkTimeoutMs?: number } = {}): { library: MediaLibrary; clock: ReturnType<typeof movableClock> } {
  const clock = movableClock();
  let next = 100;
  const library = new MediaLibrary({ clock, newMediaId: () => String((next += 1)), ...options });
  return { library, clock };
}

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);

/** A minimal extended-format WebP header; `animated` sets the VP8X animation flag. */
function webp(size: number, animated: boolean): Buffer {
  const bytes = Buffer.alloc(size);
  bytes.write('RIFF', 0, 'latin1');
  bytes.write('WEBP', 8, 'latin1');
  bytes.write('VP8X', 12, 'latin1');
  bytes[20] = animated ? 0x02 : 0x00;
  return bytes;
}

describe('MediaLibrary storage', () => {
  test('stores uploads with hex sha256 and size, and keeps them exactly 30 days', () => {
    const { library, clock } = newLibrary();
    const media = library.storeUpload({ phoneNumberId: PHONE, mimeType: 'image/jpeg', bytes: JPEG, filename: 'a.jpg' });
    assert.equal(media.sha256, createHash('sha256').update(JPEG).digest('hex'));
    assert.equal(media.fileSize, JPEG.length);
    assert.equal(media.origin, 'upload');
    assert.equal(media.expiresAtMs - media.createdAtMs, UPLOAD_RETENTION_MS);
    clock.advance(UPLOAD_RETENTION_MS - 1);
    assert.equal(library.get(media.id)?.id, media.id);
    clock.advance(1);
    assert.equal(library.get(media.id), undefined);
  });

  test('keeps inbound media 7 days', () => {
    const { library, clock } = newLibrary();
    const media = library.storeInbound({ phoneNumberId: PHONE, mimeType: 'audio/ogg; codecs=opus', bytes: JPEG });
    assert.equal(media.mimeType, 'audio/ogg');
    clock.advance(INBOUND_RETENTION_MS - 1);
    assert.ok(library.get(media.id));
    clock.advance(1);
    assert.equal(library.get(media.id), undefined);
  });

  test('delete removes media once; clear removes everything', () => {
    const { library } = newLibrary();
    const first = library.storeUpload({ phoneNumberId: PHONE, mimeType: 'image/png', bytes: JPEG });
    const second = library.storeUpload({ phoneNumberId: PHONE, mimeType: 'image/png', bytes: JPEG });
    assert.equal(library.delete(first.id), true);
    assert.equal(library.delete(first.id), false);
    assert.equal(library.get(first.id), undefined);
    library.clear();
    assert.equal(library.get(second.id), undefined);
  });
});

describe('MediaLibrary download URLs', () => {
  test('are valid for 5 minutes of simulated time', () => {
    const { library, clock } = newLibrary();
    const media = library.storeUpload({ phoneNumberId: PHONE, mimeType: 'image/jpeg', bytes: JPEG });
    const url = new URL(library.downloadUrl(media, 'http://127.0.0.1:9/'));
    assert.equal(url.pathname, '/whatsapp_business/attachments/');
    assert.equal(url.searchParams.get('mid'), media.id);
    assert.equal(url.searchParams.get('access_token'), null);
    assert.deepEqual(library.resolveDownload(url.searchParams), { ok: true, media });
    clock.advance(DOWNLOAD_URL_TTL_MS - 1000);
    assert.equal(library.resolveDownload(url.searchParams).ok, true);
    clock.advance(1000);
    assert.deepEqual(library.resolveDownload(url.searchParams), { ok: false, reason: 'expired' });
  });

  test('reject forged hashes, other media ids, moved expiries and other libraries', () => {
    const { library } = newLibrary();
    const media = library.storeUpload({ phoneNumberId: PHONE, mimeType: 'image/jpeg', bytes: JPEG });
    const other = library.storeUpload({ phoneNumberId: PHONE, mimeType: 'image/jpeg', bytes: JPEG });
    const query = new URL(library.downloadUrl(media, 'http://x')).searchParams;
    const tamper = (name: string, value: string): URLSearchParams => {
      const copy = new URLSearchParams(query);
      copy.set(name, value);
      return copy;
    };
    assert.deepEqual(library.resolveDownload(tamper('hash', 'A'.repeat(43))), { ok: false, reason: 'invalid' });
    assert.deepEqual(library.resolveDownload(tamper('mid', other.id)), { ok: false, reason: 'invalid' });
    assert.deepEqual(library.resolveDownload(tamper('ext', String(Number(query.get('ext')) + 3600))), { ok: false, reason: 'invalid' });
    assert.deepEqual(library.resolveDownload(new URLSearchParams({ mid: media.id })), { ok: false, reason: 'invalid' });
    assert.deepEqual(newLibrary().library.resolveDownload(query), { ok: false, reason: 'invalid' });
  });

  test('report deleted media as gone', () => {
    const { library } = newLibrary();
    const media = library.storeUpload({ phoneNumberId: PHONE, mimeType: 'image/jpeg', bytes: JPEG });
    const query = new URL(library.downloadUrl(media, 'http://x')).searchParams;
    library.delete(media.id);
    assert.deepEqual(library.resolveDownload(query), { ok: false, reason: 'gone' });
  });
});

describe('MediaLibrary.resolveForSend by id', () => {
  test('accepts stored media of a matching type on the same phone number', async () => {
    const { library } = newLibrary();
    const media = library.storeUpload({ phoneNumberId: PHONE, mimeType: 'image/jpeg', bytes: JPEG });
    assert.deepEqual(await library.resolveForSend(PHONE, { type: 'image', id: media.id }), {
      ok: true,
      mimeType: 'image/jpeg',
      fileSize: JPEG.length,
    });
  });

  test("rejects unknown, expired and other numbers' media with 131053", async () => {
    const { library, clock } = newLibrary();
    const media = library.storeUpload({ phoneNumberId: PHONE, mimeType: 'image/jpeg', bytes: JPEG });
    for (const [phone, id] of [
      [PHONE, 'nope'],
      [OTHER_PHONE, media.id],
    ] as const) {
      const result = await library.resolveForSend(phone, { type: 'image', id });
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.error.code, 131053);
        assert.equal(result.error.title, 'Media upload error');
        assert.match(result.error.details, new RegExp(id));
      }
    }
    clock.advance(UPLOAD_RETENTION_MS);
    const expired = await library.resolveForSend(PHONE, { type: 'image', id: media.id });
    assert.equal(expired.ok, false);
  });

  test('rejects media whose MIME type does not suit the message type', async () => {
    const { library } = newLibrary();
    const pdf = library.storeUpload({ phoneNumberId: PHONE, mimeType: 'application/pdf', bytes: Buffer.from('%PDF-1.4') });
    const result = await library.resolveForSend(PHONE, { type: 'image', id: pdf.id });
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.error.details, /application\/pdf.*image/);
    assert.equal((await library.resolveForSend(PHONE, { type: 'document', id: pdf.id })).ok, true);
  });

  test('applies the static sticker limit unless the WebP is animated', async () => {
    const { library } = newLibrary();
    const staticSticker = library.storeUpload({
      phoneNumberId: PHONE,
      mimeType: 'image/webp',
      bytes: webp(STATIC_STICKER_MAX_BYTES + 1, false),
    });
    const animated = library.storeUpload({ phoneNumberId: PHONE, mimeType: 'image/webp', bytes: webp(STATIC_STICKER_MAX_BYTES + 1, true) });
    assert.equal((await library.resolveForSend(PHONE, { type: 'sticker', id: staticSticker.id })).ok, false);
    assert.equal((await library.resolveForSend(PHONE, { type: 'sticker', id: animated.id })).ok, true);
  });

  test('needs an id or a link', async () => {
    const { library } = newLibrary();
    const result = await library.resolveForSend(PHONE, { type: 'image' });
    assert.equal(result.ok, false);
  });
});

describe('MediaLibrary.resolveForSend by link', () => {
  let server: http.Server;
  let base: string;
  const requested: string[] = [];

  before(async () => {
    server = http.createServer((request, response) => {
      requested.push(request.url ?? '');
      switch (request.url) {
        case '/photo.jpg':
          response.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': JPEG.length });
          return response.end(JPEG);
        case '/missing.jpg':
          response.writeHead(404, { 'Content-Type': 'text/html' });
          return response.end('<h1>Not Found</h1>');
        case '/page.html':
          response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
          return response.end('<html></html>');
        case '/big-declared.jpg':
          response.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': MEDIA_LIMITS.image.maxBytes + 1 });
          return response.end(Buffer.alloc(MEDIA_LIMITS.image.maxBytes + 1));
        case '/big-chunked.jpg': {
          // No Content-Length: the library must count while streaming and stop past the limit.
          response.writeHead(200, { 'Content-Type': 'image/jpeg' });
          const chunk = Buffer.alloc(256 * 1024);
          let sent = 0;
          const pump = (): void => {
            while (sent <= MEDIA_LIMITS.image.maxBytes * 2) {
              sent += chunk.length;
              if (!response.write(chunk)) return void response.once('drain', pump);
            }
            response.end();
          };
          response.on('error', () => undefined);
          return pump();
        }
        case '/redirect':
          response.writeHead(302, { Location: '/photo.jpg' });
          return response.end();
        case '/hang':
          return; // never answers
        default:
          response.writeHead(500);
          return response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('fetches the link and reports its MIME type and size', async () => {
    const { library } = newLibrary();
    assert.deepEqual(await library.resolveForSend(PHONE, { type: 'image', link: `${base}/photo.jpg` }), {
      ok: true,
      mimeType: 'image/jpeg',
      fileSize: JPEG.length,
    });
    assert.ok(requested.includes('/photo.jpg'));
    assert.equal((await library.resolveForSend(PHONE, { type: 'image', link: `${base}/redirect` })).ok, true);
  });

  const failures: [string, string, RegExp][] = [
    ['a 404', '/missing.jpg', /HTTP status 404/],
    ['a wrong Content-Type', '/page.html', /text\/html/],
    ['a declared size over the limit', '/big-declared.jpg', /over the 5242880 bytes limit/],
    ['a streamed size over the limit', '/big-chunked.jpg', /over the 5242880 bytes limit/],
  ];
  for (const [what, path, details] of failures) {
    test(`fails with 131053 for ${what}`, async () => {
      const { library } = newLibrary();
      const result = await library.resolveForSend(PHONE, { type: 'image', link: `${base}${path}` });
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.error.code, 131053);
        assert.match(result.error.details, details);
      }
    });
  }

  test('fails for non-http links and when the server does not answer in time', async () => {
    const { library } = newLibrary({ linkTimeoutMs: 200 });
    const ftp = await library.resolveForSend(PHONE, { type: 'image', link: 'ftp://127.0.0.1/photo.jpg' });
    assert.equal(ftp.ok, false);
    const hang = await library.resolveForSend(PHONE, { type: 'image', link: `${base}/hang` });
    assert.equal(hang.ok, false);
    if (!hang.ok) assert.match(hang.error.details, /within 200 ms/);
  });
});
