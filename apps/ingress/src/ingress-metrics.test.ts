import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import Database from 'better-sqlite3';
import { connectJetStream, publishEvent, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import {
  InboundMessageReceived,
  MessageStatus,
  MessageStatusChanged,
  MessagingServiceClient,
  SendMessageRequest,
  StatusSource,
  type SendMessageResponse,
} from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { createTempDir, startNatsServer, tenantsYaml, waitFor, type NatsServerHandle } from '@waygate/testing';
import { loadIngressConfig } from './config';
import { startIngress } from './server';

// ingress's message metrics through the real path: gRPC SendMessage and status events on JetStream, counted by the
// service as wired in server.ts, rendered by OTel's Prometheus exporter (the one that serves /metrics).

const exporter = new PrometheusExporter({ preventServerStart: true });
const provider = new MeterProvider({ readers: [exporter] });
metrics.setGlobalMeterProvider(provider);

const CUSTOMER = '+4915112345678';
const TENANTS_YAML = tenantsYaml([
  { id: 'acme', homeRegion: 'eu', apiKey: 'key-acme', phoneNumberIds: ['200'] },
  { id: 'globex', homeRegion: 'eu', apiKey: 'key-globex', phoneNumberIds: ['300'] },
]);
const logger = createLogger({ service: 'ingress-test', destination: new Writable({ write: (_chunk, _encoding, done) => done() }) });

let nats: NatsServerHandle;
let dir: ReturnType<typeof createTempDir>;
let ingress: Awaited<ReturnType<typeof startIngress>>;
let client: MessagingServiceClient;
let events: JetStreamConnection;

before(async () => {
  nats = await startNatsServer();
  dir = createTempDir();
  const tenantsFile = path.join(dir.path, 'tenants.yaml');
  writeFileSync(tenantsFile, TENANTS_YAML);
  ingress = await startIngress(
    loadIngressConfig({
      WAYGATE_REGION: 'eu',
      WAYGATE_NATS_URL: nats.url,
      WAYGATE_TENANTS_FILE: tenantsFile,
      WAYGATE_GRPC_PORT: '0',
      WAYGATE_STORAGE: 'sqlite',
      WAYGATE_DATA_DIR: path.join(dir.path, 'data'),
      // Never called here (no CancelMessage); the channel connects lazily.
      WAYGATE_DELIVERY_ADDRESS: '127.0.0.1:1',
      WAYGATE_INTERNAL_SERVICE_TOKEN: 'internal-token-0123456789abcdef0123456789',
    }),
    logger,
  );
  client = new MessagingServiceClient(`127.0.0.1:${ingress.grpcPort}`, credentials.createInsecure());
  events = await connectJetStream(nats.url, 'ingress-metrics-test');
  // Free-form text needs an open customer-service window: the customer writes to each tenant's number first. Waited
  // for in ingress's view itself, since a probe send would be counted.
  for (const [tenantId, phoneNumberId] of [
    ['acme', '200'],
    ['globex', '300'],
  ]) {
    const occurredAt = new Date();
    const inbound = InboundMessageReceived.fromPartial({
      eventId: `wa:in:wamid.hello-${tenantId}`,
      tenantId,
      phoneNumberId,
      from: CUSTOMER,
      waMessageId: `wamid.hello-${tenantId}`,
      occurredAt,
      type: 'text',
      serviceWindowClosesAt: new Date(occurredAt.getTime() + 86_400_000),
    });
    await publishEvent(events.js, regionSubjects('eu').inboundEvents, InboundMessageReceived.encode(inbound).finish(), inbound.eventId);
  }
  const view = new Database(path.join(dir.path, 'data', 'eu', 'ingress-customers.sqlite'), { readonly: true });
  try {
    await waitFor(() => view.prepare('SELECT COUNT(*) FROM customer_windows').pluck().get() === 2, { what: "the customers' windows" });
  } finally {
    view.close();
  }
});

after(async () => {
  client?.close();
  await ingress?.stop();
  await events?.nc.close();
  await nats?.stop();
  dir?.remove();
  await provider.shutdown();
});

function send(apiKey: string, idempotencyKey: string): Promise<SendMessageResponse> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${apiKey}`);
  const request = SendMessageRequest.fromPartial({
    to: CUSTOMER,
    content: { $case: 'text', value: { body: 'your order shipped', previewUrl: false } },
    idempotencyKey,
  });
  return new Promise((resolve, reject) =>
    client.sendMessage(request, metadata, (error: ServiceError | null, response) => (error ? reject(error) : resolve(response))),
  );
}

async function publishStatus(eventId: string, messageId: string, status: MessageStatus, source: StatusSource): Promise<void> {
  const subjects = regionSubjects('eu');
  const data = MessageStatusChanged.encode(
    MessageStatusChanged.fromPartial({ eventId, tenantId: 'acme', messageId, status, source, occurredAt: new Date() }),
  ).finish();
  await publishEvent(
    events.js,
    source === StatusSource.STATUS_SOURCE_DELIVERY ? subjects.deliveryEvents : subjects.receiptEvents,
    data,
    eventId,
  );
}

/** ingress's series as a scrape shows them, by name and labels (the meter's scope label left out). */
async function scrape(): Promise<Map<string, number>> {
  const { resourceMetrics, errors } = await exporter.collect();
  assert.deepEqual(errors, []);
  const series = new Map<string, number>();
  for (const line of new PrometheusSerializer().serialize(resourceMetrics).split('\n')) {
    const sample = /^(waygate_(?:ingress|messages)_\S+)\{(.*),otel_scope_name="@waygate\/ingress"\} (\S+)$/.exec(line);
    if (sample) series.set(`${sample[1]}{${sample[2]}}`, Number(sample[3]));
  }
  return series;
}

test('accepted messages and applied status changes are counted per tenant id, once each, and scraped under the dashboard names', async () => {
  const first = await send('key-acme', 'k1');
  assert.equal((await send('key-acme', 'k1')).messageId, first.messageId, 'an idempotent replay');
  await send('key-acme', 'k2');
  await send('key-globex', 'k1');

  // delivery-retry's SENT, then the webhooks: sent (same status again), read before delivered (implies it), delivered late.
  await publishStatus(
    `${first.messageId}:delivery:sent:1`,
    first.messageId,
    MessageStatus.MESSAGE_STATUS_SENT,
    StatusSource.STATUS_SOURCE_DELIVERY,
  );
  await publishStatus('wa:wamid.1:sent', first.messageId, MessageStatus.MESSAGE_STATUS_SENT, StatusSource.STATUS_SOURCE_WEBHOOK);
  await publishStatus('wa:wamid.1:read', first.messageId, MessageStatus.MESSAGE_STATUS_READ, StatusSource.STATUS_SOURCE_WEBHOOK);
  await publishStatus('wa:wamid.1:delivered', first.messageId, MessageStatus.MESSAGE_STATUS_DELIVERED, StatusSource.STATUS_SOURCE_WEBHOOK);
  await waitFor(async () => (await scrape()).get('waygate_messages_status_changes_total{tenant="acme",status="READ"}') === 1, {
    what: 'the READ counted',
  });
  // The last event (a late DELIVERED) is applied after READ; wait for it in the timeline before the final scrape.
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const metadata = new Metadata();
        metadata.set('authorization', 'Bearer key-acme');
        client.getMessage({ messageId: first.messageId }, metadata, (error, response) => resolve(!error && response.timeline.length === 5));
      }),
    { what: 'every status event applied' },
  );
  assert.deepEqual(Object.fromEntries(await scrape()), {
    'waygate_ingress_messages_accepted_total{tenant="acme"}': 2,
    'waygate_ingress_messages_accepted_total{tenant="globex"}': 1,
    'waygate_messages_status_changes_total{tenant="acme",status="ACCEPTED"}': 2,
    'waygate_messages_status_changes_total{tenant="acme",status="SENT"}': 1,
    'waygate_messages_status_changes_total{tenant="acme",status="DELIVERED"}': 1,
    'waygate_messages_status_changes_total{tenant="acme",status="READ"}': 1,
    'waygate_messages_status_changes_total{tenant="globex",status="ACCEPTED"}': 1,
  });
  const text = new PrometheusSerializer().serialize((await exporter.collect()).resourceMetrics);
  assert.ok(!text.includes(CUSTOMER.slice(1)), 'no phone number in any label');
});
