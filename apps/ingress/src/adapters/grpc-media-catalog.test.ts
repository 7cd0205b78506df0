import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { InvalidArgumentError, NotFoundError, UnavailableError, type MessageContent } from '@waygate/domain';
import { MediaServiceClient, type PutMediaResponse } from '@waygate/proto';
import { parseTenants, type Tenant } from '@waygate/tenancy';
import {
  createTempDir,
  freePort,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  type NatsServerHandle,
  type ServiceProcess,
} from '@waygate/testing';
import { createMediaReferencePolicy } from '../domain/media-reference-policy';
import type { ValidSendRequest } from '../domain/send-request';
import { createGrpcMediaCatalog } from './grpc-media-catalog';

const TENANTS_YAML = tenantsYaml([
  { id: 'acme', homeRegion: 'eu', apiKey: 'key-acme', phoneNumberIds: ['200'] },
  { id: 'globex', homeRegion: 'eu', apiKey: 'key-globex', phoneNumberIds: ['300'] },
]);
const tenants = parseTenants(TENANTS_YAML);
const acme = tenants.get('acme') as Tenant;
const TOKEN = randomBytes(32).toString('hex');

let dir: ReturnType<typeof createTempDir>;
let mediaStore: ServiceProcess;
/** media-store keeps its keyring in JetStream. */
let nats: NatsServerHandle;
let address: string;
let uploader: MediaServiceClient;
let catalog: ReturnType<typeof createGrpcMediaCatalog>;
/** Media ids by what they hold. */
const ids: Record<'jpeg' | 'pdf' | 'globexJpeg', string> = { jpeg: '', pdf: '', globexJpeg: '' };
/** media-store sniffs the bytes: each sample starts like a real file of its type. */
const HEADS: Record<string, Buffer> = {
  'image/jpeg': Buffer.from('ffd8ffe000104a46494600', 'hex'),
  'application/pdf': Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'),
};

function put(apiKey: string, mimeType: string, size: number): Promise<string> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${apiKey}`);
  return new Promise((resolve, reject) =>
    uploader.putMedia(
      { content: Buffer.concat([HEADS[mimeType]!, randomBytes(size)]), mimeType, filename: '', customer: '' },
      metadata,
      (error, response: PutMediaResponse) => (error ? reject(error) : resolve(response.mediaId)),
    ),
  );
}

before(async () => {
  dir = createTempDir('waygate-ingress-media-');
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(tenantsFile, TENANTS_YAML);
  const port = await freePort();
  address = `127.0.0.1:${port}`;
  nats = await startNatsServer();
  mediaStore = await startServiceProcess('media-store', {
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_REGION: 'eu',
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: path.join(dir.path, 'media-store'),
    WAYGATE_GRPC_PORT: String(port),
    WAYGATE_INTERNAL_SERVICE_TOKEN: TOKEN,
  });
  uploader = new MediaServiceClient(address, credentials.createInsecure());
  catalog = createGrpcMediaCatalog({ address, serviceToken: TOKEN });
  ids.jpeg = await put('key-acme', 'image/jpeg', 2048);
  ids.pdf = await put('key-acme', 'application/pdf', 1024);
  ids.globexJpeg = await put('key-globex', 'image/jpeg', 2048);
});

after(async () => {
  uploader?.close();
  catalog?.close();
  await mediaStore?.stop('SIGTERM');
  await nats?.stop();
  dir?.remove();
});

function sendRequest(content: MessageContent): ValidSendRequest {
  return {
    to: '+4915112345678',
    content,
    idempotencyKey: 'k',
    validitySeconds: 3600,
    validityExplicit: false,
    phoneNumberId: '200',
    replyTo: '',
    requestHash: 'h',
  };
}

const image = (mediaId: string): MessageContent => ({ kind: 'image', source: { mediaId }, caption: '', filename: '', voice: false });

async function check(content: MessageContent) {
  const policy = createMediaReferencePolicy(catalog);
  return policy.check({ tenant: acme, request: sendRequest(content), now: new Date(), facts: {} });
}

test("the catalog describes the tenant's media through media-store's GetMediaInfo, with the service token naming the tenant", async () => {
  const described = await catalog.describe('acme', ids.jpeg);
  assert.deepEqual(described, { mediaId: ids.jpeg, mimeType: 'image/jpeg', sizeBytes: 2048 + HEADS['image/jpeg']!.length });
  assert.equal(await catalog.describe('acme', ids.globexJpeg), undefined, "another tenant's id is not found");
  assert.equal(await catalog.describe('globex', ids.jpeg), undefined);
  assert.equal(await catalog.describe('acme', 'med_unknown'), undefined);
});

test('an image by id of the right type and size passes; media by link is not looked up', async () => {
  assert.equal(await check(image(ids.jpeg)), undefined);
  assert.equal(
    await check({ kind: 'image', source: { link: 'https://example.com/a.jpg' }, caption: '', filename: '', voice: false }),
    undefined,
  );
});

test("an unknown id and another tenant's id are NOT_FOUND, naming the field", async () => {
  for (const mediaId of ['med_unknown', ids.globexJpeg]) {
    await assert.rejects(check(image(mediaId)), (error: unknown) => {
      assert.ok(error instanceof NotFoundError);
      assert.match(error.message, /image\.media_id/);
      return true;
    });
  }
});

test('the wrong MIME type or a size over Meta’s limit is INVALID_ARGUMENT with one violation per problem', async () => {
  await assert.rejects(check(image(ids.pdf)), (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError);
    assert.deepEqual(
      error.violations.map((violation) => [violation.field, violation.reason]),
      [['image.media_id', 'UNSUPPORTED_MEDIA_TYPE']],
    );
    return true;
  });
  // media-store already refuses blobs over WhatsApp's limit for their type; the policy checks again, shown here with a
  // catalog of our own that reports a sticker larger than WhatsApp's 500 KB.
  const oversize = createMediaReferencePolicy({
    describe: async (_tenant, mediaId) => ({ mediaId, mimeType: 'image/webp', sizeBytes: 600_000 }),
  });
  await assert.rejects(
    Promise.resolve(
      oversize.check({
        tenant: acme,
        request: sendRequest({ kind: 'sticker', source: { mediaId: 'med_big' }, caption: '', filename: '', voice: false }),
        now: new Date(),
        facts: {},
      }),
    ),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.deepEqual(
        error.violations.map((violation) => [violation.field, violation.reason]),
        [['sticker.media_id', 'MEDIA_TOO_LARGE']],
      );
      return true;
    },
  );
});

test('template header media and interactive header media by id are checked too, with their own field paths', async () => {
  const template: MessageContent = {
    kind: 'template',
    name: 'receipt',
    language: 'en_US',
    components: [
      { type: 'body', subType: '', index: 0, parameters: [{ parameterName: '', value: { type: 'text', text: 'x' } }] },
      {
        type: 'header',
        subType: '',
        index: 0,
        parameters: [
          {
            parameterName: '',
            value: { type: 'document', media: { source: { mediaId: ids.jpeg }, caption: '', filename: '', voice: false } },
          },
        ],
      },
    ],
  };
  await assert.rejects(check(template), (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError);
    assert.deepEqual(
      error.violations.map((violation) => violation.field),
      ['template.components[1].parameters[0].document.media_id'],
    );
    return true;
  });
  const interactive = (mediaId: string): MessageContent => ({
    kind: 'interactive',
    header: { type: 'image', media: { source: { mediaId }, caption: '', filename: '', voice: false } },
    body: 'pick one',
    footer: '',
    action: { type: 'buttons', buttons: [{ id: 'a', title: 'A' }] },
  });
  assert.equal(await check(interactive(ids.jpeg)), undefined);
  await assert.rejects(check(interactive(ids.globexJpeg)), (error: unknown) => {
    assert.ok(error instanceof NotFoundError);
    assert.match(error.message, /interactive\.header\.image\.media_id/);
    return true;
  });
});

test('media-store unreachable is UNAVAILABLE (the caller retries), not NOT_FOUND', async () => {
  const unreachable = createGrpcMediaCatalog({ address: `127.0.0.1:${await freePort()}`, serviceToken: TOKEN, deadlineMs: 500 });
  try {
    await assert.rejects(unreachable.describe('acme', ids.jpeg), (error: unknown) => error instanceof UnavailableError);
  } finally {
    unreachable.close();
  }
});
