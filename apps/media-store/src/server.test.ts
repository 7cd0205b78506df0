import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations, checkGrpcHealth } from '@waygate/grpc';
import { MediaServiceClient, type GetMediaResponse, type PutMediaRequest, type PutMediaResponse } from '@waygate/proto';
import { createLogger, type StartedService } from '@waygate/telemetry-sdk';
import { createTempDir, tenantsYaml } from '@waygate/testing';
import { loadMediaStoreConfig } from './config';
import { startMediaStore } from './server';

const TENANTS_YAML = tenantsYaml([
  {
    id: 'acme',
    homeRegion: 'eu',
    apiKey: 'key-acme',
    wabaId: '100',
    appSecret: 's1',
    verifyToken: 'v1',
    phoneNumberIds: ['200'],
    accessToken: 't1',
  },
  {
    id: 'globex',
    homeRegion: 'eu',
    apiKey: 'key-globex',
    wabaId: '101',
    appSecret: 's2',
    verifyToken: 'v2',
    phoneNumberIds: ['201'],
    accessToken: 't2',
  },
  {
    id: 'initech',
    homeRegion: 'us',
    apiKey: 'key-initech',
    wabaId: '102',
    appSecret: 's3',
    verifyToken: 'v3',
    phoneNumberIds: ['202'],
    accessToken: 't3',
  },
]);

/** Distinctive plaintext, so its absence from the database files means something. */
const SECRET_CONTENT = Buffer.from('PLAINTEXT-MARKER-7f3a9c '.repeat(40));
const SECRET_FILENAME = 'passport-of-jane-doe.pdf';
/** A client that can receive a full 5 MiB blob (grpc-js clients accept 4 MiB by default). */
const CLIENT_OPTIONS = { 'grpc.max_receive_message_length': 8 * 1024 * 1024 };

/** A logger whose lines the test can read. */
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

/** A running media-store in its own temp dir, with a client. */
async function startEnvironment(options: { dataDir?: string; env?: NodeJS.ProcessEnv } = {}) {
  const dir = createTempDir('waygate-media-store-');
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(tenantsFile, TENANTS_YAML);
  const dataDir = options.dataDir ?? path.join(dir.path, 'data');
  const config = loadMediaStoreConfig({
    WAYGATE_REGION: 'eu',
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_GRPC_PORT: '0',
    WAYGATE_DATA_DIR: dataDir,
    ...options.env,
  });
  const log = capturingLogger();
  const service: StartedService & { grpcPort: number } = await startMediaStore(config, log.logger);
  const client = new MediaServiceClient(`127.0.0.1:${service.grpcPort}`, credentials.createInsecure(), CLIENT_OPTIONS);
  return {
    dir,
    dataDir,
    service,
    client,
    lines: log.lines,
    async stop() {
      client.close();
      await service.stop();
      dir.remove();
    },
  };
}

function auth(apiKey: string | undefined): Metadata {
  const metadata = new Metadata();
  if (apiKey !== undefined) metadata.set('authorization', `Bearer ${apiKey}`);
  return metadata;
}

function putMedia(client: MediaServiceClient, request: PutMediaRequest, apiKey?: string): Promise<PutMediaResponse> {
  return new Promise((resolve, reject) =>
    client.putMedia(request, auth(apiKey), (error, response) => (error ? reject(error) : resolve(response))),
  );
}

function getMedia(client: MediaServiceClient, mediaId: string, apiKey?: string): Promise<GetMediaResponse> {
  return new Promise((resolve, reject) =>
    client.getMedia({ mediaId }, auth(apiKey), (error, response) => (error ? reject(error) : resolve(response))),
  );
}

function hasCode(code: status) {
  return (error: unknown) => {
    assert.equal((error as ServiceError).code, code, String(error));
    return true;
  };
}

/** Every file of the SQLite database (main file and WAL), as bytes. */
function databaseBytes(dataDir: string): Buffer {
  const folder = path.join(dataDir, 'eu');
  return Buffer.concat(
    readdirSync(folder)
      .filter((name) => name.startsWith('media-store.sqlite'))
      .map((name) => readFileSync(path.join(folder, name))),
  );
}

describe('media-store over gRPC', () => {
  let env: Awaited<ReturnType<typeof startEnvironment>>;
  const key = randomBytes(32).toString('base64');

  before(async () => {
    env = await startEnvironment({ env: { WAYGATE_MEDIA_ENCRYPTION_KEY: key } });
  });
  after(async () => {
    await env.stop();
  });

  test('put then get returns the same bytes, metadata and SHA-256', async () => {
    const put = await putMedia(env.client, { content: SECRET_CONTENT, mimeType: 'application/pdf', filename: SECRET_FILENAME }, 'key-acme');
    assert.match(put.mediaId, /^med_/);
    assert.equal(put.sizeBytes, String(SECRET_CONTENT.length));
    const got = await getMedia(env.client, put.mediaId, 'key-acme');
    assert.deepEqual(got.content, SECRET_CONTENT);
    assert.equal(got.mimeType, 'application/pdf');
    assert.equal(got.filename, SECRET_FILENAME);
    assert.equal(got.sha256, put.sha256);
    assert.ok(got.createdAt instanceof Date);

    const stored = env.lines.find((line) => line.includes('"media stored"'));
    assert.ok(
      stored?.includes(put.mediaId) && stored.includes('"tenant_id":"acme"') && stored.includes('"mime_type":"application/pdf"'),
      stored,
    );
    const logs = env.lines.join('');
    assert.ok(
      !logs.includes('PLAINTEXT-MARKER') && !logs.includes(SECRET_FILENAME) && !logs.includes(key),
      'logs hold no content, file name or key',
    );
  });

  test("a 5 MiB blob fits through the server's raised receive limit", async () => {
    const content = randomBytes(5 * 1024 * 1024);
    const put = await putMedia(env.client, { content, mimeType: 'video/mp4', filename: '' }, 'key-acme');
    const got = await getMedia(env.client, put.mediaId, 'key-acme');
    assert.ok(got.content.equals(content));
    assert.equal(got.filename, '');
  });

  test('the SQLite database holds ciphertext, never the plaintext bytes', async () => {
    const { mediaId } = await putMedia(env.client, { content: SECRET_CONTENT, mimeType: 'application/pdf', filename: '' }, 'key-acme');
    const db = new Database(path.join(env.dataDir, 'eu', 'media-store.sqlite'), { readonly: true });
    try {
      const row = db.prepare('SELECT * FROM media WHERE tenant_id = ? AND media_id = ?').get('acme', mediaId) as Record<string, unknown>;
      assert.ok(row);
      for (const value of Object.values(row)) {
        const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value));
        assert.equal(bytes.includes(SECRET_CONTENT.subarray(0, 24)), false, 'no column holds the plaintext');
      }
    } finally {
      db.close();
    }
    assert.equal(
      databaseBytes(env.dataDir).includes(Buffer.from('PLAINTEXT-MARKER')),
      false,
      'nor does any page of the database or its WAL',
    );
  });

  test('a missing or wrong API key is UNAUTHENTICATED', async () => {
    await assert.rejects(
      putMedia(env.client, { content: SECRET_CONTENT, mimeType: 'image/png', filename: '' }, 'key-wrong'),
      hasCode(status.UNAUTHENTICATED),
    );
    await assert.rejects(getMedia(env.client, 'med_x', undefined), hasCode(status.UNAUTHENTICATED));
  });

  test("another tenant's media and an unknown id are NOT_FOUND", async () => {
    const { mediaId } = await putMedia(env.client, { content: SECRET_CONTENT, mimeType: 'image/png', filename: '' }, 'key-acme');
    await assert.rejects(getMedia(env.client, mediaId, 'key-globex'), hasCode(status.NOT_FOUND));
    await assert.rejects(getMedia(env.client, 'med_unknown', 'key-acme'), hasCode(status.NOT_FOUND));
  });

  test('an empty, 10 KB or malformed media id is INVALID_ARGUMENT naming media_id, never echoing it', async () => {
    for (const [mediaId, reason] of [
      ['', 'REQUIRED'],
      [`med_${'4'.repeat(10_000)}`, 'TOO_LONG'],
      ['med_<script>', 'INVALID_FORMAT'],
    ] as const) {
      await assert.rejects(getMedia(env.client, mediaId, 'key-acme'), (error: ServiceError) => {
        assert.equal(error.code, status.INVALID_ARGUMENT);
        assert.deepEqual(
          badRequestViolations(error).map((v) => [v.field, v.reason]),
          [['media_id', reason]],
        );
        assert.ok(!error.details.includes('4444') && !error.details.includes('script'), error.details);
        return true;
      });
    }
  });

  test('an oversize blob is INVALID_ARGUMENT with a BadRequest violation on content; all bad fields are listed', async () => {
    await assert.rejects(
      putMedia(env.client, { content: Buffer.alloc(5 * 1024 * 1024 + 1), mimeType: 'image/png', filename: '' }, 'key-acme'),
      (error: ServiceError) => {
        assert.equal(error.code, status.INVALID_ARGUMENT);
        assert.deepEqual(
          badRequestViolations(error).map((v) => v.field),
          ['content'],
        );
        return true;
      },
    );
    await assert.rejects(
      putMedia(env.client, { content: Buffer.alloc(0), mimeType: 'png', filename: '../x' }, 'key-acme'),
      (error: ServiceError) => {
        assert.equal(error.code, status.INVALID_ARGUMENT);
        assert.deepEqual(
          badRequestViolations(error)
            .map((v) => v.field)
            .sort(),
          ['content', 'filename', 'mime_type'],
        );
        return true;
      },
    );
  });

  test('a tenant homed in another region is FAILED_PRECONDITION', async () => {
    await assert.rejects(
      putMedia(env.client, { content: SECRET_CONTENT, mimeType: 'image/png', filename: '' }, 'key-initech'),
      hasCode(status.FAILED_PRECONDITION),
    );
  });

  test('a tampered row is INTERNAL with a generic message, logged with its media id and no content', async () => {
    const { mediaId } = await putMedia(
      env.client,
      { content: SECRET_CONTENT, mimeType: 'application/pdf', filename: SECRET_FILENAME },
      'key-acme',
    );
    const db = new Database(path.join(env.dataDir, 'eu', 'media-store.sqlite'));
    try {
      db.prepare('UPDATE media SET auth_tag = ? WHERE tenant_id = ? AND media_id = ?').run(randomBytes(16), 'acme', mediaId);
    } finally {
      db.close();
    }
    await assert.rejects(getMedia(env.client, mediaId, 'key-acme'), (error: ServiceError) => {
      assert.equal(error.code, status.INTERNAL);
      assert.equal(error.details, 'internal error');
      return true;
    });
    const logged = env.lines.find((line) => line.includes('MediaIntegrityError'));
    assert.ok(logged !== undefined && logged.includes(mediaId), logged);
    assert.ok(!logged.includes('PLAINTEXT-MARKER') && !logged.includes(SECRET_FILENAME), logged);
  });

  test('health reports SERVING', async () => {
    const address = `127.0.0.1:${env.service.grpcPort}`;
    assert.equal(await checkGrpcHealth(address), 'SERVING');
    assert.equal(await checkGrpcHealth(address, { service: 'waygate.media.v1.MediaService' }), 'SERVING');
  });
});

test('without WAYGATE_MEDIA_ENCRYPTION_KEY (SQLite), a local key file is created with mode 0600 and reused on restart', async () => {
  const keep = createTempDir('waygate-media-data-');
  try {
    const first = await startEnvironment({ dataDir: keep.path });
    let mediaId: string;
    try {
      ({ mediaId } = await putMedia(first.client, { content: SECRET_CONTENT, mimeType: 'image/png', filename: '' }, 'key-acme'));
      const warning = first.lines.find((line) => line.includes('WAYGATE_MEDIA_ENCRYPTION_KEY is not set'));
      assert.ok(warning?.includes('"level":"warn"') && warning.includes('"created":true'), warning);
    } finally {
      await first.stop();
    }
    const keyFile = path.join(keep.path, 'eu', 'media-store.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const keyText = readFileSync(keyFile, 'utf8').trim();

    const second = await startEnvironment({ dataDir: keep.path });
    try {
      assert.deepEqual(
        (await getMedia(second.client, mediaId, 'key-acme')).content,
        SECRET_CONTENT,
        'the same key decrypts after a restart',
      );
      assert.ok(second.lines.some((line) => line.includes('"created":false')));
      assert.ok(!second.lines.join('').includes(keyText), 'the key is never logged');
    } finally {
      await second.stop();
    }
  } finally {
    keep.remove();
  }
});

test('a port already in use fails the start with an error', async () => {
  const first = await startEnvironment({ env: { WAYGATE_MEDIA_ENCRYPTION_KEY: randomBytes(32).toString('base64') } });
  try {
    const tenantsFile = path.join(first.dir.path, 'tenants.yaml');
    const config = loadMediaStoreConfig({
      WAYGATE_REGION: 'eu',
      WAYGATE_TENANTS_FILE: tenantsFile,
      WAYGATE_GRPC_PORT: String(first.service.grpcPort),
      WAYGATE_DATA_DIR: path.join(first.dir.path, 'other-data'),
      WAYGATE_MEDIA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
    await assert.rejects(startMediaStore(config, capturingLogger().logger), /No address added out of total 1 resolved|EADDRINUSE|address/i);
  } finally {
    await first.stop();
  }
});

test('with WAYGATE_INTERNAL_SERVICE_TOKEN, a region service stores media for a tenant it names; without it, the token is refused', async () => {
  const token = randomBytes(32).toString('hex');
  const internal = (tenantId: string, presented = token) => {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${presented}`);
    metadata.set('x-waygate-tenant-id', tenantId);
    return metadata;
  };
  const putAs = (client: MediaServiceClient, metadata: Metadata) =>
    new Promise<PutMediaResponse>((resolve, reject) =>
      client.putMedia({ content: SECRET_CONTENT, mimeType: 'image/jpeg', filename: '' }, metadata, (error, response) =>
        error ? reject(error) : resolve(response),
      ),
    );
  const key = randomBytes(32).toString('base64');
  const env = await startEnvironment({ env: { WAYGATE_MEDIA_ENCRYPTION_KEY: key, WAYGATE_INTERNAL_SERVICE_TOKEN: token } });
  try {
    const put = await putAs(env.client, internal('globex'));
    const got = await getMedia(env.client, put.mediaId, 'key-globex');
    assert.deepEqual(got.content, SECRET_CONTENT, 'stored as the named tenant, readable with its own key');
    await assert.rejects(getMedia(env.client, put.mediaId, 'key-acme'), hasCode(status.NOT_FOUND));
    await assert.rejects(putAs(env.client, internal('globex', `${token}-wrong`)), hasCode(status.UNAUTHENTICATED));
    await assert.rejects(putAs(env.client, internal('initech')), hasCode(status.FAILED_PRECONDITION), 'homed in us');
    assert.ok(!env.lines.join('').includes(token), 'the token is never logged');
    assert.ok(env.lines.some((line) => line.includes('"internal_service_auth":true')));
  } finally {
    await env.stop();
  }
  const without = await startEnvironment({ env: { WAYGATE_MEDIA_ENCRYPTION_KEY: key } });
  try {
    await assert.rejects(putAs(without.client, internal('globex')), hasCode(status.UNAUTHENTICATED));
  } finally {
    await without.stop();
  }
});
