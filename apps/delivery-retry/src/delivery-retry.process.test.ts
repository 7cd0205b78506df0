/**
 * delivery-retry as real processes: replicas sharing one store never exceed a number's throughput together, and
 * a load survives kill -9 of delivery-retry (several times) and a nats-server restart with nothing lost, with a real
 * receipt turning the simulator's webhooks into the statuses delivery-retry learns from.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  OUTBOUND_CONSUMERS,
  connectJetStream,
  createDeadLetterStore,
  ensureRegionStreams,
  publishEvent,
  regionStreams,
  regionSubjects,
  type JetStreamConnection,
} from '@waygate/nats';
import { ContentType, MessageAccepted, TemplateCategory } from '@waygate/proto';
import {
  createTempDir,
  freePort,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  waitFor,
  type NatsServerHandle,
} from '@waygate/testing';
import { startSimulator, type WhatsAppSimulator } from '@waygate/whatsapp-simulator';
import { SqliteDeliveryStore } from './adapters/sqlite-delivery-store';
import { createCustomerSealer, createInMemoryKeyring } from '@waygate/keyring';

/** Content is sealed at rest under customer keys (a process's own keyring is not this one: there content reads as erased). */
const sealer = createCustomerSealer(createInMemoryKeyring());

const TENANT = {
  id: 'acme',
  homeRegion: 'eu' as const,
  apiKey: 'key-acme',
  phoneNumberIds: ['1000001'],
  accessToken: 'token-acme',
  wabaId: '900',
};
const DAY_MS = 86_400_000;
/** delivery-retry's attempts in flight at once in the crash test: at most this many calls can lose their answer per kill. */
const DELIVERY_CONCURRENCY = 64;

let nats: NatsServerHandle;
let connection: JetStreamConnection;

before(async () => {
  nats = await startNatsServer();
  connection = await connectJetStream(nats.url, 'delivery-retry-process-test');
  await ensureRegionStreams(connection.jsm, 'eu');
});
after(async () => {
  await connection.nc.close();
  await nats.stop();
});

/** The region KEK of every delivery-retry process this file starts (base64 of 32 random bytes). */
const SHARED_KEK = randomBytes(32).toString('base64');

function replicaEnv(dir: string, simulator: WhatsAppSimulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: path.join(dir, 'tenants.yaml'),
    WAYGATE_DATA_DIR: dir,
    WAYGATE_GRPC_PORT: '0',
    WAYGATE_WHATSAPP_API_BASE_URL: simulator.url,
    WAYGATE_WHATSAPP_TIMEOUT_MS: '2000',
    WAYGATE_INTERNAL_SERVICE_TOKEN: 'process-test-internal-token-0123456789abcdef',
    // One KEK for every test of this file: they share one nats-server, so one keyring bucket, and every intake now
    // seals content under a customer key wrapped by it (a KEK generated per data dir could not unwrap the others').
    WAYGATE_KEYRING_KEK: SHARED_KEK,
    ...extra,
  };
}

async function publishAccepted(messageId: string, to: string, body: string, expiresAt: Date): Promise<void> {
  const data = MessageAccepted.encode({
    tenantId: TENANT.id,
    messageId,
    to,
    phoneNumberId: TENANT.phoneNumberIds[0],
    content: { $case: 'text', value: { body, previewUrl: false } },
    acceptedAt: new Date(),
    expiresAt,
    replyToWaMessageId: '',
    contentType: ContentType.CONTENT_TYPE_TEXT,
    contentSummary: '',
    templateCategory: TemplateCategory.TEMPLATE_CATEGORY_UNSPECIFIED,
  }).finish();
  // Publishing retries through a nats-server restart, as ingress's outbox relay does.
  await waitFor(
    async () => {
      try {
        await publishEvent(connection.js, regionSubjects('eu').outboundAccepted, data, messageId);
        return true;
      } catch {
        return false;
      }
    },
    { what: `publish ${messageId}`, timeoutMs: 20_000, intervalMs: 100 },
  );
}

test('two replicas sharing one store never exceed the number throughput together', async (t: TestContext) => {
  const dir = createTempDir();
  const limitMps = 40;
  const simulator = await startSimulator({
    appSecret: 'secret',
    phoneNumbers: [
      { id: '1000001', displayPhoneNumber: '+15550001111', accessToken: 'token-acme', wabaId: '900', throughputMps: limitMps },
    ],
    enforceCustomerServiceWindow: false,
    seed: 7,
  });
  writeFileSync(path.join(dir.path, 'tenants.yaml'), tenantsYaml([{ ...TENANT, throughputMps: limitMps }]));
  const starting = await Promise.allSettled(
    ['a', 'b'].map((name) =>
      startServiceProcess(
        'delivery-retry',
        replicaEnv(dir.path, simulator, { WAYGATE_DELIVERY_REPLICA_ID: name, WAYGATE_DELIVERY_POLL_INTERVAL_MS: '20' }),
      ),
    ),
  );
  const replicas = starting.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failedStart = starting.find((result) => result.status === 'rejected');
  if (failedStart) {
    // A replica left running would consume the next test's messages from the shared stream.
    await Promise.all(replicas.map((replica) => replica.stop('SIGKILL')));
    await simulator.stop();
    dir.remove();
    throw failedStart.reason;
  }
  try {
    const count = 150;
    const expiresAt = new Date(Date.now() + DAY_MS);
    for (let i = 0; i < count; i++) await publishAccepted(`tp-${i}`, `+49151${String(1_000_000 + i)}`, `tp-${i}`, expiresAt);
    await waitFor(() => simulator.sentMessages().length >= count, { what: 'all sent', timeoutMs: 30_000 }).catch(async (error: unknown) => {
      const debugStore = new SqliteDeliveryStore(path.join(dir.path, 'eu', 'delivery-retry.sqlite'), sealer);
      const limiters = await debugStore.listLimiters('number:');
      const states = await Promise.all(Array.from({ length: count }, (_, i) => debugStore.get('acme', `tp-${i}`)));
      const summary = states
        .filter((st) => st?.delivery.state === 'PENDING')
        .slice(0, 5)
        .map((st) =>
          JSON.stringify({
            e: st?.delivery.lastErrorCode,
            a: st?.delivery.attempts,
            n: st?.delivery.nextAttemptAt,
            l: st?.leaseUntil,
            now: new Date(),
          }),
        );
      throw new Error(
        `${(error as Error).message}; sent ${simulator.sentMessages().length} ${JSON.stringify(limiters)} ${summary.join(' ')}`,
      );
    });
    const times = simulator
      .sentMessages()
      .map((m) => Date.parse(m.at))
      .sort((a, b) => a - b);
    const busiest = (windowMs: number) => {
      let most = 0;
      for (let start = 0, end = 0; end < times.length; end++) {
        while (times[end] - times[start] >= windowMs) start++;
        most = Math.max(most, end - start + 1);
      }
      return most;
    };
    // Arrival times are taken in this busy test process, whose event loop bunches requests by some ms; over three
    // seconds that noise is small next to the rate, so the rate is asserted there (the governor aims at 90%).
    t.diagnostic(`busiest 1-second window: ${busiest(1000)} sends; busiest 3-second window: ${busiest(3000)} (limit ${limitMps}/s)`);
    assert.ok(busiest(3000) <= 3 * limitMps, `busiest 3 seconds had ${busiest(3000)} sends`);
    assert.equal(new Set(simulator.sentMessages().map((m) => (m.body.text as { body: string }).body)).size, count, 'each message once');
  } finally {
    await Promise.all(replicas.map((replica) => replica.stop('SIGTERM')));
    await simulator.stop();
    dir.remove();
  }
});

test('a load survives kill -9 of delivery-retry three times and a nats-server restart: nothing lost, a send repeated only after the reconcile grace', async (t: TestContext) => {
  const dir = createTempDir();
  const receiptDir = createTempDir();
  let acceptedSends = 0;
  const webhookPort = await freePort();
  // Days pass in seconds for both delivery-retry and the simulator (pair-rate waits, backoffs), from one epoch.
  const timeScale = 20;
  const epochMs = Date.now();
  const reconcileGraceMs = 10 * 60_000;
  const whatsappTimeoutMs = 5000;
  const simulator = await startSimulator({
    appSecret: 'secret',
    phoneNumbers: [{ id: '1000001', displayPhoneNumber: '+15550001111', accessToken: 'token-acme', wabaId: '900', throughputMps: 1000 }],
    enforceCustomerServiceWindow: false,
    startTimeMs: epochMs,
    timeScale,
    seed: 11,
    // Statuses go to a real receipt, which tells delivery-retry about sends whose answer a kill cut off.
    webhookUrl: `http://127.0.0.1:${webhookPort}/webhooks/whatsapp`,
    // Counting accepted sends from events is cheap; cloning sentMessages() on every poll would stall the simulator.
    onEvent: (event) => {
      if (event.type === 'message_accepted') acceptedSends++;
    },
  });
  writeFileSync(path.join(dir.path, 'tenants.yaml'), tenantsYaml([{ ...TENANT, throughputMps: 1000, appSecret: 'secret' }]));
  const env = replicaEnv(dir.path, simulator, {
    WAYGATE_TIME_SCALE: String(timeScale),
    WAYGATE_TIME_EPOCH_MS: String(epochMs),
    WAYGATE_DELIVERY_POLL_INTERVAL_MS: '50',
    // 10 simulated minutes = 30 s here: receipt, busy with thousands of webhooks on two cores, lags by seconds, i.e.
    // by minutes of simulated time; a shorter grace would resend interrupted calls before their webhook is processed.
    WAYGATE_DELIVERY_RECONCILE_GRACE_MS: String(reconcileGraceMs),
    WAYGATE_DELIVERY_CONCURRENCY: String(DELIVERY_CONCURRENCY),
    // This process (the simulator) is busy too; a short timeout would only add ambiguous calls.
    WAYGATE_WHATSAPP_TIMEOUT_MS: String(whatsappTimeoutMs),
  });

  // The mix: reachable customers, offline ones (Meta accepts, delivers later) and a few that get many messages, so
  // that the pair rate throttles them; plus 5% of calls failing with 503.
  const offline = Array.from({ length: 50 }, (_, i) => `+49160${String(1_000_000 + i)}`);
  const busy = Array.from({ length: 10 }, (_, i) => `+49170${String(1_000_000 + i)}`);
  for (const waId of offline) simulator.setRecipient(waId.slice(1), { mode: 'offline' });
  simulator.injectSendFailures({ httpStatus: 503, code: 2, message: 'Service temporarily unavailable', probability: 0.05 });
  const messages: { id: string; to: string }[] = [];
  for (let i = 0; i < 2000; i++) {
    const to = i % 10 < 7 ? `+49151${String(1_000_000 + i)}` : i % 10 < 8 ? offline[i % offline.length] : busy[i % busy.length];
    messages.push({ id: `crash-${i}`, to });
  }
  const expiresAt = new Date(epochMs + 30 * DAY_MS);
  const sentBodies = () => acceptedSends;
  // Whatever fails below, nothing may keep this test process alive.
  t.after(async () => {
    simulator.clearSendFailures();
    await simulator.stop();
    dir.remove();
    receiptDir.remove();
  });

  const receipt = await startServiceProcess('receipt', {
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: path.join(dir.path, 'tenants.yaml'),
    WAYGATE_DATA_DIR: receiptDir.path,
    WAYGATE_GRPC_PORT: '0',
    WAYGATE_HTTP_PORT: String(webhookPort),
    WAYGATE_INTERNAL_SERVICE_TOKEN: 'crash-test-internal-token-0123456789abcdef',
    WAYGATE_KEYRING_KEK: SHARED_KEK,
    WAYGATE_WHATSAPP_API_BASE_URL: simulator.url,
  });
  let replica = await startServiceProcess('delivery-retry', env);
  const kills: number[] = [];
  const publishing = (async () => {
    for (const message of messages) await publishAccepted(message.id, message.to, message.id, expiresAt);
  })();
  publishing.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
  try {
    for (const threshold of [300, 800, 1300]) {
      await waitFor(() => sentBodies() >= threshold, { what: `${threshold} sent`, timeoutMs: 60_000 });
      process.stderr.write(`[crash test] ${new Date().toISOString()} ${sentBodies()} sent; kill -9\n`);
      await replica.stop('SIGKILL');
      kills.push(sentBodies());
      if (threshold === 800) await nats.restart();
      replica = await startServiceProcess('delivery-retry', env);
    }
    await publishing;
    process.stderr.write(`[crash test] ${new Date().toISOString()} all published; ${sentBodies()} sent\n`);
    await waitFor(() => sentBodies() >= messages.length, { what: 'every message sent', timeoutMs: 150_000, intervalMs: 200 }).catch(
      async (error: unknown) => {
        // Says where the missing messages stand (state, lease, attempts; never content) before failing.
        // Where JetStream stands with delivery-retry's consumer (pending, ack-pending, redelivered, waiting pulls).
        try {
          const { config: _config, ...state } = await connection.jsm.consumers.info(
            regionStreams('eu').outbound.name,
            OUTBOUND_CONSUMERS.delivery,
          );
          t.diagnostic(`delivery-retry consumer: ${JSON.stringify(state)}`);
        } catch (infoError) {
          t.diagnostic(`delivery-retry consumer: no info (${(infoError as Error).message})`);
        }
        // The stream itself (an interest stream deletes a message once every consumer acknowledged it) and its other
        // consumers: a message missing from the stream while another consumer has not acknowledged it was lost there.
        try {
          const stream = await connection.jsm.streams.info(regionStreams('eu').outbound.name, { deleted_details: true });
          t.diagnostic(`outbound stream (${stream.config.retention} retention) state: ${JSON.stringify(stream.state)}`);
          for (const durable of [OUTBOUND_CONSUMERS.archive, OUTBOUND_CONSUMERS.feed]) {
            const { config: _c, ...other } = await connection.jsm.consumers.info(regionStreams('eu').outbound.name, durable);
            t.diagnostic(`${durable} consumer: ${JSON.stringify(other)}`);
          }
        } catch (streamError) {
          t.diagnostic(`outbound stream: no info (${(streamError as Error).message})`);
        }
        // What the consumer gave up on, if anything (reasons and sequences; the data is not read).
        const deadLetters = await createDeadLetterStore(connection, 'eu')
          .list({ consumers: [OUTBOUND_CONSUMERS.delivery], pageSize: 50 })
          .catch((listError: unknown) => ({ deadLetters: [], error: (listError as Error).message }));
        t.diagnostic(`dead letters: ${JSON.stringify(deadLetters)}`);
        const store = new SqliteDeliveryStore(path.join(dir.path, 'eu', 'delivery-retry.sqlite'), sealer);
        try {
          for (const message of messages) {
            const stored = await store.get(TENANT.id, message.id);
            if (stored?.delivery.state === 'SENT' || stored?.delivery.state === 'DELIVERED') continue;
            const shown = JSON.stringify(stored ?? null, (key, value: unknown) => (key === 'content' ? undefined : value));
            t.diagnostic(`not sent: ${message.id} ${shown}`);
          }
        } finally {
          await store.close();
        }
        throw error;
      },
    );
    // Interrupted calls settle through their webhooks (or, failing that, a resend after the grace period).
    const settled = new SqliteDeliveryStore(path.join(dir.path, 'eu', 'delivery-retry.sqlite'), sealer);
    try {
      await waitFor(
        async () => {
          for (const message of messages) {
            const state = (await settled.get(TENANT.id, message.id))?.delivery.state;
            if (state !== 'SENT' && state !== 'DELIVERED') return false;
          }
          return true;
        },
        { what: 'every delivery SENT or DELIVERED', timeoutMs: 90_000, intervalMs: 500 },
      );
    } finally {
      await settled.close();
    }
  } finally {
    await replica.stop('SIGTERM');
    await receipt.stop('SIGTERM');
  }

  const store = new SqliteDeliveryStore(path.join(dir.path, 'eu', 'delivery-retry.sqlite'), sealer);
  try {
    const sends = new Map<string, number>();
    const lastWamid = new Map<string, string>();
    for (const sent of simulator.sentMessages()) {
      const body = (sent.body.text as { body: string }).body;
      sends.set(body, (sends.get(body) ?? 0) + 1);
      lastWamid.set(body, sent.wamid);
    }
    const duplicates = [...sends.values()].reduce((sum, n) => sum + n - 1, 0);
    const premature: string[] = [];
    for (const [body, n] of sends) {
      if (n < 2) continue;
      const stored = await store.get(TENANT.id, body);
      const times = simulator
        .sentMessages()
        .filter((m) => (m.body.text as { body: string }).body === body)
        .map((m) => m.at);
      t.diagnostic(
        `duplicate ${body}: ${n} sends at ${times.join(', ')}; attempts ${stored?.delivery.attempts} error ${stored?.delivery.lastErrorTitle ?? ''}`,
      );
      // The grace runs from the call's start; Meta (the simulator) took it at most one call timeout later.
      const earliestGapMs = reconcileGraceMs - whatsappTimeoutMs * timeScale;
      for (let i = 1; i < times.length; i++) {
        if (Date.parse(times[i]) - Date.parse(times[i - 1]) < earliestGapMs) premature.push(`${body} at ${times[i]}`);
      }
    }
    t.diagnostic(`kills after ${kills.join(', ')} sends; nats restarted once; duplicate sends seen by the simulator: ${duplicates}`);
    // Meta's send API has no idempotency key, so a call whose answer a kill cut off may have reached Meta; delivery-retry
    // then waits the reconcile grace for Meta's webhook before it sends again. A duplicate is therefore a call whose
    // webhook did not arrive within the grace (receipt lags under load), never one sent again sooner: the count
    // depends on the machine's load, the spacing does not. At most the calls in flight at each kill can repeat.
    assert.deepEqual(premature, [], 'a send repeated before the reconcile grace had passed');
    assert.ok(duplicates <= kills.length * DELIVERY_CONCURRENCY, `${duplicates} duplicates for ${kills.length} kills`);
    for (const message of messages) {
      const stored = await store.get(TENANT.id, message.id);
      assert.ok(['SENT', 'DELIVERED'].includes(stored?.delivery.state ?? ''), `${message.id} is ${stored?.delivery.state}`);
      assert.equal(stored?.delivery.waMessageId, lastWamid.get(message.id), `${message.id} records the wamid Meta returned`);
    }
    assert.equal((await store.backlog()).unannounced, 0, 'every outcome was announced');
  } finally {
    await store.close();
  }
});
