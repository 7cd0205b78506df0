import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { credentials, Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { Clock } from '@waygate/domain';
import { badRequestViolations } from '@waygate/grpc';
import { connectJetStream, type JetStreamConnection } from '@waygate/nats';
import {
  ReceiptServiceClient,
  TenantEvent,
  type ListDeadLettersRequest,
  type ListDeadLettersResponse,
  type ReplayDeadLettersRequest,
} from '@waygate/proto';
import { parseTenants, type TenantDirectory } from '@waygate/tenancy';
import { createTempDir, startNatsServer, tenantsYaml, waitFor, type TestTenant } from '@waygate/testing';
import { SqliteFeedStore } from './adapters/sqlite-feed-store';
import {
  eventIdOf,
  manualClock,
  publishInbound,
  publishStatus,
  startCallbackReceiver,
  startFeedInstance,
  T0,
  verifyWaygateSignature,
  watch,
  type CallbackReceiver,
  type FeedInstance,
} from './testing/feed-harness';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SECRET = 'whsec-acme';

interface Setup {
  readonly publisher: JetStreamConnection;
  readonly instances: FeedInstance[];
  /** A second connection to the feed's SQLite file, to look at outbox and breaker state. */
  readonly inspect: SqliteFeedStore;
  /** The (live) directory the instances read; a test swaps in a reloaded file with `replaceWith`. */
  readonly tenants: TenantDirectory;
}

/** Starts a nats-server and `replicas` feed instances sharing one SQLite file; everything stops after the test. */
async function setup(
  t: TestContext,
  options: { tenants: TestTenant[]; env?: Record<string, string>; clock?: Clock; replicas?: number; receivers: CallbackReceiver[] },
): Promise<Setup> {
  const nats = await startNatsServer();
  const dir = createTempDir();
  const sqliteFile = path.join(dir.path, 'receipt-feed.sqlite');
  const tenants = parseTenants(tenantsYaml(options.tenants));
  const publisher = await connectJetStream(nats.url, 'callbacks-test');
  const instances: FeedInstance[] = [];
  for (let i = 0; i < (options.replicas ?? 1); i++) {
    instances.push(
      await startFeedInstance({
        natsUrl: nats.url,
        tenants,
        sqliteFile,
        ...(options.env ? { env: options.env } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
      }),
    );
  }
  const inspect = new SqliteFeedStore(sqliteFile);
  t.after(async () => {
    // Receivers first: closing them ends calls that hang, so the lanes can stop.
    for (const receiver of options.receivers) await receiver.close();
    for (const instance of instances) await instance.stop();
    await inspect.close();
    await publisher.nc.close();
    await nats.stop();
    dir.remove();
  });
  return { publisher, instances, inspect, tenants };
}

const tenant = (id: string, callbacks: { id: string; url: string }[]): TestTenant => ({
  id,
  homeRegion: 'eu',
  apiKey: `key-${id}`,
  phoneNumberIds: [`pn-${id}`],
  callbacks: callbacks.map((c) => ({ ...c, signingSecret: SECRET })),
});

const sent = (js: JetStreamConnection['js'], tenantId: string, messageId: string) =>
  publishStatus(js, {
    eventId: `d:${tenantId}:${messageId}:sent`,
    tenantId,
    messageId,
    status: 'SENT',
    source: 'delivery',
    waMessageId: `wamid.${messageId}`,
    recipient: '+4915112345678',
  });

const webhook = (js: JetStreamConnection['js'], tenantId: string, messageId: string, status: 'DELIVERED' | 'READ', seconds: number) =>
  publishStatus(js, {
    eventId: `wa:${tenantId}:${messageId}:${status}`,
    tenantId,
    messageId,
    status,
    source: 'webhook',
    occurredAtMs: T0 + seconds * 1000,
  });

/** A gRPC client for the dead-letter calls. */
function deadLetterClient(address: string, apiKey: string) {
  const client = new ReceiptServiceClient(address, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${apiKey}`);
  return {
    list: (request: Partial<ListDeadLettersRequest>) =>
      new Promise<ListDeadLettersResponse>((resolve, reject) =>
        client.listDeadLetters({ endpointId: '', pageSize: 0, pageToken: '', ...request }, metadata, (error, response) =>
          error ? reject(error) : resolve(response),
        ),
      ),
    replay: (request: Partial<ReplayDeadLettersRequest>) =>
      new Promise<number>((resolve, reject) =>
        client.replayDeadLetters({ endpointId: '', eventIds: [], all: false, ...request }, metadata, (error, response) =>
          error ? reject(error) : resolve(response.replayed),
        ),
      ),
    close: () => client.close(),
  };
}

/** Whether the feed recorded the outcome of every call the receiver got (attempt counts match the calls per event). */
async function outcomesRecorded(
  inspect: SqliteFeedStore,
  receiver: CallbackReceiver,
  tenantId: string,
  endpointId: string,
): Promise<boolean> {
  const calls = new Map<string, number>();
  for (const callback of receiver.received) calls.set(eventIdOf(callback), (calls.get(eventIdOf(callback)) ?? 0) + 1);
  for (const [eventId, count] of calls) {
    if ((await inspect.getDelivery(tenantId, endpointId, eventId))?.attempts !== count) return false;
  }
  return true;
}

const code = (expected: grpcStatus) => (error: unknown) => (error as ServiceError).code === expected;

test('every event reaches the endpoint as the same TenantEvent the stream sends, signed as the README documents', async (t) => {
  const receiver = await startCallbackReceiver(200);
  const { publisher, instances } = await setup(t, { tenants: [tenant('acme', [{ id: 'crm', url: receiver.url }])], receivers: [receiver] });
  await sent(publisher.js, 'acme', 'm1');
  await webhook(publisher.js, 'acme', 'm1', 'READ', 12);
  await publishInbound(publisher.js, {
    tenantId: 'acme',
    waMessageId: 'wamid.in1',
    from: '+4915199999999',
    text: 'hi',
    phoneNumberId: 'pn-acme',
  });

  const stream = watch(instances[0].address, 'key-acme');
  const streamed = await stream.until(4);
  stream.close();
  await waitFor(() => receiver.delivered().length === 4, { what: 'four callbacks' });
  const bySequence = receiver.delivered().sort((a, b) => Number(JSON.parse(a.body).sequence) - Number(JSON.parse(b.body).sequence));
  for (const [index, callback] of bySequence.entries()) {
    assert.ok(verifyWaygateSignature(SECRET, callback.headers, callback.body, Math.floor(Date.now() / 1000)), 'signature verifies');
    const event = TenantEvent.fromJSON(JSON.parse(callback.body));
    assert.deepEqual(event, streamed[index], 'the body is the streamed event in proto3 JSON');
    assert.equal(callback.headers['waygate-event-id'], event.eventId);
  }
  // The documented JSON shape, literally.
  assert.deepEqual(JSON.parse(bySequence[2].body), {
    eventId: 'status.m1.read',
    sequence: '3',
    tenantId: 'acme',
    type: 'TENANT_EVENT_TYPE_STATUS',
    occurredAt: '2025-01-01T00:00:12.000Z',
    recordedAt: JSON.parse(bySequence[2].body).recordedAt,
    status: {
      messageId: 'm1',
      waMessageId: 'wamid.m1',
      recipient: '+4915112345678',
      status: 'MESSAGE_STATUS_READ',
      messageStatus: 'MESSAGE_STATUS_READ',
    },
  });
});

test('an endpoint that is down for a while loses nothing once it is back, and gets each message’s events in order', async (t) => {
  const receiver = await startCallbackReceiver(503);
  const { publisher } = await setup(t, {
    tenants: [tenant('acme', [{ id: 'crm', url: receiver.url }])],
    env: {
      WAYGATE_FEED_CALLBACK_BACKOFF_BASE_MS: '5',
      WAYGATE_FEED_CALLBACK_BACKOFF_CAP_MS: '40',
      WAYGATE_FEED_CALLBACK_BREAKER_COOLDOWN_MS: '50',
    },
    receivers: [receiver],
  });
  const messages = ['m1', 'm2', 'm3', 'm4'];
  for (const m of messages) await sent(publisher.js, 'acme', m);
  for (const m of messages) await webhook(publisher.js, 'acme', m, 'DELIVERED', 5);
  await publishInbound(publisher.js, {
    tenantId: 'acme',
    waMessageId: 'wamid.in1',
    from: '+4915199999999',
    text: 'hi',
    phoneNumberId: 'pn-acme',
  });
  for (const m of messages) await webhook(publisher.js, 'acme', m, 'READ', 9);
  const expected = [...messages.flatMap((m) => ['sent', 'delivered', 'read'].map((s) => `status.${m}.${s}`)), 'inbound.wamid.in1'].sort();

  await waitFor(() => receiver.received.length >= 20, { what: 'the endpoint to be called while down' });
  receiver.setMode(200);
  await waitFor(() => receiver.delivered().length === expected.length, { what: 'every event delivered', timeoutMs: 20_000 });

  assert.deepEqual(receiver.delivered().map(eventIdOf).sort(), expected, 'each event delivered exactly once');
  for (const m of messages) {
    const ofMessage = (id: string) => id.startsWith(`status.${m}.`);
    assert.deepEqual(
      receiver.delivered().map(eventIdOf).filter(ofMessage),
      [`status.${m}.sent`, `status.${m}.delivered`, `status.${m}.read`],
      `${m}: delivered in order`,
    );
    // Stronger: a later event of the message was never even attempted before the earlier one was delivered.
    const attempts = receiver.received.map((r) => ({ id: eventIdOf(r), ok: r.answer === 200 })).filter((r) => ofMessage(r.id));
    const firstAttempt = (id: string) => attempts.findIndex((a) => a.id === id);
    const delivery = (id: string) => attempts.findIndex((a) => a.id === id && a.ok);
    assert.ok(firstAttempt(`status.${m}.delivered`) > delivery(`status.${m}.sent`), `${m}: delivered waited for sent`);
    assert.ok(firstAttempt(`status.${m}.read`) > delivery(`status.${m}.delivered`), `${m}: read waited for delivered`);
  }
});

test('a dead endpoint never delays a healthy endpoint of the same tenant or of another tenant', async (t) => {
  const dead = await startCallbackReceiver('hang');
  const healthy = await startCallbackReceiver(200);
  const otherTenant = await startCallbackReceiver(200);
  const { publisher } = await setup(t, {
    tenants: [
      tenant('acme', [
        { id: 'dead', url: dead.url },
        { id: 'healthy', url: healthy.url },
      ]),
      tenant('umbrella', [{ id: 'hook', url: otherTenant.url }]),
    ],
    // Longer than the test: the dead endpoint's calls are still hanging when the healthy ones are done.
    env: { WAYGATE_FEED_CALLBACK_TIMEOUT_MS: '600000', WAYGATE_FEED_CALLBACK_LEASE_MS: '900000', WAYGATE_FEED_CALLBACK_CONCURRENCY: '2' },
    receivers: [dead, healthy, otherTenant],
  });
  for (let i = 1; i <= 10; i++) {
    await sent(publisher.js, 'acme', `m${i}`);
    await sent(publisher.js, 'umbrella', `m${i}`);
  }
  await waitFor(() => healthy.delivered().length === 10 && otherTenant.delivered().length === 10, { what: 'the healthy endpoints served' });
  assert.ok(dead.received.length <= 2, 'the dead endpoint holds at most its own concurrency of calls');
  assert.ok(dead.received.every((r) => r.answer === 'hang'));
  assert.deepEqual(healthy.delivered().map(eventIdOf).sort(), Array.from({ length: 10 }, (_, i) => `status.m${i + 1}.sent`).sort());
});

test('the breaker opens after N consecutive failures, makes no calls while open, probes once per cooldown, closes on success', async (t) => {
  const clock = manualClock();
  const receiver = await startCallbackReceiver(500);
  const { publisher, inspect } = await setup(t, {
    tenants: [tenant('acme', [{ id: 'crm', url: receiver.url }])],
    clock,
    env: {
      WAYGATE_FEED_CALLBACK_CONCURRENCY: '1',
      WAYGATE_FEED_CALLBACK_BREAKER_FAILURES: '3',
      WAYGATE_FEED_CALLBACK_BREAKER_COOLDOWN_MS: '60000',
      WAYGATE_FEED_CALLBACK_BACKOFF_BASE_MS: '1000',
      WAYGATE_FEED_CALLBACK_BACKOFF_CAP_MS: '1000',
    },
    receivers: [receiver],
  });
  const endpoint = () => inspect.getEndpoint('acme', 'crm');
  for (let i = 1; i <= 6; i++) await sent(publisher.js, 'acme', `m${i}`);

  // Three failures open it; m4..m6 are due right away, yet nobody calls.
  await waitFor(async () => receiver.received.length === 3 && (await endpoint())?.consecutiveFailures === 3, {
    what: 'the breaker to open',
  });
  assert.deepEqual((await endpoint())?.openUntil, new Date(T0 + 60_000));
  await waitFor(async () => (await inspect.readEvents('acme', { after: 0, limit: 10 })).length === 6, {
    what: 'all six events in the log',
  });
  clock.set(T0 + 30_000); // the failed ones are due again too: still no calls
  await waitFor(async () => (await inspect.getDelivery('acme', 'crm', 'status.m6.sent')) !== undefined, { what: 'm6 queued' });

  clock.set(T0 + 60_000); // cooldown over: exactly one probe, which fails and re-opens the breaker
  // The probe takes the breaker until +60 s before it is sent; wait for its failure to be counted, not just sent.
  await waitFor(async () => receiver.received.length === 4 && (await endpoint())?.consecutiveFailures === 4, { what: 'a failed probe' });
  assert.deepEqual((await endpoint())?.openUntil, new Date(T0 + 120_000));

  receiver.setMode(200);
  clock.set(T0 + 120_000); // the next probe succeeds and closes the breaker; the rest follow
  await waitFor(() => receiver.delivered().length === 6, { what: 'everything delivered after the breaker closed' });
  assert.deepEqual(
    receiver.received.map((r) => `${eventIdOf(r).replace('status.', '').replace('.sent', '')}:${r.answer}`),
    ['m1:500', 'm2:500', 'm3:500', 'm1:500', 'm1:200', 'm2:200', 'm3:200', 'm4:200', 'm5:200', 'm6:200'],
  );
  assert.deepEqual(await endpoint(), { cursor: 6, consecutiveFailures: 0 });
});

test('three days of failures park a delivery as a dead letter; it is listed, replayed and then delivered', async (t) => {
  const clock = manualClock();
  const receiver = await startCallbackReceiver(500);
  const { publisher, instances, inspect } = await setup(t, {
    tenants: [tenant('acme', [{ id: 'crm', url: receiver.url }]), tenant('umbrella', [])],
    clock,
    env: {
      // The breaker stays out of the way: this is about the retry period.
      WAYGATE_FEED_CALLBACK_BREAKER_FAILURES: '1000',
      WAYGATE_FEED_CALLBACK_BACKOFF_BASE_MS: '1000',
      WAYGATE_FEED_CALLBACK_BACKOFF_CAP_MS: String(6 * HOUR),
    },
    receivers: [receiver],
  });
  await sent(publisher.js, 'acme', 'm1');
  await sent(publisher.js, 'acme', 'm2');
  const pending = async () =>
    (await Promise.all(['status.m1.sent', 'status.m2.sent'].map((id) => inspect.getDelivery('acme', 'crm', id)))).filter(
      (d) => d?.state !== 'dead',
    );
  const recorded = () => outcomesRecorded(inspect, receiver, 'acme', 'crm');
  await waitFor(async () => receiver.received.length === 2 && (await recorded()), { what: 'the first attempts' });
  for (let step = 0; step < 40 && (await pending()).length > 0; step++) {
    const calls = receiver.received.length;
    const due = (await pending()).length;
    clock.advance(6 * HOUR); // the backoff cap: every pending delivery is due again
    await waitFor(async () => receiver.received.length === calls + due && (await recorded()), {
      what: `retries after ${(step + 1) * 6} hours`,
    });
  }
  assert.equal((await pending()).length, 0, 'both deliveries are dead letters');
  const attemptsOfM1 = receiver.received.filter((r) => eventIdOf(r) === 'status.m1.sent').length;
  assert.ok(attemptsOfM1 >= 12 && attemptsOfM1 <= 40, `retried over three days (${attemptsOfM1} attempts)`);
  const m1 = await inspect.getDelivery('acme', 'crm', 'status.m1.sent');
  assert.ok(m1?.deadAt && m1.deadAt.getTime() >= T0 + 3 * DAY, 'given up only after three days');

  const acme = deadLetterClient(instances[0].address, 'key-acme');
  const umbrella = deadLetterClient(instances[0].address, 'key-umbrella');
  t.after(() => {
    acme.close();
    umbrella.close();
  });
  const page1 = await acme.list({ pageSize: 1 });
  assert.equal(page1.deadLetters.length, 1);
  assert.notEqual(page1.nextPageToken, '');
  const page2 = await acme.list({ pageSize: 1, pageToken: page1.nextPageToken });
  assert.equal(page2.nextPageToken, '');
  const [first, second] = [...page1.deadLetters, ...page2.deadLetters];
  assert.deepEqual(
    [first.endpointId, first.event?.eventId, first.event?.sequence, first.lastError],
    ['crm', 'status.m1.sent', '1', 'HTTP 500'],
  );
  assert.equal(first.attempts, attemptsOfM1);
  assert.deepEqual(first.queuedAt, new Date(T0));
  assert.equal(second.event?.eventId, 'status.m2.sent');
  assert.deepEqual((await acme.list({ endpointId: 'crm' })).deadLetters.length, 2);

  // Other tenants see none of it and cannot touch it; bad requests are named.
  assert.deepEqual((await umbrella.list({})).deadLetters, []);
  await assert.rejects(umbrella.replay({ endpointId: 'crm', all: true }), code(grpcStatus.NOT_FOUND));
  await assert.rejects(acme.list({ endpointId: 'nope' }), code(grpcStatus.NOT_FOUND));
  await assert.rejects(acme.list({ pageToken: 'garbage' }), code(grpcStatus.INVALID_ARGUMENT));
  await assert.rejects(acme.list({ pageSize: 501 }), code(grpcStatus.INVALID_ARGUMENT));
  await assert.rejects(acme.replay({ endpointId: 'crm' }), code(grpcStatus.INVALID_ARGUMENT));
  await assert.rejects(acme.replay({ endpointId: 'crm', all: true, eventIds: ['status.m1.sent'] }), code(grpcStatus.INVALID_ARGUMENT));
  // Ids are validated like in every service: a 10 KB id is INVALID_ARGUMENT naming the field, never echoed.
  const huge = `x${'7'.repeat(10_000)}`;
  for (const [call, field] of [
    [() => acme.list({ endpointId: huge }), 'endpoint_id'],
    [() => acme.replay({ endpointId: huge, all: true }), 'endpoint_id'],
    [() => acme.replay({ endpointId: 'crm', eventIds: [huge] }), 'event_ids[0]'],
  ] as const) {
    await assert.rejects(call(), (error: ServiceError) => {
      assert.equal(error.code, grpcStatus.INVALID_ARGUMENT);
      assert.deepEqual(
        badRequestViolations(error).map((v) => [v.field, v.reason]),
        [[field, 'TOO_LONG']],
      );
      assert.ok(!error.details.includes('7777'));
      return true;
    });
  }

  receiver.setMode(200);
  assert.equal(await acme.replay({ endpointId: 'crm', eventIds: ['status.m1.sent', 'not-a-dead-letter'] }), 1);
  await waitFor(() => receiver.delivered().map(eventIdOf).includes('status.m1.sent'), { what: 'the replayed dead letter delivered' });
  assert.deepEqual(
    (await acme.list({})).deadLetters.map((d) => d.event?.eventId),
    ['status.m2.sent'],
  );
  assert.equal(await acme.replay({ endpointId: 'crm', all: true }), 1);
  await waitFor(() => receiver.delivered().length === 2, { what: 'every replayed dead letter delivered' });
  assert.deepEqual((await acme.list({})).deadLetters, []);
});

test('an endpoint that stays down: while its breaker is open, deliveries whose retry period ended are parked without calls', async (t) => {
  const clock = manualClock();
  const receiver = await startCallbackReceiver(500);
  const { publisher, inspect } = await setup(t, {
    tenants: [tenant('acme', [{ id: 'crm', url: receiver.url }])],
    clock,
    env: { WAYGATE_FEED_CALLBACK_CONCURRENCY: '1', WAYGATE_FEED_CALLBACK_BREAKER_FAILURES: '3' },
    receivers: [receiver],
  });
  for (let i = 1; i <= 5; i++) await sent(publisher.js, 'acme', `m${i}`);
  await waitFor(async () => receiver.received.length === 3 && (await inspect.getEndpoint('acme', 'crm'))?.consecutiveFailures === 3, {
    what: 'the breaker to open',
  });
  await waitFor(async () => (await inspect.getDelivery('acme', 'crm', 'status.m5.sent')) !== undefined, { what: 'all five queued' });
  clock.set(T0 + 3 * DAY + HOUR);
  await waitFor(async () => (await inspect.listDeadLetters('acme', { limit: 10 })).length === 5, { what: 'all five parked' });
  assert.equal(receiver.received.length, 4, 'three failures and one probe; the others were parked without a call');
  const parked = await inspect.listDeadLetters('acme', { limit: 10 });
  assert.deepEqual(
    parked.map((d) => d.lastError),
    ['HTTP 500', 'HTTP 500', 'HTTP 500', 'circuit open: endpoint kept failing', 'circuit open: endpoint kept failing'],
  );
});

test('replicas share the outbox through leases: every event is delivered once, never by two replicas', async (t) => {
  const receiver = await startCallbackReceiver(200);
  const { publisher } = await setup(t, {
    tenants: [tenant('acme', [{ id: 'crm', url: receiver.url }])],
    replicas: 3,
    receivers: [receiver],
  });
  await Promise.all(Array.from({ length: 60 }, (_, i) => sent(publisher.js, 'acme', `m${i + 1}`)));
  await waitFor(() => receiver.received.length >= 60, { what: 'sixty callbacks' });
  const ids = receiver.received.map(eventIdOf);
  assert.equal(new Set(ids).size, 60);
  assert.equal(ids.length, 60, 'no event was delivered twice');
});

test('a tenants reload starts deliveries to an added endpoint and stops them to a removed one', async (t) => {
  const [first, second] = [await startCallbackReceiver(200), await startCallbackReceiver(200)];
  const { publisher, tenants } = await setup(t, {
    tenants: [tenant('acme', [{ id: 'old', url: first.url }])],
    receivers: [first, second],
  });
  await sent(publisher.js, 'acme', 'm1');
  await waitFor(() => first.delivered().length === 1, { what: 'm1 at the first endpoint' });

  tenants.replaceWith(parseTenants(tenantsYaml([tenant('acme', [{ id: 'new', url: second.url }])])));
  await sent(publisher.js, 'acme', 'm2');
  await waitFor(() => second.delivered().some((callback) => eventIdOf(callback) === 'status.m2.sent'), {
    what: 'm2 at the added endpoint',
  });
  // The added endpoint starts at the events after its creation, as one configured at start does.
  assert.deepEqual(second.delivered().map(eventIdOf), ['status.m2.sent']);
  assert.deepEqual(first.received.map(eventIdOf), ['status.m1.sent'], 'nothing more reached the removed endpoint');
});
