import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { systemClock } from '@waygate/domain';
import {
  createKeyring,
  customerKeyScope,
  JetStreamWrappedKeyStore,
  openPayload,
  sealedPayloadKeyId,
  toKeyEncryptionKey,
  type Keyring,
} from '@waygate/keyring';
import { createLogger } from '@waygate/telemetry-sdk';
import { startNatsServer, waitFor, type NatsServerHandle } from '@waygate/testing';
import { createDeadLetterStore } from './dead-letters';
import {
  connectJetStream,
  ensureRegionStreams,
  publishCustomerEvent,
  publishEvent,
  publishSealedEvent,
  SEALED_HEADER,
  startConsumer,
  type JetStreamConnection,
} from './jetstream';
import { regionStreams } from './subjects';

const REGION = 'se';
const EVENTS = regionStreams(REGION).events.name;
let server: NatsServerHandle;
let connection: JetStreamConnection;
let keyring: Keyring;
const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const logs: string[] = [];
const logger = createLogger({
  service: 'test',
  level: 'debug',
  destination: new Writable({ write: (chunk, _e, done) => (logs.push(String(chunk)), done()) }),
});

before(async () => {
  server = await startNatsServer();
  connection = await connectJetStream(server.url, 'sealed-events-test');
  await ensureRegionStreams(connection.jsm, REGION);
  const store = await JetStreamWrappedKeyStore.open(connection.js, REGION);
  keyring = createKeyring({ store, keks: { active: toKeyEncryptionKey(randomBytes(32)), retired: [] }, clock: systemClock });
});

after(async () => {
  await meterProvider.shutdown();
  await connection.nc.close();
  await server.stop();
});

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (data: Uint8Array) => new TextDecoder().decode(data);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

/** The files of the JetStream store that contain `marker`. */
function storeFilesHolding(marker: string): string[] {
  return filesUnder(server.storeDir).filter((file) => readFileSync(file).includes(marker));
}

async function erasedCount(consumer: string): Promise<number> {
  await reader.forceFlush();
  let count = 0;
  for (const scope of exporter.getMetrics().at(-1)?.scopeMetrics ?? [])
    for (const metric of scope.metrics)
      if (metric.descriptor.name === 'waygate.events.erased')
        for (const point of metric.dataPoints)
          if (point.attributes.consumer === consumer && point.attributes.stream === EVENTS) count += point.value as number;
  return count;
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

test('sealed events: stored unreadable, opened for the handler, skipped and counted once the key is destroyed; unsealed ones still pass', async () => {
  const subject = `waygate.${REGION}.events.test-sealed`;
  const jane = await customerKeyScope(keyring, 'acme', '+4915100000011');
  const john = await customerKeyScope(keyring, 'acme', '+4915100000012');
  const seen: string[] = [];
  const options = {
    region: REGION,
    stream: EVENTS,
    durable: 'test-sealed',
    filterSubject: subject,
    meter: meterProvider.getMeter('test'),
    logger,
    keyring,
    handle: async (data: Uint8Array) => (seen.push(decode(data)), { kind: 'ack' as const }),
  };
  const consumer = await startConsumer(connection, options);
  await publishSealedEvent(connection.js, subject, encode('marker-jane-7f3a first'), 'sealed-1', { keyring, scope: jane });
  await publishSealedEvent(connection.js, subject, encode('marker-john-1c9d first'), 'sealed-2', { keyring, scope: john });
  await publishEvent(connection.js, subject, encode('marker-plain-55e0 from before the upgrade'), 'plain-1');
  await waitFor(() => seen.length === 3, { what: 'three events handled' });
  assert.deepEqual(seen, ['marker-jane-7f3a first', 'marker-john-1c9d first', 'marker-plain-55e0 from before the upgrade']);
  const stored = await connection.jsm.streams.getMessage(EVENTS, { seq: 1 });
  assert.equal(stored.header.get(SEALED_HEADER), 'v1');
  assert.deepEqual(storeFilesHolding('marker-jane-7f3a'), [], 'the sealed text is nowhere in the JetStream store');
  assert.deepEqual(storeFilesHolding('marker-john-1c9d'), []);
  assert.notDeepEqual(storeFilesHolding('marker-plain-55e0'), [], 'the unsealed one is (so the search can find what is there)');
  await consumer.stop();

  // Jane is erased; her events (a new one published before the erasure reached the publisher, and a redelivery
  // of the old ones to a fresh consumer) are acknowledged unread; John's still arrive.
  await publishSealedEvent(connection.js, subject, encode('marker-jane-7f3a second'), 'sealed-3', { keyring, scope: jane });
  assert.equal(await keyring.destroyKey(jane), true);
  seen.length = 0;
  const replay = await startConsumer(connection, { ...options, durable: 'test-sealed-replay' });
  await settled('test-sealed-replay');
  await replay.stop();
  assert.deepEqual(seen, ['marker-john-1c9d first', 'marker-plain-55e0 from before the upgrade']);
  assert.equal(await erasedCount('test-sealed-replay'), 2);
  const deadLetters = await createDeadLetterStore(connection, REGION).list({ consumers: ['test-sealed-replay'], pageSize: 10 });
  assert.deepEqual(deadLetters.deadLetters, [], 'erased content is never dead-lettered');
  const skipLines = logs.filter((line) => line.includes('erased content'));
  assert.equal(skipLines.length, 2);
  assert.ok(
    skipLines.every((line) => !line.includes('marker-') && !line.includes(jane.customerRef ?? '?')),
    'logged without content or pseudonym',
  );
});

test('a sealed event reaching a consumer without a keyring is retried, then dead-lettered still sealed', async () => {
  const subject = `waygate.${REGION}.events.test-no-keyring`;
  const scope = await customerKeyScope(keyring, 'acme', '+4915100000013');
  let handled = 0;
  const consumer = await startConsumer(connection, {
    region: REGION,
    stream: EVENTS,
    durable: 'test-no-keyring',
    filterSubject: subject,
    maxDeliveries: 2,
    errorBackoff: { baseMs: 20, maxMs: 20 },
    logger,
    handle: async () => (handled++, { kind: 'ack' }),
  });
  await publishSealedEvent(connection.js, subject, encode('marker-nokey-93b1'), 'sealed-nokey', { keyring, scope });
  await settled('test-no-keyring');
  await consumer.stop();
  assert.equal(handled, 0);
  const page = await createDeadLetterStore(connection, REGION).list({ consumers: ['test-no-keyring'], pageSize: 10 });
  assert.equal(page.deadLetters.length, 1);
  assert.match(page.deadLetters[0]?.reason ?? '', /no keyring/);
  assert.deepEqual(storeFilesHolding('marker-nokey-93b1'), [], 'the dead letter keeps the sealed bytes');
});

test('publishCustomerEvent seals under the customer’s key, and publishes unsealed when the customer is not known', async () => {
  const subject = `waygate.${REGION}.events.test-customer`;
  await publishCustomerEvent(connection.js, subject, encode('status for +4915100000021'), 'customer-1', {
    keyring,
    tenantId: 'acme',
    customer: '+4915100000021',
  });
  await publishCustomerEvent(connection.js, subject, encode('status, recipient unknown'), 'customer-2', {
    keyring,
    tenantId: 'acme',
    customer: '',
  });
  const info = await connection.jsm.streams.info(EVENTS);
  const sealed = await connection.jsm.streams.getMessage(EVENTS, { seq: info.state.last_seq - 1 });
  const plain = await connection.jsm.streams.getMessage(EVENTS, { seq: info.state.last_seq });
  assert.equal(sealed.subject, subject);
  assert.equal(
    sealedPayloadKeyId(sealed.data).startsWith(`tenant.acme.customer.${await keyring.customerRef('acme', '+4915100000021')}@`),
    true,
  );
  assert.equal(decode(await openPayload(keyring, sealed.data)), 'status for +4915100000021');
  assert.equal(decode(plain.data), 'status, recipient unknown');
  assert.deepEqual(storeFilesHolding('4915100000021'), []);
});
