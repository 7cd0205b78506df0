import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { waitFor } from '@waygate/testing';
import { startSimulator, type StatusWebhookStatus, type WhatsAppSimulator, type WhatsAppWebhookPayload } from './index';
import { ERROR_CODES_HREF } from './webhooks/status-payloads';
import {
  OTHER_PHONE,
  TEST_APP_SECRET,
  TEST_PHONE,
  postMessage,
  receivedStatuses,
  startWebhookReceiver,
  textMessage,
  type WebhookReceiver,
} from './test-helpers';

const STATUS_DELAY_MS = 20;
const RECIPIENT = '+49 1511 2345678';
const RECIPIENT_WA_ID = '4915112345678';
const BYSTANDER = '+4917700000001';

let simulator: WhatsAppSimulator;
let receiver: WebhookReceiver;

beforeEach(async () => {
  receiver = await startWebhookReceiver();
  simulator = await startSimulator({
    appSecret: TEST_APP_SECRET,
    phoneNumbers: [TEST_PHONE, OTHER_PHONE],
    statusDelayMs: STATUS_DELAY_MS,
    // The 24-hour window has its own tests; here every recipient may get free-form text.
    enforceCustomerServiceWindow: false,
    webhookRetry: { initialDelayMs: 100, maxDelayMs: 400 },
  });
});

afterEach(async () => {
  await simulator.stop();
  await receiver.close();
});

/** All statuses received for one wamid, in arrival order. */
function statusesFor(wamid: string): StatusWebhookStatus[] {
  return receivedStatuses(receiver, wamid);
}

async function sendText(to: string): Promise<string> {
  const { status, json } = await postMessage(simulator.url, textMessage(to));
  assert.equal(status, 200, JSON.stringify(json));
  return json.messages?.[0]?.id ?? assert.fail('no wamid');
}

/**
 * Sends a message to an always-online recipient and waits for its `read`: anything a message sent just before
 * would have produced by now has happened, without sleeping for a fixed time.
 */
async function waitForBarrierRead(): Promise<void> {
  const barrier = await sendText(BYSTANDER);
  await waitFor(() => statusesFor(barrier).some((status) => status.status === 'read'), { timeoutMs: 3_000, what: 'barrier read' });
}

describe('POST /{version}/{phone_number_id}/messages', () => {
  it("answers a valid text message with Meta's success shape and records it", async () => {
    const payload = textMessage(RECIPIENT);
    const { status, json } = await postMessage(simulator.url, payload, { version: 'v19.0' });

    assert.equal(status, 200);
    const wamid = json.messages?.[0]?.id ?? '';
    assert.match(wamid, /^wamid\.[A-Za-z0-9+/]+=*$/);
    assert.deepEqual(json, {
      messaging_product: 'whatsapp',
      contacts: [{ input: RECIPIENT, wa_id: RECIPIENT_WA_ID }],
      messages: [{ id: wamid }],
    });
    const [sent, ...rest] = simulator.sentMessages();
    assert.equal(rest.length, 0);
    assert.deepEqual(
      { ...sent, at: undefined },
      {
        wamid,
        phoneNumberId: TEST_PHONE.id,
        to: RECIPIENT,
        waId: RECIPIENT_WA_ID,
        type: 'text',
        body: payload,
        at: undefined,
      },
    );
    assert.ok(!Number.isNaN(Date.parse(sent?.at ?? '')));
  });

  it("answers Meta's wa_id, not the digits, for a Brazilian number with the ninth digit and a Mexican one without the 1", async () => {
    for (const [to, waId] of [
      ['+5511987654321', '551187654321'],
      ['+525512345678', '5215512345678'],
      ['+551187654321', '551187654321'],
    ]) {
      const { status, json } = await postMessage(simulator.url, textMessage(to));
      assert.equal(status, 200);
      assert.deepEqual(json.contacts, [{ input: to, wa_id: waId }], to);
    }
  });

  it('hands out a different wamid per message', async () => {
    const first = await sendText(RECIPIENT);
    const second = await sendText(RECIPIENT);
    assert.notEqual(first, second);
  });

  it('treats a missing type as text, as Meta documents', async () => {
    const payload = { ...textMessage(RECIPIENT), type: undefined }; // dropped by JSON.stringify
    const { status } = await postMessage(simulator.url, payload);
    assert.equal(status, 200);
  });

  it("rejects a wrong, missing or other number's token with 401 code 190", async () => {
    for (const token of ['not-a-token', null, OTHER_PHONE.accessToken]) {
      const { status, json } = await postMessage(simulator.url, textMessage(RECIPIENT), { token });
      assert.equal(status, 401, `token ${token}`);
      assert.equal(json.error?.code, 190);
      assert.equal(json.error?.type, 'OAuthException');
      assert.equal(json.error?.message, 'Invalid OAuth access token - Cannot parse access token');
      assert.equal(typeof json.error?.fbtrace_id, 'string');
    }
    assert.deepEqual(simulator.sentMessages(), []);
  });

  it('rejects an unknown phone number id with 400 code 100', async () => {
    const { status, json } = await postMessage(simulator.url, textMessage(RECIPIENT), { phoneNumberId: '999' });
    assert.equal(status, 400);
    assert.equal(json.error?.code, 100);
    assert.equal(json.error?.error_subcode, 33);
    assert.equal(json.error?.type, 'GraphMethodException');
    assert.match(json.error?.message ?? '', /Object with ID '999' does not exist/);
  });

  const validationCases: { name: string; payload?: unknown; rawBody?: string; code: number; details: RegExp }[] = [
    { name: 'body is not JSON', rawBody: '{"messaging_product":', code: 100, details: /JSON object/ },
    { name: 'body is a JSON array', payload: [], code: 100, details: /JSON object/ },
    {
      name: 'messaging_product missing',
      payload: { ...textMessage(RECIPIENT), messaging_product: undefined },
      code: 131008,
      details: /messaging_product/,
    },
    {
      name: 'messaging_product is not whatsapp',
      payload: { ...textMessage(RECIPIENT), messaging_product: 'sms' },
      code: 131009,
      details: /messaging_product/,
    },
    { name: 'to missing', payload: { ...textMessage(RECIPIENT), to: undefined }, code: 131008, details: /\bto\b/ },
    { name: 'to not a number', payload: { ...textMessage(RECIPIENT), to: 'alice' }, code: 131009, details: /\bto\b/ },
    { name: 'image type without an image object', payload: { ...textMessage(RECIPIENT), type: 'image' }, code: 131008, details: /image/ },
    { name: 'unknown type', payload: { ...textMessage(RECIPIENT), type: 'fax' }, code: 131009, details: /type 'fax'/ },
    { name: 'text missing', payload: { ...textMessage(RECIPIENT), text: undefined }, code: 131008, details: /text/ },
    {
      name: 'text without body',
      payload: { ...textMessage(RECIPIENT), text: { preview_url: false } },
      code: 131008,
      details: /text\['body'\]/,
    },
    {
      name: 'body over 4096 characters',
      payload: textMessage(RECIPIENT, 'x'.repeat(4097)),
      code: 100,
      details: /text\['body'\].*4096/,
    },
  ];

  for (const testCase of validationCases) {
    it(`rejects a request whose ${testCase.name} with 400 code ${testCase.code}`, async () => {
      const { status, json } = await postMessage(simulator.url, testCase.payload, { rawBody: testCase.rawBody });
      assert.equal(status, 400, JSON.stringify(json));
      assert.equal(json.error?.code, testCase.code);
      assert.equal(json.error?.error_data?.messaging_product, 'whatsapp');
      assert.match(json.error?.error_data?.details ?? '', testCase.details);
      assert.equal(typeof json.error?.fbtrace_id, 'string');
    });
  }

  it('accepts a body of exactly 4096 characters', async () => {
    const { status } = await postMessage(simulator.url, textMessage(RECIPIENT, 'é'.repeat(4096)));
    assert.equal(status, 200);
  });

  it('answers 413 for request bodies over 1 MB', async () => {
    const huge = JSON.stringify(textMessage(RECIPIENT, 'x'.repeat(1024 * 1024 + 10)));
    const { status, json } = await postMessage(simulator.url, undefined, { rawBody: huge });
    assert.equal(status, 413);
    assert.equal(json.error?.code, 100);
    assert.deepEqual(simulator.sentMessages(), []);
  });

  it("fails injected sends with Meta's error shape, then succeeds", async () => {
    simulator.injectSendFailures({ count: 1, httpStatus: 500, code: 131000 });
    simulator.injectSendFailures({ count: 1, httpStatus: 503, code: 2, message: 'Service temporarily unavailable' });

    // Invalid requests still get their 400 and do not use up an injected failure.
    const invalid = await postMessage(simulator.url, { ...textMessage(RECIPIENT), type: 'image' }); // no image object
    assert.equal(invalid.status, 400);

    const first = await postMessage(simulator.url, textMessage(RECIPIENT));
    assert.equal(first.status, 500);
    assert.equal(first.json.error?.code, 131000);
    assert.equal(first.json.error?.message, '(#131000) Something went wrong');
    assert.equal(first.json.error?.error_data?.details, 'Something went wrong');

    const second = await postMessage(simulator.url, textMessage(RECIPIENT));
    assert.equal(second.status, 503);
    assert.equal(second.json.error?.code, 2);
    assert.equal(second.json.error?.message, 'Service temporarily unavailable');

    assert.deepEqual(simulator.sentMessages(), []);
    const third = await postMessage(simulator.url, textMessage(RECIPIENT));
    assert.equal(third.status, 200);
    assert.equal(simulator.sentMessages().length, 1);
  });
});

describe('status webhooks', () => {
  beforeEach(() => simulator.setWebhookUrl(receiver.url));

  it('serves hosted media for a link (control API): the image is sent and delivered; an unhosted bad link fails 131053', async () => {
    const link = 'https://media.example.test/cat.png';
    const control = await fetch(`${simulator.url}/_simulator/hosted-media`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ link, mimeType: 'image/png', base64: Buffer.alloc(64, 1).toString('base64') }),
    });
    assert.equal(control.status, 200);
    const send = async (url: string) => {
      const { status, json } = await postMessage(simulator.url, {
        messaging_product: 'whatsapp',
        to: RECIPIENT,
        type: 'image',
        image: { link: url },
      });
      assert.equal(status, 200, JSON.stringify(json));
      return json.messages?.[0]?.id ?? assert.fail('no wamid');
    };
    const hosted = await send(link);
    await waitFor(() => statusesFor(hosted).some((entry) => entry.status === 'delivered'), { timeoutMs: 3_000, what: 'delivered' });
    const missing = await send('https://127.0.0.1:1/missing.png');
    const [failed] = await waitFor(() => statusesFor(missing).length === 1 && statusesFor(missing), { timeoutMs: 5_000, what: 'failed' });
    assert.equal(failed?.status, 'failed');
    assert.equal(failed?.errors?.[0]?.code, 131053);
  });

  it('sends only sent for a reaction: Meta never reports delivered or read for one', async () => {
    const reacted = await sendText(RECIPIENT);
    const { status, json } = await postMessage(simulator.url, {
      messaging_product: 'whatsapp',
      to: RECIPIENT,
      type: 'reaction',
      reaction: { message_id: reacted, emoji: '👍' },
    });
    assert.equal(status, 200, JSON.stringify(json));
    const wamid = json.messages?.[0]?.id ?? assert.fail('no wamid');
    await waitFor(() => statusesFor(wamid).length === 1, { timeoutMs: 3_000, what: 'sent' });
    // The reacted-to text reaches read after the reaction was sent: by then the reaction would have had its own.
    await waitFor(() => statusesFor(reacted).some((entry) => entry.status === 'read'), { timeoutMs: 3_000, what: 'text read' });
    await waitForBarrierRead();
    assert.deepEqual(
      statusesFor(wamid).map((entry) => entry.status),
      ['sent'],
    );
  });

  it("sends sent, delivered and read in order, signed, in Meta's shape", async () => {
    const wamid = await sendText(RECIPIENT);
    await waitFor(() => statusesFor(wamid).length === 3, { timeoutMs: 3_000, what: 'three statuses' });

    assert.deepEqual(
      statusesFor(wamid).map((status) => status.status),
      ['sent', 'delivered', 'read'],
    );
    for (const request of receiver.requests) {
      assert.equal(request.method, 'POST');
      assert.equal(request.headers['content-type'], 'application/json');
      const expected = `sha256=${createHmac('sha256', TEST_APP_SECRET).update(request.rawBody).digest('hex')}`;
      assert.equal(request.headers['x-hub-signature-256'], expected);
    }

    const [sent, delivered, read] = statusesFor(wamid);
    assert.ok(sent && delivered && read);
    const expectedEnvelope = (status: StatusWebhookStatus): WhatsAppWebhookPayload => ({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: TEST_PHONE.wabaId,
          changes: [
            {
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550102030', phone_number_id: TEST_PHONE.id },
                statuses: [status],
              },
              field: 'messages',
            },
          ],
        },
      ],
    });
    // Per-message pricing (PMP); free-form text inside the customer service window is free. Since v24.0 Meta
    // omits `conversation` outside free entry point windows, and `read` has no pricing once `delivered` had it.
    const pricing = { billable: false, pricing_model: 'PMP', type: 'free_customer_service', category: 'service' } as const;
    assert.deepEqual(
      receiver.webhooks()[0],
      expectedEnvelope({
        id: wamid,
        status: 'sent',
        timestamp: sent.timestamp,
        recipient_id: RECIPIENT_WA_ID,
        pricing,
      }),
    );
    assert.deepEqual(
      receiver.webhooks()[1],
      expectedEnvelope({
        id: wamid,
        status: 'delivered',
        timestamp: delivered.timestamp,
        recipient_id: RECIPIENT_WA_ID,
        pricing,
      }),
    );
    assert.deepEqual(
      receiver.webhooks()[2],
      expectedEnvelope({
        id: wamid,
        status: 'read',
        timestamp: read.timestamp,
        recipient_id: RECIPIENT_WA_ID,
      }),
    );

    const timestamps = [sent, delivered, read].map((status) => Number(status.timestamp));
    assert.deepEqual(
      [...timestamps].sort((a, b) => a - b),
      timestamps,
    );
    assert.ok(Math.abs((timestamps[0] ?? 0) - Date.now() / 1000) < 5, 'timestamps are unix seconds of now');

    // The simulator records an attempt once the answer arrives, a moment after the receiver saw the request.
    const deliveries = await waitFor(
      () => {
        const recorded = simulator.webhookDeliveries();
        return recorded.length === 3 && recorded;
      },
      { timeoutMs: 3_000, what: 'three recorded deliveries' },
    );
    assert.deepEqual(
      deliveries.map((delivery) => delivery.statuses),
      [[{ id: wamid, status: 'sent' }], [{ id: wamid, status: 'delivered' }], [{ id: wamid, status: 'read' }]],
    );
    for (const delivery of deliveries) {
      assert.equal(delivery.attempt, 1);
      assert.equal(delivery.responseStatus, 200);
      assert.equal(delivery.url, receiver.url);
    }
    assert.equal(deliveries[0]?.body, receiver.requests[0]?.rawBody.toString('utf8'));
  });

  it('sends no read when the recipient has read receipts off', async () => {
    simulator.setRecipient(RECIPIENT_WA_ID, { readReceipts: false });
    const wamid = await sendText(RECIPIENT);
    await waitFor(() => statusesFor(wamid).length === 2, { timeoutMs: 3_000, what: 'sent and delivered' });
    await waitForBarrierRead();
    assert.deepEqual(
      statusesFor(wamid).map((status) => status.status),
      ['sent', 'delivered'],
    );
  });

  it('holds delivered and read for an offline recipient until they come online', async () => {
    simulator.setRecipient(RECIPIENT_WA_ID, { mode: 'offline' });
    const wamid = await sendText(RECIPIENT);
    await waitFor(() => statusesFor(wamid).length === 1, { timeoutMs: 3_000, what: 'sent' });
    await waitForBarrierRead();
    assert.deepEqual(
      statusesFor(wamid).map((status) => status.status),
      ['sent'],
    );

    simulator.setRecipient(RECIPIENT_WA_ID, { mode: 'online' });
    await waitFor(() => statusesFor(wamid).length === 3, { timeoutMs: 3_000, what: 'held statuses' });
    assert.deepEqual(
      statusesFor(wamid).map((status) => status.status),
      ['sent', 'delivered', 'read'],
    );
  });

  it('answers 200 for a number not on WhatsApp, then reports failed 131026', async () => {
    simulator.setRecipient(RECIPIENT_WA_ID, { mode: 'not_on_whatsapp' });
    const wamid = await sendText(RECIPIENT);
    const [failed] = await waitFor(() => statusesFor(wamid).length === 1 && statusesFor(wamid), { timeoutMs: 3_000, what: 'failed' });
    assert.deepEqual(failed, {
      id: wamid,
      status: 'failed',
      timestamp: failed?.timestamp,
      recipient_id: RECIPIENT_WA_ID,
      errors: [
        {
          code: 131026,
          title: 'Message undeliverable',
          message: 'Message undeliverable',
          error_data: { details: 'Message Undeliverable.' },
          href: ERROR_CODES_HREF,
        },
      ],
    });
    await waitForBarrierRead();
    assert.equal(statusesFor(wamid).length, 1);
  });

  it('retries a failing receiver with backoff and keeps per-message order', async () => {
    let sentAttempts = 0;
    receiver.respondWith((request) => {
      const isSent = request.rawBody.toString('utf8').includes('"status":"sent"');
      if (isSent) sentAttempts += 1;
      return { status: isSent && sentAttempts <= 2 ? 500 : 200 };
    });
    const wamid = await sendText(RECIPIENT);
    await waitFor(() => statusesFor(wamid).length === 5, { timeoutMs: 5_000, what: 'all statuses' });

    // delivered was due during the retries, yet only went out after sent was accepted.
    assert.deepEqual(
      statusesFor(wamid).map((status) => status.status),
      ['sent', 'sent', 'sent', 'delivered', 'read'],
    );
    const sentDeliveries = simulator.webhookDeliveries().filter((delivery) => delivery.statuses[0]?.status === 'sent');
    assert.deepEqual(
      sentDeliveries.map((delivery) => [delivery.attempt, delivery.responseStatus]),
      [
        [1, 500],
        [2, 500],
        [3, 200],
      ],
    );
    assert.equal(new Set(sentDeliveries.map((delivery) => delivery.id)).size, 1, 'retries share the delivery id');
    const gapMs = Date.parse(sentDeliveries[2]?.at ?? '') - Date.parse(sentDeliveries[0]?.at ?? '');
    assert.ok(gapMs >= 250, `backoff of ~100 ms then ~200 ms, got ${gapMs} ms`);
  });

  it('records connection failures as errors and stops retrying on stop()', async () => {
    const unreachable = await startWebhookReceiver();
    await unreachable.close(); // a port nobody listens on any more
    simulator.setWebhookUrl(unreachable.url);
    await sendText(RECIPIENT);
    await waitFor(() => simulator.webhookDeliveries().length >= 2, { timeoutMs: 3_000, what: 'two failed attempts' });
    const [first] = simulator.webhookDeliveries();
    assert.equal(first?.responseStatus, undefined);
    assert.match(first?.error ?? '', /ECONNREFUSED/);
    // The next retry is ~400 ms away; stop() cancels it instead of waiting for it.
    const stopStartedAt = Date.now();
    await simulator.stop();
    assert.ok(Date.now() - stopStartedAt < 200, 'stop() did not wait for pending retries');
  });

  it('sends nothing while no webhook URL is set', async () => {
    const quiet = await startSimulator({
      appSecret: TEST_APP_SECRET,
      phoneNumbers: [TEST_PHONE],
      statusDelayMs: 1,
      enforceCustomerServiceWindow: false,
    });
    try {
      const { status } = await postMessage(quiet.url, textMessage(RECIPIENT));
      assert.equal(status, 200);
      await waitForBarrierRead(); // on the other simulator; gives quiet's timers time to run
      assert.deepEqual(quiet.webhookDeliveries(), []);
    } finally {
      await quiet.stop();
    }
  });
});

describe('startSimulator', () => {
  it('generates the same wamids for the same seed', async () => {
    const wamidsFor = async (seed: number): Promise<string[]> => {
      const seeded = await startSimulator({ appSecret: 's', phoneNumbers: [TEST_PHONE], seed });
      try {
        const ids: string[] = [];
        for (const to of [RECIPIENT, BYSTANDER]) {
          const { json } = await postMessage(seeded.url, textMessage(to));
          ids.push(json.messages?.[0]?.id ?? '');
        }
        return ids;
      } finally {
        await seeded.stop();
      }
    };
    const first = await wamidsFor(7);
    assert.deepEqual(await wamidsFor(7), first);
    assert.notDeepEqual(await wamidsFor(8), first);
  });

  it('rejects invalid options', async () => {
    await assert.rejects(startSimulator({ appSecret: '', phoneNumbers: [TEST_PHONE] }), /appSecret/);
    await assert.rejects(startSimulator({ appSecret: 's', phoneNumbers: [] }), /phoneNumbers/);
    await assert.rejects(startSimulator({ appSecret: 's', phoneNumbers: [TEST_PHONE, TEST_PHONE] }), /twice/);
    await assert.rejects(startSimulator({ appSecret: 's', phoneNumbers: [TEST_PHONE], webhookUrl: 'ftp://x' }), /http/);
    await assert.rejects(startSimulator({ appSecret: 's', phoneNumbers: [{ ...TEST_PHONE, throughputMps: 5_000 }] }), /throughputMps/);
    await assert.rejects(startSimulator({ appSecret: 's', phoneNumbers: [TEST_PHONE], timeScale: -1 }), /timeScale/);
    await assert.rejects(
      startSimulator({
        appSecret: 's',
        phoneNumbers: [TEST_PHONE],
        templates: [{ wabaId: 'nope', name: 't', language: 'en', category: 'UTILITY' }],
      }),
      /wabaId/,
    );
    await assert.rejects(startSimulator({ appSecret: 's', phoneNumbers: [TEST_PHONE], wabas: [{ id: 'nope' }] }), /wabas\[0\]/);
  });

  it('stop() is idempotent', async () => {
    simulator.setWebhookUrl(receiver.url);
    await sendText(RECIPIENT); // its delivered and read are still scheduled: stop() has work to cancel
    await waitFor(simulator.stop(), { timeoutMs: 5_000, what: 'the first stop()' });
    await waitFor(simulator.stop(), { timeoutMs: 5_000, what: 'a second stop()' });
    await assert.rejects(postMessage(simulator.url, textMessage(RECIPIENT)), /fetch failed/, 'a stopped simulator serves nothing');
  });
});
