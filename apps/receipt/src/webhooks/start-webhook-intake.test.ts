import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fromProtoStatus } from '@waygate/contracts';
import { regionStreams } from '@waygate/nats';
import { waitFor } from '@waygate/testing';
import { ACME, GLOBEX, INITECH_US, LENA_SHOP, startReceiptHarness, type ReceiptHarness } from '../testing/receipt-harness';
import { statusWebhookJson } from './testing/status-webhook';

// Webhook intake over real HTTP, and statuses end to end: simulator -> receipt -> JetStream, with real nats-server,
// SQLite and media-store.

let harness: ReceiptHarness;
const CUSTOMER = '4915112345678';

before(async () => {
  harness = await startReceiptHarness();
});
after(async () => {
  await harness?.stop();
});

const acmeBody = statusWebhookJson(ACME.number, [{ id: 'wamid.intake', status: 'sent', timestamp: '1795500000' }], ACME.wabaId);

/** Waits until one of receipt's durable consumers has nothing pending or unacknowledged. */
async function consumerIdle(stream: string, durable: string): Promise<void> {
  await waitFor(
    async () => {
      const info = await harness.connection.jsm.consumers.info(stream, durable);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    { what: `${durable} idle` },
  );
}

const webhooksProcessed = () => consumerIdle(regionStreams('eu').webhooks.name, 'receipt-webhooks');
const deliveryEventsProcessed = () => consumerIdle(regionStreams('eu').events.name, 'receipt-delivery-events');

/** Sends a text from a tenant's number through the simulator's Cloud API, as delivery-retry does; returns the wamid. */
async function sendThroughSimulator(tenant: { number: string; token: string }, to = CUSTOMER): Promise<string> {
  const response = await fetch(`${harness.sim.url}/v23.0/${tenant.number}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messaging_product: 'whatsapp', to: `+${to}`, type: 'text', text: { body: 'Your order shipped' } }),
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { messages: { id: string }[] }).messages[0].id;
}

type RawPricing = { billable?: boolean; pricing_model: string; type?: string; category: string };
type StatusBody = {
  entry: { changes: { value: { statuses?: { id: string; status: string; timestamp: string; pricing?: RawPricing }[] } }[] }[];
};

/** Meta's timestamp (ms) of every status the simulator posted, by `<wamid>:<status>`. */
function simulatorTimestamps(): Map<string, number> {
  const timestamps = new Map<string, number>();
  for (const delivery of harness.sim.webhookDeliveries()) {
    const body = JSON.parse(delivery.body) as StatusBody;
    for (const entry of body.entry) {
      for (const change of entry.changes) {
        for (const status of change.value.statuses ?? []) timestamps.set(`${status.id}:${status.status}`, Number(status.timestamp) * 1000);
      }
    }
  }
  return timestamps;
}

/**
 * Waits until the simulator's POSTs carrying `count` statuses of `wamid` were answered 200 (the simulator posts in
 * real time, after `advanceTime` ran the tasks that produced them).
 */
async function statusesDelivered(wamid: string, count = 3): Promise<void> {
  await waitFor(
    () =>
      harness.sim
        .webhookDeliveries()
        .filter((delivery) => delivery.responseStatus === 200 && !delivery.duplicateOf)
        .flatMap((delivery) => delivery.statuses.filter((status) => status.id === wamid)).length >= count,
    { what: `${count} statuses of ${wamid} delivered to receipt` },
  );
}

/** Meta's pricing of every status the simulator posted, by `<wamid>:<status>` (absent: no pricing). */
function simulatorPricing(): Map<string, RawPricing | undefined> {
  const pricing = new Map<string, RawPricing | undefined>();
  for (const delivery of harness.sim.webhookDeliveries()) {
    for (const entry of (JSON.parse(delivery.body) as StatusBody).entry) {
      for (const change of entry.changes)
        for (const status of change.value.statuses ?? []) pricing.set(`${status.id}:${status.status}`, status.pricing);
    }
  }
  return pricing;
}

/** Every status event of `wamid` carries Meta's pricing of that status, field for field (or none when Meta sent none). */
function assertMetaPricing(wamid: string): number {
  const pricing = simulatorPricing();
  let priced = 0;
  for (const { event } of statusEventsOf(wamid)) {
    const key = `${wamid}:${String(fromProtoStatus(event.status)).toLowerCase()}`;
    const raw = pricing.get(key);
    const expected = raw && { billable: raw.billable, pricingModel: raw.pricing_model, type: raw.type ?? '', category: raw.category };
    assert.deepEqual(event.pricing, expected, key);
    if (expected) priced += 1;
  }
  return priced;
}

function statusEventsOf(wamid: string) {
  return harness.receiptEvents.events.filter((logged) => logged.event.waMessageId === wamid);
}

/** Every status event of `wamid` carries Meta's timestamp of that status. */
function assertMetaTimestamps(wamid: string): void {
  const timestamps = simulatorTimestamps();
  for (const { event } of statusEventsOf(wamid)) {
    const key = `${wamid}:${String(fromProtoStatus(event.status)).toLowerCase()}`;
    assert.equal(event.occurredAt?.getTime(), timestamps.get(key), key);
  }
}

describe('webhook intake', () => {
  test('subscription handshake echoes the challenge only for a known verify token', async () => {
    const ok = await fetch(`${harness.webhookUrl()}?hub.mode=subscribe&hub.verify_token=verify-acme&hub.challenge=12345`);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), '12345');
    assert.ok(ok.headers.get('x-content-type-options'), 'helmet headers are set');
    const wrong = await fetch(`${harness.webhookUrl()}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=12345`);
    assert.equal(wrong.status, 403);
    assert.match(String(((await wrong.json()) as { error: string }).error), /verify token/);
  });

  test("a forged, missing or malformed signature, or another WABA's app secret, is 401 JSON and nothing is queued", async () => {
    const before = await harness.queuedWebhooks();
    for (const secret of ['forged-secret', GLOBEX.appSecret, LENA_SHOP.appSecret, INITECH_US.appSecret, undefined]) {
      const { status, json } = await harness.postWebhook(acmeBody, secret);
      assert.equal(status, 401, String(secret));
      assert.match(String(json.error), /X-Hub-Signature-256/);
    }
    const malformed = await fetch(harness.webhookUrl(), {
      method: 'POST',
      body: acmeBody,
      headers: { 'x-hub-signature-256': 'sha256=00' },
    });
    assert.equal(malformed.status, 401);
    assert.equal(await harness.queuedWebhooks(), before);
    assert.ok(harness.logs.some((line) => line.includes('webhook refused')));
  });

  test('a body over 3 MB is 413 JSON and nothing is queued', async () => {
    const before = await harness.queuedWebhooks();
    const big = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: ACME.wabaId, padding: 'x'.repeat(3 * 1024 * 1024) }] });
    const { status, json } = await harness.postWebhook(big, ACME.appSecret);
    assert.equal(status, 413);
    assert.match(String(json.error), /exceeds/);
    assert.equal(await harness.queuedWebhooks(), before);
  });

  test('a validly signed but malformed payload is answered 200, logged without content, and nothing is applied', async () => {
    const before = await harness.queuedWebhooks();
    const secretWords = 'SECRET-CONTENT-4915112345678';
    for (const body of [
      `{not json ${secretWords}`,
      JSON.stringify({ object: 'page', note: secretWords }),
      '{"object":"whatsapp_business_account"}',
    ]) {
      const { status, json } = await harness.postWebhook(body, ACME.appSecret);
      assert.equal(status, 200, body);
      assert.equal(json.status, 'ignored');
    }
    assert.equal(await harness.queuedWebhooks(), before, 'nothing with no WABA to apply it to is queued');
    // Shaped like Meta's but with nothing usable in it: queued (its WABA is acme's), parsed, nothing applied.
    const events = harness.receiptEvents.events.length + harness.inboundEvents.events.length;
    const unusable = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: ACME.wabaId, changes: [{ field: 'messages', value: secretWords }] }],
    });
    assert.equal((await harness.postWebhook(unusable, ACME.appSecret)).status, 200);
    await webhooksProcessed();
    assert.equal(harness.receiptEvents.events.length + harness.inboundEvents.events.length, events);
    assert.ok(!harness.logs.join('').includes(secretWords), 'logs carry no content');
  });

  test('a signed webhook is queued durably before 200; an identical retry is stored once', async () => {
    const before = await harness.queuedWebhooks();
    for (let i = 0; i < 2; i++) {
      const { status, json } = await harness.postWebhook(acmeBody, ACME.appSecret);
      assert.equal(status, 200);
      assert.deepEqual(json, { status: 'queued' });
    }
    assert.equal(await harness.queuedWebhooks(), before + 1);
  });

  test('webhooks of a WABA homed in another region are answered 200, and nothing about them is queued, stored or published', async () => {
    const before = await harness.queuedWebhooks();
    const inboundBefore = harness.inboundEvents.events.length;
    const { messageId } = harness.sim.sendInbound({ type: 'text', from: CUSTOMER, text: 'Hello from the US' }, INITECH_US.number);
    const wamid = await sendThroughSimulator(INITECH_US);
    await harness.sim.advanceTime(1000);
    await statusesDelivered(wamid);
    await waitFor(
      () => harness.sim.webhookDeliveries().some((d) => d.messages.some((m) => m.id === messageId) && d.responseStatus === 200),
      {
        what: 'the inbound message answered 200',
      },
    );
    assert.equal(await harness.queuedWebhooks(), before);
    await webhooksProcessed();
    assert.equal(harness.inboundEvents.events.length, inboundBefore);
    assert.equal(statusEventsOf(wamid).length, 0);
  });
});

describe('statuses', () => {
  test('a status before the send response is held, and released with the recipient once delivery-retry records the wamid', async () => {
    const wamid = await sendThroughSimulator(ACME);
    await harness.sim.advanceTime(1000);
    await statusesDelivered(wamid);
    await webhooksProcessed();
    assert.equal(statusEventsOf(wamid).length, 0, 'held: the wamid is not known yet');

    await harness.publishSent({ tenantId: ACME.id, messageId: 'msg_held', waMessageId: wamid, recipient: `+${CUSTOMER}` });
    await waitFor(() => statusEventsOf(wamid).length === 3, { what: 'held statuses released' });
    for (const { msgId, event } of statusEventsOf(wamid)) {
      assert.equal(msgId, `wa:${wamid}:${String(fromProtoStatus(event.status)).toLowerCase()}`);
      assert.deepEqual([event.tenantId, event.messageId, event.recipient], [ACME.id, 'msg_held', `+${CUSTOMER}`]);
    }
    assertMetaTimestamps(wamid);
    assert.ok(assertMetaPricing(wamid) >= 1, "Meta's pricing is carried on the statuses that had it");
  });

  test('held statuses survive a restart between hold and release', async () => {
    const wamid = await sendThroughSimulator(ACME, '4915100000001');
    await harness.sim.advanceTime(1000);
    await statusesDelivered(wamid);
    await webhooksProcessed();
    await harness.restartReceipt();
    await harness.publishSent({ tenantId: ACME.id, messageId: 'msg_restart', waMessageId: wamid, recipient: '+4915100000001' });
    await waitFor(() => statusEventsOf(wamid).length === 3, { what: 'statuses held before the restart released' });
  });

  test("batched statuses are all published, each with Meta's timestamp", async () => {
    const wamids: string[] = [];
    for (const [index, to] of ['4915100000011', '4915100000012', '4915100000013'].entries()) {
      const wamid = await sendThroughSimulator(ACME, to);
      wamids.push(wamid);
      await harness.publishSent({ tenantId: ACME.id, messageId: `msg_batch_${index}`, waMessageId: wamid, recipient: `+${to}` });
    }
    await harness.sim.advanceTime(1000);
    for (const wamid of wamids) await statusesDelivered(wamid);
    const batched = harness.sim.webhookDeliveries().filter((d) => d.statuses.filter((s) => wamids.includes(s.id)).length > 1);
    assert.ok(batched.length > 0, 'the simulator batched several statuses into one POST');
    await waitFor(() => wamids.every((wamid) => statusEventsOf(wamid).length === 3), { what: 'every batched status published' });
    for (const wamid of wamids) assertMetaTimestamps(wamid);
  });

  test("out-of-order statuses are published as they arrive, with Meta's timestamps (ordering is the feed's job)", async () => {
    const to = '4915100000021';
    harness.sim.injectWebhookFaults({ fault: 'read_before_delivered', count: 1, recipient: to });
    const wamid = await sendThroughSimulator(ACME, to);
    await harness.publishSent({ tenantId: ACME.id, messageId: 'msg_ooo', waMessageId: wamid, recipient: `+${to}` });
    await harness.sim.advanceTime(1000);
    await waitFor(() => statusEventsOf(wamid).length === 3, { what: 'all three statuses' });
    const order = statusEventsOf(wamid).map(({ event }) => fromProtoStatus(event.status));
    assert.ok(order.indexOf('READ') < order.indexOf('DELIVERED'), `read arrived first: ${order.join(', ')}`);
    assertMetaTimestamps(wamid);
  });

  test('a webhook Meta delivers twice has one effect', async () => {
    const to = '4915100000031';
    harness.sim.injectWebhookFaults({ fault: 'duplicate', count: 1, recipient: to });
    const wamid = await sendThroughSimulator(ACME, to);
    await harness.publishSent({ tenantId: ACME.id, messageId: 'msg_dup', waMessageId: wamid, recipient: `+${to}` });
    await harness.sim.advanceTime(60_000);
    await statusesDelivered(wamid);
    await waitFor(
      () =>
        harness.sim.webhookDeliveries().some((d) => d.duplicateOf && d.statuses.some((s) => s.id === wamid) && d.responseStatus === 200),
      { what: 'the duplicate delivered' },
    );
    await waitFor(() => statusEventsOf(wamid).length >= 3, { what: 'statuses' });
    await webhooksProcessed();
    const ids = statusEventsOf(wamid).map((logged) => logged.msgId);
    assert.equal(ids.length, 3, `one event per status: ${ids.join(', ')}`);
    assert.equal(new Set(ids).size, 3);
  });

  test('statuses of a number homed in another region are not stored: recording its wamid later releases nothing', async () => {
    const wamid = await sendThroughSimulator(INITECH_US, '4915100000041');
    await harness.sim.advanceTime(1000);
    await statusesDelivered(wamid);
    await webhooksProcessed();
    await harness.publishSent({ tenantId: INITECH_US.id, messageId: 'msg_us', waMessageId: wamid, recipient: '+4915100000041' });
    await deliveryEventsProcessed();
    assert.equal(statusEventsOf(wamid).length, 0);
  });
});
