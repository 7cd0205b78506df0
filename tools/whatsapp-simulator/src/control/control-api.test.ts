import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { waitFor } from '@waygate/testing';
import { startSimulator, type WhatsAppSimulator } from '../index';
import {
  TEST_APP_SECRET,
  TEST_PHONE,
  control,
  postMessage,
  startWebhookReceiver,
  textMessage,
  type WebhookReceiver,
} from '../test-helpers';

const RECIPIENT_WA_ID = '4915112345678';
const VERIFY_TOKEN = 'my-verify-token';

let simulator: WhatsAppSimulator;
let receiver: WebhookReceiver;

beforeEach(async () => {
  receiver = await startWebhookReceiver();
  simulator = await startSimulator({ appSecret: TEST_APP_SECRET, phoneNumbers: [TEST_PHONE], statusDelayMs: 10, seed: 5 });
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
    await waitFor(() => receiver.webhooks().length === 1, { timeoutMs: 3_000, what: 'failed status' });
    assert.equal(receiver.webhooks()[0]?.entry[0]?.changes[0]?.value.statuses?.[0]?.status, 'failed');
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
    await control(simulator.url, 'POST', '/_simulator/inbound', { message: { type: 'text', from: RECIPIENT_WA_ID, text: 'Hi' } });
    await waitFor(() => simulator.webhookDeliveries().length === 1, { timeoutMs: 3_000, what: 'the inbound webhook' });
    const { json } = await postMessage(simulator.url, textMessage(`+${RECIPIENT_WA_ID}`));
    const wamid = json.messages?.[0]?.id;

    const sent = await control(simulator.url, 'GET', '/_simulator/sent');
    assert.equal(sent.status, 200);
    assert.deepEqual(sent.json.messages, simulator.sentMessages());
    assert.equal(sent.json.messages?.[0]?.wamid, wamid);

    await waitFor(() => simulator.webhookDeliveries().length === 4, { timeoutMs: 3_000, what: 'four deliveries' });
    const webhooks = await control(simulator.url, 'GET', '/_simulator/webhooks');
    assert.equal(webhooks.status, 200);
    assert.deepEqual(
      webhooks.json.deliveries?.map((delivery) => delivery.statuses[0]?.status ?? delivery.messages[0]?.type),
      ['text', 'sent', 'delivered', 'read'],
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
    await waitFor(() => receiver.webhooks().length >= 1, { timeoutMs: 3_000, what: 'webhook to the subscribed URL' });
  });

  it("a WABA's override URL takes its webhooks; the app's URL keeps the others (Meta's override_callback_uri)", async () => {
    answerVerificationLikeAnApp();
    const app = await startWebhookReceiver();
    try {
      await control(simulator.url, 'PUT', '/_simulator/webhook-url', { url: app.url });
      const unknown = await control(simulator.url, 'POST', '/_simulator/subscribe', {
        url: receiver.url,
        verifyToken: VERIFY_TOKEN,
        wabaId: '999',
      });
      assert.equal(unknown.status, 400);
      assert.match(unknown.json.error ?? '', /wabaId 999/);
      const response = await control(simulator.url, 'POST', '/_simulator/subscribe', {
        url: receiver.url,
        verifyToken: VERIFY_TOKEN,
        wabaId: TEST_PHONE.wabaId,
      });
      assert.deepEqual(response, { status: 200, json: { ok: true } });
      await postMessage(simulator.url, textMessage(`+${RECIPIENT_WA_ID}`));
      await waitFor(() => receiver.webhooks().length >= 1, { timeoutMs: 3_000, what: "a webhook at the WABA's override URL" });
      assert.equal(app.webhooks().length, 0, "nothing went to the app's URL");
    } finally {
      await app.close();
    }
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

  it('makes a customer write (opening their window), lists inbound messages, and reads back read marks', async () => {
    await control(simulator.url, 'PUT', '/_simulator/webhook-url', { url: receiver.url });
    const inbound = await control(simulator.url, 'POST', '/_simulator/inbound', {
      message: { type: 'location', from: RECIPIENT_WA_ID, latitude: 52.52, longitude: 13.405, name: 'Office' },
    });
    assert.equal(inbound.status, 200);
    const messageId = (inbound.json as { messageId?: string }).messageId ?? '';
    assert.match(messageId, /^wamid\./);
    const listed = await control(simulator.url, 'GET', '/_simulator/inbound');
    assert.deepEqual(
      (listed.json as { messages?: { messageId: string; type: string }[] }).messages?.map((m) => [m.messageId, m.type]),
      [[messageId, 'location']],
    );
    await postMessage(simulator.url, { messaging_product: 'whatsapp', status: 'read', message_id: messageId });
    const marks = await control(simulator.url, 'GET', '/_simulator/read-marks');
    assert.equal((marks.json as { readMarks?: { messageId: string }[] }).readMarks?.[0]?.messageId, messageId);
    const bad = await control(simulator.url, 'POST', '/_simulator/inbound', { message: { type: 'text', from: 'not-a-number', text: 'x' } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error ?? '', /from/);
  });

  it("sends Meta's user_preferences webhook when a customer stops or resumes marketing messages; bad input is 400", async () => {
    await control(simulator.url, 'PUT', '/_simulator/webhook-url', { url: receiver.url });
    assert.deepEqual(await control(simulator.url, 'POST', '/_simulator/user-preferences', { from: RECIPIENT_WA_ID, value: 'stop' }), {
      status: 200,
      json: { ok: true },
    });
    await waitFor(() => receiver.webhooks().length === 1, { timeoutMs: 3_000, what: 'the user_preferences webhook' });
    const [entry] = receiver.webhooks()[0]?.entry ?? [];
    assert.equal(entry?.id, TEST_PHONE.wabaId);
    const change = entry?.changes[0] as unknown as { field: string; value: Record<string, unknown> };
    assert.equal(change.field, 'user_preferences');
    assert.deepEqual(change.value.contacts, [{ profile: { name: 'WhatsApp User' }, wa_id: RECIPIENT_WA_ID }]);
    const [preference, ...rest] = change.value.user_preferences as Record<string, unknown>[];
    assert.equal(rest.length, 0);
    assert.deepEqual(
      { ...preference, timestamp: undefined },
      {
        wa_id: RECIPIENT_WA_ID,
        detail: 'User requested to stop marketing messages',
        category: 'marketing_messages',
        value: 'stop',
        timestamp: undefined,
      },
    );
    assert.match(String(preference?.timestamp), /^\d+$/);
    assert.equal(change.value.messages, undefined, 'a change of its own, not a messages change');

    for (const bad of [{ from: RECIPIENT_WA_ID, value: 'pause' }, { from: 'not-a-number', value: 'stop' }, { value: 'resume' }]) {
      assert.equal((await control(simulator.url, 'POST', '/_simulator/user-preferences', bad)).status, 400, JSON.stringify(bad));
    }
  });

  it('reads, scales and advances the simulated clock', async () => {
    const before = await control(simulator.url, 'GET', '/_simulator/clock');
    assert.equal((before.json as { scale?: number }).scale, 1);
    const frozen = await control(simulator.url, 'PUT', '/_simulator/clock', { scale: 0 });
    const frozenAt = (frozen.json as { nowMs: number }).nowMs;
    const advanced = await control(simulator.url, 'POST', '/_simulator/clock/advance', { days: 7 });
    assert.equal((advanced.json as { nowMs: number }).nowMs, frozenAt + 7 * 24 * 60 * 60 * 1000);
    assert.equal(simulator.now(), frozenAt + 7 * 24 * 60 * 60 * 1000);
    assert.equal((await control(simulator.url, 'POST', '/_simulator/clock/advance', { days: 1, hours: 1 })).status, 400);
    assert.equal((await control(simulator.url, 'POST', '/_simulator/clock/advance', { seconds: -1 })).status, 400);
    assert.equal((await control(simulator.url, 'PUT', '/_simulator/clock', { scale: -2 })).status, 400);
  });

  it('injects and clears webhook faults and outages', async () => {
    await control(simulator.url, 'PUT', '/_simulator/webhook-url', { url: receiver.url });
    await control(simulator.url, 'PUT', '/_simulator/recipients/' + RECIPIENT_WA_ID, { mode: 'online' });
    assert.equal((await control(simulator.url, 'POST', '/_simulator/webhook-faults', { fault: 'nonsense' })).status, 400);
    assert.deepEqual(await control(simulator.url, 'POST', '/_simulator/webhook-faults', { fault: 'skip_delivered' }), {
      status: 200,
      json: { ok: true },
    });
    assert.deepEqual(await control(simulator.url, 'DELETE', '/_simulator/webhook-faults'), { status: 200, json: { ok: true } });
    await control(simulator.url, 'POST', '/_simulator/failures', { mode: 'drop' });
    await assert.rejects(postMessage(simulator.url, textMessage(`+${RECIPIENT_WA_ID}`)));
    await assert.rejects(postMessage(simulator.url, textMessage(`+${RECIPIENT_WA_ID}`)), 'an outage lasts until cleared');
    await control(simulator.url, 'DELETE', '/_simulator/failures');
    assert.equal((await postMessage(simulator.url, textMessage(`+${RECIPIENT_WA_ID}`))).status, 200);
  });

  it('cuts media downloads off midway until the count is used up or the faults are cleared', async () => {
    const bytes = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(4_000, 1)]);
    const sent = await control(simulator.url, 'POST', '/_simulator/inbound', {
      message: { type: 'document', from: RECIPIENT_WA_ID, media: { base64: bytes.toString('base64'), mimeType: 'application/pdf' } },
    });
    const mediaId = (sent.json as { mediaId: string }).mediaId;
    const download = async (): Promise<Buffer> => {
      const media = await fetch(`${simulator.url}/v23.0/${mediaId}`, { headers: { Authorization: `Bearer ${TEST_PHONE.accessToken}` } });
      const { url } = (await media.json()) as { url: string };
      const answer = await fetch(url, { headers: { Authorization: `Bearer ${TEST_PHONE.accessToken}` } });
      return Buffer.from(await answer.arrayBuffer());
    };
    assert.equal((await control(simulator.url, 'POST', '/_simulator/media-download-faults', { count: 0 })).status, 400);
    assert.deepEqual(await control(simulator.url, 'POST', '/_simulator/media-download-faults', { mediaId, count: 1 }), {
      status: 200,
      json: { ok: true },
    });
    await assert.rejects(download(), /terminated/);
    assert.deepEqual(await download(), bytes, 'one cut, then whole');
    await control(simulator.url, 'POST', '/_simulator/media-download-faults', {});
    await assert.rejects(download(), /terminated/);
    await assert.rejects(download(), /terminated/);
    assert.deepEqual(await control(simulator.url, 'DELETE', '/_simulator/media-download-faults'), { status: 200, json: { ok: true } });
    assert.deepEqual(await download(), bytes);
  });

  it('reset forgets sent messages, deliveries, recipients, windows and failures, but keeps the webhook URL', async () => {
    await control(simulator.url, 'PUT', '/_simulator/webhook-url', { url: receiver.url });
    await control(simulator.url, 'POST', '/_simulator/inbound', { message: { type: 'text', from: RECIPIENT_WA_ID, text: 'Hi' } });
    await postMessage(simulator.url, textMessage(`+${RECIPIENT_WA_ID}`));
    await control(simulator.url, 'POST', '/_simulator/failures', { httpStatus: 500, code: 131000 });
    await waitFor(() => simulator.webhookDeliveries().length >= 1, { timeoutMs: 3_000, what: 'a delivery' });
    assert.deepEqual(await control(simulator.url, 'POST', '/_simulator/reset'), { status: 200, json: { ok: true } });
    assert.deepEqual(simulator.sentMessages(), []);
    assert.deepEqual(simulator.webhookDeliveries(), []);
    assert.deepEqual(simulator.inboundMessages(), []);
    const { status, json } = await postMessage(simulator.url, textMessage(`+${RECIPIENT_WA_ID}`));
    assert.equal(status, 200, 'the outage was cleared');
    const wamid = json.messages?.[0]?.id;
    const statuses = await waitFor(() => simulator.webhookDeliveries().find((delivery) => delivery.statuses.some((s) => s.id === wamid)), {
      timeoutMs: 3_000,
      what: 'a status for the new message',
    });
    assert.deepEqual(statuses.statuses, [{ id: wamid, status: 'failed' }], 'the window was forgotten, so 131047');
  });
});
