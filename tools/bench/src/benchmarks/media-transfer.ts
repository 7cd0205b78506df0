import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { credentials, Metadata } from '@grpc/grpc-js';
import { MediaServiceClient, type DownloadMediaResponse, type UploadMediaResponse } from '@waygate/proto';
import { createTempDir, freePort, startNatsServer } from '@waygate/testing';
import type { BenchProfile } from '../bench-options';
import { withCleanup } from '../cleanup';
import type { BenchmarkResult, ProgressLog, TransferResult } from '../benchmark-result';
import { round } from '../phase';
import { startService, type ServiceProcess } from '../service-process';
import { BENCH_TENANT, benchTenantsYaml, serviceBaseEnv } from './bench-tenant';

const MiB = 1024 * 1024;
const CHUNK_BYTES = MiB;
/** PDF's magic number: media-store sniffs the bytes and refuses a document that is not one. */
const PDF_HEAD = Buffer.from('%PDF-1.7\n', 'latin1');

/** Sizes and repetitions: each size is uploaded and downloaded `count` times, one after the other. */
function transferPlan(profile: BenchProfile): { sizeBytes: number; count: number }[] {
  const quick = profile.name === 'quick';
  return [
    { sizeBytes: 1 * MiB, count: quick ? 5 : 30 },
    { sizeBytes: 50 * MiB, count: quick ? 1 : 3 },
  ];
}

function upload(client: MediaServiceClient, metadata: Metadata, content: Buffer): Promise<UploadMediaResponse> {
  return new Promise((resolve, reject) => {
    const call = client.uploadMedia(metadata, (error, response) => (error ? reject(error) : resolve(response)));
    call.write({
      part: {
        $case: 'header',
        value: { mimeType: 'application/pdf', filename: '', sizeBytes: String(content.length), sha256: '', customer: '' },
      },
    });
    let offset = 0;
    const pump = () => {
      while (offset < content.length) {
        const chunk = content.subarray(offset, offset + CHUNK_BYTES);
        offset += chunk.length;
        if (!call.write({ part: { $case: 'chunk', value: chunk } })) return void call.once('drain', pump);
      }
      call.end();
    };
    pump();
  });
}

async function download(client: MediaServiceClient, metadata: Metadata, mediaId: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const message of client.downloadMedia({ mediaId }, metadata) as AsyncIterable<DownloadMediaResponse>) {
    if (message.part?.$case === 'chunk') hash.update(message.part.value);
  }
  return hash.digest('hex');
}

/** The same bytes written with node:fs in 1 MiB writes and fsynced (media-store fsyncs each blob), then read back. */
async function rawFs(dir: string, content: Buffer, index: number): Promise<{ writeMs: number; readMs: number }> {
  const file = path.join(dir, `raw-${index}.bin`);
  const writeStarted = performance.now();
  const handle = await open(file, 'w', 0o600);
  try {
    for (let offset = 0; offset < content.length; offset += CHUNK_BYTES) await handle.write(content.subarray(offset, offset + CHUNK_BYTES));
    await handle.sync();
  } finally {
    await handle.close();
  }
  const writeMs = performance.now() - writeStarted;
  const readStarted = performance.now();
  await readFile(file);
  const readMs = performance.now() - readStarted;
  await rm(file);
  return { writeMs, readMs };
}

const mbPerSec = (bytes: number, ms: number) => round(bytes / MiB / (ms / 1000), 1);

/**
 * media-store's transfer rate: UploadMedia and DownloadMedia (gRPC streams of 1 MiB chunks, sniffed, chunked
 * AES-256-GCM, blob files + SQLite) for 1 MiB and 50 MiB documents, next to a plain node:fs write (fsynced) and read
 * of the same bytes on the same disk in the same run.
 */
export async function runMediaTransfer(
  profile: BenchProfile,
  options: { serviceEnv: Readonly<Record<string, string>> },
  log: ProgressLog,
): Promise<BenchmarkResult> {
  const started = performance.now();
  const transfers: TransferResult[] = [];
  const result = (extra: Partial<BenchmarkResult>): BenchmarkResult => ({
    name: 'media',
    title: 'Media: UploadMedia / DownloadMedia through media-store vs raw fs',
    method: [
      'media-store as a child process (node --import tsx apps/media-store/src/main.ts) on SQLite + blob files in a temp folder, keyring in one nats-server; one gRPC channel from this process.',
      'Upload = one UploadMedia stream (header + 1 MiB chunks) of a random "PDF" until its answer (sniffed, SHA-256, encrypted, fsynced, renamed, recorded); download = one DownloadMedia stream read to the end and hashed (and checked). Sequential, one at a time.',
      'Raw fs = the same bytes written by this process with node:fs in 1 MiB writes plus one fsync, then read back with readFile (page cache warm, as for the download), on the same disk.',
      'MB/s = MiB moved per second of wall time, summed over the repetitions.',
    ],
    setup: { storage: 'sqlite + blob files', chunkBytes: CHUNK_BYTES, cipher: 'AES-256-GCM, 64 KiB records' },
    phases: [],
    transfers,
    elapsedMs: Math.round(performance.now() - started),
    ...extra,
  });

  const dir = createTempDir('waygate-bench-media-');
  const removeDir = withCleanup(() => dir.remove());
  let stopNats: (() => Promise<void>) | undefined;
  let service: ServiceProcess | undefined;
  let client: MediaServiceClient | undefined;
  try {
    const tenantsFile = path.join(dir.path, 'tenants.yaml');
    writeFileSync(tenantsFile, benchTenantsYaml(), { mode: 0o600 });
    const nats = await startNatsServer();
    stopNats = withCleanup(() => nats.stop());
    const port = await freePort();
    log('Media: starting media-store ...');
    service = await startService('media-store', {
      env: { ...serviceBaseEnv({ natsUrl: nats.url, tenantsFile, dataDir: dir.path }), ...options.serviceEnv },
      logDir: dir.path,
      grpcPort: port,
    });
    client = new MediaServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${BENCH_TENANT.apiKey}`);
    // Warm up the channel, the keyring (the tenant's data key) and the sniffer's first import.
    const warm = Buffer.concat([PDF_HEAD, randomBytes(64 * 1024)]);
    await download(client, metadata, (await upload(client, metadata, warm)).mediaId);

    for (const { sizeBytes, count } of transferPlan(profile)) {
      let uploadMs = 0;
      let downloadMs = 0;
      let writeMs = 0;
      let readMs = 0;
      for (let index = 0; index < count; index++) {
        // Fresh random bytes each time: identical bytes would be deduplicated and not stored again.
        const content = Buffer.concat([PDF_HEAD, randomBytes(sizeBytes - PDF_HEAD.length)]);
        const expected = createHash('sha256').update(content).digest('hex');
        let t0 = performance.now();
        const stored = await upload(client, metadata, content);
        uploadMs += performance.now() - t0;
        t0 = performance.now();
        const got = await download(client, metadata, stored.mediaId);
        downloadMs += performance.now() - t0;
        if (got !== expected || stored.sha256 !== expected) throw new Error(`media ${stored.mediaId} came back different`);
        const raw = await rawFs(dir.path, content, index);
        writeMs += raw.writeMs;
        readMs += raw.readMs;
      }
      const bytes = sizeBytes * count;
      const transfer: TransferResult = {
        id: `${sizeBytes / MiB}MiB`,
        sizeBytes,
        count,
        uploadMBps: mbPerSec(bytes, uploadMs),
        downloadMBps: mbPerSec(bytes, downloadMs),
        rawWriteMBps: mbPerSec(bytes, writeMs),
        rawReadMBps: mbPerSec(bytes, readMs),
      };
      transfers.push(transfer);
      log(
        `  ${transfer.id} x${count}: upload ${transfer.uploadMBps} MB/s (raw write ${transfer.rawWriteMBps}), download ${transfer.downloadMBps} MB/s (raw read ${transfer.rawReadMBps})`,
      );
    }
    return result({ elapsedMs: Math.round(performance.now() - started) });
  } catch (error) {
    return result({ error: (error as Error).message, elapsedMs: Math.round(performance.now() - started) });
  } finally {
    client?.close();
    await service?.stop();
    await stopNats?.();
    await removeDir();
  }
}
