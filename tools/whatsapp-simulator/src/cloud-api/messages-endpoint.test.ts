/** The messages endpoint over real HTTP: Meta's synchronous answers and the asynchronous failures that follow. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { waitFor } from '@waygate/testing';
import { startSimulator, type SimulatorOptions, type WhatsAppSimulator } from '../index';
import {
  OTHER_PHONE,
  TEST_APP_SECRET,
  TEST_PHONE,
  postMessage,
  receivedStatuses,
  startWebhookReceiver,
  textMessage,
  type WebhookReceiver,
} from '../test-helpers';

const ALICE = '4915112345678';
const DAY_MS = 24 * 60 * 60 * 1000;

let simulator: WhatsAppSimulator;
let receiver: WebhookReceiver;

async function start(options: Partial<SimulatorOptions> = {}): Promise<void> {
  simulator = await startSimulator({
    appSecret: TEST_APP_SECRET,
    phoneNumbers: [TEST_PHONE, OTHER_PHONE],
    templates: [
      { wabaId: TEST_PHONE.wabaId, name: 'order_update', language: 'en_US', category: 'UTILITY', bodyParameters: 2 },
      { wabaId: TEST_PHONE.wabaId, name: 'login_code', language: 'en_US', category: 'AUTHENTICATION', bodyParameters: 1 },
    ],
    timeScale: 0,
    webhookUrl: receiver.url,
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

function template(name: string, parameters: string[], language = 'en_US'): Record<string, unknown> {
  return {
    messaging_product: 'whatsapp',
    to: ALICE,
    type: 'template',
    template: {
      name,
      language: { code: language },
      components: [{ type: 'body', parameters: parameters.map((text) => ({ type: 'text', text })) }],
    },
  };
}

async function firstStatus(wamid: string): Promise<{ status: string; code?: number }> {
  const status = await waitFor(() => receivedStatuses(receiver, wamid)[0], { timeoutMs: 3_000, what: `first status of ${wamid}` });
  return { status: status.status, ...(status.errors?.[0] === undefined ? {} : { code: status.errors[0].code }) };
}

describe('customer service window (24 hours)', () => {
  beforeEach(() => start());

  it('fails free-form text to a customer who never wrote with 131047, after answering 200', async () => {
    const { status, json } = await postMessage(simulator.url, textMessage(ALICE));
    assert.equal(status, 200);
    assert.deepEqual(await firstStatus(json.messages?.[0]?.id ?? ''), { status: 'failed', code: 131047 });
  });

  it('allows free-form text for 24 hours after the customer wrote, templates at any time', async () => {
    simulator.sendInbound({ type: 'text', from: ALICE, text: 'Hi' });
    const inWindow = await postMessage(simulator.url, textMessage(ALICE));
    assert.deepEqual(await firstStatus(inWindow.json.messages?.[0]?.id ?? ''), { status: 'sent' });
    assert.equal(receivedStatuses(receiver, inWindow.json.messages?.[0]?.id)[0]?.pricing?.type, 'free_customer_service');
    // A utility template inside the open window is free too (Meta's per-message pricing); outside it, billable (below).
    const utilityInWindow = await postMessage(simulator.url, template('order_update', ['A-16', 'today']));
    assert.deepEqual(await firstStatus(utilityInWindow.json.messages?.[0]?.id ?? ''), { status: 'sent' });
    const freeUtility = receivedStatuses(receiver, utilityInWindow.json.messages?.[0]?.id)[0]?.pricing;
    assert.deepEqual(
      { category: freeUtility?.category, type: freeUtility?.type, billable: freeUtility?.billable },
      { category: 'utility', type: 'free_customer_service', billable: false },
    );

    await simulator.advanceTime(DAY_MS);
    const late = await postMessage(simulator.url, textMessage(ALICE));
    assert.deepEqual(await firstStatus(late.json.messages?.[0]?.id ?? ''), { status: 'failed', code: 131047 });

    const templated = await postMessage(simulator.url, template('order_update', ['A-17', 'tomorrow']));
    assert.equal(templated.status, 200, JSON.stringify(templated.json));
    assert.deepEqual(await firstStatus(templated.json.messages?.[0]?.id ?? ''), { status: 'sent' });
    const pricing = receivedStatuses(receiver, templated.json.messages?.[0]?.id)[0]?.pricing;
    assert.deepEqual(
      { category: pricing?.category, type: pricing?.type, billable: pricing?.billable },
      { category: 'utility', type: 'regular', billable: true },
    );
  });

  it('does not enforce the window when configured off', async () => {
    await simulator.stop();
    await start({ enforceCustomerServiceWindow: false });
    const { json } = await postMessage(simulator.url, textMessage(ALICE));
    assert.deepEqual(await firstStatus(json.messages?.[0]?.id ?? ''), { status: 'sent' });
  });
});

describe('templates', () => {
  beforeEach(() => start());

  it('answers 132001 for an unknown template or language, 132000 for a parameter count mismatch', async () => {
    const unknown = await postMessage(simulator.url, template('no_such_template', []));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error?.code, 132001);
    const wrongLanguage = await postMessage(simulator.url, template('order_update', ['a', 'b'], 'de'));
    assert.equal(wrongLanguage.json.error?.code, 132001);
    const mismatch = await postMessage(simulator.url, template('order_update', ['only one']));
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.json.error?.code, 132000);
    assert.equal(simulator.sentMessages().length, 0, 'nothing was sent');
  });

  it('templates are per WABA', async () => {
    const other = await postMessage(simulator.url, template('order_update', ['a', 'b']), {
      phoneNumberId: OTHER_PHONE.id,
      token: OTHER_PHONE.accessToken,
    });
    assert.equal(other.json.error?.code, 132001);
  });
});

describe('throughput and pair rate', () => {
  it('answers 130429 (HTTP 429) past the number’s messages per second; a simulated second later it sends again', async () => {
    await start({ phoneNumbers: [{ ...TEST_PHONE, throughputMps: 3 }], enforceCustomerServiceWindow: false, pairRateLimit: false });
    for (let i = 0; i < 3; i += 1) assert.equal((await postMessage(simulator.url, textMessage(`491700000000${i}`))).status, 200);
    const limited = await postMessage(simulator.url, textMessage('4917000000009'));
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error?.code, 130429);
    await simulator.advanceTime(1_000);
    assert.equal((await postMessage(simulator.url, textMessage('4917000000009'))).status, 200);
  });

  it('answers 131056 after a burst to one recipient, for that recipient only, until the pair rate allows one more', async () => {
    await start({ enforceCustomerServiceWindow: false, pairRateLimit: { burst: 5, intervalMs: 6_000 } });
    for (let i = 0; i < 5; i += 1) assert.equal((await postMessage(simulator.url, textMessage(ALICE))).status, 200);
    const limited = await postMessage(simulator.url, textMessage(ALICE));
    assert.equal(limited.status, 400);
    assert.equal(limited.json.error?.code, 131056);
    assert.equal((await postMessage(simulator.url, textMessage('4917000000009'))).status, 200);
    await simulator.advanceTime(6_000);
    assert.equal((await postMessage(simulator.url, textMessage(ALICE))).status, 200);
    assert.equal((await postMessage(simulator.url, textMessage(ALICE))).json.error?.code, 131056);
  });

  it('applies Meta’s default burst of 45', async () => {
    await start({ enforceCustomerServiceWindow: false });
    for (let i = 0; i < 45; i += 1) assert.equal((await postMessage(simulator.url, textMessage(ALICE))).status, 200, `message ${i}`);
    assert.equal((await postMessage(simulator.url, textMessage(ALICE))).json.error?.code, 131056);
  });
});

describe('injected failures and outages', () => {
  beforeEach(() => start({ enforceCustomerServiceWindow: false }));

  it('fails the next sends with transient Meta errors (131000, 131016, 2), then succeeds', async () => {
    for (const [httpStatus, code] of [
      [500, 131000],
      [503, 131016],
      [503, 2],
    ] as const) {
      simulator.injectSendFailures({ count: 1, httpStatus, code });
      const failed = await postMessage(simulator.url, textMessage(ALICE));
      assert.equal(failed.status, httpStatus);
      assert.equal(failed.json.error?.code, code);
      assert.match(failed.json.error?.fbtrace_id ?? '', /^A/);
    }
    assert.equal((await postMessage(simulator.url, textMessage(ALICE))).status, 200);
    assert.equal(simulator.sentMessages().length, 1);
  });

  it('an outage without count lasts until cleared, and can target one number', async () => {
    simulator.injectSendFailures({ httpStatus: 500, code: 131000, phoneNumberId: TEST_PHONE.id });
    for (let i = 0; i < 5; i += 1) assert.equal((await postMessage(simulator.url, textMessage(ALICE))).status, 500);
    const other = await postMessage(simulator.url, textMessage(ALICE), { phoneNumberId: OTHER_PHONE.id, token: OTHER_PHONE.accessToken });
    assert.equal(other.status, 200, 'the other number is unaffected');
    simulator.clearSendFailures();
    assert.equal((await postMessage(simulator.url, textMessage(ALICE))).status, 200);
  });

  it('drop closes the connection without an answer; timeout never answers', async () => {
    simulator.injectSendFailures({ count: 1, mode: 'drop' });
    await assert.rejects(postMessage(simulator.url, textMessage(ALICE)));
    simulator.injectSendFailures({ count: 1, mode: 'timeout' });
    await assert.rejects(
      fetch(`${simulator.url}/v23.0/${TEST_PHONE.id}/messages`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TEST_PHONE.accessToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(textMessage(ALICE)),
        signal: AbortSignal.timeout(300),
      }),
      /TimeoutError|aborted/,
    );
    assert.equal((await postMessage(simulator.url, textMessage(ALICE))).status, 200);
    assert.equal(simulator.sentMessages().length, 1, 'neither failed request was sent');
  });
});

describe('media messages', () => {
  beforeEach(() => start({ enforceCustomerServiceWindow: false }));

  it('fails an image whose media id is unknown with 131053; sends one uploaded before', async () => {
    const unknown = await postMessage(simulator.url, {
      messaging_product: 'whatsapp',
      to: ALICE,
      type: 'image',
      image: { id: '1234567890' },
    });
    assert.equal(unknown.status, 200);
    assert.deepEqual(await firstStatus(unknown.json.messages?.[0]?.id ?? ''), { status: 'failed', code: 131053 });

    const form = new FormData();
    form.set('messaging_product', 'whatsapp');
    form.set('type', 'image/png');
    form.set('file', new Blob([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')], { type: 'image/png' }), 'pixel.png');
    const upload = await fetch(`${simulator.url}/v23.0/${TEST_PHONE.id}/media`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TEST_PHONE.accessToken}` },
      body: form,
    });
    const { id } = (await upload.json()) as { id: string };
    const sent = await postMessage(simulator.url, {
      messaging_product: 'whatsapp',
      to: ALICE,
      type: 'image',
      image: { id, caption: 'receipt' },
    });
    assert.deepEqual(await firstStatus(sent.json.messages?.[0]?.id ?? ''), { status: 'sent' });
  });
});

describe('mark as read', () => {
  beforeEach(() => start());

  it('marks a received message as read (with a typing indicator) and refuses unknown ids', async () => {
    const { messageId } = simulator.sendInbound({ type: 'text', from: ALICE, text: 'Where is my order?' });
    const read = await postMessage(simulator.url, {
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: messageId,
      typing_indicator: { type: 'text' },
    });
    assert.equal(read.status, 200);
    assert.deepEqual(read.json, { success: true });
    assert.deepEqual(
      simulator.readMarks().map(({ messageId: id, typingIndicator, phoneNumberId }) => ({ id, typingIndicator, phoneNumberId })),
      [{ id: messageId, typingIndicator: true, phoneNumberId: TEST_PHONE.id }],
    );
    const unknown = await postMessage(simulator.url, { messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.unknown' });
    assert.equal(unknown.status, 400);
  });
});
