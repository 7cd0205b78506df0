import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations, checkGrpcHealth, internalCallMetadata } from '@waygate/grpc';
import type { Clock } from '@waygate/domain';
import {
  MediaAdminServiceClient,
  MediaServiceClient,
  type CreateDownloadUrlResponse,
  type DownloadMediaResponse,
  type GetMediaResponse,
  type MediaInfo,
  type PutMediaResponse,
  type RotateKeyEncryptionKeyResponse,
  type UploadMediaResponse,
} from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { hashApiKey } from '@waygate/tenancy';
import { createTempDir, startNatsServer, tenantsYaml, waitFor, type NatsServerHandle } from '@waygate/testing';
import { loadMediaStoreConfig } from './config';
import { startMediaStore } from './server';
import { sampleOf, textOf } from './testing/media-samples';

const TOKEN = 'internal-token-'.padEnd(40, 'x');
const MiB = 1024 * 1024;
const CLIENT_OPTIONS = { 'grpc.max_receive_message_length': 8 * MiB, 'grpc.max_send_message_length': 8 * MiB };

function tenantsFileText(): string {
  const yaml = tenantsYaml([
    { id: 'acme', homeRegion: 'eu', apiKey: 'key-acme', phoneNumberIds: ['200'] },
    { id: 'globex', homeRegion: 'eu', apiKey: 'key-globex', phoneNumberIds: ['201'] },
    { id: 'initech', homeRegion: 'us', apiKey: 'key-initech', phoneNumberIds: ['202'] },
  ]);
  // globex keeps its media for 1 day (the retention sweeper test).
  return yaml.replace(/(- id: globex\n)/, '$1    media: { retentionDays: 1 }\n');
}

let nats: NatsServerHandle;
before(async () => {
  nats = await startNatsServer();
});
after(async () => {
  await nats.stop();
});

let now = Date.parse('2026-01-01T00:00:00Z');
const clock: Clock = { now: () => new Date(now) };

function capturingLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ service: 'media-store', region: 'eu', level: 'debug', destination }), lines };
}

/**
 * A running media-store with its own data dir. The keyring bucket is per NATS server (region eu): tests with their
 * own KEKs bring their own server (`natsUrl`), or the shared bucket would hold keys wrapped under another KEK.
 */
async function startEnvironment(options: { dataDir?: string; env?: NodeJS.ProcessEnv; natsUrl?: string } = {}) {
  const dir = createTempDir('waygate-media-store-');
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(tenantsFile, tenantsFileText());
  const dataDir = options.dataDir ?? path.join(dir.path, 'data');
  const config = loadMediaStoreConfig({
    WAYGATE_REGION: 'eu',
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_GRPC_PORT: '0',
    WAYGATE_DATA_DIR: dataDir,
    WAYGATE_NATS_URL: options.natsUrl ?? nats.url,
    WAYGATE_INTERNAL_SERVICE_TOKEN: TOKEN,
    ...options.env,
  });
  const log = capturingLogger();
  const service = await startMediaStore(config, log.logger, { clock });
  const address = `127.0.0.1:${service.grpcPort}`;
  const client = new MediaServiceClient(address, credentials.createInsecure(), CLIENT_OPTIONS);
  const admin = new MediaAdminServiceClient(address, credentials.createInsecure());
  return {
    dir,
    dataDir,
    blobDir: path.join(dataDir, 'eu', 'media-blobs'),
    service,
    client,
    admin,
    address,
    lines: log.lines,
    async stop(options: { keepDir?: boolean } = {}) {
      client.close();
      admin.close();
      await service.stop();
      if (!options.keepDir) dir.remove();
    },
  };
}
type Environment = Awaited<ReturnType<typeof startEnvironment>>;

function auth(apiKey = 'key-acme'): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${apiKey}`);
  return metadata;
}

interface UploadOptions {
  mimeType: string;
  filename?: string;
  sizeBytes?: number;
  sha256?: string;
  customer?: string;
  apiKey?: string;
  chunkBytes?: number;
  /** Do not end the stream after the bytes: the server must refuse without waiting for the end. */
  leaveOpen?: boolean;
}

function upload(client: MediaServiceClient, content: Buffer, options: UploadOptions): Promise<UploadMediaResponse> {
  return new Promise((resolve, reject) => {
    const call = client.uploadMedia(auth(options.apiKey), (error, response) => (error ? reject(error) : resolve(response)));
    call.on('error', () => undefined);
    call.write({
      part: {
        $case: 'header',
        value: {
          mimeType: options.mimeType,
          filename: options.filename ?? '',
          sizeBytes: String(options.sizeBytes ?? content.length),
          sha256: options.sha256 ?? '',
          customer: options.customer ?? '',
        },
      },
    });
    const chunkBytes = options.chunkBytes ?? MiB;
    let offset = 0;
    const pump = () => {
      while (offset < content.length) {
        const chunk = content.subarray(offset, offset + chunkBytes);
        offset += chunk.length;
        if (!call.write({ part: { $case: 'chunk', value: chunk } })) return void call.once('drain', pump);
      }
      if (!options.leaveOpen) call.end();
    };
    pump();
  });
}

async function download(client: MediaServiceClient, mediaId: string, apiKey = 'key-acme'): Promise<{ info: MediaInfo; content: Buffer }> {
  const call = client.downloadMedia({ mediaId }, auth(apiKey));
  let info: MediaInfo | undefined;
  const parts: Buffer[] = [];
  for await (const message of call as AsyncIterable<DownloadMediaResponse>) {
    if (message.part?.$case === 'info') info = message.part.value;
    else if (message.part?.$case === 'chunk') parts.push(message.part.value);
  }
  assert.ok(info, 'the first message carries the info');
  return { info, content: Buffer.concat(parts) };
}

function unary<Request, Response>(
  method: (request: Request, metadata: Metadata, callback: (error: ServiceError | null, response: Response) => void) => unknown,
  request: Request,
  metadata: Metadata = auth(),
): Promise<Response> {
  return new Promise((resolve, reject) => method(request, metadata, (error, response) => (error ? reject(error) : resolve(response))));
}

function rejectsWith(code: status, field?: string, reason?: string) {
  return (error: unknown) => {
    const serviceError = error as ServiceError;
    assert.equal(serviceError.code, code, String(error));
    if (field) {
      const violations = badRequestViolations(serviceError);
      assert.ok(
        violations.some((violation) => violation.field === field && (!reason || violation.reason === reason)),
        JSON.stringify(violations),
      );
    }
    return true;
  };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}
const blobFiles = (env: Environment) => filesUnder(env.blobDir).filter((file) => file.endsWith('.wgm'));

describe('media-store over gRPC', () => {
  let env: Environment;
  before(async () => {
    env = await startEnvironment();
  });
  after(async () => {
    await env.stop();
  });

  test('UploadMedia streams a 20 MiB document in; DownloadMedia and GetMediaInfo give it back with the same SHA-256', async () => {
    const content = sampleOf('application/pdf', 20 * MiB + 123);
    const stored = await upload(env.client, content, { mimeType: 'application/pdf', filename: 'report.pdf', sha256: sha256(content) });
    assert.match(stored.mediaId, /^med_[0-9a-f]{32}$/);
    assert.equal(stored.sha256, sha256(content));
    assert.equal(stored.sizeBytes, String(content.length));
    assert.equal(stored.mimeType, 'application/pdf');
    const back = await download(env.client, stored.mediaId);
    assert.equal(sha256(back.content), sha256(content));
    assert.equal(back.info.filename, 'report.pdf');
    const info = await unary<{ mediaId: string }, MediaInfo>(env.client.getMediaInfo.bind(env.client), { mediaId: stored.mediaId });
    assert.deepEqual(info, back.info);
    assert.equal(info.sizeBytes, String(content.length));
    assert.equal(info.expiresAt?.getTime(), (info.createdAt as Date).getTime() + 365 * 24 * 3600 * 1000, 'kept 1 year by default');
  });

  test('PutMedia and GetMedia still work for small blobs, with the sniffed type', async () => {
    const content = sampleOf('image/png', 300_000);
    const stored = await unary<Parameters<MediaServiceClient['putMedia']>[0], PutMediaResponse>(env.client.putMedia.bind(env.client), {
      content,
      mimeType: 'image/png',
      filename: 'photo.png',
      customer: '',
    });
    assert.equal(stored.mimeType, 'image/png');
    const back = await unary<{ mediaId: string }, GetMediaResponse>(env.client.getMedia.bind(env.client), { mediaId: stored.mediaId });
    assert.ok(back.content.equals(content));
    assert.equal(back.sha256, sha256(content));
  });

  test("another tenant's id and an unknown id are NOT_FOUND for every read; a malformed id is INVALID_ARGUMENT", async () => {
    const stored = await upload(env.client, sampleOf('image/jpeg', 1000), { mimeType: 'image/jpeg' });
    for (const mediaId of [stored.mediaId, 'med_00000000000000000000000000000000']) {
      await assert.rejects(
        unary<{ mediaId: string }, MediaInfo>(env.client.getMediaInfo.bind(env.client), { mediaId }, auth('key-globex')),
        rejectsWith(status.NOT_FOUND),
      );
      await assert.rejects(download(env.client, mediaId, 'key-globex'), rejectsWith(status.NOT_FOUND));
      await assert.rejects(
        unary<{ mediaId: string }, object>(env.client.deleteMedia.bind(env.client), { mediaId }, auth('key-globex')),
        rejectsWith(status.NOT_FOUND),
      );
      await assert.rejects(
        unary<{ mediaId: string; ttlSeconds: number }, CreateDownloadUrlResponse>(
          env.client.createDownloadUrl.bind(env.client),
          { mediaId, ttlSeconds: 0 },
          auth('key-globex'),
        ),
        rejectsWith(status.NOT_FOUND),
      );
    }
    await assert.rejects(
      unary<{ mediaId: string }, MediaInfo>(env.client.getMediaInfo.bind(env.client), { mediaId: 'x'.repeat(500) }),
      rejectsWith(status.INVALID_ARGUMENT, 'media_id'),
    );
  });

  test('the service token acts for the tenant it names (ingress and receipt), e.g. GetMediaInfo', async () => {
    const stored = await upload(env.client, sampleOf('image/jpeg', 1000), { mimeType: 'image/jpeg' });
    const info = await unary<{ mediaId: string }, MediaInfo>(
      env.client.getMediaInfo.bind(env.client),
      { mediaId: stored.mediaId },
      internalCallMetadata(TOKEN, 'acme'),
    );
    assert.equal(info.mediaId, stored.mediaId);
    await assert.rejects(
      unary<{ mediaId: string }, MediaInfo>(
        env.client.getMediaInfo.bind(env.client),
        { mediaId: stored.mediaId },
        internalCallMetadata(TOKEN, 'globex'),
      ),
      rejectsWith(status.NOT_FOUND),
    );
  });

  test('sniffing: a PDF or an executable declared as image/jpeg, binary "text", and unsupported types are refused', async () => {
    const before = blobFiles(env).length;
    const cases: [Buffer, string, string][] = [
      [sampleOf('application/pdf', 5000), 'image/jpeg', 'CONTENT_MISMATCH'],
      [sampleOf('application/x-msdownload', 5000), 'image/jpeg', 'CONTENT_MISMATCH'],
      [sampleOf('application/x-elf', 5000), 'application/pdf', 'CONTENT_MISMATCH'],
      [sampleOf('application/x-msdownload', 5000), 'text/plain', 'CONTENT_MISMATCH'],
      [Buffer.concat([textOf(100), Buffer.from([0, 1, 2])]), 'text/plain', 'CONTENT_MISMATCH'],
      [sampleOf('image/png', 5000), 'image/gif', 'UNSUPPORTED_TYPE'],
      [sampleOf('application/x-msdownload', 5000), 'application/x-msdownload', 'UNSUPPORTED_TYPE'],
    ];
    for (const [content, mimeType, reason] of cases) {
      await assert.rejects(
        upload(env.client, content, { mimeType }),
        rejectsWith(status.INVALID_ARGUMENT, 'mime_type', reason),
        `${mimeType} ${reason}`,
      );
    }
    assert.equal(blobFiles(env).length, before, 'nothing stored');
    const text = await upload(env.client, Buffer.from('Grüße aus Köln\nline 2\n', 'utf8'), { mimeType: 'text/plain; charset=utf-8' });
    assert.equal(text.mimeType, 'text/plain');
    const mp3 = await upload(env.client, sampleOf('audio/mpeg', 4000), { mimeType: 'audio/mpeg' });
    assert.equal(mp3.mimeType, 'audio/mpeg');
  });

  test('limits per type: a declared size over the limit is refused before any byte; each limit itself is accepted', async () => {
    const over: [string, number][] = [
      ['image/jpeg', 5 * MiB + 1],
      ['video/mp4', 16 * MiB + 1],
      ['audio/mpeg', 16 * MiB + 1],
      ['application/pdf', 100 * MiB + 1],
      ['image/webp', 500 * 1024 + 1],
    ];
    for (const [mimeType, sizeBytes] of over) {
      await assert.rejects(
        upload(env.client, Buffer.alloc(0), { mimeType, sizeBytes, leaveOpen: true }),
        rejectsWith(status.INVALID_ARGUMENT, 'size_bytes', 'TOO_LARGE'),
        mimeType,
      );
    }
    // A static sticker may be 100 KiB, an animated one 500 KiB: the bytes decide.
    await assert.rejects(
      upload(env.client, sampleOf('image/webp', 100 * 1024 + 1), { mimeType: 'image/webp' }),
      rejectsWith(status.INVALID_ARGUMENT, 'size_bytes', 'TOO_LARGE'),
    );
    assert.ok(await upload(env.client, sampleOf('image/webp', 100 * 1024), { mimeType: 'image/webp' }));
    assert.ok(await upload(env.client, sampleOf('image/webp;animated', 500 * 1024), { mimeType: 'image/webp' }));
    assert.ok(await upload(env.client, sampleOf('image/jpeg', 5 * MiB), { mimeType: 'image/jpeg' }));
    assert.ok(await upload(env.client, sampleOf('video/mp4', 16 * MiB), { mimeType: 'video/mp4' }));
  });

  test('enforced while streaming: more bytes than declared end the call before the client finishes sending', async () => {
    // The client never ends its stream: only the server's early refusal can settle this promise.
    await assert.rejects(
      upload(env.client, sampleOf('image/jpeg', 6 * MiB), { mimeType: 'image/jpeg', sizeBytes: 1 * MiB, leaveOpen: true }),
      rejectsWith(status.INVALID_ARGUMENT, 'size_bytes', 'SIZE_MISMATCH'),
    );
    await assert.rejects(
      upload(env.client, sampleOf('image/jpeg', 1000), { mimeType: 'image/jpeg', sizeBytes: 2000 }),
      rejectsWith(status.INVALID_ARGUMENT, 'size_bytes', 'SIZE_MISMATCH'),
    );
    await assert.rejects(
      upload(env.client, sampleOf('image/jpeg', 3 * MiB), { mimeType: 'image/jpeg', chunkBytes: 2 * MiB }),
      rejectsWith(status.INVALID_ARGUMENT, 'chunk', 'INVALID_SIZE'),
    );
  });

  test('a declared sha256 that does not match refuses the upload and leaves nothing stored (no blob, no temp file)', async () => {
    const before = blobFiles(env).length;
    const content = sampleOf('application/pdf', 3 * MiB);
    await assert.rejects(
      upload(env.client, content, { mimeType: 'application/pdf', sha256: sha256(Buffer.from('other')) }),
      rejectsWith(status.INVALID_ARGUMENT, 'sha256', 'MISMATCH'),
    );
    assert.equal(blobFiles(env).length, before);
    assert.deepEqual(readdirSync(path.join(env.blobDir, 'tmp')), []);
  });

  test('an upload the client cancels midway stores nothing, leaves no temp file, and is no error in the log', async () => {
    const before = blobFiles(env).length;
    const linesBefore = env.lines.length;
    const content = sampleOf('application/pdf', 4 * MiB);
    const call = env.client.uploadMedia(auth(), () => undefined);
    call.on('error', () => undefined);
    call.write({
      part: {
        $case: 'header',
        value: { mimeType: 'application/pdf', filename: '', sizeBytes: String(content.length), sha256: '', customer: '' },
      },
    });
    call.write({ part: { $case: 'chunk', value: content.subarray(0, MiB) } });
    // The first bytes reached the server (its temp file exists) before the client gives up, as receipt does.
    await waitFor(() => readdirSync(path.join(env.blobDir, 'tmp')).length > 0, { what: 'the upload under way' });
    call.cancel();
    await waitFor(() => readdirSync(path.join(env.blobDir, 'tmp')).length === 0, { what: 'the temp file removed' });
    await waitFor(() => env.lines.slice(linesBefore).some((line) => line.includes('call cancelled by the client')), {
      what: 'the cancellation logged at debug',
    });
    assert.equal(blobFiles(env).length, before);
    const errors = env.lines.slice(linesBefore).filter((line) => /"level":"(error|fatal)"/.test(line));
    assert.deepEqual(errors, [], 'a cancelled call is not an error');
  });

  test('content-addressed per (tenant, customer, sha256): same bytes twice are stored once, other customers get their own copy', async () => {
    const content = sampleOf('image/jpeg', 200_000);
    const before = blobFiles(env).length;
    const one = await upload(env.client, content, { mimeType: 'image/jpeg' });
    const two = await upload(env.client, content, { mimeType: 'image/jpeg', filename: 'again.jpg' });
    assert.notEqual(one.mediaId, two.mediaId);
    assert.equal(blobFiles(env).length, before + 1);
    const jane = await upload(env.client, content, { mimeType: 'image/jpeg', customer: '+4915112345678' });
    await upload(env.client, content, { mimeType: 'image/jpeg', customer: '+4915112345678' });
    await upload(env.client, content, { mimeType: 'image/jpeg', customer: '+4915199999999' });
    assert.equal(blobFiles(env).length, before + 3);
    // Deleting one media id keeps the bytes for the other.
    await unary<{ mediaId: string }, object>(env.client.deleteMedia.bind(env.client), { mediaId: one.mediaId });
    assert.ok((await download(env.client, two.mediaId)).content.equals(content));
    await unary<{ mediaId: string }, object>(env.client.deleteMedia.bind(env.client), { mediaId: two.mediaId });
    assert.equal(blobFiles(env).length, before + 2);
    assert.ok((await download(env.client, jane.mediaId)).content.equals(content));
  });

  test('no plaintext byte on disk: blob files and the database hold ciphertext only', async () => {
    const marker = 'PLAINTEXT-MARKER-7f3a9c';
    const content = textOf(300_000, marker);
    await upload(env.client, content, { mimeType: 'text/plain', filename: 'secret-notes.txt' });
    for (const file of filesUnder(env.dataDir)) {
      assert.equal(readFileSync(file).includes(Buffer.from(marker)), false, file);
    }
  });

  test('one flipped ciphertext byte, or a truncated blob, is refused (INTERNAL), logged with the media id only', async () => {
    const content = sampleOf('application/pdf', 500_000);
    for (const damage of ['flip', 'truncate'] as const) {
      const stored = await upload(env.client, content, {
        mimeType: 'application/pdf',
        customer: damage === 'flip' ? '+4915100000001' : '+4915100000002',
      });
      const newest = blobFiles(env).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0] as string;
      const bytes = readFileSync(newest);
      if (damage === 'flip') bytes[300_000] ^= 0x01;
      writeFileSync(newest, damage === 'flip' ? bytes : bytes.subarray(0, 64 + 44 + 65_552 * 2));
      await assert.rejects(download(env.client, stored.mediaId), rejectsWith(status.INTERNAL));
      await assert.rejects(
        unary<{ mediaId: string }, GetMediaResponse>(env.client.getMedia.bind(env.client), { mediaId: stored.mediaId }),
        rejectsWith(status.INTERNAL),
      );
    }
  });

  test('signed download URL: GET, Range, 403 for a wrong or expired signature without telling whether the media exists', async () => {
    const content = sampleOf('video/mp4', 3 * MiB + 5);
    const stored = await upload(env.client, content, { mimeType: 'video/mp4', filename: 'clip ü.mp4' });
    const { url, expiresAt } = await unary<{ mediaId: string; ttlSeconds: number }, CreateDownloadUrlResponse>(
      env.client.createDownloadUrl.bind(env.client),
      { mediaId: stored.mediaId, ttlSeconds: 0 },
    );
    assert.equal(expiresAt?.getTime(), now + 300_000 - (now % 1000), 'valid 5 minutes by default');
    const whole = await fetch(url);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'video/mp4');
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(content));
    const part = await fetch(url, { headers: { range: 'bytes=1000000-2100000' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 1000000-2100000/${content.length}`);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(content.subarray(1_000_000, 2_100_001)));
    const tail = await fetch(url, { headers: { range: 'bytes=-10' } });
    assert.ok(Buffer.from(await tail.arrayBuffer()).equals(content.subarray(content.length - 10)));
    assert.equal((await fetch(url, { headers: { range: `bytes=${content.length}-` } })).status, 416);

    const forged = url.replace(/signature=([A-Za-z0-9_-])/, (_match: string, c: string) => `signature=${c === 'A' ? 'B' : 'A'}`);
    const otherId = url.replace(stored.mediaId, 'med_00000000000000000000000000000000');
    const otherTenant = url.replace('/media/acme/', '/media/globex/');
    const answers = [];
    for (const bad of [forged, otherId, otherTenant, url.replace(/expires=\d+/, 'expires=9999999999')]) {
      const response = await fetch(bad);
      answers.push({ status: response.status, body: await response.text() });
    }
    now += 301_000;
    const expired = await fetch(url);
    answers.push({ status: expired.status, body: await expired.text() });
    for (const answer of answers) assert.deepEqual(answer, answers[0]);
    assert.equal(answers[0]?.status, 403);
    assert.match(answers[0]?.body ?? '', /"error":"forbidden"/);
  });

  test('the retention sweeper deletes media once its tenant retention passed (clock), blob and all', async () => {
    const content = sampleOf('image/jpeg', 10_000);
    const kept = await upload(env.client, content, { mimeType: 'image/jpeg' });
    const expiring = await upload(env.client, content, { mimeType: 'image/jpeg', apiKey: 'key-globex' });
    const info = await unary<{ mediaId: string }, MediaInfo>(
      env.client.getMediaInfo.bind(env.client),
      { mediaId: expiring.mediaId },
      auth('key-globex'),
    );
    assert.equal(info.expiresAt?.getTime(), now + 24 * 3600 * 1000, 'globex keeps media 1 day (tenants file)');
    const files = blobFiles(env).length;
    now += 24 * 3600 * 1000 - 1;
    assert.equal(await env.service.sweep(), 0);
    now += 1;
    assert.equal(await env.service.sweep(), 1);
    await assert.rejects(
      unary<{ mediaId: string }, MediaInfo>(env.client.getMediaInfo.bind(env.client), { mediaId: expiring.mediaId }, auth('key-globex')),
      rejectsWith(status.NOT_FOUND),
    );
    assert.equal(blobFiles(env).length, files - 1);
    assert.ok(await unary<{ mediaId: string }, MediaInfo>(env.client.getMediaInfo.bind(env.client), { mediaId: kept.mediaId }));
  });

  test('RotateKeyEncryptionKey takes the internal token only; API keys are UNAUTHENTICATED', async () => {
    const rotate = (metadata: Metadata) =>
      unary<object, RotateKeyEncryptionKeyResponse>(env.admin.rotateKeyEncryptionKey.bind(env.admin), {}, metadata);
    await assert.rejects(rotate(auth('key-acme')), rejectsWith(status.UNAUTHENTICATED));
    const result = await rotate(internalCallMetadata(TOKEN));
    assert.equal(result.rewrapped, 0, 'already under the active KEK');
    assert.ok(result.unchanged >= 1);
  });

  test('health reports SERVING; a tenant homed elsewhere is FAILED_PRECONDITION', async () => {
    assert.equal(await checkGrpcHealth(env.address), 'SERVING');
    await assert.rejects(
      upload(env.client, sampleOf('image/jpeg', 100), { mimeType: 'image/jpeg', apiKey: 'key-initech' }),
      rejectsWith(status.FAILED_PRECONDITION),
    );
  });

  test('logs carry ids, never file names or customers', () => {
    const text = env.lines.join('');
    assert.match(text, /"media_id":"med_/);
    for (const secret of ['secret-notes.txt', 'report.pdf', '+4915112345678', 'clip']) assert.equal(text.includes(secret), false, secret);
  });
});

test('an upload in progress ends UNAUTHENTICATED as soon as the tenants file drops its key, and stores nothing', async () => {
  // Its own NATS server: the shared keyring bucket holds keys wrapped under the other tests' KEKs.
  const ownNats = await startNatsServer();
  const env = await startEnvironment({ natsUrl: ownNats.url });
  try {
    const tmpDir = path.join(env.blobDir, 'tmp');
    const blobsBefore = blobFiles(env).length;
    // Half the declared bytes, then the client waits: only the server can settle this upload.
    const pending = upload(env.client, sampleOf('application/pdf', 2 * MiB).subarray(0, MiB), {
      mimeType: 'application/pdf',
      sizeBytes: 2 * MiB,
      leaveOpen: true,
    });
    let refusal: ServiceError | undefined;
    pending.catch((error: ServiceError) => (refusal = error));
    await waitFor(() => readdirSync(tmpDir).length > 0, { what: 'the upload to be in progress' });
    writeFileSync(
      path.join(env.dir.path, 'tenants.yaml'),
      tenantsFileText().replace(hashApiKey('key-acme'), hashApiKey('key-acme-rotated')),
    );
    await waitFor(() => refusal, { timeoutMs: 5000, what: 'the upload to be refused' });
    assert.equal(refusal?.code, status.UNAUTHENTICATED);
    assert.match(refusal?.details ?? '', /API key this stream was opened with was revoked/);
    await waitFor(() => readdirSync(tmpDir).length === 0, { what: 'the temp file to be removed' });
    assert.equal(blobFiles(env).length, blobsBefore);
  } finally {
    await env.stop();
    await ownNats.stop();
  }
});

test('after KEK rotation every blob is still readable, and the old KEK is no longer needed', async () => {
  const dir = createTempDir('waygate-media-kek-');
  const ownNats = await startNatsServer();
  const natsUrl = ownNats.url;
  try {
    const dataDir = path.join(dir.path, 'data');
    const kek1 = randomBytes(32).toString('base64');
    const kek2 = randomBytes(32).toString('base64');
    const blobs = [sampleOf('image/jpeg', 100_000), sampleOf('application/pdf', 2 * MiB)];
    let first = await startEnvironment({ dataDir, natsUrl, env: { WAYGATE_KEYRING_KEK: kek1 } });
    const ids = [
      (await upload(first.client, blobs[0] as Buffer, { mimeType: 'image/jpeg' })).mediaId,
      (await upload(first.client, blobs[1] as Buffer, { mimeType: 'application/pdf', customer: '+4915112345678' })).mediaId,
    ];
    const before = Object.fromEntries(blobFiles(first).map((file) => [file, sha256(readFileSync(file))]));
    await first.stop();

    const rotating = await startEnvironment({ dataDir, natsUrl, env: { WAYGATE_KEYRING_KEK: kek2, WAYGATE_KEYRING_RETIRED_KEKS: kek1 } });
    const result = await unary<object, RotateKeyEncryptionKeyResponse>(
      rotating.admin.rotateKeyEncryptionKey.bind(rotating.admin),
      {},
      internalCallMetadata(TOKEN),
    );
    assert.ok(result.rewrapped >= 2, JSON.stringify(result));
    await rotating.stop();

    first = await startEnvironment({ dataDir, natsUrl, env: { WAYGATE_KEYRING_KEK: kek2 } });
    for (const [index, mediaId] of ids.entries()) {
      assert.ok((await download(first.client, mediaId)).content.equals(blobs[index] as Buffer));
    }
    const afterRotation = Object.fromEntries(blobFiles(first).map((file) => [file, sha256(readFileSync(file))]));
    assert.deepEqual(afterRotation, before, 'blobs were not re-encrypted');
    await first.stop();
  } finally {
    await ownNats.stop();
    dir.remove();
  }
});

test('without a KEK (SQLite), a local KEK file is created with mode 0600 and reused on restart', async () => {
  const dir = createTempDir('waygate-media-localkek-');
  const ownNats = await startNatsServer();
  const natsUrl = ownNats.url;
  try {
    const dataDir = path.join(dir.path, 'data');
    const first = await startEnvironment({ dataDir, natsUrl });
    const stored = await upload(first.client, sampleOf('image/jpeg', 1000), { mimeType: 'image/jpeg' });
    await first.stop();
    const file = path.join(dataDir, 'eu', 'keyring.kek');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const second = await startEnvironment({ dataDir, natsUrl });
    assert.ok(await download(second.client, stored.mediaId));
    assert.match(second.lines.join(''), /"created":false/);
    await second.stop();
  } finally {
    await ownNats.stop();
    dir.remove();
  }
});

test("release 1's media (old table, single service key file) stays readable after the upgrade", async () => {
  const dir = createTempDir('waygate-media-legacy-');
  const ownNats = await startNatsServer();
  try {
    const dataDir = path.join(dir.path, 'data');
    const first = await startEnvironment({ dataDir, natsUrl: ownNats.url });
    await first.stop();
    // What release 1 wrote: the key file and one row of the `media` table.
    const key = randomBytes(32);
    writeFileSync(path.join(dataDir, 'eu', 'media-store.key'), `${key.toString('base64')}\n`, { mode: 0o600 });
    const content = sampleOf('image/jpeg', 4000);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    cipher.setAAD(Buffer.from(JSON.stringify(['waygate.media.v1', 'acme', 'med_0123456789abcdef0123456789abcdef'])));
    const ciphertext = Buffer.concat([cipher.update(content), cipher.final()]);
    const db = new Database(path.join(dataDir, 'eu', 'media-store.sqlite'));
    db.prepare(
      `INSERT INTO media (tenant_id, media_id, mime_type, filename, sha256, size_bytes, created_at_ms, iv, auth_tag, ciphertext)
       VALUES ('acme', 'med_0123456789abcdef0123456789abcdef', 'image/jpeg', 'old.jpg', ?, ?, ?, ?, ?, ?)`,
    ).run(sha256(content), content.length, now, iv, cipher.getAuthTag(), ciphertext);
    db.close();

    const second = await startEnvironment({ dataDir, natsUrl: ownNats.url });
    const mediaId = 'med_0123456789abcdef0123456789abcdef';
    const got = await unary<{ mediaId: string }, GetMediaResponse>(second.client.getMedia.bind(second.client), { mediaId });
    assert.ok(got.content.equals(content));
    assert.equal(got.filename, 'old.jpg');
    assert.ok((await download(second.client, mediaId)).content.equals(content));
    await assert.rejects(
      unary<{ mediaId: string }, MediaInfo>(second.client.getMediaInfo.bind(second.client), { mediaId }, auth('key-globex')),
      rejectsWith(status.NOT_FOUND),
    );
    await second.stop();
  } finally {
    await ownNats.stop();
    dir.remove();
  }
});
