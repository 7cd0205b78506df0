import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { connectJetStream, publishEvent, regionSubjects } from '@waygate/nats';
import { WebhookReceived } from '@waygate/proto';
import { parseTenants } from '@waygate/tenancy';
import { createTempDir, startNatsServer, tenantsYaml, waitFor } from '@waygate/testing';
import { SqliteFeedStore } from './feed/adapters/sqlite-feed-store';
import { manualClock, publishStatus, startCallbackReceiver, startFeedInstance } from './feed/testing/feed-harness';
import { ACME, startReceiptHarness, type ReceiptHarness } from './testing/receipt-harness';
import { statusWebhookJson } from './webhooks/testing/status-webhook';

// receipt's metrics through the real paths, as wired in its start functions: webhooks over HTTP and JetStream to the
// intake's processor, and the tenant feed's callback lanes against a real endpoint; rendered by OTel's Prometheus
// exporter (the one that serves /metrics).

const exporter = new PrometheusExporter({ preventServerStart: true });
const provider = new MeterProvider({ readers: [exporter] });
metrics.setGlobalMeterProvider(provider);

/** receipt's samples as a scrape shows them, by series name and labels (the meter's scope label left out). */
async function scrape(): Promise<Map<string, number>> {
  const { resourceMetrics, errors } = await exporter.collect();
  assert.deepEqual(errors, []);
  const samples = new Map<string, number>();
  for (const line of new PrometheusSerializer().serialize(resourceMetrics).split('\n')) {
    const sample = /^(waygate_(?:receipt_webhook_lag|feed_callback)\w*)\{(.*)\} (\S+)$/.exec(line);
    if (!sample) continue;
    const labels = sample[2].split(',').filter((label) => label !== 'otel_scope_name="@waygate/receipt"');
    samples.set(`${sample[1]}{${labels.join(',')}}`, Number(sample[3]));
  }
  return samples;
}

let harness: ReceiptHarness;
before(async () => {
  harness = await startReceiptHarness();
});
after(async () => {
  await harness?.stop();
  await provider.shutdown();
});

test("webhook lag: seconds from a webhook's receipt (received_at) to its processing, per processed body", async () => {
  // Over HTTP: queued and processed at the same (frozen) simulator time, so no lag.
  const sent = statusWebhookJson(ACME.number, [{ id: 'wamid.lag1', status: 'sent', timestamp: '1795500000' }], ACME.wabaId);
  assert.equal((await harness.postWebhook(sent, ACME.appSecret)).status, 200);
  await waitFor(async () => (await scrape()).get('waygate_receipt_webhook_lag_count{}') === 1, { what: 'the first body measured' });
  // A body that waited 42 s in the queue (received by another replica, or before a restart).
  const waited = statusWebhookJson(ACME.number, [{ id: 'wamid.lag2', status: 'sent', timestamp: '1795500000' }], ACME.wabaId);
  const receivedAt = new Date(harness.sim.now() - 42_000);
  await publishEvent(
    harness.connection.js,
    regionSubjects('eu').whatsappWebhooks,
    WebhookReceived.encode({ body: Buffer.from(waited), receivedAt }).finish(),
    'webhook:metrics-test-waited',
  );
  await waitFor(async () => (await scrape()).get('waygate_receipt_webhook_lag_count{}') === 2, { what: 'the queued body measured' });
  const samples = await scrape();
  assert.equal(samples.get('waygate_receipt_webhook_lag_sum{}'), 42);
  assert.equal(samples.get('waygate_receipt_webhook_lag_bucket{le="0.01"}'), 1, 'the body processed at once');
  assert.equal(samples.get('waygate_receipt_webhook_lag_bucket{le="30"}'), 1);
  assert.equal(samples.get('waygate_receipt_webhook_lag_bucket{le="60"}'), 2, 'the body that waited 42 s');
});

test('callback dead letters are counted per tenant id when given up on, after an attempt or parked while the circuit is open', async (t) => {
  const nats = await startNatsServer();
  const dir = createTempDir();
  const sqliteFile = path.join(dir.path, 'receipt-feed.sqlite');
  const acmeEndpoint = await startCallbackReceiver(500);
  const globexEndpoint = await startCallbackReceiver(500);
  const tenants = parseTenants(
    tenantsYaml(
      (
        [
          ['acme', acmeEndpoint.url],
          ['globex', globexEndpoint.url],
        ] as const
      ).map(([id, url]) => ({
        id,
        homeRegion: 'eu' as const,
        apiKey: `key-${id}`,
        phoneNumberIds: [`pn-${id}`],
        callbacks: [{ id: 'crm', url, signingSecret: 'whsec' }],
      })),
    ),
  );
  const clock = manualClock();
  const publisher = await connectJetStream(nats.url, 'receipt-metrics-test');
  const feed = await startFeedInstance({
    natsUrl: nats.url,
    tenants,
    sqliteFile,
    clock,
    // Give up one second after queuing; the circuit opens after two failures in a row and stays open a minute.
    env: {
      WAYGATE_FEED_CALLBACK_RETRY_FOR_MS: '1000',
      WAYGATE_FEED_CALLBACK_BREAKER_FAILURES: '2',
      WAYGATE_FEED_CALLBACK_CONCURRENCY: '1',
    },
  });
  const inspect = new SqliteFeedStore(sqliteFile);
  t.after(async () => {
    await acmeEndpoint.close();
    await globexEndpoint.close();
    await feed.stop();
    await inspect.close();
    await publisher.nc.close();
    await nats.stop();
    dir.remove();
  });
  const sent = (tenantId: string, messageId: string) =>
    publishStatus(publisher.js, {
      eventId: `d:${tenantId}:${messageId}:sent`,
      tenantId,
      messageId,
      status: 'SENT',
      source: 'delivery',
      waMessageId: `wamid.${messageId}`,
      recipient: '+4915112345678',
    });
  await sent('acme', 'm1');
  for (const messageId of ['m1', 'm2', 'm3']) await sent('globex', messageId);
  await waitFor(
    async () =>
      acmeEndpoint.received.length === 1 &&
      (await inspect.getDelivery('acme', 'crm', 'status.m1.sent'))?.attempts === 1 &&
      (await inspect.getEndpoint('globex', 'crm'))?.consecutiveFailures === 2 &&
      (await inspect.getDelivery('globex', 'crm', 'status.m3.sent')) !== undefined,
    { what: "acme's first failure, globex's circuit open with its third callback queued" },
  );
  assert.equal((await scrape()).get('waygate_feed_callback_dead_letters_total{tenant="acme"}'), undefined, 'nothing given up yet');

  clock.advance(2000); // past the retry period of every delivery
  await waitFor(
    async () => {
      const samples = await scrape();
      return (
        samples.get('waygate_feed_callback_dead_letters_total{tenant="acme"}') === 1 &&
        samples.get('waygate_feed_callback_dead_letters_total{tenant="globex"}') === 3
      );
    },
    { what: "acme's delivery given up after its second attempt, globex's three parked" },
  );
  assert.equal(acmeEndpoint.received.length, 2);
  assert.equal(globexEndpoint.received.length, 2, 'parked without a call while the circuit is open');
  assert.equal((await inspect.listDeadLetters('acme', { limit: 10 })).length, 1);
  assert.equal((await inspect.listDeadLetters('globex', { limit: 10 })).length, 3);
});
