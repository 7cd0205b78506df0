import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { publishEvent, regionSubjects } from '@waygate/nats';
import {
  MessageStatus,
  MessageStatusChanged,
  SendMessageRequest,
  StatusSource,
  type Message,
  type SendMessageResponse,
} from '@waygate/proto';
import { waitFor } from '@waygate/testing';
import { startIngressHarness, type IngressHarness } from './testing/ingress-harness';

// ingress's message metrics through the real path: gRPC SendMessage and status events on JetStream, counted by the
// service as wired in server.ts, rendered by OTel's Prometheus exporter (the one that serves /metrics).

const exporter = new PrometheusExporter({ preventServerStart: true });
const provider = new MeterProvider({ readers: [exporter] });
metrics.setGlobalMeterProvider(provider);

const CUSTOMER = '+4915112345678';

let harness: IngressHarness;

before(async () => {
  harness = await startIngressHarness({
    tenants: [
      { id: 'acme', homeRegion: 'eu', apiKey: 'key-acme', phoneNumberIds: ['200'] },
      { id: 'globex', homeRegion: 'eu', apiKey: 'key-globex', phoneNumberIds: ['300'] },
    ],
  });
  // Free-form text needs an open customer-service window: the customer writes to each tenant's number first. Waited
  // for in ingress's view itself, since a probe send would be counted.
  await harness.customerWrites({ tenantId: 'acme', phoneNumberId: '200', from: CUSTOMER, waMessageId: 'wamid.hello-acme' });
  await harness.customerWrites({ tenantId: 'globex', phoneNumberId: '300', from: CUSTOMER, waMessageId: 'wamid.hello-globex' });
  await harness.waitForCustomerWindows(2);
});

after(async () => {
  await harness?.stop();
  await provider.shutdown();
});

function send(apiKey: string, idempotencyKey: string): Promise<SendMessageResponse> {
  const request = SendMessageRequest.fromPartial({
    to: CUSTOMER,
    content: { $case: 'text', value: { body: 'your order shipped', previewUrl: false } },
    idempotencyKey,
  });
  return harness.unary<SendMessageResponse>('sendMessage', request, apiKey);
}

async function publishStatus(eventId: string, messageId: string, status: MessageStatus, source: StatusSource): Promise<void> {
  const subjects = regionSubjects('eu');
  const data = MessageStatusChanged.encode(
    MessageStatusChanged.fromPartial({ eventId, tenantId: 'acme', messageId, status, source, occurredAt: new Date() }),
  ).finish();
  await publishEvent(
    harness.events.js,
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
      harness.unary<Message>('getMessage', { messageId: first.messageId }, 'key-acme').then(
        (message) => message.timeline.length === 5,
        () => false,
      ),
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
