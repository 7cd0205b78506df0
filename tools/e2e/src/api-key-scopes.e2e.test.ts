/**
 * API key scopes through the real processes (issue 14): the local stack (nats-server, the WhatsApp simulator and the
 * five services) with the demo tenant given three more keys, and clients built from the public protos. A key with only
 * messages:send sends but cannot read messages, the archive or upload media; a key without scopes still sends,
 * follows its message and watches events, and nothing else; an auditor key reads the archive but cannot export or send.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { errorInfos } from '@waygate/grpc';
import { customerWritesFirst, freeStackPorts, startLocalStack, untilWindowOpen, type LocalStack } from '@waygate/local-run';
import { ReceiptServiceClient, TenantEventType, type WatchEventsResponse } from '@waygate/proto';
import { hashApiKey } from '@waygate/tenancy';
import { createTempDir, waitFor } from '@waygate/testing';
import { callUnary, loadPublicClients } from './proto-clients';

const SENDER = 'wg_test_sender_only_0123456789';
const UNSCOPED = 'wg_test_unscoped_0123456789';
const AUDITOR = 'wg_test_auditor_0123456789';
const CUSTOMER = '+4915112349001';

/** The demo tenant's extra keys, spliced in after the demo key's scopes. */
const EXTRA_KEYS = `      - sha256: ${hashApiKey(SENDER)}
        id: sender
        scopes: [messages:send]
      - sha256: ${hashApiKey(UNSCOPED)}
        id: unscoped
      - sha256: ${hashApiKey(AUDITOR)}
        id: auditor
        scopes: [archive:read]
`;

let dir: ReturnType<typeof createTempDir>;
let stack: LocalStack;
let messaging: Client;
let archive: Client;
let media: Client;
let receipt: ReceiptServiceClient;
/** The processes' output, printed when a test failed. */
const logLines: string[] = [];

before(async () => {
  dir = createTempDir('waygate-e2e-scopes-');
  const ports = await freeStackPorts();
  stack = await startLocalStack({
    dataDir: dir.path,
    ports,
    onLine: (process, line) => logLines.push(`${process}: ${line}`),
    tenantsYaml: (generated) => {
      // The first `scopes:` line is the EU demo key's (the US tenant follows it).
      const demoScopes = generated.indexOf('        scopes: [');
      const end = generated.indexOf('\n', demoScopes) + 1;
      assert.ok(demoScopes > 0 && end > demoScopes, 'the generated tenants file gives the demo key its scopes');
      return `${generated.slice(0, end)}${EXTRA_KEYS}${generated.slice(end)}`;
    },
  });
  const clients = loadPublicClients();
  messaging = clients.messaging(`127.0.0.1:${ports.grpc.ingress}`);
  archive = clients.archive(`127.0.0.1:${ports.grpc.archive}`);
  media = clients.media(`127.0.0.1:${ports.grpc['media-store']}`);
  receipt = new ReceiptServiceClient(`127.0.0.1:${ports.grpc.receipt}`, credentials.createInsecure());
});

after(async () => {
  for (const client of [messaging, archive, media, receipt]) client?.close();
  await stack?.stop();
  if (process.exitCode) process.stderr.write(`${logLines.slice(-60).join('\n')}\n`);
  dir?.remove();
});

const withKey = (apiKey: string) => {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${apiKey}`);
  return metadata;
};

/** Asserts that `call` fails PERMISSION_DENIED for lack of `scope`, naming the key and the method. */
async function assertMissingScope(call: Promise<unknown>, scope: string, keyId: string, method: string): Promise<void> {
  await assert.rejects(call, (error: ServiceError) => {
    assert.equal(error.code, status.PERMISSION_DENIED, `${method}: ${error.message}`);
    assert.deepEqual(errorInfos(error), [{ reason: 'API_KEY_SCOPE_MISSING', domain: 'waygate', metadata: { scope, method, keyId } }]);
    return true;
  });
}

/** Uploads a small file over the client-streaming UploadMedia with `apiKey`. */
function upload(apiKey: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const call = (
      media as unknown as {
        UploadMedia(metadata: Metadata, callback: (error: ServiceError | null, value?: unknown) => void): NodeJS.WritableStream;
      }
    ).UploadMedia(withKey(apiKey), (error, value) => (error ? reject(error) : resolve(value)));
    call.write({ header: { mime_type: 'text/plain', filename: 'note.txt', size_bytes: 5 } } as never);
    call.write({ chunk: Buffer.from('hello') } as never);
    call.end();
  });
}

/** The first server-stream answer of ExportConversations with `apiKey`: an error, or 'data'. */
function exportFirst(apiKey: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const stream = (
      archive as unknown as { ExportConversations(request: unknown, metadata: Metadata): NodeJS.ReadableStream & { cancel(): void } }
    ).ExportConversations({}, withKey(apiKey));
    stream.on('error', reject);
    stream.on('data', () => {
      stream.cancel();
      resolve('data');
    });
    stream.on('end', () => resolve('end'));
  });
}

const textTo = (to: string, body: string, idempotencyKey: string) => ({
  to,
  text: { body, preview_url: false },
  idempotency_key: idempotencyKey,
});

test('a key without scopes still sends, follows its message and watches events; it cannot read the archive, upload media or list templates', async () => {
  await customerWritesFirst(stack.simulatorUrl, CUSTOMER);
  const events: WatchEventsResponse[] = [];
  const feed = receipt.watchEvents({ afterSequence: '0', messageIds: [], recipients: [], eventTypes: [] }, withKey(UNSCOPED));
  const feedState: { error?: ServiceError } = {};
  feed.on('data', (event: WatchEventsResponse) => events.push(event));
  feed.on('error', (error: ServiceError) => (feedState.error = error));
  try {
    const sent = await untilWindowOpen(() =>
      callUnary<{ message_id: string }>(
        messaging,
        'SendMessage',
        textTo(CUSTOMER, 'scoped keys, unscoped sender', 'scopes-unscoped-1'),
        UNSCOPED,
      ),
    );
    assert.match(sent.message_id, /^msg_/);
    const message = await callUnary<{ message_id: string }>(messaging, 'GetMessage', { message_id: sent.message_id }, UNSCOPED);
    assert.equal(message.message_id, sent.message_id);
    await waitFor(
      () =>
        events.some(
          (e) =>
            e.event?.type === TenantEventType.TENANT_EVENT_TYPE_STATUS &&
            e.event.payload?.$case === 'status' &&
            e.event.payload.value.messageId === sent.message_id,
        ),
      {
        timeoutMs: 20_000,
        what: 'a status event of the sent message on the unscoped key’s feed',
      },
    );
    assert.equal(feedState.error, undefined);
  } finally {
    feed.cancel();
  }
  await assertMissingScope(
    callUnary(archive, 'SearchMessages', { query: 'scoped' }, UNSCOPED),
    'archive:read',
    'unscoped',
    'waygate.archive.v1.ArchiveService/SearchMessages',
  );
  await assertMissingScope(upload(UNSCOPED), 'media:write', 'unscoped', 'waygate.media.v1.MediaService/UploadMedia');
  await assertMissingScope(
    callUnary(messaging, 'ListTemplates', {}, UNSCOPED),
    'templates:read',
    'unscoped',
    'waygate.messaging.v1.MessagingService/ListTemplates',
  );
});

test('a key with only messages:send sends, but cannot read its message, search the archive or upload media', async () => {
  await customerWritesFirst(stack.simulatorUrl, CUSTOMER);
  const sent = await untilWindowOpen(() =>
    callUnary<{ message_id: string }>(messaging, 'SendMessage', textTo(CUSTOMER, 'scoped keys, sender only', 'scopes-sender-1'), SENDER),
  );
  assert.match(sent.message_id, /^msg_/);
  await assertMissingScope(
    callUnary(messaging, 'GetMessage', { message_id: sent.message_id }, SENDER),
    'messages:read',
    'sender',
    'waygate.messaging.v1.MessagingService/GetMessage',
  );
  await assertMissingScope(
    callUnary(archive, 'SearchMessages', { query: 'scoped' }, SENDER),
    'archive:read',
    'sender',
    'waygate.archive.v1.ArchiveService/SearchMessages',
  );
  await assertMissingScope(upload(SENDER), 'media:write', 'sender', 'waygate.media.v1.MediaService/UploadMedia');
  // The demo key has every scope: the same calls go through.
  const demoKey = stack.credentials.apiKey;
  await callUnary(messaging, 'GetMessage', { message_id: sent.message_id }, demoKey);
  assert.ok(await upload(demoKey));
});

test('an archive:read key searches the archive but cannot export it or send', async () => {
  const found = await callUnary<{ hits: unknown[] }>(archive, 'SearchMessages', { query: 'scoped' }, AUDITOR);
  assert.ok(Array.isArray(found.hits));
  await assertMissingScope(exportFirst(AUDITOR), 'archive:export', 'auditor', 'waygate.archive.v1.ArchiveService/ExportConversations');
  await assertMissingScope(
    callUnary(messaging, 'SendMessage', textTo(CUSTOMER, 'auditors do not send', 'scopes-auditor-1'), AUDITOR),
    'messages:send',
    'auditor',
    'waygate.messaging.v1.MessagingService/SendMessage',
  );
});
