/**
 * Webhook delivery as Meta does it, driven by the simulated clock: time is frozen (scale 0) and moved with
 * advanceTime, so 7-day retry schedules and 30-day device windows run in milliseconds. Real HTTP over loopback.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { waitFor } from '@waygate/testing';
import { computeWebhookSignature, startSimulator, type SimulatorEvent, type SimulatorOptions, type WhatsAppSimulator } from '../index';
import {
  TEST_APP_SECRET,
  TEST_PHONE,
  control,
  postMessage,
  receivedStatuses,
  startWebhookReceiver,
  textMessage,
  type WebhookReceiver,
} from '../test-helpers';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const STATUS_DELAY_MS = 1_000;
/** How long a test waits for webhooks over loopback: time is frozen, so this only matters on a loaded machine. */
const WAIT_MS = 10_000;
const ALICE = '4915112345678';
const BOB = '4917000000002';

let simulator: WhatsAppSimulator;
let receiver: WebhookReceiver;
/** Every status the simulator decided to send ("<wamid> <status>"), reported through onEvent before its webhook goes out. */
let emitted: string[] = [];

function recordEmitted(event: SimulatorEvent): void {
  if (event.type === 'status_emitted') emitted.push(`${event.wamid} ${event.status}`);
}

async function start(options: Partial<SimulatorOptions> = {}): Promise<void> {
  emitted = [];
  simulator = await startSimulator({
    onEvent: recordEmitted,
    appSecret: TEST_APP_SECRET,
    phoneNumbers: [TEST_PHONE],
    statusDelayMs: STATUS_DELAY_MS,
    timeScale: 0,
    enforceCustomerServiceWindow: false,
    webhookUrl: receiver.url,
    seed: 3,
    ...options,
  });
}

beforeEach(async () => {
  receiver = await startWebhookReceiver();
});

afterEach(async () => {
  await simulator.stop();
  await receiver.close();
});

async function sendText(to: string): Promise<string> {
  const { status, json } = await postMessage(simulator.url, textMessage(to));
  assert.equal(status, 200, JSON.stringify(json));
  return json.messages?.[0]?.id ?? assert.fail('no wamid');
}

function statusNames(wamid: string): string[] {
  return receivedStatuses(receiver, wamid).map((status) => status.status);
}

async function waitForStatuses(wamid: string, expected: string[]): Promise<void> {
  await waitFor(() => statusNames(wamid).length >= expected.length, { timeoutMs: WAIT_MS, what: `${expected.join(',')} for ${wamid}` });
  assert.deepEqual(statusNames(wamid), expected);
}

/** The emitted statuses the receiver has not got (yet). */
function notYetReceived(): string[] {
  const received = receivedStatuses(receiver).map((status) => `${status.id} ${status.status}`);
  return emitted.filter((status) => {
    const index = received.indexOf(status);
    if (index !== -1) received.splice(index, 1);
    return index === -1;
  });
}

/**
 * Waits until the receiver has every status the simulator emitted so far. Simulated time is frozen and advanceTime
 * returns only after the tasks that fell due ran, and they emit synchronously: once the receiver has all of them,
 * a status it lacks was never sent, rather than still in flight. Used before asserting that something did not come.
 */
async function waitForEmittedStatuses(): Promise<void> {
  await waitFor(notYetReceived, {
    until: (missing) => missing.length === 0,
    timeoutMs: WAIT_MS,
    what: 'every emitted status at the receiver',
  });
}

describe('status webhooks', () => {
  beforeEach(() => start());

  it("echoes the send's biz_opaque_callback_data in every status of the message, as Meta does", async () => {
    const { status, json } = await postMessage(simulator.url, { ...textMessage(ALICE), biz_opaque_callback_data: 'msg_42' });
    assert.equal(status, 200, JSON.stringify(json));
    const wamid = json.messages?.[0]?.id ?? assert.fail('no wamid');
    await waitForStatuses(wamid, ['sent']);
    await simulator.advanceTime(STATUS_DELAY_MS);
    await simulator.advanceTime(STATUS_DELAY_MS);
    await waitForStatuses(wamid, ['sent', 'delivered', 'read']);
    assert.deepEqual(
      receivedStatuses(receiver, wamid).map((s) => s.biz_opaque_callback_data),
      ['msg_42', 'msg_42', 'msg_42'],
    );
  });

  it('sends sent, then delivered and read as simulated time passes, signed over the exact bytes', async () => {
    const wamid = await sendText(ALICE);
    await waitForStatuses(wamid, ['sent']);
    await simulator.advanceTime(STATUS_DELAY_MS);
    await waitForStatuses(wamid, ['sent', 'delivered']);
    await simulator.advanceTime(STATUS_DELAY_MS);
    await waitForStatuses(wamid, ['sent', 'delivered', 'read']);
    for (const request of receiver.requests) {
      assert.equal(request.headers['x-hub-signature-256'], computeWebhookSignature(TEST_APP_SECRET, request.rawBody.toString('utf8')));
    }
    const [sent, delivered, read] = receivedStatuses(receiver, wamid);
    assert.equal(Number(delivered?.timestamp) - Number(sent?.timestamp), STATUS_DELAY_MS / 1000, 'Meta timestamps follow simulated time');
    assert.ok(sent?.pricing && delivered?.pricing, 'pricing on sent and delivered');
    assert.equal(read?.pricing, undefined, 'no pricing on read after a delivered');
  });

  it('batches statuses that are due together into one POST', async () => {
    const wamids = [await sendText(ALICE), await sendText(BOB), await sendText('4917000000003')];
    await waitFor(() => receivedStatuses(receiver).length === 3, { timeoutMs: WAIT_MS, what: 'three sent statuses' });
    const before = receiver.requests.length;
    await simulator.advanceTime(STATUS_DELAY_MS);
    await waitFor(() => receivedStatuses(receiver).filter((status) => status.status === 'delivered').length === 3, {
      timeoutMs: WAIT_MS,
      what: 'delivered',
    });
    assert.equal(receiver.requests.length - before, 1, 'three delivered statuses in a single webhook');
    const batch = receiver.webhooks().at(-1);
    assert.deepEqual(
      batch?.entry[0]?.changes[0]?.value.statuses?.map((status) => status.id),
      wamids,
    );
    assert.deepEqual(
      simulator
        .webhookDeliveries()
        .at(-1)
        ?.statuses.map((status) => status.status),
      ['delivered', 'delivered', 'delivered'],
    );
  });

  it('uses read delay per recipient, and never sends read when read receipts are off', async () => {
    simulator.setRecipient(ALICE, { readDelayMs: 10 * MINUTE_MS });
    simulator.setRecipient(BOB, { readReceipts: false });
    const toAlice = await sendText(ALICE);
    const toBob = await sendText(BOB);
    await simulator.advanceTime(STATUS_DELAY_MS);
    await simulator.advanceTime(9 * MINUTE_MS);
    await waitForStatuses(toAlice, ['sent', 'delivered']);
    await simulator.advanceTime(MINUTE_MS);
    await waitForStatuses(toAlice, ['sent', 'delivered', 'read']);
    await simulator.advanceTime(DAY_MS);
    await waitForEmittedStatuses();
    assert.deepEqual(statusNames(toBob), ['sent', 'delivered']);
  });

  it('holds delivery for an offline recipient until they come back within 30 days, else never', async () => {
    simulator.setRecipient(ALICE, { mode: 'offline' });
    simulator.setRecipient(BOB, { mode: 'offline' });
    const toAlice = await sendText(ALICE);
    const toBob = await sendText(BOB);
    await simulator.advanceTime(29 * DAY_MS);
    await waitForEmittedStatuses();
    assert.deepEqual(statusNames(toAlice), ['sent']);
    simulator.setRecipient(ALICE, { mode: 'online' });
    await waitForStatuses(toAlice, ['sent', 'delivered']);
    await simulator.advanceTime(2 * DAY_MS);
    simulator.setRecipient(BOB, { mode: 'online' });
    await simulator.advanceTime(DAY_MS);
    await waitForEmittedStatuses();
    assert.deepEqual(statusNames(toBob), ['sent'], 'back after 31 days: never delivered');
  });

  it('reports failed 131026 for a number not on WhatsApp, without sent', async () => {
    simulator.setRecipient(ALICE, { mode: 'not_on_whatsapp' });
    const wamid = await sendText(ALICE);
    await waitForStatuses(wamid, ['failed']);
    assert.equal(receivedStatuses(receiver, wamid)[0]?.errors?.[0]?.code, 131026);
  });
});

describe('webhook retries', () => {
  it('retries a receiver that fails with growing delays for 7 simulated days, then drops the webhook', async () => {
    await start({ webhookRetry: { initialDelayMs: MINUTE_MS, maxDelayMs: 6 * 60 * MINUTE_MS } });
    receiver.respondWith(() => ({ status: 503 }));
    const wamid = await sendText(ALICE);
    await waitFor(() => simulator.webhookDeliveries().length === 1, { timeoutMs: WAIT_MS, what: 'first attempt' });
    await simulator.advanceTime(8 * DAY_MS);
    const attempts = simulator.webhookDeliveries().filter((delivery) => delivery.statuses.some((status) => status.id === wamid));
    const first = attempts.filter((delivery) => delivery.id === attempts[0]?.id);
    assert.ok(first.length > 10, `${first.length} attempts`);
    const times = first.map((delivery) => Date.parse(delivery.at));
    const gaps = times.slice(1).map((at, index) => at - (times[index] as number));
    assert.equal(gaps[0], MINUTE_MS);
    assert.equal(gaps[1], 2 * MINUTE_MS, 'doubling');
    assert.equal(Math.max(...gaps), 6 * 60 * MINUTE_MS, 'capped');
    assert.ok((times.at(-1) as number) - (times[0] as number) <= 7 * DAY_MS, 'not beyond 7 days');
    assert.equal(first.at(-1)?.gaveUp, true);
    assert.ok(first.every((delivery) => delivery.responseStatus === 503));
    // The message's later statuses waited behind the dropped one and go out once it was given up.
    const later = await waitFor(() => simulator.webhookDeliveries().find((delivery) => delivery.id !== attempts[0]?.id), {
      timeoutMs: WAIT_MS,
      what: 'the next webhook of the message',
    });
    assert.deepEqual(later.statuses, [
      { id: wamid, status: 'delivered' },
      { id: wamid, status: 'read' },
    ]);
    assert.ok(Date.parse(later.at) > (times.at(-1) as number));
  });

  it('delivers everything in order once a receiver recovers', async () => {
    await start({ webhookRetry: { initialDelayMs: MINUTE_MS } });
    receiver.respondWith(() => ({ status: 500 }));
    const wamid = await sendText(ALICE);
    await waitFor(() => simulator.webhookDeliveries().length === 1, { timeoutMs: WAIT_MS, what: 'first attempt' });
    await simulator.advanceTime(2 * STATUS_DELAY_MS);
    receiver.respondWith(() => ({ status: 200 }));
    await simulator.advanceTime(MINUTE_MS);
    await waitFor(() => receivedStatuses(receiver, wamid).filter((status) => status.status === 'read').length === 1, {
      timeoutMs: WAIT_MS,
      what: 'read',
    });
    const accepted = receiver.requests
      .filter((_, index) => index > 0)
      .flatMap((request) => {
        const body = JSON.parse(request.rawBody.toString('utf8')) as {
          entry: { changes: { value: { statuses?: { status: string }[] } }[] }[];
        };
        return body.entry.flatMap((entry) => entry.changes.flatMap((change) => change.value.statuses ?? [])).map((status) => status.status);
      });
    assert.deepEqual(accepted.slice(-3), ['sent', 'delivered', 'read']);
  });
});

describe('injected webhook faults', () => {
  beforeEach(() => start());

  it('duplicate: an accepted webhook is delivered again', async () => {
    simulator.injectWebhookFaults({ fault: 'duplicate', count: 1 });
    const wamid = await sendText(ALICE);
    await waitFor(() => statusNames(wamid).length === 2, { timeoutMs: WAIT_MS, what: 'duplicate' });
    assert.deepEqual(statusNames(wamid), ['sent', 'sent']);
    const [original, duplicate] = simulator.webhookDeliveries();
    assert.equal(duplicate?.duplicateOf, original?.id);
    assert.equal(duplicate?.body, original?.body, 'byte-identical, as a Meta redelivery is');
  });

  it('read_before_delivered, skip_delivered and delivered_after_failed', async () => {
    simulator.injectWebhookFaults({ fault: 'read_before_delivered', count: 1, recipient: ALICE });
    simulator.injectWebhookFaults({ fault: 'skip_delivered', count: 1, recipient: BOB });
    simulator.injectWebhookFaults({ fault: 'delivered_after_failed', count: 1, recipient: '4917000000003' });
    const toAlice = await sendText(ALICE);
    const toBob = await sendText(BOB);
    const toCarol = await sendText('4917000000003');
    await simulator.advanceTime(STATUS_DELAY_MS);
    await waitForStatuses(toAlice, ['sent', 'read', 'delivered']);
    await waitForStatuses(toBob, ['sent', 'read']);
    await waitForStatuses(toCarol, ['sent', 'failed', 'delivered']);
    assert.ok(receivedStatuses(receiver, toBob)[1]?.pricing, 'read carries the pricing when delivered was skipped');
    await simulator.advanceTime(STATUS_DELAY_MS);
    await waitForEmittedStatuses();
    assert.deepEqual(statusNames(toAlice), ['sent', 'read', 'delivered'], 'no second read');
  });

  it('delay: a held-back status arrives after later ones', async () => {
    simulator.injectWebhookFaults({ fault: 'delay', count: 1, delayMs: 10 * MINUTE_MS });
    const wamid = await sendText(ALICE);
    await simulator.advanceTime(2 * STATUS_DELAY_MS);
    await waitForStatuses(wamid, ['delivered', 'read']);
    await simulator.advanceTime(10 * MINUTE_MS);
    await waitForStatuses(wamid, ['delivered', 'read', 'sent']);
  });

  it('probabilistic faults repeat exactly for the same seed', async () => {
    const run = async (): Promise<string[]> => {
      simulator.injectWebhookFaults({ fault: 'skip_delivered', probability: 0.5 });
      const wamids: string[] = [];
      for (let i = 0; i < 8; i += 1) wamids.push(await sendText(`49170000001${i}`));
      await simulator.advanceTime(2 * STATUS_DELAY_MS);
      await waitFor(() => wamids.every((wamid) => statusNames(wamid).includes('read')), { timeoutMs: WAIT_MS, what: 'reads' });
      return wamids.map((wamid) => statusNames(wamid).join(','));
    };
    const first = await run();
    assert.ok(first.some((names) => names.includes('delivered')) && first.some((names) => !names.includes('delivered')), first.join(' | '));
    await simulator.stop();
    await receiver.close();
    receiver = await startWebhookReceiver();
    await start();
    assert.deepEqual(await run(), first);
  });
});

describe('webhook URL and app secrets', () => {
  it('signs each WABA with its own app secret', async () => {
    const otherWaba = { ...TEST_PHONE, id: '106540352240001', accessToken: 'EAAother', wabaId: '102290129340001' };
    await start({ phoneNumbers: [TEST_PHONE, otherWaba], wabas: [{ id: otherWaba.wabaId, appSecret: 'second-app-secret' }] });
    await postMessage(simulator.url, textMessage(ALICE), { phoneNumberId: otherWaba.id, token: otherWaba.accessToken });
    await waitFor(() => receiver.requests.length === 1, { timeoutMs: WAIT_MS, what: 'webhook' });
    const request = receiver.requests[0];
    assert.equal(
      request?.headers['x-hub-signature-256'],
      computeWebhookSignature('second-app-secret', request?.rawBody.toString('utf8') ?? ''),
    );
  });

  it('sends nothing while no webhook URL is set', async () => {
    emitted = [];
    simulator = await startSimulator({
      onEvent: recordEmitted,
      appSecret: TEST_APP_SECRET,
      phoneNumbers: [TEST_PHONE],
      timeScale: 0,
      enforceCustomerServiceWindow: false,
    });
    const wamid = await sendText(ALICE);
    await simulator.advanceTime(DAY_MS);
    assert.deepEqual(emitted, [`${wamid} sent`, `${wamid} delivered`, `${wamid} read`], 'the statuses were decided');
    // The dispatcher takes what is queued on the next turn of the event loop (setImmediate), before the simulator's
    // server can read this request: by its answer, the statuses above were taken and, without a URL, dropped.
    assert.equal((await control(simulator.url, 'GET', '/_simulator/health')).status, 200);
    // Dropped, not kept for later: once a URL is set, the next message's webhook is the first to go out (events go
    // out oldest first, so a kept status would come with it or before it).
    simulator.setWebhookUrl(receiver.url);
    const next = await sendText(BOB);
    const deliveries = await waitFor(() => simulator.webhookDeliveries(), {
      until: (recorded) => recorded.length > 0,
      timeoutMs: WAIT_MS,
      what: 'the first recorded webhook delivery',
    });
    assert.deepEqual(
      deliveries.map((delivery) => delivery.statuses),
      [[{ id: next, status: 'sent' }]],
    );
    assert.deepEqual(statusNames(wamid), []);
  });
});
