/**
 * media-store as a real process, as `npm start` runs it: draining on SIGTERM, a 100 MiB round trip in bounded memory,
 * and the orphan reaper clearing a crash's leftovers at start.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import {
  MediaServiceClient,
  type DownloadMediaResponse,
  type GetMediaResponse,
  type PutMediaResponse,
  type UploadMediaResponse,
} from '@waygate/proto';
import {
  createTempDir,
  freePort,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  waitFor,
  type NatsServerHandle,
} from '@waygate/testing';
import { sampleOf } from './testing/media-samples';

const MiB = 1024 * 1024;
const dir = createTempDir();
let nats: NatsServerHandle;
before(async () => {
  nats = await startNatsServer();
});
after(async () => {
  await nats.stop();
  dir.remove();
});

async function startMediaStoreProcess(dataDir = path.join(dir.path, 'data'), natsUrl = nats.url, metricsPort = 0) {
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(tenantsFile, tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'key-acme' }]));
  const port = await freePort();
  const process = await startServiceProcess('media-store', {
    WAYGATE_REGION: 'eu',
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: dataDir,
    WAYGATE_NATS_URL: natsUrl,
    WAYGATE_GRPC_PORT: String(port),
    WAYGATE_METRICS_PORT: String(metricsPort),
  });
  return { process, address: `127.0.0.1:${port}` };
}

/** Peak resident set size of a process (Linux: VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(match, 'VmHWM readable');
  return Number(match[1]) / 1024;
}

// The readiness line is logged inside start; SIGTERM's handler must already be there (runService installs it first),
// or the signal kills the process instead of draining it. Before that fix, about half of these stops were kills.
test('SIGTERM right after "media-store listening" stops it cleanly (exit 0, "stopped" logged)', async () => {
  const { process: mediaStore } = await startMediaStoreProcess();
  assert.deepEqual(await mediaStore.stop('SIGTERM'), { code: 0, signal: null }, mediaStore.outputTail());
  assert.match(mediaStore.outputTail(1), /"msg":"stopped"/);
});

test('a 100 MiB document goes up and comes back with the same SHA-256, in bounded memory (peak RSS reported)', async (t) => {
  const { process: mediaStore, address } = await startMediaStoreProcess();
  const client = new MediaServiceClient(address, credentials.createInsecure());
  try {
    const pid = mediaStore.child.pid as number;
    const idle = peakRssMiB(pid);
    const content = sampleOf('application/pdf', 100 * MiB);
    const expected = createHash('sha256').update(content).digest('hex');
    const metadata = new Metadata();
    metadata.set('authorization', 'Bearer key-acme');
    const uploadStarted = Date.now();
    const stored = await new Promise<UploadMediaResponse>((resolve, reject) => {
      const call = client.uploadMedia(metadata, (error, response) => (error ? reject(error) : resolve(response)));
      call.write({
        part: {
          $case: 'header',
          value: { mimeType: 'application/pdf', filename: 'big.pdf', sizeBytes: String(content.length), sha256: expected, customer: '' },
        },
      });
      let offset = 0;
      const pump = () => {
        while (offset < content.length) {
          const chunk = content.subarray(offset, offset + MiB);
          offset += chunk.length;
          if (!call.write({ part: { $case: 'chunk', value: chunk } })) return void call.once('drain', pump);
        }
        call.end();
      };
      pump();
    });
    const uploadMs = Date.now() - uploadStarted;
    const afterUpload = peakRssMiB(pid);
    assert.equal(stored.sha256, expected);
    assert.equal(stored.sizeBytes, String(content.length));

    const downloadStarted = Date.now();
    const hash = createHash('sha256');
    let received = 0;
    for await (const message of client.downloadMedia({ mediaId: stored.mediaId }, metadata) as AsyncIterable<DownloadMediaResponse>) {
      if (message.part?.$case === 'chunk') {
        hash.update(message.part.value);
        received += message.part.value.length;
      }
    }
    const downloadMs = Date.now() - downloadStarted;
    assert.equal(received, content.length);
    assert.equal(hash.digest('hex'), expected);

    const peak = peakRssMiB(pid);
    t.diagnostic(
      `media-store peak RSS: ${idle.toFixed(0)} MiB after start, ${afterUpload.toFixed(0)} MiB after the upload, ` +
        `${peak.toFixed(0)} MiB after the download; upload ${uploadMs} ms, download ${downloadMs} ms for 100 MiB`,
    );
    // A media-store that held the blob (or its ciphertext) whole would grow by at least 100 MiB.
    assert.ok(peak - idle < 90, `peak RSS grew by ${(peak - idle).toFixed(0)} MiB`);
  } finally {
    client.close();
    assert.equal((await mediaStore.stop('SIGTERM')).code, 0, mediaStore.outputTail());
  }
});

test('leftovers of a crash (an unreferenced blob, a cut-off upload) are gone after start; stored media stays downloadable', async (t) => {
  // Its own data dir (so its own local KEK) and so its own NATS server: the shared keyring bucket holds the other
  // tests' keys, wrapped under their KEK.
  const dataDir = path.join(dir.path, 'reaper-data');
  const ownNats = await startNatsServer();
  t.after(() => ownNats.stop());
  const blobDir = path.join(dataDir, 'eu', 'media-blobs');
  const metadata = new Metadata();
  metadata.set('authorization', 'Bearer key-acme');
  const content = sampleOf('application/pdf', 300_000);

  const first = await startMediaStoreProcess(dataDir, ownNats.url);
  let stored: PutMediaResponse;
  const client = new MediaServiceClient(first.address, credentials.createInsecure());
  try {
    stored = await new Promise<PutMediaResponse>((resolve, reject) =>
      client.putMedia({ content, mimeType: 'application/pdf', filename: 'kept.pdf', customer: '' }, metadata, (error, response) =>
        error ? reject(error) : resolve(response),
      ),
    );
  } finally {
    client.close();
    assert.equal((await first.process.stop('SIGTERM')).code, 0, first.process.outputTail());
  }

  // What a crash leaves: ciphertext whose row was deleted before the file, and an upload cut off midway. Both, and the
  // stored blob too, last written two hours ago (the default grace is one hour): only the missing row tells them apart.
  const stale = new Date(Date.now() - 2 * 3_600_000);
  const orphanId = randomBytes(16).toString('hex');
  const orphan = path.join(blobDir, orphanId.slice(0, 2), `${orphanId}.wgm`);
  const cutOff = path.join(blobDir, 'tmp', `${randomBytes(12).toString('hex')}.part`);
  mkdirSync(path.dirname(orphan), { recursive: true });
  writeFileSync(orphan, randomBytes(4096));
  writeFileSync(cutOff, randomBytes(1000));
  const storedBlobs = (readdirSync(blobDir, { recursive: true }) as string[]).filter(
    (name) => name.endsWith('.wgm') && !name.includes(orphanId),
  );
  assert.equal(storedBlobs.length, 1);
  for (const file of [orphan, cutOff, ...storedBlobs.map((name) => path.join(blobDir, name))]) utimesSync(file, stale, stale);

  const metricsPort = await freePort();
  const second = await startMediaStoreProcess(dataDir, ownNats.url, metricsPort);
  const again = new MediaServiceClient(second.address, credentials.createInsecure());
  try {
    const pass = await waitFor(() => /^.*"msg":"orphan reaper pass".*$/m.exec(second.process.outputTail(200))?.[0], {
      what: 'the orphan reaper pass at start to be logged',
    });
    assert.equal(existsSync(orphan), false, 'the unreferenced blob is gone');
    assert.equal(existsSync(cutOff), false, 'the cut-off upload is gone');
    assert.match(
      pass,
      /"reaped_unreferenced_files":1,"reaped_unreferenced_bytes":4096,"reaped_partial_files":1,"reaped_partial_bytes":1000/,
    );
    assert.match(pass, /"referenced":1/);
    // Counts only: no blob id, media id or file name in the line.
    assert.ok(!pass.includes(orphanId) && !pass.includes(stored.mediaId) && !pass.includes('kept.pdf'), pass);

    // The metric, by reason, as Prometheus scrapes it.
    const metricsText = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const scraped = await waitFor(metricsText, {
      what: 'the reaped counts on /metrics',
      until: (text) => /^waygate_media_orphans_reaped_total\{[^}]*reason="unreferenced"[^}]*\} 1$/m.test(text),
    });
    assert.match(scraped, /^waygate_media_orphans_reaped_total\{[^}]*reason="partial_upload"[^}]*\} 1$/m);
    assert.match(scraped, /^waygate_media_orphan_bytes_reaped_total\{[^}]*reason="unreferenced"[^}]*\} 4096$/m);
    assert.match(scraped, /^waygate_media_orphan_reaper_passes_total\{[^}]*outcome="completed"[^}]*\} 1$/m);

    const downloaded = await new Promise<GetMediaResponse>((resolve, reject) =>
      again.getMedia({ mediaId: stored.mediaId }, metadata, (error, response) => (error ? reject(error) : resolve(response))),
    );
    assert.ok(downloaded.content.equals(content), 'the stored media reads back byte for byte');
  } finally {
    again.close();
    assert.equal((await second.process.stop('SIGTERM')).code, 0, second.process.outputTail());
  }
});
