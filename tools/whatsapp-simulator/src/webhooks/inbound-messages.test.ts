/** Customers writing to the business: every inbound type as Meta's webhook, media the business can fetch, the window. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { waitFor } from '@waygate/testing';
import { computeWebhookSignature, startSimulator, type InboundMessageInput, type WhatsAppSimulator } from '../index';
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
import type { InboundWebhookMessage } from './inbound-payloads';

const CUSTOMER = '4915112345678';
const DAY_MS = 24 * 60 * 60 * 1000;
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

let simulator: WhatsAppSimulator;
let receiver: WebhookReceiver;

beforeEach(async () => {
  receiver = await startWebhookReceiver();
  simulator = await startSimulator({
    appSecret: TEST_APP_SECRET,
    phoneNumbers: [TEST_PHONE],
    timeScale: 0,
    webhookUrl: receiver.url,
    seed: 9,
  });
});

afterEach(async () => {
  await simulator.stop();
  await receiver.close();
});

function receivedMessages(): { message: InboundWebhookMessage; contacts: unknown }[] {
  return receiver
    .webhooks()
    .flatMap((webhook) =>
      webhook.entry.flatMap((entry) =>
        entry.changes.flatMap((change) => (change.value.messages ?? []).map((message) => ({ message, contacts: change.value.contacts }))),
      ),
    );
}

async function inbound(message: InboundMessageInput): Promise<InboundWebhookMessage> {
  const { messageId } = simulator.sendInbound(message);
  const received = await waitFor(() => receivedMessages().find((entry) => entry.message.id === messageId), {
    timeoutMs: 3_000,
    what: `${message.type} webhook`,
  });
  assert.deepEqual(received.contacts, [{ profile: { name: 'Erika' }, wa_id: CUSTOMER }]);
  assert.equal(received.message.from, CUSTOMER);
  assert.equal(received.message.type, message.type);
  return received.message;
}

describe('inbound messages', () => {
  it('delivers every type the way Meta sends it, signed', async () => {
    const base = { from: CUSTOMER, profileName: 'Erika' };
    const business = await (async () => {
      simulator.sendInbound({ ...base, type: 'text', text: 'Hi' }); // opens the window for the business's reply
      const { json } = await postMessage(simulator.url, textMessage(CUSTOMER));
      return json.messages?.[0]?.id ?? '';
    })();

    const text = await inbound({ ...base, type: 'text', text: 'Where is my order?', contextMessageId: business });
    assert.deepEqual((text as { text?: unknown }).text, { body: 'Where is my order?' });
    assert.deepEqual(text.context, { from: '15550102030', id: business });

    const image = (await inbound({
      ...base,
      type: 'image',
      media: { base64: PNG.toString('base64'), mimeType: 'image/png' },
      caption: 'receipt',
    })) as {
      image?: { id: string; mime_type: string; caption?: string };
    };
    assert.equal(image.image?.mime_type, 'image/png');
    assert.equal(image.image?.caption, 'receipt');

    const document = (await inbound({
      ...base,
      type: 'document',
      media: { base64: Buffer.from('%PDF-1.4').toString('base64'), mimeType: 'application/pdf', filename: 'invoice.pdf' },
    })) as {
      document?: { filename?: string };
    };
    assert.equal(document.document?.filename, 'invoice.pdf');

    const location = (await inbound({ ...base, type: 'location', latitude: 52.52, longitude: 13.405, name: 'Office' })) as {
      location?: unknown;
    };
    assert.deepEqual(location.location, { latitude: 52.52, longitude: 13.405, name: 'Office' });

    const contacts = (await inbound({
      ...base,
      type: 'contacts',
      contacts: [{ name: { formatted_name: 'Max Muster', first_name: 'Max' }, phones: [{ phone: '+49 30 1234567', type: 'WORK' }] }],
    })) as { contacts?: { name: { formatted_name: string } }[] };
    assert.equal(contacts.contacts?.[0]?.name.formatted_name, 'Max Muster');

    const buttonReply = (await inbound({
      ...base,
      type: 'interactive',
      reply: { kind: 'button_reply', id: 'yes', title: 'Yes' },
      contextMessageId: business,
    })) as { interactive?: unknown };
    assert.deepEqual(buttonReply.interactive, { type: 'button_reply', button_reply: { id: 'yes', title: 'Yes' } });

    const listReply = (await inbound({
      ...base,
      type: 'interactive',
      reply: { kind: 'list_reply', id: 'slot-2', title: 'Tuesday', description: '10-12' },
      contextMessageId: business,
    })) as { interactive?: unknown };
    assert.deepEqual(listReply.interactive, { type: 'list_reply', list_reply: { id: 'slot-2', title: 'Tuesday', description: '10-12' } });

    const quickReply = (await inbound({
      ...base,
      type: 'button',
      payload: 'STOP',
      text: 'Stop promotions',
      contextMessageId: business,
    })) as { button?: unknown };
    assert.deepEqual(quickReply.button, { payload: 'STOP', text: 'Stop promotions' });

    const reaction = (await inbound({ ...base, type: 'reaction', messageId: business, emoji: '👍' })) as { reaction?: unknown };
    assert.deepEqual(reaction.reaction, { message_id: business, emoji: '👍' });
    const removed = (await inbound({ ...base, type: 'reaction', messageId: business, emoji: '' })) as { reaction?: unknown };
    assert.deepEqual(removed.reaction, { message_id: business }, 'a removed reaction has no emoji');

    const unsupported = (await inbound({ ...base, type: 'unsupported' })) as { errors?: { code: number }[] };
    assert.equal(unsupported.errors?.[0]?.code, 131051);

    for (const request of receiver.requests) {
      assert.equal(request.headers['x-hub-signature-256'], computeWebhookSignature(TEST_APP_SECRET, request.rawBody.toString('utf8')));
    }
    assert.equal(receivedStatuses(receiver, business)[0]?.status, 'sent');
  });

  it('keeps one customer’s messages in order', async () => {
    const ids = ['one', 'two', 'three', 'four'].map((text) => simulator.sendInbound({ type: 'text', from: CUSTOMER, text }).messageId);
    await waitFor(() => receivedMessages().length === 4, { timeoutMs: 3_000, what: 'four messages' });
    assert.deepEqual(
      receivedMessages().map((entry) => entry.message.id),
      ids,
    );
  });

  it('lets the business download inbound media with its token for 7 days', async () => {
    const { mediaId } = simulator.sendInbound({
      type: 'image',
      from: CUSTOMER,
      media: { base64: PNG.toString('base64'), mimeType: 'image/png' },
    });
    const headers = { Authorization: `Bearer ${TEST_PHONE.accessToken}` };
    const info = (await (await fetch(`${simulator.url}/v23.0/${mediaId}`, { headers })).json()) as {
      url: string;
      mime_type: string;
      file_size: number;
    };
    assert.equal(info.mime_type, 'image/png');
    const download = await fetch(info.url, { headers });
    assert.equal(download.status, 200);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), PNG);

    await simulator.advanceTime(7 * DAY_MS);
    const expired = await fetch(`${simulator.url}/v23.0/${mediaId}`, { headers });
    assert.equal(expired.status, 400, 'Meta forgets inbound media after 7 days');
  });

  it('is available from the control API and validates what it is given', async () => {
    const sent = await control(simulator.url, 'POST', '/_simulator/inbound', { message: { type: 'text', from: CUSTOMER, text: 'Hello' } });
    assert.equal(sent.status, 200);
    const unknownNumber = await control(simulator.url, 'POST', '/_simulator/inbound', {
      phoneNumberId: '999',
      message: { type: 'text', from: CUSTOMER, text: 'x' },
    });
    assert.equal(unknownNumber.status, 400);
    const badMedia = await control(simulator.url, 'POST', '/_simulator/inbound', {
      message: { type: 'image', from: CUSTOMER, media: { base64: 'x', mimeType: '' } },
    });
    assert.equal(badMedia.status, 400);
  });
});
