import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { status, type ServiceError } from '@grpc/grpc-js';
import { publishEvent, regionStreams, regionSubjects } from '@waygate/nats';
import { WebhookReceived } from '@waygate/proto';
import { waitFor } from '@waygate/testing';
import { ACME, startReceiptHarness, type ReceiptHarness } from '../testing/receipt-harness';

// Poison webhooks end to end through a real receipt (nats-server, media-store, the simulator): a correctly signed
// webhook with a pathologically deep field is answered 200, everything else in it is applied, the deep part is kept
// bounded, and nothing loops.

const DEPTH = 10_000;
let harness: ReceiptHarness;

before(async () => {
  harness = await startReceiptHarness();
});
after(async () => {
  await harness?.stop();
});

/** `{"a":{"a":…{"a":1}…}}`, `depth` levels, as JSON text (JSON.stringify cannot even build it). */
function deepJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const messageOf = (id: string, type: string, body: string) =>
  `{"from":"4915112349001","id":"${id}","timestamp":"1764072000","type":"${type}",${body}}`;

/** A webhook body of ACME's number with these messages (JSON texts) and statuses. */
function webhookBody(messages: string[], statuses: string[] = []): string {
  return `{"object":"whatsapp_business_account","entry":[{"id":"${ACME.wabaId}","changes":[{"field":"messages","value":{
    "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550102030","phone_number_id":"${ACME.number}"},
    "contacts":[{"profile":{"name":"Poison"},"wa_id":"4915112349001"}],
    "messages":[${messages.join(',')}],"statuses":[${statuses.join(',')}]}}]}]}`;
}

/** The inbound events of these wamids, once all are announced. */
async function announced(wamids: string[]) {
  return waitFor(
    () => {
      const byWamid = new Map(harness.inboundEvents.events.map((logged) => [logged.event.waMessageId, logged.event]));
      const all = wamids.map((wamid) => byWamid.get(wamid));
      return all.every(Boolean) ? all.map((event) => event!) : undefined;
    },
    { what: `inbound messages ${wamids.join(', ')} announced` },
  );
}

test('a signed webhook with a field nested 10,000 levels deep: 200, every other status and message applied, the deep part bounded, processed once', async () => {
  const sentWamid = 'wamid.POISON-SENT-1';
  await harness.publishSent({ tenantId: ACME.id, messageId: 'msg_poison_1', waMessageId: sentWamid, recipient: '+4915112349001' });
  const order = messageOf(
    'wamid.POISON-ORDER',
    'order',
    `"order":{"catalog_id":"cat-1","text":"my order","product_items":[{"product_retailer_id":"sku-1","quantity":1,"item_price":9.5,"currency":"EUR","extra":${deepJson(DEPTH)}}]}`,
  );
  const unknown = messageOf('wamid.POISON-UNKNOWN', 'future_type', `"future_type":{"payload":${deepJson(DEPTH)}}`);
  const text = messageOf('wamid.POISON-TEXT', 'text', '"text":{"body":"still here"}');
  const body = webhookBody(
    [order, unknown, text],
    [`{"id":"${sentWamid}","status":"delivered","timestamp":"1764072001","recipient_id":"4915112349001"}`],
  );

  const response = await harness.postWebhook(body, ACME.appSecret);
  assert.equal(response.status, 200);
  assert.deepEqual(response.json, { status: 'queued' });

  const inbound = await announced(['wamid.POISON-ORDER', 'wamid.POISON-UNKNOWN', 'wamid.POISON-TEXT']);
  const [orderEvent, unknownEvent, textEvent] = inbound;
  assert.equal(textEvent.text, 'still here');
  await waitFor(
    () =>
      harness.receiptEvents.events.find((logged) => logged.event.waMessageId === sentWamid && logged.event.messageId === 'msg_poison_1'),
    { what: 'the delivered status published' },
  );

  // The pathological fields are kept as bounded values with a marker; the useful parts of the order stay.
  for (const event of [orderEvent, unknownEvent]) assert.ok(event.contentJson.length < 70_000, `${event.type}: bounded content_json`);
  const orderContent = JSON.parse(orderEvent.contentJson) as {
    kind: string;
    truncated?: boolean;
    order: { catalog_id: string; product_items: Record<string, unknown>[] };
  };
  assert.equal(orderContent.kind, 'order');
  assert.equal(orderContent.truncated, true);
  assert.equal(orderContent.order.catalog_id, 'cat-1');
  assert.equal(orderContent.order.product_items[0].product_retailer_id, 'sku-1');
  assert.match(orderEvent.contentJson, /nested deeper than 32 levels/);
  assert.equal((JSON.parse(unknownEvent.contentJson) as { kind: string; truncated?: boolean }).truncated, true);

  // Processed once: one log line for the webhook (naming what was truncated), no retries, nothing dead-lettered. The
  // line follows the announcements the test already saw, so it is awaited; the ack after it proves nothing else came.
  const processed = await waitFor(() => harness.logs.filter((line) => line.includes('"webhook processed"')), {
    until: (lines) => lines.length >= 1,
    what: 'the webhook processed line',
  });
  assert.equal(processed.length, 1);
  assert.match(processed[0], /order content truncated/);
  assert.equal(harness.logs.filter((line) => line.includes('nested too deep replaced')).length, 1, 'intake says so once');
  assert.equal(harness.logs.filter((line) => /handler failed|dead-letter|Maximum call stack/.test(line)).length, 0);
  const info = await harness.connection.jsm.consumers.info(regionStreams('eu').webhooks.name, 'receipt-webhooks');
  assert.equal(info.num_redelivered, 0);
  assert.equal((await harness.deadLetters({ consumer: 'receipt-webhooks' })).deadLetters.length, 0);
  assert.ok(!harness.logs.some((line) => line.includes('still here') || line.includes('my order')), 'no content in the logs');
});

test('a deep body queued before the intake bounded depth (an earlier version) is processed once, its deep parts bounded', async () => {
  const before = harness.logs.filter((line) => /"webhook processed"|handler failed|postponed/.test(line)).length;
  const body = webhookBody([
    messageOf('wamid.QUEUED-SYSTEM', 'system', `"system":{"body":"changed","type":"user_changed_number","x":${deepJson(DEPTH)}}`),
    messageOf('wamid.QUEUED-CONTACTS', 'contacts', `"contacts":[{"name":{"formatted_name":"Sam"}},{"deep":${deepJson(DEPTH)}}]`),
    messageOf('wamid.QUEUED-TEXT', 'text', '"text":{"body":"queued"}'),
  ]);
  await publishEvent(
    harness.connection.js,
    regionSubjects('eu').whatsappWebhooks,
    WebhookReceived.encode({ body: Buffer.from(body), receivedAt: new Date() }).finish(),
    'webhook:queued-deep',
  );
  const [system, contacts, text] = await announced(['wamid.QUEUED-SYSTEM', 'wamid.QUEUED-CONTACTS', 'wamid.QUEUED-TEXT']);
  assert.equal(text.text, 'queued');
  const systemContent = JSON.parse(system.contentJson) as { truncated?: boolean; system: { type: string } };
  assert.deepEqual([systemContent.truncated, systemContent.system.type], [true, 'user_changed_number']);
  const contactsContent = JSON.parse(contacts.contentJson) as { truncated?: boolean; contacts: { name?: unknown }[] };
  assert.equal(contactsContent.truncated, true);
  assert.deepEqual(contactsContent.contacts[0], { name: { formatted_name: 'Sam' } });
  await waitFor(() => harness.logs.filter((line) => /"webhook processed"|handler failed|postponed/.test(line)).slice(before), {
    until: (lines) => lines.some((line) => line.includes('"webhook processed"')),
    timeoutMs: 30_000,
    what: 'the webhook processed',
  });
  assert.equal(harness.logs.filter((line) => /handler failed|Maximum call stack/.test(line)).length, 0);
});

test("a queued message that can never be processed is dead-lettered at once, with one log line, and listed by receipt's admin API", async () => {
  await publishEvent(
    harness.connection.js,
    regionSubjects('eu').whatsappWebhooks,
    new Uint8Array([0xff, 0xff, 0xff, 0x01]),
    'webhook:not-a-webhook-received',
  );
  const [letter] = await waitFor(
    async () => {
      const page = await harness.deadLetters({ consumer: 'receipt-webhooks' });
      return page.deadLetters.length > 0 ? page.deadLetters : undefined;
    },
    { what: 'the dead letter' },
  );
  assert.deepEqual(
    [letter.consumer, letter.reasonKind, letter.reason, letter.deliveryCount, letter.sizeBytes],
    ['receipt-webhooks', 'rejected', 'rejected: not a valid WebhookReceived', 1, 4],
  );
  assert.equal(letter.originalSubject, regionSubjects('eu').whatsappWebhooks);
  assert.equal(harness.logs.filter((line) => line.includes('message moved to the dead-letter stream')).length, 1);
  // All of receipt's consumers by default; a tenant's API key may not look.
  assert.equal((await harness.deadLetters({})).deadLetters.length, 1);
  await assert.rejects(harness.deadLetters({}, ACME.apiKey), (error: unknown) => {
    assert.equal((error as ServiceError).code, status.UNAUTHENTICATED);
    return true;
  });
});

test('a signed webhook larger than a JetStream message (2.7 MB; Meta sends up to 3 MB) is queued in parts: 200, everything applied', async () => {
  const before = await harness.queuedWebhooks();
  const wamids = ['wamid.LARGE-1', 'wamid.LARGE-2', 'wamid.LARGE-3'];
  // Each message about 900 KB: together three times what nats-server's default max_payload (1 MB) holds.
  const body = webhookBody(wamids.map((id, i) => messageOf(id, 'text', `"text":{"body":"${String(i).repeat(900_000)}"}`)));
  assert.ok(body.length > 2.5 * 1024 * 1024, `${body.length} bytes`);
  const response = await harness.postWebhook(body, ACME.appSecret);
  assert.equal(response.status, 200, JSON.stringify(response.json));
  assert.deepEqual(response.json, { status: 'queued' });
  assert.equal(await harness.queuedWebhooks(), before + 3, 'one queued part per message');
  const events = await announced(wamids);
  assert.deepEqual(
    events.map((event) => event.text.length),
    [16_384, 16_384, 16_384],
    'texts bounded as any text',
  );
  assert.ok(harness.logs.some((line) => line.includes('large webhook queued in parts') && line.includes('"parts":3')));
});
