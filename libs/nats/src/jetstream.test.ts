import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { startNatsServer, waitFor, type NatsServerHandle } from '@waygate/testing';
import { createLogger } from '@waygate/telemetry-sdk';
import {
  ACK,
  connectJetStream,
  ensureRegionStreams,
  ORDER_KEY_HEADER,
  orderKeyHeader,
  publishEvent,
  startConsumer,
  type JetStreamConnection,
} from './jetstream';
import { startStreamJanitor } from './stream-janitor';
import { OUTBOUND_CONSUMERS, regionStreams, regionSubjects } from './subjects';

const logger = createLogger({ service: 'test', level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
let server: NatsServerHandle;
let connection: JetStreamConnection;

before(async () => {
  server = await startNatsServer();
  connection = await connectJetStream(server.url, 'nats-lib-test');
  await ensureRegionStreams(connection.jsm, 'eu');
  await ensureRegionStreams(connection.jsm, 'eu'); // idempotent
});

after(async () => {
  await connection.nc.close();
  await server.stop();
});

test('a message id is stored once however often it is published', async () => {
  const subject = regionSubjects('eu').outboundAccepted;
  await publishEvent(connection.js, subject, new TextEncoder().encode('a'), 'dedupe-1');
  await publishEvent(connection.js, subject, new TextEncoder().encode('a'), 'dedupe-1');
  const info = await connection.jsm.streams.info(regionStreams('eu').outbound.name);
  assert.equal(info.state.messages, 1);
});

test('retry redelivers after the delay, reject terminates, a throwing handler is retried', async () => {
  const subject = regionSubjects('eu').receiptEvents;
  const seen: string[] = [];
  const consumer = await startConsumer(connection, {
    region: 'eu',
    stream: regionStreams('eu').events.name,
    durable: 'test-outcomes',
    filterSubject: subject,
    logger,
    concurrency: 4,
    handle: async (data, info) => {
      const text = new TextDecoder().decode(data);
      seen.push(`${text}#${info.deliveryCount}`);
      if (text === 'retry-once' && info.deliveryCount === 1) return { kind: 'retry', delayMs: 50, reason: 'test' };
      if (text === 'throw-once' && info.deliveryCount === 1) throw new Error('boom');
      if (text === 'poison') return { kind: 'reject', reason: 'undecodable' };
      return { kind: 'ack' };
    },
  });
  for (const text of ['ok', 'retry-once', 'throw-once', 'poison']) {
    await publishEvent(connection.js, subject, new TextEncoder().encode(text), `outcome-${text}`);
  }
  await waitFor(
    () => seen.includes('retry-once#2') && seen.includes('throw-once#2') && seen.includes('ok#1') && seen.includes('poison#1'),
    { what: 'all outcomes' },
  );
  await consumer.stop();
  // nak and term are fire-and-forget in the protocol, so the server's count settles shortly after.
  await waitFor(async () => (await connection.jsm.consumers.info(regionStreams('eu').events.name, 'test-outcomes')).num_ack_pending === 0, {
    what: 'everything acknowledged or terminated',
  });
  assert.equal(seen.filter((s) => s.startsWith('poison')).length, 1, 'a rejected message is not redelivered');
});

test('with an order key, one key (and every message without one) is handled in stream order, one at a time, while different keys run in parallel', async () => {
  const subject = regionSubjects('eu').receiptEvents;
  const keys = ['k0', 'k1', 'k2', 'unkeyed'];
  const perKey = 25;
  const seen = new Map<string, number[]>(keys.map((key) => [key, []]));
  const running = new Map<string, number>();
  let maxRunningOneKey = 0;
  let maxRunningAll = 0;
  let runningAll = 0;
  const consumer = await startConsumer(connection, {
    region: 'eu',
    stream: regionStreams('eu').events.name,
    durable: 'test-order-key',
    filterSubject: subject,
    logger,
    concurrency: 16,
    orderKey: orderKeyHeader,
    handle: async (data) => {
      const [key, n] = new TextDecoder().decode(data).split(':');
      running.set(key, (running.get(key) ?? 0) + 1);
      runningAll++;
      maxRunningOneKey = Math.max(maxRunningOneKey, running.get(key) as number);
      maxRunningAll = Math.max(maxRunningAll, runningAll);
      // Later messages finish sooner: without the key's lane they would overtake earlier ones.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 8 - (Number(n) % 8))));
      (seen.get(key) as number[]).push(Number(n));
      running.set(key, (running.get(key) as number) - 1);
      runningAll--;
      return ACK;
    },
  });
  const published: Promise<void>[] = [];
  for (let n = 0; n < perKey; n++) {
    for (const key of keys) {
      // 'unkeyed' is published without the header: such messages share one lane and keep stream order too.
      const headers: Record<string, string> = key === 'unkeyed' ? {} : { [ORDER_KEY_HEADER]: key };
      published.push(publishEvent(connection.js, subject, new TextEncoder().encode(`${key}:${n}`), `order-${key}-${n}`, headers));
    }
  }
  await Promise.all(published);
  await waitFor(() => keys.every((key) => (seen.get(key) as number[]).length === perKey), { what: 'every message handled' });
  await consumer.stop();
  for (const key of keys)
    assert.deepEqual(
      seen.get(key),
      Array.from({ length: perKey }, (_, n) => n),
      `order of ${key}`,
    );
  assert.equal(maxRunningOneKey, 1, 'one key never runs twice at once');
  assert.ok(maxRunningAll > 1, `different keys ran in parallel (at most ${maxRunningAll} at once)`);
});

test('a handler that never settles is given up on after its timeout: retried, and the messages behind it go on', async () => {
  const subject = regionSubjects('eu').receiptEvents;
  const seen: string[] = [];
  const consumer = await startConsumer(connection, {
    region: 'eu',
    stream: regionStreams('eu').events.name,
    durable: 'test-handler-timeout',
    filterSubject: subject,
    logger,
    concurrency: 1,
    handlerTimeoutMs: 300,
    errorBackoff: { baseMs: 50, maxMs: 50 },
    handle: async (data, info) => {
      const text = new TextDecoder().decode(data);
      seen.push(`${text}#${info.deliveryCount}`);
      // The first run of 'stuck' hangs forever, as a handler waiting on a lost reply would.
      if (text === 'stuck' && info.deliveryCount === 1) await new Promise(() => undefined);
      return ACK;
    },
  });
  try {
    await publishEvent(connection.js, subject, new TextEncoder().encode('stuck'), 'timeout-stuck');
    await publishEvent(connection.js, subject, new TextEncoder().encode('behind'), 'timeout-behind');
    await waitFor(() => seen.includes('stuck#2') && seen.includes('behind#1'), {
      what: 'the stuck message retried and the next one handled',
    });
    // (The subject holds earlier tests' messages too; this consumer starts from the first.)
    assert.ok(seen.indexOf('stuck#1') < seen.indexOf('behind#1'), `in stream order: ${seen.join(' ')}`);
    await waitFor(
      async () => (await connection.jsm.consumers.info(regionStreams('eu').events.name, 'test-handler-timeout')).num_ack_pending === 0,
      {
        what: 'both acknowledged',
      },
    );
  } finally {
    await consumer.stop();
  }
});

test('a handler is told which delivery is the last before the message would be dead-lettered', async () => {
  const subject = regionSubjects('eu').inboundEvents;
  const seen: string[] = [];
  const consumer = await startConsumer(connection, {
    region: 'eu',
    stream: regionStreams('eu').events.name,
    durable: 'test-last-delivery',
    filterSubject: subject,
    logger,
    maxDeliveries: 3,
    errorBackoff: { baseMs: 20, maxMs: 20 },
    handle: async (data, info) => {
      if (new TextDecoder().decode(data) !== 'count-me') return ACK;
      seen.push(`${info.deliveryCount}:${info.lastDelivery}`);
      if (!info.lastDelivery) throw new Error('not yet');
      return ACK;
    },
  });
  try {
    await publishEvent(connection.js, subject, new TextEncoder().encode('count-me'), 'last-delivery-1');
    await waitFor(() => seen.length === 3, { what: 'three deliveries' });
    assert.deepEqual(seen, ['1:false', '2:false', '3:true']);
  } finally {
    await consumer.stop();
  }
});

test("a consumer's settings are updated only when they changed", async () => {
  const stream = regionStreams('eu').events.name;
  const start = (ackWaitMs: number) =>
    startConsumer(connection, {
      region: 'eu',
      stream,
      durable: 'test-settings',
      filterSubject: regionSubjects('eu').receiptEvents,
      logger,
      ackWaitMs,
      handle: async () => ACK,
    });
  await (await start(1000)).stop();
  const created = await connection.jsm.consumers.info(stream, 'test-settings');
  await (await start(1000)).stop();
  assert.equal((await connection.jsm.consumers.info(stream, 'test-settings')).config.ack_wait, 1000 * 1e6);
  assert.equal((await connection.jsm.consumers.info(stream, 'test-settings')).created, created.created);
  await (await start(2000)).stop();
  assert.equal((await connection.jsm.consumers.info(stream, 'test-settings')).config.ack_wait, 2000 * 1e6, 'a changed ack wait is applied');
});

test('a consumer resumes where it left off across a nats-server restart', async () => {
  const subject = regionSubjects('eu').deliveryEvents;
  const seen: string[] = [];
  const options = {
    region: 'eu',
    stream: regionStreams('eu').events.name,
    durable: 'test-restart',
    filterSubject: subject,
    logger,
    handle: async (data: Uint8Array) => {
      seen.push(new TextDecoder().decode(data));
      return { kind: 'ack' } as const;
    },
  };
  let consumer = await startConsumer(connection, options);
  await publishEvent(connection.js, subject, new TextEncoder().encode('before'), 'restart-1');
  await waitFor(() => seen.includes('before'), { what: 'first message' });
  await consumer.stop();
  await server.restart();
  await waitFor(() => !connection.nc.isClosed() && connection.nc.info !== undefined, { what: 'reconnect' });
  await waitFor(
    async () => {
      try {
        await publishEvent(connection.js, subject, new TextEncoder().encode('after'), 'restart-2');
        return true;
      } catch {
        return false;
      }
    },
    { what: 'publish after restart', timeoutMs: 15_000 },
  );
  consumer = await startConsumer(connection, options);
  await waitFor(() => seen.includes('after'), { what: 'message after restart' });
  await consumer.stop();
  assert.deepEqual(seen, ['before', 'after']);
});

test('the outbound stream keeps a message until all three of its consumers acknowledged it; then the janitor deletes it', async () => {
  const subject = regionSubjects('eu').outboundAccepted;
  const spec = regionStreams('eu').outbound;
  const stream = spec.name;
  const janitor = startStreamJanitor(connection, spec, { logger, intervalMs: 60_000 });
  try {
    await janitor.runOnce();
    const before = (await connection.jsm.streams.info(stream)).state.messages;
    await publishEvent(connection.js, subject, new TextEncoder().encode('content'), 'consumed-1');
    const consume = async (durable: string) => {
      const consumer = await startConsumer(connection, {
        region: 'eu',
        stream,
        durable,
        filterSubject: subject,
        logger,
        handle: async () => ACK,
      });
      await waitFor(
        async () =>
          (await connection.jsm.consumers.info(stream, durable)).num_pending === 0 &&
          (await connection.jsm.consumers.info(stream, durable)).num_ack_pending === 0,
        {
          what: `${durable} caught up`,
        },
      );
      await consumer.stop();
    };
    await consume(OUTBOUND_CONSUMERS.delivery);
    assert.equal(await janitor.runOnce(), 0);
    assert.equal((await connection.jsm.streams.info(stream)).state.messages, before + 1, 'archive has not taken it yet');
    await consume(OUTBOUND_CONSUMERS.archive);
    assert.equal(await janitor.runOnce(), 0);
    assert.equal((await connection.jsm.streams.info(stream)).state.messages, before + 1, "receipt's feed has not taken it yet");
    await consume(OUTBOUND_CONSUMERS.feed);
    assert.ok((await janitor.runOnce()) >= 1, 'deleted once all three have it');
    assert.equal((await connection.jsm.streams.info(stream)).state.messages, 0);
    assert.equal(await janitor.runOnce(), 0, 'idempotent');
  } finally {
    await janitor.stop();
  }
});

test('the janitor deletes nothing while a consumer of the stream is missing, and refuses consumers of different subjects', async () => {
  const spec = {
    name: regionStreams('eu').events.name,
    subjects: [],
    maxAgeMs: 0,
    retention: 'limits' as const,
    consumers: [{ durable: 'no-such-consumer', filterSubject: regionSubjects('eu').receiptEvents }],
  };
  const janitor = startStreamJanitor(connection, spec, { logger, intervalMs: 60_000 });
  try {
    const before = (await connection.jsm.streams.info(spec.name)).state.messages;
    assert.equal(await janitor.runOnce(), 0);
    assert.equal((await connection.jsm.streams.info(spec.name)).state.messages, before);
  } finally {
    await janitor.stop();
  }
  assert.throws(
    () =>
      startStreamJanitor(
        connection,
        { ...spec, consumers: [spec.consumers[0], { durable: 'other', filterSubject: regionSubjects('eu').inboundEvents }] },
        { logger },
      ),
    /share one filter subject/,
  );
});
