import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Metadata, credentials, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations } from '@waygate/grpc';
import {
  ListMessagesRequest,
  MediaServiceClient,
  SendMessageRequest,
  type ListMessagesResponse,
  type PutMediaResponse,
  type SendMessageResponse,
} from '@waygate/proto';
import { freePort, startServiceProcess } from '@waygate/testing';
import { startIngressHarness, type IngressHarness } from './testing/ingress-harness';

// Media sent by media-store id through real gRPC: ingress asks a real media-store process; refused sends store nothing.

const TOKEN = randomBytes(32).toString('hex');
const KEK = randomBytes(32).toString('base64');
const JPEG = Buffer.concat([Buffer.from('ffd8ffe000104a46494600', 'hex'), randomBytes(2048)]);
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), randomBytes(1024)]);

let harness: IngressHarness;
let media: MediaServiceClient;

function auth(apiKey: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${apiKey}`);
  return metadata;
}

before(async () => {
  harness = await startIngressHarness({
    tenants: [
      { id: 'acme', homeRegion: 'eu', apiKey: 'key-acme', phoneNumberIds: ['200'] },
      { id: 'globex', homeRegion: 'eu', apiKey: 'key-globex', phoneNumberIds: ['300'] },
    ],
    // One region KEK for both processes (as in a deployment): they share the keyring bucket, and every send seals its
    // content under a customer key wrapped by it.
    env: { WAYGATE_INTERNAL_SERVICE_TOKEN: TOKEN, WAYGATE_KEYRING_KEK: KEK },
    // A real media-store process on the same nats-server and tenants file, which ingress asks.
    startBeside: async ({ natsUrl, tenantsFile, dir }) => {
      const mediaPort = await freePort();
      const mediaStore = await startServiceProcess('media-store', {
        WAYGATE_REGION: 'eu',
        WAYGATE_TENANTS_FILE: tenantsFile,
        WAYGATE_DATA_DIR: path.join(dir, 'media-store'),
        WAYGATE_GRPC_PORT: String(mediaPort),
        WAYGATE_INTERNAL_SERVICE_TOKEN: TOKEN,
        WAYGATE_NATS_URL: natsUrl,
        WAYGATE_KEYRING_KEK: KEK,
      });
      media = new MediaServiceClient(`127.0.0.1:${mediaPort}`, credentials.createInsecure());
      return {
        env: { WAYGATE_MEDIA_STORE_ADDRESS: `127.0.0.1:${mediaPort}` },
        stop: async () => {
          media.close();
          await mediaStore.stop('SIGTERM');
        },
      };
    },
  });
  // A media message is free-form: the customer writes first (receipt's event), waited for in ingress's view.
  await harness.customerWrites({ tenantId: 'acme', phoneNumberId: '200', from: '+4915112345678', waMessageId: 'wamid.media-hello' });
  await harness.waitForCustomerWindows(1);
});

after(() => harness?.stop());

const put = (content: Buffer, mimeType: string, apiKey = 'key-acme') =>
  new Promise<string>((resolve, reject) =>
    media.putMedia({ content, mimeType, filename: '', customer: '' }, auth(apiKey), (error, response: PutMediaResponse) =>
      error ? reject(error) : resolve(response.mediaId),
    ),
  );

let keys = 0;
const sendImage = (mediaId: string) =>
  harness.unary<SendMessageResponse>(
    'sendMessage',
    SendMessageRequest.fromPartial({
      to: '+4915112345678',
      content: { $case: 'image', value: { source: { $case: 'mediaId', value: mediaId }, caption: 'receipt', filename: '' } },
      idempotencyKey: `k-${++keys}`,
    }),
    'key-acme',
  );

const stored = () => harness.unary<ListMessagesResponse>('listMessages', ListMessagesRequest.fromPartial({}), 'key-acme');

test("an image by the tenant's media id is accepted; another tenant's, an unknown one or a PDF are refused and nothing is stored", async () => {
  const globexJpeg = await put(JPEG, 'image/jpeg', 'key-globex');
  for (const mediaId of [globexJpeg, 'med_unknown']) {
    await assert.rejects(sendImage(mediaId), (error: ServiceError) => {
      assert.equal(error.code, grpcStatus.NOT_FOUND, String(error));
      assert.match(error.details, /image\.media_id/);
      return true;
    });
  }
  const pdf = await put(PDF, 'application/pdf');
  await assert.rejects(sendImage(pdf), (error: ServiceError) => {
    assert.equal(error.code, grpcStatus.INVALID_ARGUMENT, String(error));
    assert.deepEqual(
      badRequestViolations(error).map((violation) => [violation.field, violation.reason]),
      [['image.media_id', 'UNSUPPORTED_MEDIA_TYPE']],
    );
    return true;
  });
  assert.deepEqual((await stored()).messages, [], 'nothing stored for a refused send');

  const accepted = await sendImage(await put(JPEG, 'image/jpeg'));
  assert.deepEqual(
    (await stored()).messages.map((message) => message.messageId),
    [accepted.messageId],
  );
});
