import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadWebhookFixture, WEBHOOK_FIXTURE_NAMES } from '@waygate/whatsapp-simulator';
import {
  MAX_ERRORS_PER_ITEM,
  MAX_SKIPPED_REASONS,
  MAX_TEXT_CHARS,
  parseWebhookPayload,
  type InboundContent,
  type InboundMessage,
  type ParsedWebhook,
  type WebhookStatus,
} from './webhook-payload';

const WABA = '104873201958617';
const PHONE_NUMBER_ID = '109382746510293';
const BUSINESS_NUMBER = '15550101234';
const LENA = '4915112345678';
const SAM = '15550107788';

const OUT = {
  a: 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEkU4OUYyNDNBRUVCNjQyMDhCQwA=',
  b: 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEjQzMzBCRjg2RjZCNTc4NUM1NgA=',
  c: 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEkIzQzI1MEIwQjRDNTQ0REQ4NwA=',
  d: 'wamid.HBgLMTU1NTAxMDc3ODgVAgARGBI2QUZGODJCQUU0MEE4MDBDREQA',
  e: 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEjM1NUM1QkZEODRBMERFMDIzNAA=',
  f: 'wamid.HBgLMTU1NTAxMDc3ODgVAgARGBIyRjkxMzU3OEI4MTVFMkI4MEYA',
};

const at = (seconds: number) => new Date(seconds * 1000);
const lookaside = (mid: string) =>
  `https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=${mid}&source=webhook&ext=1795449600&hash=ARmQ1T0xVbFdjd2VfZXhhbXBsZQ`;

/** Statuses of the fixtures' WABA unless they name another. */
function statusesOnly(statuses: WebhookStatus[]): ParsedWebhook {
  return {
    statuses: statuses.map((status) => ({ wabaId: WABA, ...status })),
    inboundMessages: [],
    inboundMessageCount: 0,
    userPreferences: [],
    errors: [],
    skipped: [],
  };
}

/** One inbound message from Lena to the business number, as every inbound fixture but the system one has it. */
function fromLena(
  messageId: string,
  seconds: number,
  type: string,
  rest: Partial<InboundMessage> & Pick<InboundMessage, 'content'>,
): ParsedWebhook {
  const message: InboundMessage = {
    phoneNumberId: PHONE_NUMBER_ID,
    wabaId: WABA,
    messageId,
    from: LENA,
    timestamp: at(seconds),
    type,
    profileName: 'Lena Vogel',
    ...rest,
  };
  return { statuses: [], inboundMessages: [message], inboundMessageCount: 1, userPreferences: [], errors: [], skipped: [] };
}

const EXPECTED: Record<(typeof WEBHOOK_FIXTURE_NAMES)[number], ParsedWebhook> = {
  'status-sent': statusesOnly([
    {
      phoneNumberId: PHONE_NUMBER_ID,
      waMessageId: OUT.a,
      status: 'SENT',
      occurredAt: at(1795431600),
      recipientId: LENA,
      conversation: { id: 'd3e2724d961e0a11368fc1cbc67b3b65', expiresAt: at(1795518000), originType: 'marketing' },
      pricing: { billable: true, pricingModel: 'PMP', category: 'marketing', type: 'regular' },
    },
  ]),
  'status-delivered': statusesOnly([
    {
      phoneNumberId: PHONE_NUMBER_ID,
      waMessageId: OUT.b,
      status: 'DELIVERED',
      occurredAt: at(1795431662),
      recipientId: LENA,
      conversation: { id: 'e8b3a7c3371770f855a40e50a4323344', originType: 'service' },
      pricing: { billable: false, pricingModel: 'PMP', category: 'service', type: 'free_customer_service' },
    },
  ]),
  'status-read': statusesOnly([
    { phoneNumberId: PHONE_NUMBER_ID, waMessageId: OUT.b, status: 'READ', occurredAt: at(1795431725), recipientId: LENA },
  ]),
  'status-failed': statusesOnly([
    {
      phoneNumberId: PHONE_NUMBER_ID,
      waMessageId: OUT.c,
      status: 'FAILED',
      occurredAt: at(1795431780),
      errorCode: 131026,
      errorTitle: 'Message undeliverable',
      recipientId: LENA,
      errors: [{ code: 131026, title: 'Message undeliverable', message: 'Message undeliverable', details: 'Message Undeliverable.' }],
    },
  ]),
  'statuses-batched': statusesOnly([
    {
      phoneNumberId: PHONE_NUMBER_ID,
      waMessageId: OUT.a,
      status: 'DELIVERED',
      occurredAt: at(1795431605),
      recipientId: LENA,
      conversation: { id: 'd3e2724d961e0a11368fc1cbc67b3b65', originType: 'marketing' },
      pricing: { billable: true, pricingModel: 'PMP', category: 'marketing', type: 'regular' },
    },
    {
      phoneNumberId: PHONE_NUMBER_ID,
      waMessageId: OUT.e,
      status: 'SENT',
      occurredAt: at(1795431606),
      recipientId: LENA,
      pricing: { billable: false, pricingModel: 'PMP', category: 'utility', type: 'free_customer_service' },
    },
    { phoneNumberId: PHONE_NUMBER_ID, waMessageId: OUT.b, status: 'READ', occurredAt: at(1795431607), recipientId: LENA },
    {
      phoneNumberId: PHONE_NUMBER_ID,
      waMessageId: OUT.d,
      status: 'SENT',
      occurredAt: at(1795431608),
      recipientId: SAM,
      pricing: { billable: true, pricingModel: 'PMP', category: 'utility', type: 'regular' },
    },
    {
      phoneNumberId: '118273645091827',
      wabaId: '112930485761203',
      waMessageId: OUT.f,
      status: 'FAILED',
      occurredAt: at(1795431609),
      errorCode: 131049,
      errorTitle: 'This message was not delivered to maintain healthy ecosystem engagement.',
      recipientId: SAM,
      errors: [
        {
          code: 131049,
          title: 'This message was not delivered to maintain healthy ecosystem engagement.',
          message: 'This message was not delivered to maintain healthy ecosystem engagement.',
          details: 'In order to maintain a healthy ecosystem engagement, the message failed to be delivered.',
        },
      ],
    },
  ]),
  'inbound-text': fromLena('wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDI3RkFGRDIxMzU1Nzk3NTk4RjA5AA==', 1795432000, 'text', {
    content: { kind: 'text', body: 'Hallo! Is my order on its way?' },
  }),
  'inbound-text-reply': fromLena('wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDg5NkU1ODE5MERBNENCMTgyMDlGAA==', 1795432060, 'text', {
    contextMessageId: OUT.a,
    contextFrom: BUSINESS_NUMBER,
    content: { kind: 'text', body: 'Yes, please send the invoice again.' },
  }),
  'inbound-image': fromLena('wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDRCMjJCNEIzMkM3NDg0NDRENzE4AA==', 1795432120, 'image', {
    content: {
      kind: 'image',
      mediaId: '1482937561029384',
      mimeType: 'image/jpeg',
      sha256: 'zORe5w/2vAWeOt77tfIMksPpvr2O+apvrqhD3s7kqKg=',
      url: lookaside('1482937561029384'),
      caption: 'Damaged box',
    },
  }),
  'inbound-video': fromLena('wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFEY0RDdCMEMwMDc5RkY2NEQzRUM1AA==', 1795432180, 'video', {
    content: {
      kind: 'video',
      mediaId: '1593048672130495',
      mimeType: 'video/mp4',
      sha256: 'jxlnFx/oVZdLUwo9gqN3pWj53xz+ObMk6nVQF8YzQ6s=',
      url: lookaside('1593048672130495'),
      caption: 'Unboxing',
    },
  }),
  'inbound-audio': fromLena('wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDNENzkzMjlGMDcxOUNFODcxRjBBAA==', 1795432240, 'audio', {
    content: {
      kind: 'audio',
      mediaId: '1604159783241506',
      mimeType: 'audio/ogg; codecs=opus',
      sha256: 'ojvsPx/Z+5LOP11/QV2wd0lwf3xT2suyvVcLaMFPi9M=',
      url: lookaside('1604159783241506'),
      voice: true,
    },
  }),
  'inbound-document': fromLena('wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDZBQTcyN0VFMEMxODk2RTg3RUI3AA==', 1795432300, 'document', {
    content: {
      kind: 'document',
      mediaId: '1715260894352617',
      mimeType: 'application/pdf',
      sha256: 'XcVF8wKjdwnjqk/aZdUY6vvOxATRC427GFxwLSkhw4A=',
      url: lookaside('1715260894352617'),
      caption: 'My receipt',
      filename: 'receipt-2026-11.pdf',
    },
  }),
  'inbound-sticker': fromLena('wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDA2MzQ5REExM0U4MDgzOTUwRUI5AA==', 1795432360, 'sticker', {
    content: {
      kind: 'sticker',
      mediaId: '1826371905463728',
      mimeType: 'image/webp',
      sha256: 'AkHCD6HKtl0mCdUrvs+322nlCBfsLagKqBE+kHis+28=',
      url: lookaside('1826371905463728'),
      animated: false,
    },
  }),
  'inbound-location': fromLena('wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDNBNDYwRDFEQTBGNzZDQjcxNDFGAA==', 1795432420, 'location', {
    content: {
      kind: 'location',
      latitude: 52.52186,
      longitude: 13.41321,
      name: 'Alexanderplatz',
      address: 'Alexanderplatz 1, 10178 Berlin',
      url: 'https://example.com/alexanderplatz',
    },
  }),
  'inbound-contacts': fromLena('wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFEY0Q0M5Q0U1OUU0MzZFOUEzRDhGAA==', 1795432480, 'contacts', {
    content: {
      kind: 'contacts',
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
    },
  }),
  'inbound-interactive-button-reply': fromLena(
    'wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDVEQTM5QkIyQ0JCMzlERjJDNzQ4AA==',
    1795432540,
    'interactive',
    {
      contextMessageId: OUT.e,
      contextFrom: BUSINESS_NUMBER,
      content: { kind: 'interactive', replyType: 'button_reply', id: 'confirm-delivery', title: 'Confirm' },
    },
  ),
  'inbound-interactive-list-reply': fromLena(
    'wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDAyOTc1NjhCNDNGNTFBQjQ0MjI5AA==',
    1795432600,
    'interactive',
    {
      contextMessageId: OUT.a,
      contextFrom: BUSINESS_NUMBER,
      content: {
        kind: 'interactive',
        replyType: 'list_reply',
        id: 'slot_tomorrow_am',
        title: 'Tomorrow, morning',
        description: '08:00 to 12:00',
      },
    },
  ),
  'inbound-button': fromLena('wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDNFQThGNEE4ODJFNTZDMzFFQTNEAA==', 1795432660, 'button', {
    contextMessageId: OUT.a,
    contextFrom: BUSINESS_NUMBER,
    content: { kind: 'button', payload: 'STOP_PROMOTIONS', text: 'Stop promotions' },
  }),
  'inbound-reaction': fromLena('wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDhCNzVBNDg2Q0UyMzIzNDE3MTZBAA==', 1795432720, 'reaction', {
    content: { kind: 'reaction', messageId: OUT.b, emoji: '\u{1F44D}' },
  }),
  'inbound-order': fromLena('wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFEQ3RTdCNTI0REJFOTI1QURENEMzAA==', 1795432780, 'order', {
    content: {
      kind: 'order',
      order: {
        catalog_id: '194836987003835',
        text: 'Two of these, please',
        product_items: [
          { product_retailer_id: 'sku-mug-blue', quantity: 2, item_price: 12.5, currency: 'EUR' },
          { product_retailer_id: 'sku-tea-500g', quantity: 1, item_price: 8, currency: 'EUR' },
        ],
      },
    },
  }),
  'inbound-system': {
    statuses: [],
    userPreferences: [],
    inboundMessages: [
      {
        phoneNumberId: PHONE_NUMBER_ID,
        wabaId: WABA,
        messageId: 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFDhCQzMwNkVCMzgxRUYzRkQ1NDkyAA==',
        from: LENA,
        timestamp: at(1795432840),
        type: 'system',
        // System messages carry no contacts[], so there is no profile name.
        content: {
          kind: 'system',
          system: {
            body: 'User Lena Vogel changed from 4915112345678 to 4915187654321',
            wa_id: '4915187654321',
            type: 'user_changed_number',
          },
        },
      },
    ],
    inboundMessageCount: 1,
    errors: [],
    skipped: [],
  },
  'inbound-unsupported': fromLena('wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFEI1NUQyNDdGNzY5QjY0RDlBMUUyAA==', 1795432900, 'unsupported', {
    content: {
      kind: 'unknown',
      rawType: 'unsupported',
      raw: {
        from: LENA,
        id: 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFEI1NUQyNDdGNzY5QjY0RDlBMUUyAA==',
        timestamp: '1795432900',
        errors: [
          {
            code: 131051,
            title: 'Message type unknown',
            message: 'Message type unknown',
            error_data: { details: 'Message type is currently not supported.' },
          },
        ],
        type: 'unsupported',
        unsupported: { type: 'poll_creation' },
      },
    },
    errors: [
      { code: 131051, title: 'Message type unknown', message: 'Message type unknown', details: 'Message type is currently not supported.' },
    ],
  }),
  'value-errors': {
    statuses: [],
    userPreferences: [],
    inboundMessages: [],
    inboundMessageCount: 0,
    errors: [
      {
        phoneNumberId: PHONE_NUMBER_ID,
        code: 130429,
        title: 'Rate limit hit',
        message: 'Rate limit hit',
        details: 'Message failed to send because there were too many messages sent from this phone number in a short period of time',
      },
    ],
    skipped: [],
  },
};

type Json = Record<string, unknown>;

/** The first change's `value` of a parsed fixture, to edit in tests. */
function firstValue(body: unknown): Json {
  const value = (body as { entry: { changes: { value: Json }[] }[] }).entry[0].changes[0].value;
  return value;
}

function firstMessage(body: unknown): Json {
  return (firstValue(body).messages as Json[])[0];
}

describe('parseWebhookPayload against every webhook fixture', () => {
  for (const name of WEBHOOK_FIXTURE_NAMES) {
    test(name, () => {
      const parsed = parseWebhookPayload(loadWebhookFixture(name));
      assert.deepEqual(parsed, EXPECTED[name]);
      assert.deepEqual(parsed.skipped, [], 'a fixture follows Meta exactly, so nothing in it is skipped');
    });
  }
});

describe('parseWebhookPayload tolerance', () => {
  test('unknown fields anywhere are ignored: the result is the same', () => {
    for (const name of WEBHOOK_FIXTURE_NAMES) {
      const body = loadWebhookFixture(name) as Json;
      body.future_top_level = true;
      const entry = (body.entry as Json[])[0];
      entry.time = 1795432000;
      const value = firstValue(body);
      value.future_value_field = { nested: [1, 2] };
      // An unknown message keeps its raw object, added fields included, so that one fixture's messages are left alone.
      const keys = name === 'inbound-unsupported' ? ['contacts'] : ['statuses', 'messages', 'errors', 'contacts'];
      for (const key of keys) {
        for (const item of (value[key] as Json[] | undefined) ?? []) item.from_logical_id = '131063108133020';
      }
      assert.deepEqual(parseWebhookPayload(body), EXPECTED[name], name);
    }
  });

  test("Meta's user_preferences change: marketing messages stopped and resumed, each with the customer's wa_id; malformed ones skipped", () => {
    const preference = (value: string, timestamp: string) => ({
      wa_id: LENA,
      detail: 'User requested to stop marketing messages',
      category: 'marketing_messages',
      value,
      timestamp,
    });
    const body = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: WABA,
          changes: [
            {
              field: 'user_preferences',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: BUSINESS_NUMBER, phone_number_id: PHONE_NUMBER_ID },
                contacts: [{ profile: { name: 'Lena Vogel' }, wa_id: LENA }],
                user_preferences: [preference('stop', '1795432800'), preference('resume', '1795436400'), preference('maybe', '1795436400')],
              },
            },
          ],
        },
      ],
    };
    const parsed = parseWebhookPayload(body);
    const ids = { phoneNumberId: PHONE_NUMBER_ID, wabaId: WABA, waId: LENA, category: 'marketing_messages' };
    assert.deepEqual(parsed.userPreferences, [
      { ...ids, value: 'stop', occurredAt: at(1795432800) },
      { ...ids, value: 'resume', occurredAt: at(1795436400) },
    ]);
    assert.deepEqual(parsed.skipped, ['entry[0].changes[0].value.user_preferences[2]: unsupported or incomplete user preference']);
    assert.deepEqual([parsed.statuses, parsed.inboundMessages], [[], []]);
  });

  test('a message type this parser does not know is kept whole as unknown', () => {
    const body = loadWebhookFixture('inbound-text');
    const message = firstMessage(body);
    delete message.text;
    message.type = 'poll_vote';
    message.poll_vote = { poll_id: 'p1', option_ids: [2] };
    const parsed = parseWebhookPayload(body);
    assert.deepEqual(parsed.skipped, []);
    assert.equal(parsed.inboundMessageCount, 1);
    assert.equal(parsed.inboundMessages[0].type, 'poll_vote');
    assert.deepEqual(parsed.inboundMessages[0].content, { kind: 'unknown', rawType: 'poll_vote', raw: message });
  });

  test('an interactive reply other than a button or list reply (e.g. a Flow) is kept as unknown', () => {
    const body = loadWebhookFixture('inbound-interactive-button-reply');
    const message = firstMessage(body);
    message.interactive = { type: 'nfm_reply', nfm_reply: { name: 'flow', body: 'Sent', response_json: '{"flow_token":"t"}' } };
    const parsed = parseWebhookPayload(body);
    assert.deepEqual(parsed.skipped, []);
    assert.deepEqual(parsed.inboundMessages[0].content, { kind: 'unknown', rawType: 'interactive', raw: message });
  });

  test('a removed reaction has no emoji', () => {
    const body = loadWebhookFixture('inbound-reaction');
    delete (firstMessage(body).reaction as Json).emoji;
    assert.deepEqual(parseWebhookPayload(body).inboundMessages[0].content, { kind: 'reaction', messageId: OUT.b });
  });

  test('business-scoped user ids are carried, and a sender without a phone number is named by theirs', () => {
    const status = loadWebhookFixture('status-read');
    (firstValue(status).statuses as Json[])[0].recipient_user_id = 'DE.13491208655302741918';
    assert.equal(parseWebhookPayload(status).statuses[0].recipientUserId, 'DE.13491208655302741918');

    const inbound = loadWebhookFixture('inbound-text');
    const value = firstValue(inbound);
    value.contacts = [{ profile: { name: 'Lena Vogel', username: 'lena.v' }, user_id: 'DE.13491208655302741918' }];
    const message = firstMessage(inbound);
    delete message.from;
    message.from_user_id = 'DE.13491208655302741918';
    const parsed = parseWebhookPayload(inbound);
    assert.deepEqual(parsed.skipped, []);
    assert.deepEqual(
      [parsed.inboundMessages[0].from, parsed.inboundMessages[0].fromUserId, parsed.inboundMessages[0].profileName],
      ['DE.13491208655302741918', 'DE.13491208655302741918', 'Lena Vogel'],
    );
  });

  test('a status without pricing type or billable (older or future webhooks) still carries pricing', () => {
    const body = loadWebhookFixture('status-sent');
    const pricing = (firstValue(body).statuses as Json[])[0].pricing as Json;
    delete pricing.type;
    delete pricing.billable;
    pricing.pricing_model = 'CBP';
    assert.deepEqual(parseWebhookPayload(body).statuses[0].pricing, { pricingModel: 'CBP', category: 'marketing' });
  });
});

describe('parseWebhookPayload with malformed parts', () => {
  test('malformed parts are skipped with reasons that carry no content, and the rest still parses', () => {
    const body = loadWebhookFixture('statuses-batched') as Json;
    const value = firstValue(body);
    const statuses = value.statuses as Json[];
    statuses[0].timestamp = 'yesterday';
    statuses[1].pricing = { billable: true };
    statuses[2].conversation = { origin: { type: 'service' } };
    statuses.push({
      id: OUT.c,
      status: 'failed',
      timestamp: '1795431610',
      errors: [{ title: 'no code' }, { code: 131026, title: 'Message undeliverable' }],
    });
    value.messages = [
      { from: LENA, id: 'wamid.in1', timestamp: '1795431611', type: 'text', text: { body: 'secret words' } },
      { from: LENA, id: 'wamid.in2', timestamp: '1795431612', type: 'image', image: { caption: 'secret caption' } },
      { from: LENA, id: 'wamid.in3', timestamp: '1795431613', type: 'text', text: 'secret words, not in an object' },
      { from: LENA, timestamp: '1795431614', type: 'text', text: { body: 'secret, no id' } },
      'secret string instead of a message',
    ];
    value.errors = { code: 1 };
    (body.entry as unknown[]).push('not an entry', {
      id: WABA,
      changes: [
        { field: 'account_update', value: {} },
        { field: 'messages', value: { metadata: {} } },
      ],
    });

    const parsed = parseWebhookPayload(body);
    assert.deepEqual(parsed.skipped, [
      'entry[0].changes[0].value.statuses[0]: unsupported or incomplete status',
      'entry[0].changes[0].value.statuses[1].pricing: no pricing_model or category',
      'entry[0].changes[0].value.statuses[2].conversation: no id',
      'entry[0].changes[0].value.statuses[3].errors[0]: no code or title',
      'entry[0].changes[0].value.messages[1]: malformed image content',
      'entry[0].changes[0].value.messages[2]: malformed text content',
      'entry[0].changes[0].value.messages[3]: incomplete message',
      'entry[0].changes[0].value.messages[4]: incomplete message',
      'entry[0].changes[0].value.errors: not an array',
      'entry[2]: not an object',
      'entry[3].changes[0]: not a messages change',
      'entry[3].changes[1]: no metadata.phone_number_id',
    ]);
    for (const reason of parsed.skipped) assert.doesNotMatch(reason, /secret|Lena|4915112345678/);

    // The malformed pricing and conversation are dropped, their statuses kept; so is the valid error of the failed one.
    assert.deepEqual(
      parsed.statuses.map((status) => [status.waMessageId, status.status, 'pricing' in status, 'conversation' in status]),
      [
        [OUT.e, 'SENT', false, false],
        [OUT.b, 'READ', false, false],
        [OUT.c, 'FAILED', false, false],
        [OUT.d, 'SENT', true, false],
        [OUT.f, 'FAILED', false, false],
      ],
    );
    // errorCode/errorTitle keep their old meaning (the first raw error), errors[] holds the valid ones.
    const failed = parsed.statuses[2];
    assert.deepEqual(
      [failed.errorCode, failed.errorTitle, failed.errors],
      [undefined, 'no code', [{ code: 131026, title: 'Message undeliverable' }]],
    );
    assert.deepEqual(
      parsed.inboundMessages.map((message) => [message.messageId, message.content]),
      [['wamid.in1', { kind: 'text', body: 'secret words' }]],
    );
    assert.equal(parsed.inboundMessageCount, 1);
  });

  test('a payload that is not a WhatsApp Business Account webhook is skipped whole', () => {
    for (const payload of [null, 'text', 42, [], { object: 'page', entry: [] }, { entry: [] }]) {
      assert.deepEqual(parseWebhookPayload(payload), {
        statuses: [],
        inboundMessages: [],
        inboundMessageCount: 0,
        userPreferences: [],
        errors: [],
        skipped: ['not a whatsapp_business_account payload'],
      });
    }
  });

  test('never throws on hostile shapes', () => {
    const hostile: unknown[] = [
      { object: 'whatsapp_business_account', entry: 'x' },
      {
        object: 'whatsapp_business_account',
        entry: [{ changes: [{ field: 'messages', value: { metadata: { phone_number_id: '1' }, messages: [{}], statuses: [null] } }] }],
      },
      { object: 'whatsapp_business_account', entry: [{ changes: [null, 1, { field: 'messages', value: [] }] }] },
      JSON.parse('{"object":"whatsapp_business_account","entry":[{"__proto__":{"changes":1}}]}'),
    ];
    for (const payload of hostile) assert.doesNotThrow(() => parseWebhookPayload(payload));

    // String() of an object whose own `toString` is not a function throws, and a status or a phone number id may be
    // any JSON. (webhook-payload.fuzz.test.ts finds this within a few dozen cases when the fix is undone.)
    const value = (change: Json) => ({
      object: 'whatsapp_business_account',
      entry: [{ id: WABA, changes: [{ field: 'messages', value: change }] }],
    });
    const notAString = JSON.parse('{"toString":1}') as Json;
    assert.deepEqual(
      parseWebhookPayload(
        value({ metadata: { phone_number_id: PHONE_NUMBER_ID }, statuses: [{ id: OUT.a, status: notAString, timestamp: '1' }] }),
      ).statuses,
      [],
    );
    assert.deepEqual(parseWebhookPayload(value({ metadata: { phone_number_id: notAString } })).skipped, [
      'entry[0].changes[0]: no metadata.phone_number_id',
    ]);

    const inherited = loadWebhookFixture('status-read');
    (firstValue(inherited).statuses as Json[])[0].status = 'constructor';
    assert.deepEqual(parseWebhookPayload(inherited).statuses, [], 'a status name is looked up among own keys only');
  });

  test('a time no Date can hold is not a time (an invalid Date cannot be stored or encoded)', () => {
    for (const timestamp of ['99999999999999999999', 1e300, -5, '253402300800']) {
      const payload = loadWebhookFixture('status-read');
      (firstValue(payload).statuses as Json[])[0].timestamp = timestamp;
      const parsed = parseWebhookPayload(payload);
      assert.deepEqual(parsed.statuses, [], String(timestamp));
      assert.match(parsed.skipped[0], /unsupported or incomplete status/);
    }
  });

  test('kept-as-is content deeper than 32 levels is cut, with a marker and a reason naming where, never what', () => {
    const deep = JSON.parse(`${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`) as Json;
    const payload = loadWebhookFixture('inbound-order');
    const message = (firstValue(payload).messages as Json[])[0];
    ((message.order as Json).product_items as Json[])[0].extra = deep;
    const parsed = parseWebhookPayload(payload);
    const content = parsed.inboundMessages[0].content as Extract<InboundContent, { kind: 'order' }>;
    assert.equal(content.truncated, true);
    assert.match(JSON.stringify(content.order), /\[omitted: nested deeper than 32 levels\]/);
    assert.equal((content.order.product_items as Json[]).length, ((message.order as Json).product_items as Json[]).length);
    assert.deepEqual(parsed.skipped, ['entry[0].changes[0].value.messages[0]: order content truncated (nested deeper than 32 levels)']);
  });

  test('texts and lists are bounded: a long text is cut, excess errors and reasons are counted, not kept', () => {
    const payload = loadWebhookFixture('inbound-text');
    const message = (firstValue(payload).messages as Json[])[0];
    (message.text as Json).body = 'x'.repeat(MAX_TEXT_CHARS * 3);
    message.errors = Array.from({ length: 1000 }, () => ({ code: 131051, title: 'Unsupported message type' }));
    firstValue(payload).statuses = Array.from({ length: 10_000 }, () => ({}));
    const parsed = parseWebhookPayload(payload);
    const content = parsed.inboundMessages[0].content as Extract<InboundContent, { kind: 'text' }>;
    assert.equal(content.body.length, MAX_TEXT_CHARS);
    assert.ok(content.body.endsWith('…'));
    assert.equal(parsed.inboundMessages[0].errors?.length, MAX_ERRORS_PER_ITEM);
    assert.equal(parsed.skipped.length, MAX_SKIPPED_REASONS);
    assert.equal(parsed.skipped.at(-1), `… and ${10_000 + 1 - MAX_SKIPPED_REASONS + 1} more`);
  });
});
