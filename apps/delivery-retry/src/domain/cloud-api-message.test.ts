/**
 * Meta's JSON for every content kind: one exact fixture per type (Meta's send pages, field by field), and each body
 * accepted as sent by the WhatsApp simulator through the real Cloud API client, which validates every type as Meta.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTENT_KINDS, mediaIdsOf, type ContentKind, type MessageContent } from '@waygate/domain';
import { SAMPLE_CONTENTS } from '@waygate/testing';
import { createCloudApiClient } from '@waygate/whatsapp-cloud-api';
import { startSimulator, type WhatsAppSimulator } from '@waygate/whatsapp-simulator';
import { toCloudApiMessage, type CloudApiJson } from './cloud-api-message';

const TO = '+4915112345678';
const ENVELOPE = { messaging_product: 'whatsapp', recipient_type: 'individual', to: TO };
const noStoreMedia = (id: string): string => assert.fail(`no media-store id expected, got ${id}`);

/** The exact body for each sample content (libs/testing SAMPLE_CONTENTS). */
const FIXTURES: Readonly<Record<ContentKind, CloudApiJson>> = {
  text: { ...ENVELOPE, type: 'text', text: { preview_url: true, body: 'Your parcel ships today' } },
  template: {
    ...ENVELOPE,
    type: 'template',
    template: {
      name: 'order_update',
      language: { code: 'en_US' },
      components: [
        { type: 'header', parameters: [{ type: 'image', image: { link: 'https://cdn.example.com/h.png' } }] },
        {
          type: 'body',
          parameters: [
            { type: 'text', text: 'Ada' },
            { type: 'currency', currency: { fallback_value: '€12.50', code: 'EUR', amount_1000: 12500 } },
            { type: 'date_time', date_time: { fallback_value: 'May 1, 2026' } },
          ],
        },
        { type: 'button', sub_type: 'quick_reply', index: '0', parameters: [{ type: 'payload', payload: 'STOP' }] },
        { type: 'button', sub_type: 'url', index: '1', parameters: [{ type: 'text', text: 'order/42' }] },
      ],
    },
  },
  image: { ...ENVELOPE, type: 'image', image: { link: 'https://cdn.example.com/cat.jpg', caption: 'A cat' } },
  video: { ...ENVELOPE, type: 'video', video: { link: 'https://cdn.example.com/clip.mp4', caption: 'Clip' } },
  audio: { ...ENVELOPE, type: 'audio', audio: { link: 'https://cdn.example.com/note.ogg', voice: true } },
  document: {
    ...ENVELOPE,
    type: 'document',
    document: { link: 'https://cdn.example.com/invoice.pdf', caption: 'Your invoice', filename: 'invoice-42.pdf' },
  },
  sticker: { ...ENVELOPE, type: 'sticker', sticker: { link: 'https://cdn.example.com/smile.webp' } },
  interactive: {
    ...ENVELOPE,
    type: 'interactive',
    interactive: {
      type: 'button',
      header: { type: 'text', text: 'Delivery slot' },
      body: { text: 'When should we deliver?' },
      footer: { text: 'Reply by 6 pm' },
      action: {
        buttons: [
          { type: 'reply', reply: { id: 'slot-am', title: 'Morning' } },
          { type: 'reply', reply: { id: 'slot-pm', title: 'Afternoon' } },
        ],
      },
    },
  },
  location: {
    ...ENVELOPE,
    type: 'location',
    location: { latitude: 52.520008, longitude: 13.404954, name: 'Pickup point', address: 'Alexanderplatz 1, Berlin' },
  },
  contacts: {
    ...ENVELOPE,
    type: 'contacts',
    contacts: [
      {
        name: { formatted_name: 'Ada Lovelace', first_name: 'Ada', last_name: 'Lovelace' },
        phones: [{ phone: '+4915112345678', type: 'CELL', wa_id: '4915112345678' }],
        emails: [{ email: 'ada@example.com', type: 'WORK' }],
        addresses: [{ street: 'Main St 1', city: 'Berlin', zip: '10115', country: 'Germany', country_code: 'DE', type: 'WORK' }],
        org: { company: 'Analytical Engines', title: 'Programmer' },
        urls: [{ url: 'https://example.com', type: 'WORK' }],
        birthday: '1815-12-10',
      },
    ],
  },
  reaction: { ...ENVELOPE, type: 'reaction', reaction: { message_id: 'wamid.HBgLMTIzNDU2Nzg5MBUCABEYEjQ', emoji: '👍' } },
};

const LIST: MessageContent = {
  kind: 'interactive',
  header: { type: 'text', text: 'Menu' },
  body: 'Pick a dish',
  footer: '',
  action: {
    type: 'list',
    button: 'Dishes',
    sections: [
      { title: 'Mains', rows: [{ id: 'pasta', title: 'Pasta', description: 'Fresh' }] },
      { title: 'Desserts', rows: [{ id: 'cake', title: 'Cake', description: '' }] },
    ],
  },
};
const LIST_JSON: CloudApiJson = {
  ...ENVELOPE,
  type: 'interactive',
  interactive: {
    type: 'list',
    header: { type: 'text', text: 'Menu' },
    body: { text: 'Pick a dish' },
    action: {
      button: 'Dishes',
      sections: [
        { title: 'Mains', rows: [{ id: 'pasta', title: 'Pasta', description: 'Fresh' }] },
        { title: 'Desserts', rows: [{ id: 'cake', title: 'Cake' }] },
      ],
    },
  },
};
const CTA: MessageContent = {
  kind: 'interactive',
  header: { type: 'image', media: { source: { link: 'https://cdn.example.com/banner.png' }, caption: '', filename: '', voice: false } },
  body: 'Track your order',
  footer: 'Thanks',
  action: { type: 'cta_url', displayText: 'Track', url: 'https://example.com/t/42' },
};
const CTA_JSON: CloudApiJson = {
  ...ENVELOPE,
  type: 'interactive',
  interactive: {
    type: 'cta_url',
    header: { type: 'image', image: { link: 'https://cdn.example.com/banner.png' } },
    body: { text: 'Track your order' },
    footer: { text: 'Thanks' },
    action: { name: 'cta_url', parameters: { display_text: 'Track', url: 'https://example.com/t/42' } },
  },
};
/** An authentication template: the code as the body's text and as the url button 0's text (Meta's OTP pages). */
const OTP: MessageContent = {
  kind: 'template',
  name: 'login_code',
  language: 'en_US',
  components: [
    { type: 'body', subType: '', index: 0, parameters: [{ parameterName: '', value: { type: 'text', text: '918273' } }] },
    { type: 'button', subType: 'url', index: 0, parameters: [{ parameterName: '', value: { type: 'text', text: '918273' } }] },
  ],
};
const OTP_JSON: CloudApiJson = {
  ...ENVELOPE,
  type: 'template',
  template: {
    name: 'login_code',
    language: { code: 'en_US' },
    components: [
      { type: 'body', parameters: [{ type: 'text', text: '918273' }] },
      { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: '918273' }] },
    ],
  },
};

/** Every case: [name, content, exact JSON]. */
const CASES: readonly (readonly [string, MessageContent, CloudApiJson])[] = [
  ...CONTENT_KINDS.map((kind) => [kind, SAMPLE_CONTENTS[kind], FIXTURES[kind]] as const),
  ['interactive list', LIST, LIST_JSON],
  ['interactive cta_url', CTA, CTA_JSON],
  ['authentication template', OTP, OTP_JSON],
];

for (const [name, content, json] of CASES) {
  test(`Meta's JSON for ${name}, exactly`, () => {
    assert.deepEqual(toCloudApiMessage(content, { to: TO, metaMediaId: noStoreMedia }), json);
  });
}

test('a reply carries context.message_id; media by media-store id are sent by the Meta id the resolver gives', () => {
  const reply = toCloudApiMessage(SAMPLE_CONTENTS.text, { to: TO, contextWaMessageId: 'wamid.quoted', metaMediaId: noStoreMedia });
  assert.deepEqual(reply.context, { message_id: 'wamid.quoted' });
  const byId: MessageContent = { kind: 'document', source: { mediaId: 'med_1' }, caption: '', filename: 'a.pdf', voice: false };
  assert.deepEqual(toCloudApiMessage(byId, { to: TO, metaMediaId: (id) => `meta-${id}` }).document, {
    id: 'meta-med_1',
    filename: 'a.pdf',
  });
});

test('mediaIdsOf lists every media-store id a content sends: media, interactive header, template header', () => {
  const media = (mediaId: string) => ({ source: { mediaId }, caption: '', filename: '', voice: false });
  assert.deepEqual(mediaIdsOf({ kind: 'image', ...media('med_1') }), ['med_1']);
  assert.deepEqual(mediaIdsOf({ ...(CTA as object), header: { type: 'video', media: media('med_2') } } as MessageContent), ['med_2']);
  assert.deepEqual(
    mediaIdsOf({
      kind: 'template',
      name: 't',
      language: 'en',
      components: [
        { type: 'header', subType: '', index: 0, parameters: [{ parameterName: '', value: { type: 'image', media: media('med_3') } }] },
      ],
    }),
    ['med_3'],
  );
  for (const kind of CONTENT_KINDS) assert.deepEqual(mediaIdsOf(SAMPLE_CONTENTS[kind]), [], `${kind} sample is by link`);
});

const NUMBER = {
  id: '106540352242922',
  displayPhoneNumber: '+15550102030',
  accessToken: 'EAAtoken',
  wabaId: '102290129340398',
  throughputMps: 1000,
};
let simulator: WhatsAppSimulator;
before(async () => {
  simulator = await startSimulator({
    appSecret: 'secret',
    phoneNumbers: [NUMBER],
    seed: 1,
    timeScale: 0,
    enforceCustomerServiceWindow: false,
    pairRateLimit: false,
    templates: [
      {
        wabaId: NUMBER.wabaId,
        name: 'order_update',
        language: 'en_US',
        category: 'UTILITY',
        header: { format: 'IMAGE' },
        bodyParameters: 3,
        buttons: [{ type: 'QUICK_REPLY' }, { type: 'URL', dynamic: true }],
      },
      {
        wabaId: NUMBER.wabaId,
        name: 'login_code',
        language: 'en_US',
        category: 'AUTHENTICATION',
        bodyParameters: 1,
        buttons: [{ type: 'OTP' }],
      },
    ],
  });
});
after(() => simulator.stop());

test('the simulator accepts every body as Meta would, and receives exactly that JSON (with the callback data)', async () => {
  const client = createCloudApiClient({ baseUrl: simulator.url, version: 'v23.0', timeoutMs: 5000 });
  for (const [name, , json] of CASES) {
    await simulator.reset();
    const { waMessageId } = await client.sendMessage({
      phoneNumberId: NUMBER.id,
      accessToken: NUMBER.accessToken,
      to: TO,
      content: { kind: 'prebuilt', message: json },
      callbackData: 'waygate:msg_1',
    });
    const [sent] = simulator.sentMessages();
    assert.equal(sent?.wamid, waMessageId, name);
    assert.deepEqual(sent?.body, { ...json, biz_opaque_callback_data: 'waygate:msg_1' }, name);
  }
});
