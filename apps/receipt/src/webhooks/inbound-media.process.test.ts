/**
 * Inbound media copied by receipt running as its own process (as `npm start` runs it): the simulator -> receipt ->
 * media-store (a process too). Shows that the copy streams (receipt's peak RSS does not grow by anything near the
 * blob's size) and that an upload cut off midway leaves nothing in media-store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { connectJetStream, regionStreams, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import { InboundMessageReceived } from '@waygate/proto';
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

const MiB = 1024 * 1024;
const TENANT = {
  id: 'acme',
  apiKey: 'key-acme',
  wabaId: '102290129340398',
  appSecret: 'secret-acme',
  number: '106540352242922',
  token: 'EAAacme',
};
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
let vault: MediaStoreClient;
let meta: http.Server;
/** Media ids whose download the proxy in front of the simulator cuts off after its first MiB. */
const cutMediaIds = new Set<string>();

/**
 * Meta as receipt sees it: the simulator behind a loopback proxy that passes every call through, except that for a
 * media id in {@link cutMediaIds} it points the download URL at itself and drops the connection midway through it.
 */
function startCuttingProxy(): Promise<string> {
  meta = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', sim.url);
    if (url.pathname === '/__cut__') {
      const target = url.searchParams.get('target') ?? '';
      void fetch(target, { headers: { authorization: request.headers.authorization ?? '' } }).then(async (answer) => {
        response.writeHead(answer.status, {
          'content-type': answer.headers.get('content-type') ?? '',
          'content-length': answer.headers.get('content-length') ?? '',
        });
        const reader = answer.body?.getReader();
        let forwarded = 0;
        while (reader && forwarded < MiB) {
          const next = await reader.read();
          if (next.done) break;
          forwarded += next.value.byteLength;
          response.write(next.value);
        }
        await reader?.cancel();
        response.socket?.destroy();
      });
      return;
    }
    const mediaId = url.pathname.split('/').at(-1) ?? '';
    void fetch(new URL(url.pathname + url.search, sim.url), {
      method: request.method,
      headers: { authorization: request.headers.authorization ?? '', 'content-type': request.headers['content-type'] ?? '' },
      ...(request.method === 'GET' ? {} : { body: request as unknown as ReadableStream, duplex: 'half' }),
    }).then(async (answer) => {
      let body = Buffer.from(await answer.arrayBuffer());
      if (request.method === 'GET' && cutMediaIds.has(mediaId) && answer.ok) {
        const media = JSON.parse(body.toString('utf8')) as { url: string };
        const own = `http://127.0.0.1:${(meta.address() as AddressInfo).port}`;
        body = Buffer.from(JSON.stringify({ ...media, url: `${own}/__cut__?target=${encodeURIComponent(media.url)}` }));
      }
      response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(body);
    });
  });
  return new Promise((resolve) => meta.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(meta.address() as AddressInfo).port}`)));
}

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
  });
  mediaStore = await startMediaStoreProcess({
    port: await freePort(),
    tenantsFile,
    dataDir: mediaStoreDir,
    internalServiceToken: serviceToken,
    natsUrl: nats.url,
  });
  const httpPort = await freePort();
  receipt = await startServiceProcess('receipt', {
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: path.join(dir.path, 'receipt'),
    WAYGATE_GRPC_PORT: String(await freePort()),
    WAYGATE_HTTP_PORT: String(httpPort),
    WAYGATE_WHATSAPP_API_BASE_URL: await startCuttingProxy(),
    WAYGATE_MEDIA_STORE_ADDRESS: mediaStore.address,
    WAYGATE_INTERNAL_SERVICE_TOKEN: serviceToken,
  });
  sim.setWebhookUrl(`http://127.0.0.1:${httpPort}/webhooks/whatsapp`);
  connection = await connectJetStream(nats.url, 'receipt-media-test');
  inbound = await followEvents(connection.js, regionStreams('eu').events.name, regionSubjects('eu').inboundEvents, (data) =>
    InboundMessageReceived.decode(data),
  );
  vault = createMediaStoreClient({ address: mediaStore.address, serviceToken, timeoutMs: 5_000 });
});

after(async () => {
  vault?.close();
  await inbound?.stop();
  await connection?.nc.close();
  if (receipt) assert.equal((await receipt.stop('SIGTERM')).code, 0, receipt.outputTail());
  meta?.closeAllConnections();
  await new Promise((resolve) => (meta ? meta.close(resolve) : resolve(undefined)));
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

test('an inbound document whose download is cut off midway: nothing stored, the message recorded without media with the reason', async () => {
  const stored = blobFiles().length;
  const document = Buffer.concat([PDF, randomBytes(8 * MiB - PDF.length)]);
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
  cutMediaIds.add(mediaId);
  const event = await inboundEvent(messageId);
  assert.equal(event.mediaId, '');
  assert.equal(event.text, 'Contract');
  const reason = (JSON.parse(event.contentJson) as { mediaUnavailable?: string }).mediaUnavailable ?? '';
  assert.match(reason, /^download cut off: connection failed: /);
  assert.doesNotMatch(reason, /http|127\.0\.0\.1|EAA/, 'no URL or token in the reason');
  await waitFor(() => blobFiles().length === stored, { what: 'no new blob file, temporary or stored' });
  assert.equal(blobFiles().length, stored);
});
