/**
 * Inbound media copied by receipt running as its own process (as `npm start` runs it): the simulator -> receipt ->
 * media-store (a process too). Shows that the copy streams (receipt's peak RSS does not grow by anything near the
 * blob's size), that an upload cut off midway leaves nothing in media-store, and that a download cut off midway is
 * retried (a fresh URL each time) until it is stored whole, or, bounded, recorded without media with the reason.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { systemClock } from '@waygate/domain';
import { createKeyring, isSealedPayload, JetStreamWrappedKeyStore, openPayload, toKeyEncryptionKey } from '@waygate/keyring';
import { connectJetStream, regionStreams, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import { credentials, Metadata } from '@grpc/grpc-js';
import { CustomerPreferenceChanged, InboundMessageReceived, MediaServiceClient, type DownloadMediaResponse } from '@waygate/proto';
import {
  createTempDir,
  freePort,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  waitFor,
  type NatsServerHandle,
  type ServiceProcess,
} from '@waygate/testing';
import { startSimulator, type WhatsAppSimulator } from '@waygate/whatsapp-simulator';
import { createMediaStoreClient, type MediaStoreClient } from './adapters/media-store-client';
import { MediaDownloadInterruptedError } from './domain/whatsapp-cloud-api';
import { followEvents, type EventLog } from '../testing/event-log';
import { startMediaStoreProcess, type MediaStoreProcess } from '../testing/media-store-process';
import { ACME } from '../testing/receipt-harness';

const MiB = 1024 * 1024;
const TENANT = ACME;
const PDF = Buffer.from('%PDF-1.7\n', 'latin1');

const dir = createTempDir('waygate-receipt-media-');
const mediaStoreDir = path.join(dir.path, 'media-store');
const serviceToken = randomBytes(32).toString('hex');
let nats: NatsServerHandle;
let sim: WhatsAppSimulator;
let mediaStore: MediaStoreProcess;
let receipt: ServiceProcess;
let connection: JetStreamConnection;
let inbound: EventLog<InboundMessageReceived>;
let preferences: EventLog<CustomerPreferenceChanged>;
let vault: MediaStoreClient;
/** Media downloads the simulator cut off (its `media_download_cut_off` events), in order. */
const cutOffs: string[] = [];
/**
 * Deliveries of a webhook body before receipt gives up on what still fails (WAYGATE_WEBHOOK_MAX_DELIVERIES). With the
 * delays below they span about 12 s: enough for media-store to restart after a crash on a busy machine.
 */
const MAX_DELIVERIES = 8;

before(async () => {
  nats = await startNatsServer();
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(
    tenantsFile,
    tenantsYaml([
      {
        id: TENANT.id,
        homeRegion: 'eu',
        apiKey: TENANT.apiKey,
        wabaId: TENANT.wabaId,
        appSecret: TENANT.appSecret,
        verifyToken: 'verify-acme',
        phoneNumberIds: [TENANT.number],
        accessToken: TENANT.token,
      },
    ]),
  );
  sim = await startSimulator({
    appSecret: TENANT.appSecret,
    phoneNumbers: [{ id: TENANT.number, displayPhoneNumber: '+1 555-010-2030', accessToken: TENANT.token, wabaId: TENANT.wabaId }],
    seed: 12,
    enforceCustomerServiceWindow: false,
    pairRateLimit: false,
    onEvent: (event) => {
      if (event.type === 'media_download_cut_off') cutOffs.push(event.mediaId);
    },
  });
  // One KEK for the region (media-store and receipt share the keyring bucket).
  const kek = randomBytes(32);
  mediaStore = await startMediaStoreProcess({
    port: await freePort(),
    tenantsFile,
    dataDir: mediaStoreDir,
    internalServiceToken: serviceToken,
    natsUrl: nats.url,
    kek,
  });
  const httpPort = await freePort();
  receipt = await startServiceProcess('receipt', {
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: path.join(dir.path, 'receipt'),
    WAYGATE_GRPC_PORT: String(await freePort()),
    WAYGATE_HTTP_PORT: String(httpPort),
    WAYGATE_WHATSAPP_API_BASE_URL: sim.url,
    WAYGATE_MEDIA_STORE_ADDRESS: mediaStore.address,
    WAYGATE_INTERNAL_SERVICE_TOKEN: serviceToken,
    WAYGATE_KEYRING_KEK: kek.toString('base64'),
    // Quick retries, and few of them, so that giving up is reached within the test.
    WAYGATE_WEBHOOK_RETRY_BASE_DELAY_MS: '200',
    WAYGATE_WEBHOOK_RETRY_MAX_DELAY_MS: '3000',
    WAYGATE_WEBHOOK_MAX_DELIVERIES: String(MAX_DELIVERIES),
  });
  sim.setWebhookUrl(`http://127.0.0.1:${httpPort}/webhooks/whatsapp`);
  connection = await connectJetStream(nats.url, 'receipt-media-test');
  // Inbound messages are published sealed under the customer's key: opened with receipt's keyring (same KEK).
  const keyring = createKeyring({
    store: await JetStreamWrappedKeyStore.open(connection.js, 'eu'),
    keks: { active: toKeyEncryptionKey(kek), retired: [] },
    clock: systemClock,
  });
  inbound = await followEvents(connection.js, regionStreams('eu').events.name, regionSubjects('eu').inboundEvents, async (data) =>
    InboundMessageReceived.decode(isSealedPayload(data) ? await openPayload(keyring, data) : data),
  );
  preferences = await followEvents(connection.js, regionStreams('eu').events.name, regionSubjects('eu').preferenceEvents, async (data) =>
    CustomerPreferenceChanged.decode(isSealedPayload(data) ? await openPayload(keyring, data) : data),
  );
  vault = createMediaStoreClient({ address: mediaStore.address, serviceToken, timeoutMs: 5_000 });
});

after(async () => {
  vault?.close();
  await inbound?.stop();
  await preferences?.stop();
  await connection?.nc.close();
  if (receipt) assert.equal((await receipt.stop('SIGTERM')).code, 0, receipt.outputTail());
  await sim?.stop();
  await mediaStore?.stop();
  await nats?.stop();
  dir.remove();
});

/** Peak resident set size of a process (Linux: VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(match, 'VmHWM readable');
  return Number(match[1]) / 1024;
}

/** Every file media-store keeps blobs in (stored `.wgm` and temporary `.part`), relative to its blob directory. */
function blobFiles(): string[] {
  const blobDir = path.join(mediaStoreDir, 'eu', 'media-blobs');
  if (!existsSync(blobDir)) return [];
  return (readdirSync(blobDir, { recursive: true }) as string[]).filter((name) => /\.(wgm|part)$/.test(name));
}

async function inboundEvent(wamid: string): Promise<InboundMessageReceived> {
  const logged = await waitFor(() => inbound.events.find((entry) => entry.event.waMessageId === wamid), {
    what: `InboundMessageReceived for ${wamid}`,
    timeoutMs: 120_000,
  });
  return logged.event;
}

test('an upload whose source fails midway is cancelled: media-store keeps nothing, not even a temporary file', async () => {
  const content = Buffer.concat([PDF, randomBytes(8 * MiB - PDF.length)]);
  let sent = 0;
  async function* cutOff(): AsyncGenerator<Uint8Array> {
    for (let offset = 0; offset < 4 * MiB; offset += 256 * 1024) {
      sent += 256 * 1024;
      yield content.subarray(offset, offset + 256 * 1024);
    }
    throw new MediaDownloadInterruptedError('cut-off', 'connection failed: terminated');
  }
  await assert.rejects(
    vault.put(TENANT.id, {
      content: cutOff(),
      sizeBytes: content.length,
      mimeType: 'application/pdf',
      sha256: createHash('sha256').update(content).digest('hex'),
    }),
    (error) => error instanceof MediaDownloadInterruptedError,
  );
  assert.equal(sent, 4 * MiB, 'half the bytes went out before the cut');
  // media-store removes the temporary file of a cancelled upload as its call ends.
  await waitFor(() => blobFiles().length === 0, { what: 'no blob file, temporary or stored' });
  assert.deepEqual(blobFiles(), []);
});

test("a 100 MiB inbound document is copied through receipt's process without receipt's peak RSS growing by anything near it", async (t) => {
  const pid = receipt.child.pid as number;
  // Warm up (JIT, gRPC channel, first webhook) with a small document, so the measurement is the copy's.
  const small = sim.sendInbound(
    {
      type: 'document',
      from: '4915112340020',
      media: { base64: Buffer.concat([PDF, randomBytes(1024)]).toString('base64'), mimeType: 'application/pdf' },
    },
    TENANT.number,
  );
  assert.match((await inboundEvent(small.messageId)).mediaId, /^med_/);
  const before = peakRssMiB(pid);

  const big = Buffer.concat([PDF, randomBytes(100 * MiB - PDF.length)]);
  const { messageId } = sim.sendInbound(
    {
      type: 'document',
      from: '4915112340021',
      media: { base64: big.toString('base64'), mimeType: 'application/pdf', filename: 'scan.pdf' },
    },
    TENANT.number,
  );
  const event = await inboundEvent(messageId);
  assert.match(event.mediaId, /^med_/);
  assert.equal(event.mimeType, 'application/pdf');
  const peak = peakRssMiB(pid);
  t.diagnostic(`receipt peak RSS: ${before.toFixed(0)} MiB before the 100 MiB copy, ${peak.toFixed(0)} MiB after`);
  // Holding the download whole (as receipt did before) grows it by at least 100 MiB.
  assert.ok(peak - before < 50, `receipt's peak RSS grew by ${(peak - before).toFixed(0)} MiB while copying 100 MiB`);
  assert.equal(blobFiles().filter((name) => name.endsWith('.wgm')).length, 2, 'the two documents, nothing else');
});

/** Every stored blob file (`.wgm`). */
function storedBlobs(): string[] {
  return blobFiles().filter((name) => name.endsWith('.wgm'));
}

/** Reads a blob back from media-store as the tenant's own app would (DownloadMedia with its API key). */
async function downloadedFromMediaStore(mediaId: string): Promise<{ sha256: string; sizeBytes: number }> {
  const client = new MediaServiceClient(mediaStore.address, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${TENANT.apiKey}`);
  try {
    const hash = createHash('sha256');
    let sizeBytes = 0;
    for await (const message of client.downloadMedia({ mediaId }, metadata) as AsyncIterable<DownloadMediaResponse>) {
      if (message.part?.$case !== 'chunk') continue;
      hash.update(message.part.value);
      sizeBytes += message.part.value.length;
    }
    return { sha256: hash.digest('hex'), sizeBytes };
  } finally {
    client.close();
  }
}

/** The reason an inbound event's media is missing, from its content. */
function mediaUnavailable(event: InboundMessageReceived): string {
  return (JSON.parse(event.contentJson) as { mediaUnavailable?: string }).mediaUnavailable ?? '';
}

test("a download cut off midway is retried with a fresh URL: the media stored once, whole; the body's other parts announced once", async () => {
  const storedBefore = storedBlobs().length;
  const document = Buffer.concat([PDF, randomBytes(8 * MiB - PDF.length)]);
  const sha256 = createHash('sha256').update(document).digest('hex');
  // Sent in one turn, so the simulator batches them into one webhook body: the body that is processed again.
  const text = sim.sendInbound({ type: 'text', from: '4915112340023', text: 'Here is the contract' }, TENANT.number);
  const media = sim.sendInbound(
    {
      type: 'document',
      from: '4915112340023',
      media: { base64: document.toString('base64'), mimeType: 'application/pdf', filename: 'contract.pdf' },
      caption: 'Contract',
    },
    TENANT.number,
  );
  const stop = sim.sendInbound({ type: 'text', from: '4915112340024', text: 'STOP' }, TENANT.number);
  assert.ok(media.mediaId);
  sim.injectMediaDownloadFaults({ mediaId: media.mediaId, count: 1 });

  const event = await inboundEvent(media.messageId);
  assert.deepEqual(cutOffs, [media.mediaId], 'cut off once, then downloaded whole');
  assert.equal(event.text, 'Contract');
  assert.equal(mediaUnavailable(event), '');
  assert.match(event.mediaId, /^med_/);
  assert.deepEqual(await downloadedFromMediaStore(event.mediaId), { sha256, sizeBytes: document.length }, "media-store holds Meta's bytes");
  const body = sim.webhookDeliveries().find((delivery) => delivery.messages.some((message) => message.id === media.messageId));
  assert.deepEqual(
    body?.messages.map((message) => message.id),
    [text.messageId, media.messageId, stop.messageId],
    'the three messages came in one body',
  );

  // Everything of that body once, though the body was processed twice (and its text and STOP announced twice).
  const wamids = [text.messageId, media.messageId, stop.messageId];
  await waitFor(() => wamids.every((wamid) => inbound.events.some((entry) => entry.event.waMessageId === wamid)), {
    what: 'every message of the body announced',
  });
  await waitFor(() => preferences.events.some((entry) => entry.msgId === `wa:in:${stop.messageId}:opt-out`), { what: 'the opt-out' });
  for (const wamid of wamids)
    assert.equal(inbound.events.filter((entry) => entry.event.waMessageId === wamid).length, 1, `one InboundMessageReceived for ${wamid}`);
  assert.equal(preferences.events.filter((entry) => entry.msgId === `wa:in:${stop.messageId}:opt-out`).length, 1, 'one opt-out');
  assert.equal(storedBlobs().length, storedBefore + 1, 'one blob more, nothing left of the cut-off attempt');
  await waitFor(() => blobFiles().length === storedBlobs().length, { what: 'no temporary file left of the cut-off upload' });
  assert.deepEqual(
    blobFiles().filter((name) => name.endsWith('.part')),
    [],
  );
});

test('a download that keeps being cut off is given up after the last delivery: recorded once without media, with the reason and the caption', async () => {
  const storedBefore = storedBlobs().length;
  const cutBefore = cutOffs.length;
  const document = Buffer.concat([PDF, randomBytes(2 * MiB - PDF.length)]);
  const { messageId, mediaId } = sim.sendInbound(
    {
      type: 'document',
      from: '4915112340022',
      media: { base64: document.toString('base64'), mimeType: 'application/pdf' },
      caption: 'Contract',
    },
    TENANT.number,
  );
  assert.ok(mediaId);
  sim.injectMediaDownloadFaults({ mediaId });
  try {
    const event = await inboundEvent(messageId);
    assert.equal(event.mediaId, '');
    assert.equal(event.text, 'Contract');
    const reason = mediaUnavailable(event);
    assert.match(reason, new RegExp(`^download cut off: connection failed: .* \\(gave up after ${MAX_DELIVERIES} attempts\\)$`));
    assert.doesNotMatch(reason, /http|127\.0\.0\.1|EAA/, 'no URL or token in the reason');
    assert.deepEqual(cutOffs.slice(cutBefore), Array(MAX_DELIVERIES).fill(mediaId), 'one download per delivery, no more');
    assert.equal(inbound.events.filter((entry) => entry.event.waMessageId === messageId).length, 1);
    await waitFor(() => blobFiles().length === storedBefore, { what: 'no new blob file, temporary or stored' });
    assert.equal(storedBlobs().length, storedBefore);
  } finally {
    sim.clearMediaDownloadFaults();
  }
});

test('media that can no longer be fetched after a cut-off (expired at Meta) is recorded without media, not retried on', async () => {
  const cutBefore = cutOffs.length;
  const document = Buffer.concat([PDF, randomBytes(MiB - PDF.length)]);
  const { messageId, mediaId } = sim.sendInbound(
    {
      type: 'document',
      from: '4915112340025',
      media: { base64: document.toString('base64'), mimeType: 'application/pdf' },
      caption: 'Old',
    },
    TENANT.number,
  );
  assert.ok(mediaId);
  // Every download is cut off; once the first was, Meta's 7 days for inbound media run out (long before the last try).
  sim.injectMediaDownloadFaults({ mediaId });
  try {
    await waitFor(() => cutOffs.length > cutBefore, { what: 'the first download cut off' });
    await sim.advanceTime(8 * 24 * 60 * 60 * 1000);
    const event = await inboundEvent(messageId);
    assert.equal(event.mediaId, '');
    assert.equal(event.text, 'Old');
    assert.equal(mediaUnavailable(event), 'media not found or expired', 'given up because Meta no longer has it, not by the bound');
    assert.ok(cutOffs.length - cutBefore < MAX_DELIVERIES);
    assert.equal(inbound.events.filter((entry) => entry.event.waMessageId === messageId).length, 1);
  } finally {
    sim.clearMediaDownloadFaults();
  }
});

// Last: the crash leaves media-store's temporary file of the interrupted upload behind (cleaning those up is
// media-store's own business at start), which the tests above would count.
test('media-store crashing mid-upload: the body is processed again once it is back, the media stored once, whole', async () => {
  const storedBefore = storedBlobs().length;
  const document = Buffer.concat([PDF, randomBytes(64 * MiB - PDF.length)]);
  const sha256 = createHash('sha256').update(document).digest('hex');
  const { messageId } = sim.sendInbound(
    {
      type: 'document',
      from: '4915112340026',
      media: { base64: document.toString('base64'), mimeType: 'application/pdf' },
      caption: 'Scan',
    },
    TENANT.number,
  );
  // The upload is under way once media-store writes its temporary file; then it crashes.
  await waitFor(() => blobFiles().some((name) => name.endsWith('.part')), { what: 'the upload under way', intervalMs: 5 });
  await mediaStore.kill();
  assert.equal(storedBlobs().length, storedBefore, 'the crash interrupted the upload: nothing stored');
  assert.equal(inbound.events.filter((entry) => entry.event.waMessageId === messageId).length, 0, 'not announced without its media');
  await mediaStore.start();

  const event = await inboundEvent(messageId);
  assert.equal(mediaUnavailable(event), '');
  assert.equal(event.text, 'Scan');
  assert.deepEqual(await downloadedFromMediaStore(event.mediaId), { sha256, sizeBytes: document.length });
  assert.equal(storedBlobs().length, storedBefore + 1);
  assert.equal(inbound.events.filter((entry) => entry.event.waMessageId === messageId).length, 1);
});
