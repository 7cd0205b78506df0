import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { AckPolicy, headers as createHeaders } from 'nats';
import { startNatsServer, waitFor, type NatsServerHandle } from '@waygate/testing';
import { createLogger } from '@waygate/telemetry-sdk';
import { createDeadLetterStore, InvalidPageTokenError, type DeadLetterStore } from './dead-letters';
import {
  ACK,
  connectJetStream,
  ensureRegionStreams,
  publishEvent,
  startConsumer,
  type ConsumerOptions,
  type JetStreamConnection,
} from './jetstream';
import { deadLetterSubject, regionStreams, regionSubjects } from './subjects';

// Bounded deliveries with backoff and the dead-letter stream, against a real nats-server.

const REGION = 'eu';
const EVENTS = regionStreams(REGION).events.name;
const DEAD_LETTERS = regionStreams(REGION).deadLetters.name;
let server: NatsServerHandle;
let connection: JetStreamConnection;
let store: DeadLetterStore;
const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const logs: Record<string, unknown>[] = [];
const logger = createLogger({
  service: 'test',
  level: 'debug',
  destination: new Writable({ write: (chunk, _e, done) => (logs.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) }),
});

before(async () => {
  server = await startNatsServer();
  connection = await connectJetStream(server.url, 'dead-letters-test');
  await ensureRegionStreams(connection.jsm, REGION);
  store = createDeadLetterStore(connection, REGION);
});

after(async () => {
  await meterProvider.shutdown();
  await connection.nc.close();
  await server.stop();
});

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (data: Uint8Array) => new TextDecoder().decode(data);

/** A consumer on its own subject of the events stream, with small bounds so the test runs in milliseconds. */
function consumerOptions(durable: string, subject: string, handle: ConsumerOptions['handle']): ConsumerOptions {
  return {
    region: REGION,
    stream: EVENTS,
    durable,
    filterSubject: subject,
    maxDeliveries: 4,
    errorBackoff: { baseMs: 40, maxMs: 160 },
    meter: meterProvider.getMeter('test'),
    logger,
    handle,
  };
}

async function settled(durable: string): Promise<void> {
  await waitFor(
    async () => {
      const info = await connection.jsm.consumers.info(EVENTS, durable);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    { what: `${durable} has nothing pending or unacknowledged` },
  );
}

async function deadLetterCounts(): Promise<Map<string, number>> {
  await reader.forceFlush();
  const counts = new Map<string, number>();
  for (const scope of exporter.getMetrics().at(-1)?.scopeMetrics ?? []) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== 'waygate.consumer.dead_letters') continue;
      for (const point of metric.dataPoints) counts.set(`${point.attributes.consumer}/${point.attributes.reason}`, point.value as number);
    }
  }
  return counts;
}

const linesOf = (durable: string) => logs.filter((line) => line.durable === durable);

test('a handler that always throws: delivered maxDeliveries times with growing delays, then dead-lettered once with its reason', async () => {
  const subject = `waygate.${REGION}.events.test-throws`;
  const runs: number[] = [];
  const consumer = await startConsumer(
    connection,
    consumerOptions('test-throws', subject, async () => {
      runs.push(Date.now());
      throw new RangeError('Maximum call stack size exceeded');
    }),
  );
  const headers = createHeaders();
  headers.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  await connection.js.publish(subject, encode('poison'), { msgID: 'throws-1', headers });
  const original = await connection.jsm.streams.getMessage(EVENTS, { last_by_subj: subject });
  const [letter] = await waitFor(
    async () => {
      const page = await store.list({ consumers: ['test-throws'], pageSize: 10 });
      return page.deadLetters.length > 0 ? page.deadLetters : undefined;
    },
    { what: 'the dead letter' },
  );
  await consumer.stop();
  await settled('test-throws');

  assert.equal(runs.length, 4, 'the handler ran exactly maxDeliveries times');
  const gaps = runs.slice(1).map((at, index) => at - runs[index]);
  [40, 80, 160].forEach((backoff, index) => assert.ok(gaps[index] >= backoff - 5, `gap ${index + 1} (${gaps[index]} ms) >= ${backoff} ms`));

  assert.equal(letter.consumer, 'test-throws');
  assert.equal(letter.reasonKind, 'handler_error');
  assert.equal(letter.reason, 'handler error: RangeError: Maximum call stack size exceeded');
  assert.equal(letter.originalSubject, subject);
  assert.equal(letter.originalStream, EVENTS);
  assert.equal(letter.originalSequence, original.seq);
  assert.equal(letter.deliveryCount, 4);
  assert.equal(letter.sizeBytes, 'poison'.length);
  assert.equal(letter.dataOmitted, false);
  assert.ok(letter.deadLetteredAt.getTime() >= letter.publishedAt.getTime());
  const stored = await connection.jsm.streams.getMessage(DEAD_LETTERS, { seq: Number(letter.id) });
  assert.equal(stored.subject, deadLetterSubject(REGION, 'test-throws'));
  assert.equal(decode(stored.data), 'poison', 'the original data is kept');
  assert.equal(stored.header.get('traceparent'), headers.get('traceparent'), 'the trace context is kept');

  assert.equal((await deadLetterCounts()).get('test-throws/handler_error'), 1, 'counted once in waygate.consumer.dead_letters');
  const lines = linesOf('test-throws');
  assert.equal(lines.filter((line) => line.level === 'error').length, 1, 'one error line');
  assert.equal(lines.filter((line) => line.level === 'warn').length, 1, 'retries: one throttled warning, the rest debug');
  assert.equal(lines.filter((line) => line.level === 'debug').length, 2);
  assert.ok(!JSON.stringify(lines).includes('    at '), 'never a stack');
  assert.ok(!JSON.stringify(lines).includes('poison'), 'never the data');
});

test('a retry outcome is bounded too; a rejected message is dead-lettered at once', async () => {
  const subject = `waygate.${REGION}.events.test-outcomes`;
  const seen: string[] = [];
  const consumer = await startConsumer(
    connection,
    consumerOptions('test-outcomes', subject, async (data, info) => {
      seen.push(`${decode(data)}#${info.deliveryCount}`);
      if (decode(data) === 'unavailable') return { kind: 'retry', delayMs: 10, reason: 'media-store unavailable' };
      if (decode(data) === 'garbage') return { kind: 'reject', reason: 'not a valid MessageStatusChanged' };
      if (decode(data) === 'duplicate') throw new Error('E11000 duplicate key error dup key: { customer: "+4915112345678" }');
      return ACK;
    }),
  );
  for (const text of ['unavailable', 'garbage', 'fine', 'duplicate'])
    await publishEvent(connection.js, subject, encode(text), `outcomes-${text}`);
  const letters = await waitFor(
    async () => {
      const page = await store.list({ consumers: ['test-outcomes'], pageSize: 10 });
      return page.deadLetters.length === 3 ? page.deadLetters : undefined;
    },
    { what: 'three dead letters' },
  );
  await consumer.stop();
  await settled('test-outcomes');
  assert.deepEqual(
    letters.map((letter) => [letter.reasonKind, letter.reason, letter.deliveryCount]),
    [
      ['rejected', 'rejected: not a valid MessageStatusChanged', 1],
      ['retry_exhausted', 'still failing after 4 deliveries: media-store unavailable', 4],
      ['handler_error', 'handler error: Error: E11000 duplicate key error dup key: { customer: "[digits]" }', 4],
    ],
  );
  assert.ok(!JSON.stringify(linesOf('test-outcomes')).includes('4915112345678'), 'a number quoted by an error is not logged');
  const runsOf = (text: string) => seen.filter((entry) => entry.startsWith(`${text}#`));
  assert.deepEqual(runsOf('unavailable'), ['unavailable#1', 'unavailable#2', 'unavailable#3', 'unavailable#4']);
  assert.deepEqual(runsOf('garbage'), ['garbage#1']);
  assert.deepEqual(runsOf('fine'), ['fine#1']);
  const counts = await deadLetterCounts();
  assert.equal(counts.get('test-outcomes/rejected'), 1);
  assert.equal(counts.get('test-outcomes/retry_exhausted'), 1);
});

test('a message that keeps coming back without an outcome (it crashes the process) is dead-lettered without running the handler', async () => {
  const subject = `waygate.${REGION}.events.test-crashes`;
  const durable = 'test-crashes';
  // An earlier process took the message four times and died each time before answering (ack wait ran out).
  await connection.jsm.consumers.add(EVENTS, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    filter_subject: subject,
    ack_wait: 100_000_000,
  });
  await publishEvent(connection.js, subject, encode('crasher'), 'crashes-1');
  const earlier = await connection.js.consumers.get(EVENTS, durable);
  for (let delivery = 1; delivery <= 4; delivery++) {
    const message = await earlier.next({ expires: 5000 });
    assert.equal(message?.info.deliveryCount, delivery);
  }
  let runs = 0;
  const consumer = await startConsumer(connection, {
    ...consumerOptions(durable, subject, async () => {
      runs++;
      return ACK;
    }),
    ackWaitMs: 100,
  });
  const [letter] = await waitFor(async () => {
    const page = await store.list({ consumers: [durable], pageSize: 10 });
    return page.deadLetters.length > 0 ? page.deadLetters : undefined;
  });
  await consumer.stop();
  await settled(durable);
  assert.equal(runs, 0, 'the handler never ran on it again');
  assert.equal(letter.reasonKind, 'redelivered');
  assert.equal(letter.deliveryCount, 5);
});

test('replay publishes a dead letter again for its consumer only, which now processes it; list pages and filters; discard removes', async () => {
  const subject = `waygate.${REGION}.events.test-replay`;
  let broken = true;
  const processed: string[] = [];
  const bystanderSaw: string[] = [];
  const consumer = await startConsumer(
    connection,
    consumerOptions('test-replay', subject, async (data, info) => {
      if (broken) throw new Error('bug');
      processed.push(`${decode(data)}#${info.deliveryCount}`);
      return ACK;
    }),
  );
  // Another consumer of the same subject, which handled every message the first time.
  const bystander = await startConsumer(
    connection,
    consumerOptions('test-replay-bystander', subject, async (data) => {
      bystanderSaw.push(decode(data));
      return ACK;
    }),
  );
  for (const text of ['a', 'b', 'c']) await publishEvent(connection.js, subject, encode(text), `replay-${text}`);
  await waitFor(async () => (await store.list({ consumers: ['test-replay'], pageSize: 10 })).deadLetters.length === 3, {
    what: 'three dead letters',
  });

  // Paging, oldest first, merged with another consumer's dead letters.
  const first = await store.list({ consumers: ['test-replay', 'test-throws'], pageSize: 2 });
  assert.equal(first.deadLetters.length, 2);
  assert.deepEqual(
    first.deadLetters.map((letter) => letter.consumer),
    ['test-throws', 'test-replay'],
  );
  const second = await store.list({ consumers: ['test-replay', 'test-throws'], pageSize: 2, pageToken: first.nextPageToken });
  assert.deepEqual(
    second.deadLetters.map((letter) => letter.consumer),
    ['test-replay', 'test-replay'],
  );
  assert.equal(second.nextPageToken, '', 'the last page says so');
  await assert.rejects(store.list({ consumers: ['test-replay'], pageSize: 2, pageToken: 'x' }), InvalidPageTokenError);

  const [a, b, c] = (await store.list({ consumers: ['test-replay'], pageSize: 10 })).deadLetters;
  broken = false;
  assert.equal(await store.replay('test-replay', { ids: [a.id, a.id, '999999', first.deadLetters[0].id] }), 1, 'only its own, once');
  await waitFor(() => processed.includes('a#1'), { what: 'the replayed message processed' });
  assert.equal(await store.discard('test-replay', { ids: [b.id] }), 1);
  assert.equal(await store.replay('test-replay', { all: true }), 1);
  await waitFor(() => processed.includes('c#1'), { what: 'the replayed message processed' });
  assert.deepEqual((await store.list({ consumers: ['test-replay'], pageSize: 10 })).deadLetters, [], 'replayed and discarded are gone');
  assert.ok(!processed.includes('b#1'), 'a discarded dead letter is not processed');
  assert.equal(c.consumer, 'test-replay');

  await consumer.stop();
  await settled('test-replay');
  await settled('test-replay-bystander');
  await bystander.stop();
  assert.deepEqual(bystanderSaw, ['a', 'b', 'c'], 'the other consumer skips the replays');
});

test('a message too large to keep with the dead-letter headers is dead-lettered without its data, not retried forever', async () => {
  const subject = `waygate.${REGION}.events.test-large`;
  let runs = 0;
  const consumer = await startConsumer(
    connection,
    consumerOptions('test-large', subject, async () => {
      runs++;
      return { kind: 'reject', reason: 'not a valid MessageStatusChanged' };
    }),
  );
  // As large as the server takes with the publisher's own headers; the dead letter's headers no longer fit.
  const size = connection.nc.info!.max_payload - 300;
  await publishEvent(connection.js, subject, new Uint8Array(size).fill(7), 'large-1');
  const [letter] = await waitFor(async () => {
    const page = await store.list({ consumers: ['test-large'], pageSize: 10 });
    return page.deadLetters.length > 0 ? page.deadLetters : undefined;
  });
  await consumer.stop();
  await settled('test-large');
  assert.equal(runs, 1);
  assert.deepEqual([letter.reasonKind, letter.sizeBytes, letter.dataOmitted], ['rejected', size, true]);
  assert.equal(await store.replay('test-large', { all: true }), 0, 'nothing to replay without the data');
  assert.equal(await store.discard('test-large', { all: true }), 1);
});

test('a durable name that cannot name a subject token is refused', async () => {
  await assert.rejects(
    startConsumer(
      connection,
      consumerOptions('bad.name', regionSubjects(REGION).receiptEvents, async () => ACK),
    ),
    /durable name/,
  );
});
