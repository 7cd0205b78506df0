import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { startSimulator, type WhatsAppSimulator } from './index';
import {
  TEST_APP_SECRET,
  TEST_PHONE,
  control,
  postMessage,
  startWebhookReceiver,
  textMessage,
  waitFor,
  type WebhookReceiver,
} from './test-helpers';

const RECIPIENT_WA_ID = '4915112345678';
const VERIFY_TOKEN = 'my-verify-token';

let simulator: WhatsAppSimulator;
let receiver: WebhookReceiver;

beforeEach(async () => {
  receiver = await startWebhookReceiver();
  simulator = await startSimulator({ appSecret: TEST_APP_SECRET, phoneNumbers: [TEST_PHONE], statusDelayMs: 10 });
});

afterEach(async () => {
  await simulator.stop();
  await receiver.close();
});

/** Answers Meta's verification GET like a correct webhook endpoint: echo the challenge if the token matches. */
function answerVerificationLikeAnApp(): void {
  receiver.respondWith((request) => {
    if (request.method !== 'GET') return { status: 200 };
    const tokenMatches = request.url.searchParams.get('hub.verify_token') === VERIFY_TOKEN;
    return tokenMatches ? { status: 200, body: request.url.searchParams.get('hub.challenge') ?? '' } : { status: 403 };
  });
}

describe('control API', () => {
  it('reports health', async () => {
    assert.deepEqual(await control(simulator.url, 'GET', '/_simulator/health'), { status: 200, json: { status: 'ok' } });
  });

  it('sets recipient behaviour', async () => {
    const updated = await control(simulator.url, 'PUT', `/_simulator/recipients/${RECIPIENT_WA_ID}`, {
      mode: 'not_on_whatsapp',
    });
    assert.deepEqual(updated, { status: 200, json: { ok: true } });
    await control(simulator.url, 'PUT', '/_simulator/webhook-url', { url: receiver.url });
    await postMessage(simulator.url, textMessage(`+${RECIPIENT_WA_ID}`));
    await waitFor(() => receiver.webhooks().length === 1, 3_000, 'failed status');
    assert.equal(receiver.webhooks()[0]?.entry[0]?.changes[0]?.value.statuses[0]?.status, 'failed');
  });

  it('rejects invalid recipient updates', async () => {
    const badMode = await control(simulator.url, 'PUT', `/_simulator/recipients/${RECIPIENT_WA_ID}`, { mode: 'asleep' });
    assert.equal(badMode.status, 400);
    assert.match(badMode.json.error ?? '', /mode/);
    const badWaId = await control(simulator.url, 'PUT', '/_simulator/recipients/+49abc', { mode: 'offline' });
    assert.equal(badWaId.status, 400);
    assert.match(badWaId.json.error ?? '', /wa_id/);
  });

  it('injects send failures', async () => {
    const injected = await control(simulator.url, 'POST', '/_simulator/failures', {
      count: 1,
      httpStatus: 503,
      code: 2,
    });
    assert.deepEqual(injected, { status: 200, json: { ok: true } });
    const failed = await postMessage(simulator.url, textMessage(`+${RECIPIENT_WA_ID}`));
    assert.equal(failed.status, 503);
    assert.equal(failed.json.error?.code, 2);
    assert.equal((await postMessage(simulator.url, textMessage(`+${RECIPIENT_WA_ID}`))).status, 200);

    const invalid = await control(simulator.url, 'POST', '/_simulator/failures', { count: 1, httpStatus: 200, code: 2 });
    assert.equal(invalid.status, 400);
    assert.match(invalid.json.error ?? '', /httpStatus/);
  });

  it('lists sent messages and webhook deliveries', async () => {
    await control(simulator.url, 'PUT', '/_simulator/webhook-url', { url: receiver.url });
    const { json } = await postMessage(simulator.url, textMessage(`+${RECIPIENT_WA_ID}`));
    const wamid = json.messages?.[0]?.id;

    const sent = await control(simulator.url, 'GET', '/_simulator/sent');
    assert.equal(sent.status, 200);
    assert.deepEqual(sent.json.messages, simulator.sentMessages());
    assert.equal(sent.json.messages?.[0]?.wamid, wamid);

    await waitFor(() => simulator.webhookDeliveries().length === 3, 3_000, 'three deliveries');
    const webhooks = await control(simulator.url, 'GET', '/_simulator/webhooks');
    assert.equal(webhooks.status, 200);
    assert.deepEqual(
      webhooks.json.deliveries?.map((delivery) => delivery.statuses[0]?.status),
      ['sent', 'delivered', 'read'],
    );
  });

  it('rejects an invalid webhook URL', async () => {
    const response = await control(simulator.url, 'PUT', '/_simulator/webhook-url', { url: 'not a url' });
    assert.equal(response.status, 400);
    assert.match(response.json.error ?? '', /url/);
  });

  it('subscribes after a successful verification handshake', async () => {
    answerVerificationLikeAnApp();
    const response = await control(simulator.url, 'POST', '/_simulator/subscribe', {
      url: receiver.url,
      verifyToken: VERIFY_TOKEN,
    });
    assert.deepEqual(response, { status: 200, json: { ok: true } });

    const [handshake] = receiver.requests;
    assert.equal(handshake?.method, 'GET');
    assert.equal(handshake?.url.pathname, new URL(receiver.url).pathname);
    assert.equal(handshake?.url.searchParams.get('hub.mode'), 'subscribe');
    assert.match(handshake?.url.searchParams.get('hub.challenge') ?? '', /^\d+$/);

    await postMessage(simulator.url, textMessage(`+${RECIPIENT_WA_ID}`));
    await waitFor(() => receiver.webhooks().length >= 1, 3_000, 'webhook to the subscribed URL');
  });

  it('refuses the subscription when the endpoint rejects the verify token', async () => {
    answerVerificationLikeAnApp();
    const response = await control(simulator.url, 'POST', '/_simulator/subscribe', {
      url: receiver.url,
      verifyToken: 'wrong-token',
    });
    assert.equal(response.status, 502);
    assert.match(response.json.error ?? '', /HTTP 403/);

    await postMessage(simulator.url, textMessage(`+${RECIPIENT_WA_ID}`));
    assert.deepEqual(simulator.webhookDeliveries(), [], 'no webhook URL was set');
  });

  it('refuses the subscription when the endpoint does not echo the challenge', async () => {
    receiver.respondWith(() => ({ status: 200, body: 'OK' }));
    const response = await control(simulator.url, 'POST', '/_simulator/subscribe', {
      url: receiver.url,
      verifyToken: VERIFY_TOKEN,
    });
    assert.equal(response.status, 502);
    assert.match(response.json.error ?? '', /challenge/);
  });

  it('refuses the subscription when the endpoint is unreachable', async () => {
    const gone = await startWebhookReceiver();
    await gone.close();
    const response = await control(simulator.url, 'POST', '/_simulator/subscribe', {
      url: gone.url,
      verifyToken: VERIFY_TOKEN,
    });
    assert.equal(response.status, 502);
    assert.match(response.json.error ?? '', /ECONNREFUSED/);
  });

  it('answers JSON errors for unknown routes, wrong methods, bad JSON and huge bodies', async () => {
    assert.deepEqual(await control(simulator.url, 'GET', '/_simulator/nope'), { status: 404, json: { error: 'not found' } });
    assert.deepEqual(await control(simulator.url, 'DELETE', '/_simulator/sent'), {
      status: 405,
      json: { error: 'method not allowed' },
    });

    const badJson = await fetch(`${simulator.url}/_simulator/failures`, { method: 'POST', body: '{' });
    assert.equal(badJson.status, 400);
    assert.deepEqual(await badJson.json(), { error: 'request body must be JSON' });

    const huge = await fetch(`${simulator.url}/_simulator/failures`, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) });
    assert.equal(huge.status, 413);
    assert.deepEqual(await huge.json(), { error: 'request body too large' });
  });
});
