/**
 * The outbound stream under crashes, at the libs/nats level: a consumer process (`testing/crash-consumer.ts`) killed
 * with kill -9 four times and nats-server restarted twice while messages are published, a second consumer (receipt's
 * feed) acknowledging fast and a third (archive) not running at all. Every message reaches the killed consumer, and
 * the stream keeps every message until all three consumers have it; then the janitor deletes them. Under JetStream's
 * interest retention on nats-server 2.9 this lost messages (docs/architecture.md, "Streams").
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@waygate/telemetry-sdk';
import {
  createTempDir,
  launchProcess,
  startNatsServer,
  tsxEntryCommand,
  waitFor,
  type LaunchedProcess,
  type NatsServerHandle,
} from '@waygate/testing';
import { ACK, connectJetStream, ensureRegionStreams, publishEvent, startConsumer, type JetStreamConnection } from './jetstream';
import { startStreamJanitor } from './stream-janitor';
import { OUTBOUND_CONSUMERS, regionStreams, regionSubjects } from './subjects';

const logger = createLogger({ service: 'test', level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
const MESSAGES = 1500;
/** Short, so that what a killed process had fetched comes back within seconds. */
const ACK_WAIT_MS = 2000;

let server: NatsServerHandle;
let connection: JetStreamConnection;
let dir: ReturnType<typeof createTempDir>;

before(async () => {
  server = await startNatsServer();
  connection = await connectJetStream(server.url, 'consumer-crash-test');
  await ensureRegionStreams(connection.jsm, 'eu');
  dir = createTempDir('waygate-consumer-crash-');
});

after(async () => {
  await connection.nc.close();
  await server.stop();
  dir.remove();
});

function startCrashConsumer(outputFile: string): Promise<LaunchedProcess> {
  const command = tsxEntryCommand(path.join(__dirname, 'testing', 'crash-consumer.ts'));
  const launched = launchProcess({
    name: 'crash-consumer',
    ...command,
    args: [...command.args, server.url, outputFile, String(ACK_WAIT_MS)],
    env: { PATH: process.env.PATH },
    ready: { line: 'ready' },
  });
  return launched.ready.then(() => launched);
}

test('kill -9 of a consumer four times and two nats-server restarts: every message reaches it, none leaves the stream before all consumers have it', async () => {
  const outputFile = path.join(dir.path, 'handled.txt');
  writeFileSync(outputFile, '');
  const spec = regionStreams('eu').outbound;
  const subject = regionSubjects('eu').outboundAccepted;
  // receipt's feed, acknowledging everything at once; archive-outbound exists but never consumes here.
  const feed = await startConsumer(connection, {
    region: 'eu',
    stream: spec.name,
    durable: OUTBOUND_CONSUMERS.feed,
    filterSubject: subject,
    concurrency: 8,
    logger,
    handle: async () => ACK,
  });
  let consumer = await startCrashConsumer(outputFile);
  let published = 0;
  const publishing = (async () => {
    for (let i = 0; i < MESSAGES; i++) {
      // Published through the restarts as ingress's outbox relay would: again until stored (de-duplicated by id).
      await waitFor(
        () =>
          publishEvent(connection.js, subject, new TextEncoder().encode(`m-${i}`), `crash-m-${i}`).then(
            () => true,
            () => false,
          ),
        { what: `publish m-${i}`, timeoutMs: 20_000, intervalMs: 100 },
      );
      published++;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  publishing.catch(() => undefined);
  const handled = () => new Set(readFileSync(outputFile, 'utf8').split('\n').filter(Boolean));
  try {
    for (let kill = 0; kill < 4; kill++) {
      const target = Math.floor(((kill + 1) * MESSAGES) / 5);
      await waitFor(() => published >= target, { what: `${target} published`, timeoutMs: 60_000 });
      await consumer.stop('SIGKILL');
      if (kill % 2 === 1) await server.restart();
      consumer = await startCrashConsumer(outputFile);
    }
    await publishing;
    await waitFor(() => handled().size === MESSAGES, { what: 'every message handled', timeoutMs: 60_000, intervalMs: 250 }).catch(
      (error: unknown) => {
        const seen = handled();
        const missing = Array.from({ length: MESSAGES }, (_, i) => `m-${i}`).filter((text) => !seen.has(text));
        throw new Error(`${(error as Error).message}; missing ${missing.length}: ${missing.slice(0, 20).join(' ')}`);
      },
    );
    // A message a killed process handled but did not acknowledge comes back after the ack wait: acknowledged by now.
    for (const durable of [OUTBOUND_CONSUMERS.delivery, OUTBOUND_CONSUMERS.feed]) {
      await waitFor(async () => (await connection.jsm.consumers.info(spec.name, durable)).ack_floor.stream_seq >= MESSAGES, {
        what: `${durable} acknowledged everything`,
        timeoutMs: 30_000,
      });
    }
  } finally {
    await consumer.stop('SIGTERM');
    await feed.stop();
  }
  // archive-outbound has acknowledged nothing: every message is still in the stream for it.
  const janitor = startStreamJanitor(connection, spec, { logger, intervalMs: 60_000 });
  try {
    assert.equal(await janitor.runOnce(), 0);
    assert.equal((await connection.jsm.streams.info(spec.name)).state.messages, MESSAGES, 'kept for archive');
    const archive = await startConsumer(connection, {
      region: 'eu',
      stream: spec.name,
      durable: OUTBOUND_CONSUMERS.archive,
      filterSubject: subject,
      concurrency: 8,
      logger,
      handle: async () => ACK,
    });
    await waitFor(
      async () => (await connection.jsm.consumers.info(spec.name, OUTBOUND_CONSUMERS.archive)).ack_floor.stream_seq >= MESSAGES,
      {
        what: 'archive caught up',
      },
    );
    await archive.stop();
    assert.equal(await janitor.runOnce(), MESSAGES, 'all three have them: deleted');
    assert.equal((await connection.jsm.streams.info(spec.name)).state.messages, 0);
  } finally {
    await janitor.stop();
  }
});
