/**
 * End to end, every non-template message type: the real processes (nats-server, the WhatsApp simulator, the five
 * services on SQLite) started by the same code as `npm start`; a client built from the public protos. Media go by
 * https link, served by the simulator's hosted media (its control API), so nothing leaves the machine. Each message
 * reaches DELIVERED or READ; a reaction ends at SENT (WhatsApp reports nothing more for one).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@grpc/grpc-js';
import { createTempDir, freePort, waitFor } from '@waygate/testing';
import { customerWritesFirst, startLocalStack, untilWindowOpen, type LocalStack, type StackPorts } from '@waygate/local-run';
import { callUnary, loadPublicClients } from './proto-clients';

const RECIPIENT = '+4915112345679';
const MEDIA_HOST = 'https://media.example.test';

interface WireMessage {
  message_id: string;
  status: string;
  wa_message_id: string;
  content_type: string;
  content_summary: string;
  reply_to_wa_message_id: string;
}

let dir: ReturnType<typeof createTempDir>;
let stack: LocalStack;
let messaging: Client;
const logLines: string[] = [];

before(async () => {
  dir = createTempDir('waygate-e2e-types-');
  const take = () => freePort();
  const ports: StackPorts = {
    nats: await take(),
    simulator: await take(),
    webhook: await take(),
    grpc: {
      ingress: await take(),
      receipt: await take(),
      'media-store': await take(),
      archive: await take(),
      'delivery-retry': await take(),
    },
  };
  stack = await startLocalStack({
    dataDir: dir.path,
    ports,
    serviceEnv: { WAYGATE_LOG_LEVEL: 'info' },
    onLine: (process, line) => logLines.push(`${process}: ${line}`),
  });
  messaging = loadPublicClients().messaging(`127.0.0.1:${ports.grpc.ingress}`);
});

after(async () => {
  messaging?.close();
  await stack?.stop();
  if (process.exitCode && logLines.length > 0) process.stderr.write(`${logLines.slice(-80).join('\n')}\n`);
  dir?.remove();
});

/** Serves `bytes` at `${MEDIA_HOST}/${name}` from the simulator, as WhatsApp would fetch a hosted link. */
async function hostMedia(name: string, mimeType: string, bytes: Buffer): Promise<string> {
  const link = `${MEDIA_HOST}/${name}`;
  const response = await fetch(`${stack.simulatorUrl}/_simulator/hosted-media`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ link, mimeType, base64: bytes.toString('base64') }),
  });
  assert.equal(response.status, 200, await response.text());
  return link;
}

async function send(key: string, fields: Record<string, unknown>): Promise<string> {
  // ingress's view of the customer's window follows receipt within about a second.
  const response = await untilWindowOpen(() =>
    callUnary<{ message_id: string; status: string }>(
      messaging,
      'SendMessage',
      { to: RECIPIENT, idempotency_key: key, ...fields },
      stack.credentials.apiKey,
    ),
  );
  assert.equal(response.status, 'MESSAGE_STATUS_ACCEPTED', key);
  return response.message_id;
}

function get(messageId: string): Promise<WireMessage> {
  return callUnary<WireMessage>(messaging, 'GetMessage', { message_id: messageId }, stack.credentials.apiKey);
}

function waitForStatus(messageId: string, what: string, ...statuses: string[]): Promise<WireMessage> {
  return waitFor(
    async () => {
      const message = await get(messageId);
      return statuses.includes(message.status) ? message : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, what: `${what} to reach ${statuses.join(' or ')}` },
  );
}

test('one message of each type (a template too) is delivered through the real processes; a reply quotes, a reaction ends at SENT', async () => {
  await customerWritesFirst(stack.simulatorUrl, RECIPIENT);
  const png = await hostMedia('cat.png', 'image/png', Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(512, 7)]));
  const mp4 = await hostMedia('clip.mp4', 'video/mp4', Buffer.alloc(1024, 1));
  const ogg = await hostMedia('note.ogg', 'audio/ogg', Buffer.from('OggS'.padEnd(256, '\u0000')));
  const pdf = await hostMedia('invoice.pdf', 'application/pdf', Buffer.from('%PDF-1.4\n%%EOF\n'));
  const webp = await hostMedia('smile.webp', 'image/webp', Buffer.from('RIFF\u0000\u0000\u0000\u0000WEBPVP8 '.padEnd(128, '\u0000')));

  const cases: [string, Record<string, unknown>, string, string][] = [
    ['image', { image: { link: png, caption: 'A cat' } }, 'CONTENT_TYPE_IMAGE', 'image "A cat"'],
    ['video', { video: { link: mp4 } }, 'CONTENT_TYPE_VIDEO', 'video'],
    ['audio', { audio: { link: ogg, voice: true } }, 'CONTENT_TYPE_AUDIO', 'voice message'],
    ['document', { document: { link: pdf, filename: 'invoice-42.pdf' } }, 'CONTENT_TYPE_DOCUMENT', 'document invoice-42.pdf'],
    ['sticker', { sticker: { link: webp } }, 'CONTENT_TYPE_STICKER', 'sticker'],
    [
      'buttons',
      {
        interactive: {
          header: { text: 'Delivery slot' },
          body: 'When should we deliver?',
          footer: 'Reply by 6 pm',
          buttons: {
            buttons: [
              { id: 'am', title: 'Morning' },
              { id: 'pm', title: 'Afternoon' },
            ],
          },
        },
      },
      'CONTENT_TYPE_INTERACTIVE',
      'interactive 2 reply buttons "When should we deliver?"',
    ],
    [
      'list',
      {
        interactive: {
          body: 'Pick a dish',
          list: { button: 'Menu', sections: [{ title: 'Mains', rows: [{ id: 'pasta', title: 'Pasta' }] }] },
        },
      },
      'CONTENT_TYPE_INTERACTIVE',
      'interactive list of 1 row "Pick a dish"',
    ],
    [
      'cta_url',
      {
        interactive: {
          header: { image: { link: png } },
          body: 'Track your order',
          cta_url: { display_text: 'Track', url: 'https://example.com/t/42' },
        },
      },
      'CONTENT_TYPE_INTERACTIVE',
      'interactive call-to-action URL button "Track your order"',
    ],
    [
      'location',
      { location: { latitude: 52.52, longitude: 13.405, name: 'Pickup point' } },
      'CONTENT_TYPE_LOCATION',
      'location "Pickup point"',
    ],
    [
      'contacts',
      { contacts: { contacts: [{ name: { formatted_name: 'Ada Lovelace' }, phones: [{ phone: '+4915112345670', type: 'CELL' }] }] } },
      'CONTENT_TYPE_CONTACTS',
      'contacts (1 card): Ada Lovelace',
    ],
    ['text', { text: { body: 'Your parcel ships today' } }, 'CONTENT_TYPE_TEXT', 'text "Your parcel ships today"'],
    [
      'template',
      {
        template: {
          name: 'order_update',
          language: 'en_US',
          components: [
            {
              type: 'TEMPLATE_COMPONENT_TYPE_BODY',
              parameters: [
                { parameter_name: 'first_name', text: 'Ada' },
                { parameter_name: 'order_id', text: 'A-1042' },
              ],
            },
          ],
        },
      },
      'CONTENT_TYPE_TEMPLATE',
      'template order_update (en_US)',
    ],
  ];
  const ids = new Map<string, string>();
  for (const [name, fields] of cases) ids.set(name, await send(`types-${name}`, fields));

  for (const [name, , contentType, summary] of cases) {
    const message = await waitForStatus(ids.get(name) as string, name, 'MESSAGE_STATUS_DELIVERED', 'MESSAGE_STATUS_READ');
    assert.deepEqual([message.content_type, message.content_summary], [contentType, summary], name);
  }

  // A reply to the text (by its Waygate id), and a reaction to it: both resolve to its wamid.
  const text = await get(ids.get('text') as string);
  const reply = await send('types-reply', { text: { body: 'And here is the tracking link' }, reply_to: text.message_id });
  const reaction = await send('types-reaction', { reaction: { message_id: text.message_id, emoji: '👍' } });
  const replied = await waitForStatus(reply, 'the reply', 'MESSAGE_STATUS_DELIVERED', 'MESSAGE_STATUS_READ');
  assert.equal(replied.reply_to_wa_message_id, text.wa_message_id);
  const reacted = await waitForStatus(reaction, 'the reaction', 'MESSAGE_STATUS_SENT');
  assert.deepEqual([reacted.content_type, reacted.content_summary], ['CONTENT_TYPE_REACTION', 'reaction 👍']);

  const sent = (await (await fetch(`${stack.simulatorUrl}/_simulator/sent`)).json()) as {
    messages: { wamid: string; type: string; body: Record<string, unknown> }[];
  };
  const byWamid = new Map(sent.messages.map((message) => [message.wamid, message]));
  assert.deepEqual(byWamid.get(replied.wa_message_id)?.body.context, { message_id: text.wa_message_id }, 'the reply quotes the text');
  assert.deepEqual(byWamid.get(reacted.wa_message_id)?.body.reaction, { message_id: text.wa_message_id, emoji: '👍' });
  assert.deepEqual([...new Set(sent.messages.map((message) => message.type))].sort(), [
    'audio',
    'contacts',
    'document',
    'image',
    'interactive',
    'location',
    'reaction',
    'sticker',
    'template',
    'text',
    'video',
  ]);
  // Every other message has moved on by now (a barrier): the reaction has still only SENT, nothing more will come.
  await waitForStatus(reply, 'the reply', 'MESSAGE_STATUS_READ');
  assert.equal((await get(reaction)).status, 'MESSAGE_STATUS_SENT');
});
