/**
 * The simulator's generated webhooks must have the shape of the hand-written Meta fixtures
 * (`fixtures/webhooks/*.json`): same keys on every object, same JSON type on every leaf. Values may differ.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildInboundMessage, type InboundMessageInput, type ResolvedInboundMessage, type ValueLevelError } from './inbound-payloads';
import { buildStatusObject, failedStatusError, type StatusUpdate } from './status-payloads';
import { buildWebhookPayload, type WebhookBusinessNumber, type WebhookItems, type WhatsAppWebhookPayload } from './webhook-envelope';
import { WEBHOOK_FIXTURE_NAMES, loadWebhookFixture, type WebhookFixtureName } from './webhook-fixtures';

type JsonType = 'null' | 'array' | 'object' | 'string' | 'number' | 'boolean' | 'other';

function jsonType(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  return type === 'object' || type === 'string' || type === 'number' || type === 'boolean' ? type : 'other';
}

/**
 * Same key set on objects, same JSON type on leaves. Arrays are compared element-wise: element i against the fixture's
 * element i, or against its first element once the fixture runs out, so batches may differ in length but a fixture
 * that mixes shapes (a delivered, a sent and a read status) is matched position by position.
 */
function assertSameShape(actual: unknown, fixture: unknown, path: string): void {
  const expectedType = jsonType(fixture);
  assert.equal(jsonType(actual), expectedType, `${path}: JSON type`);
  if (Array.isArray(fixture) && Array.isArray(actual)) {
    assert.equal(actual.length === 0, fixture.length === 0, `${path}: emptiness`);
    actual.forEach((element, index) => assertSameShape(element, fixture[Math.min(index, fixture.length - 1)], `${path}[${index}]`));
    return;
  }
  if (expectedType === 'object') {
    const actualRecord = actual as Record<string, unknown>;
    const fixtureRecord = fixture as Record<string, unknown>;
    assert.deepEqual(Object.keys(actualRecord).sort(), Object.keys(fixtureRecord).sort(), `${path}: keys`);
    for (const key of Object.keys(fixtureRecord)) assertSameShape(actualRecord[key], fixtureRecord[key], `${path}.${key}`);
  }
}

// The fixtures' business numbers, given as an operator would configure them (the webhook turns them into digits).
const WABA_1: WebhookBusinessNumber = {
  wabaId: '104873201958617',
  phoneNumberId: '109382746510293',
  displayPhoneNumber: '+1 555-010-1234',
};
const WABA_1_SECOND: WebhookBusinessNumber = { ...WABA_1, phoneNumberId: '109382746510294' };
const WABA_2: WebhookBusinessNumber = {
  wabaId: '112930485761203',
  phoneNumberId: '118273645091827',
  displayPhoneNumber: '+1 555-010-5678',
};

const LENA = '4915112345678';
const OTHER = '15550107788';
const BUSINESS_WAMID = 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEkU4OUYyNDNBRUVCNjQyMDhCQwA=';
const MEDIA_BASE64 = Buffer.from('media bytes').toString('base64');
const MEDIA_URL = 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&source=webhook';

function statusPayload(...updates: StatusUpdate[]): WhatsAppWebhookPayload {
  return buildWebhookPayload([{ number: WABA_1, items: { statuses: updates.map(buildStatusObject) } }]);
}

function inboundPayload(input: InboundMessageInput, resolved: Partial<ResolvedInboundMessage> = {}): WhatsAppWebhookPayload {
  const { contact, message } = buildInboundMessage(input, {
    messageId: 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDI3RkFGRDIxMzU1Nzk3NTk4RjA5AA==',
    timestampSec: 1795432000,
    contextFrom: '15550101234',
    ...resolved,
  });
  const items: WebhookItems = { contacts: [contact], messages: [message] };
  return buildWebhookPayload([{ number: WABA_1, items }]);
}

function storedMedia(mimeType: string, filename?: string): Partial<ResolvedInboundMessage> {
  return {
    media: {
      id: '1482937561029384',
      mimeType,
      sha256: 'zORe5w/2vAWeOt77tfIMksPpvr2O+apvrqhD3s7kqKg=',
      url: MEDIA_URL,
      ...(filename ? { filename } : {}),
    },
  };
}

const base = { wamid: BUSINESS_WAMID, recipientId: LENA, timestampSec: 1795431600 };
const marketing = { category: 'marketing', type: 'regular', billable: true } as const;
const freeService = { category: 'service', type: 'free_customer_service', billable: false } as const;
const rateLimited: ValueLevelError = failedStatusError(
  130429,
  'Rate limit hit',
  'Message failed to send because there were too many messages',
);

/**
 * How the simulator builds the equivalent of each fixture. `inbound-order` and `inbound-system` are left out on
 * purpose: the simulator cannot send order or system (number change) messages, so there is no builder to compare.
 */
const BUILT: Partial<Record<WebhookFixtureName, () => WhatsAppWebhookPayload>> = {
  'status-sent': () =>
    statusPayload({
      ...base,
      status: 'sent',
      conversation: { id: 'd3e2724d961e0a11368fc1cbc67b3b65', originType: 'marketing', expiresAtSec: 1795518000 },
      pricing: marketing,
    }),
  'status-delivered': () =>
    statusPayload({
      ...base,
      status: 'delivered',
      conversation: { id: 'e8b3a7c3371770f855a40e50a4323344', originType: 'service' },
      pricing: freeService,
    }),
  'status-read': () => statusPayload({ ...base, status: 'read' }),
  'status-failed': () =>
    statusPayload({ ...base, status: 'failed', errors: [failedStatusError(131026, 'Message undeliverable', 'Message Undeliverable.')] }),
  // The fixture repeats one phone number in two changes; the simulator merges a number's items into one change, so the
  // second change is built for a second number of the same WABA (same shape, different phone_number_id).
  'statuses-batched': () =>
    buildWebhookPayload([
      {
        number: WABA_1,
        items: {
          statuses: [
            buildStatusObject({ ...base, status: 'delivered', conversation: { id: 'd3e2', originType: 'marketing' }, pricing: marketing }),
            buildStatusObject({
              ...base,
              status: 'sent',
              pricing: { category: 'utility', type: 'free_customer_service', billable: false },
            }),
            buildStatusObject({ ...base, status: 'read' }),
          ],
        },
      },
      {
        number: WABA_1_SECOND,
        items: {
          statuses: [
            buildStatusObject({
              ...base,
              recipientId: OTHER,
              status: 'sent',
              pricing: { category: 'utility', type: 'regular', billable: true },
            }),
          ],
        },
      },
      {
        number: WABA_2,
        items: {
          statuses: [
            buildStatusObject({
              ...base,
              recipientId: OTHER,
              status: 'failed',
              errors: [failedStatusError(131049, 'This message was not delivered to maintain healthy ecosystem engagement.', 'Healthy.')],
            }),
          ],
        },
      },
    ]),
  'inbound-text': () => inboundPayload({ type: 'text', from: LENA, profileName: 'Lena Vogel', text: 'Hallo! Is my order on its way?' }),
  'inbound-text-reply': () =>
    inboundPayload({ type: 'text', from: LENA, profileName: 'Lena Vogel', text: 'Yes, please.', contextMessageId: BUSINESS_WAMID }),
  'inbound-image': () =>
    inboundPayload(
      {
        type: 'image',
        from: LENA,
        profileName: 'Lena Vogel',
        media: { base64: MEDIA_BASE64, mimeType: 'image/jpeg' },
        caption: 'Damaged box',
      },
      storedMedia('image/jpeg'),
    ),
  'inbound-video': () =>
    inboundPayload(
      { type: 'video', from: LENA, profileName: 'Lena Vogel', media: { base64: MEDIA_BASE64, mimeType: 'video/mp4' }, caption: 'Unboxing' },
      storedMedia('video/mp4'),
    ),
  'inbound-audio': () =>
    inboundPayload(
      { type: 'audio', from: LENA, profileName: 'Lena Vogel', media: { base64: MEDIA_BASE64, mimeType: 'audio/ogg; codecs=opus' } },
      storedMedia('audio/ogg; codecs=opus'),
    ),
  'inbound-document': () =>
    inboundPayload(
      {
        type: 'document',
        from: LENA,
        profileName: 'Lena Vogel',
        media: { base64: MEDIA_BASE64, mimeType: 'application/pdf', filename: 'receipt-2026-11.pdf' },
        caption: 'My receipt',
      },
      storedMedia('application/pdf', 'receipt-2026-11.pdf'),
    ),
  'inbound-sticker': () =>
    inboundPayload(
      { type: 'sticker', from: LENA, profileName: 'Lena Vogel', media: { base64: MEDIA_BASE64, mimeType: 'image/webp' } },
      storedMedia('image/webp'),
    ),
  'inbound-location': () =>
    inboundPayload({
      type: 'location',
      from: LENA,
      profileName: 'Lena Vogel',
      latitude: 52.52186,
      longitude: 13.41321,
      name: 'Alexanderplatz',
      address: 'Alexanderplatz 1, 10178 Berlin',
      url: 'https://example.com/alexanderplatz',
    }),
  'inbound-contacts': () =>
    inboundPayload({
      type: 'contacts',
      from: LENA,
      profileName: 'Lena Vogel',
      contacts: [
        {
          addresses: [{ city: 'Berlin', country: 'Germany', country_code: 'DE', street: 'Beispielstrasse 5', type: 'HOME', zip: '10115' }],
          birthday: '1990-04-12',
          emails: [{ email: 'jonas.beispiel@example.com', type: 'WORK' }],
          name: { formatted_name: 'Jonas Beispiel', first_name: 'Jonas', last_name: 'Beispiel' },
          org: { company: 'Beispiel GmbH', title: 'Buyer' },
          phones: [{ phone: '+49 151 23456789', wa_id: '4915123456789', type: 'MOBILE' }],
          urls: [{ url: 'https://example.com', type: 'WORK' }],
        },
      ],
    }),
  'inbound-interactive-button-reply': () =>
    inboundPayload({
      type: 'interactive',
      from: LENA,
      profileName: 'Lena Vogel',
      reply: { kind: 'button_reply', id: 'confirm-delivery', title: 'Confirm' },
      contextMessageId: BUSINESS_WAMID,
    }),
  'inbound-interactive-list-reply': () =>
    inboundPayload({
      type: 'interactive',
      from: LENA,
      profileName: 'Lena Vogel',
      reply: { kind: 'list_reply', id: 'slot_tomorrow_am', title: 'Tomorrow, morning', description: '08:00 to 12:00' },
      contextMessageId: BUSINESS_WAMID,
    }),
  'inbound-button': () =>
    inboundPayload({
      type: 'button',
      from: LENA,
      profileName: 'Lena Vogel',
      payload: 'STOP_PROMOTIONS',
      text: 'Stop promotions',
      contextMessageId: BUSINESS_WAMID,
    }),
  'inbound-reaction': () =>
    inboundPayload({ type: 'reaction', from: LENA, profileName: 'Lena Vogel', messageId: BUSINESS_WAMID, emoji: '👍' }),
  'inbound-unsupported': () =>
    inboundPayload({ type: 'unsupported', from: LENA, profileName: 'Lena Vogel', unsupportedType: 'poll_creation' }),
  'value-errors': () => buildWebhookPayload([{ number: WABA_1, items: { errors: [rateLimited] } }]),
};

const NOT_BUILT: readonly WebhookFixtureName[] = ['inbound-order', 'inbound-system'];

describe('generated webhooks have the shape of the Meta fixtures', () => {
  for (const name of WEBHOOK_FIXTURE_NAMES) {
    const build = BUILT[name];
    if (build === undefined) continue;
    test(name, () => {
      assertSameShape(JSON.parse(JSON.stringify(build())), loadWebhookFixture(name), name);
    });
  }

  test('every fixture is either built or deliberately left out', () => {
    const covered = [...Object.keys(BUILT), ...NOT_BUILT].sort();
    assert.deepEqual(covered, [...WEBHOOK_FIXTURE_NAMES].sort());
  });
});

describe('assertSameShape', () => {
  test('passes equal shapes with different values', () => {
    assertSameShape({ a: 1, b: ['x', 'y'], c: { d: true } }, { a: 2, b: ['z'], c: { d: false } }, 'root');
  });

  test('fails on a missing or extra key, another leaf type, or an empty array', () => {
    assert.throws(() => assertSameShape({ a: 1 }, { a: 1, b: 2 }, 'root'), /root: keys/);
    assert.throws(() => assertSameShape({ a: 1, b: 2 }, { a: 1 }, 'root'), /root: keys/);
    assert.throws(() => assertSameShape({ a: '1' }, { a: 1 }, 'root'), /root\.a: JSON type/);
    assert.throws(() => assertSameShape({ a: [] }, { a: [1] }, 'root'), /root\.a: emptiness/);
    assert.throws(() => assertSameShape([{ a: 1 }, { b: 1 }], [{ a: 1 }], 'root'), /root\[1\]: keys/);
  });
});
