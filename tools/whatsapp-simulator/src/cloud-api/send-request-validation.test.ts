import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetaApiError } from './meta-errors';
import {
  MAX_TEXT_BODY_LENGTH,
  parseJsonBody,
  validateSendRequest,
  type ValidMarkReadRequest,
  type ValidMessageRequest,
} from './send-request-validation';

const envelope = { messaging_product: 'whatsapp', recipient_type: 'individual', to: '+1 (555) 010-2030' };
const base = { ...envelope, type: 'text', text: { body: 'hi' } };

function message(payload: unknown): ValidMessageRequest {
  const result = validateSendRequest(payload);
  if (!result.ok) assert.fail(`expected a valid request, got ${result.error.code}: ${result.error.details}`);
  assert.equal(result.request.kind, 'message');
  return result.request as ValidMessageRequest;
}

function errorOf(payload: unknown): MetaApiError {
  const result = validateSendRequest(payload);
  if (result.ok) assert.fail('expected a validation error');
  return result.error;
}

function assertError(payload: unknown, code: number, details: string | RegExp): void {
  const error = errorOf(payload);
  assert.equal(error.code, code, `details: ${error.details}`);
  if (typeof details === 'string') assert.equal(error.details, details);
  else assert.match(error.details ?? '', details);
}

function send(type: string, payload: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...envelope, type, [type]: payload, ...extra };
}

describe('validateSendRequest: envelope', () => {
  it('accepts a text message and normalises to wa_id', () => {
    assert.deepEqual(validateSendRequest(base), {
      ok: true,
      request: { kind: 'message', to: base.to, waId: '15550102030', type: 'text', body: base },
    });
  });

  it('defaults type to text', () => {
    assert.equal(message({ messaging_product: 'whatsapp', to: '4915112345678', text: { body: 'hi' } }).type, 'text');
  });

  it('requires messaging_product to be whatsapp', () => {
    assertError({ to: base.to, text: { body: 'hi' } }, 131008, 'The parameter messaging_product is required.');
    assertError({ ...base, messaging_product: 'messenger' }, 131009, /messaging_product must be 'whatsapp', got "messenger"/);
  });

  it('only allows recipient_type individual', () => {
    assertError({ ...base, recipient_type: 'group' }, 131009, /recipient_type/);
  });

  it('requires a plausible to', () => {
    assertError({ ...base, to: undefined }, 131008, 'The parameter to is required.');
    assertError({ ...base, to: '' }, 131008, 'The parameter to is required.');
    assertError({ ...base, to: 'bob' }, 131009, 'Param to must be a phone number in international format.');
    assertError({ ...base, to: 4915112345678 }, 100, 'Param to must be a string.');
  });

  it('rejects unknown and wrongly typed types', () => {
    assertError({ ...base, type: 'hologram' }, 131009, "Param type 'hologram' is not a valid message type.");
    assertError({ ...base, type: 5 }, 100, 'Param type must be a string.');
  });

  it('rejects bodies that are not JSON objects', () => {
    assertError([base], 100, 'Request body must be a JSON object.');
    assert.equal(parseJsonBody('{nope'), undefined);
    assert.deepEqual(parseJsonBody('{"a":1}'), { a: 1 });
  });

  it('checks the envelope before the type payload, like Meta', () => {
    assertError({ type: 'image' }, 131008, 'The parameter messaging_product is required.');
  });

  it('takes context.message_id as the message replied to, on any type', () => {
    const context = { message_id: 'wamid.ORIGINAL' };
    assert.equal(message({ ...base, context }).contextMessageId, 'wamid.ORIGINAL');
    assert.equal(message(send('image', { id: '1' }, { context })).contextMessageId, 'wamid.ORIGINAL');
    assert.equal(message(base).contextMessageId, undefined);
    assertError({ ...base, context: {} }, 131008, "The parameter context['message_id'] is required.");
    assertError({ ...base, context: 'wamid.X' }, 100, 'Param context must be a JSON object.');
  });
});

describe('validateSendRequest: mark as read', () => {
  it('accepts status read without to or type', () => {
    assert.deepEqual(validateSendRequest({ messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.IN' }), {
      ok: true,
      request: { kind: 'mark_read', messageId: 'wamid.IN', typingIndicator: false } satisfies ValidMarkReadRequest,
    });
  });

  it('accepts a typing indicator', () => {
    const result = validateSendRequest({
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: 'wamid.IN',
      typing_indicator: { type: 'text' },
    });
    assert.deepEqual(result, { ok: true, request: { kind: 'mark_read', messageId: 'wamid.IN', typingIndicator: true } });
  });

  it('rejects other statuses, a missing message_id and unknown indicator types', () => {
    const read = { messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.IN' };
    assertError({ ...read, status: 'delivered' }, 131009, /status must be 'read', got "delivered"/);
    assertError({ ...read, message_id: undefined }, 131008, 'The parameter message_id is required.');
    assertError({ ...read, typing_indicator: { type: 'audio' } }, 131009, /typing_indicator\['type'\]/);
    assertError({ ...read, messaging_product: undefined }, 131008, 'The parameter messaging_product is required.');
  });
});

describe('validateSendRequest: text', () => {
  it('counts characters, not UTF-16 units, against the 4096 limit', () => {
    const emoji = '😀'.repeat(MAX_TEXT_BODY_LENGTH);
    assert.equal(validateSendRequest({ ...base, text: { body: emoji } }).ok, true);
    assertError({ ...base, text: { body: `${emoji}x` } }, 100, "Param text['body'] must be at most 4096 characters long.");
  });

  it('treats a missing or empty body as missing', () => {
    assertError({ ...base, text: { body: '' } }, 131008, "The parameter text['body'] is required.");
    assertError({ ...base, text: {} }, 131008, "The parameter text['body'] is required.");
    assertError({ ...envelope, type: 'text' }, 131008, 'The parameter text is required.');
  });

  it('rejects wrongly typed fields', () => {
    assertError({ ...base, text: { body: 1 } }, 100, "Param text['body'] must be a string.");
    assertError({ ...base, text: { body: 'hi', preview_url: 'yes' } }, 100, "Param text['preview_url'] must be a boolean.");
    assertError({ ...base, text: 'hi' }, 100, 'Param text must be a JSON object.');
  });

  it('accepts preview_url', () => {
    assert.equal(message({ ...base, text: { body: 'https://example.com', preview_url: true } }).type, 'text');
  });
});

describe('validateSendRequest: media', () => {
  it('accepts each media type by id or link and reports the reference', () => {
    assert.deepEqual(message(send('image', { id: '1479537139650973', caption: 'The best succulent ever?' })).media, {
      type: 'image',
      id: '1479537139650973',
    });
    assert.deepEqual(message(send('video', { link: 'https://example.com/v.mp4', caption: 'clip' })).media, {
      type: 'video',
      link: 'https://example.com/v.mp4',
    });
    assert.deepEqual(message(send('audio', { id: '7', voice: true })).media, { type: 'audio', id: '7' });
    assert.deepEqual(message(send('document', { link: 'http://example.com/a.pdf', filename: 'a.pdf', caption: 'Invoice' })).media, {
      type: 'document',
      link: 'http://example.com/a.pdf',
    });
    assert.deepEqual(message(send('sticker', { id: '9' })).media, { type: 'sticker', id: '9' });
  });

  it('needs exactly one of id and link', () => {
    assertError(send('image', {}), 131008, "The parameter image['id'] or image['link'] is required.");
    assertError(
      send('image', { id: '1', link: 'https://example.com/a.png' }),
      131009,
      'Param image must have either id or link, not both.',
    );
    assertError({ ...envelope, type: 'video' }, 131008, 'The parameter video is required.');
  });

  it('only takes http(s) links', () => {
    assertError(send('document', { link: 'ftp://example.com/a.pdf' }), 131009, "Param document['link'] must be an http(s) URL.");
    assertError(send('document', { link: 'not a url' }), 131009, "Param document['link'] must be an http(s) URL.");
  });

  it('limits captions to 1024 characters and refuses them on audio and stickers', () => {
    assert.equal(message(send('image', { id: '1', caption: 'x'.repeat(1024) })).type, 'image');
    assertError(send('image', { id: '1', caption: 'x'.repeat(1025) }), 100, "Param image['caption'] must be at most 1024 characters long.");
    assertError(send('audio', { id: '1', caption: 'hi' }), 131009, "Param audio['caption'] is not supported for audio media.");
    assertError(send('sticker', { id: '1', caption: 'hi' }), 131009, "Param sticker['caption'] is not supported for sticker media.");
  });

  it('checks the voice flag type', () => {
    assertError(send('audio', { id: '1', voice: 'yes' }), 100, "Param audio['voice'] must be a boolean.");
  });
});

describe('validateSendRequest: location', () => {
  it('accepts numbers and decimal strings', () => {
    assert.equal(
      message(send('location', { latitude: 37.44, longitude: -122.16, name: 'Philz Coffee', address: '101 Forest Ave' })).type,
      'location',
    );
    assert.equal(message(send('location', { latitude: '37.44216251868683', longitude: '-122.16153582049394' })).type, 'location');
  });

  it('requires both coordinates', () => {
    assertError(send('location', { longitude: 1 }), 131008, "The parameter location['latitude'] is required.");
  });

  it('rejects coordinates out of range or not numbers', () => {
    assertError(send('location', { latitude: 91, longitude: 0 }), 131009, "Param location['latitude'] must be at most 90.");
    assertError(send('location', { latitude: 0, longitude: -180.5 }), 131009, "Param location['longitude'] must be at least -180.");
    assertError(send('location', { latitude: true, longitude: 0 }), 100, "Param location['latitude'] must be a number.");
    assertError(
      send('location', { latitude: 'north', longitude: 0 }),
      131009,
      "Param location['latitude'] must be a number in decimal degrees.",
    );
    assertError(send('location', { latitude: 1, longitude: 2, name: 3 }), 100, "Param location['name'] must be a string.");
  });
});

describe('validateSendRequest: contacts', () => {
  const contact = {
    name: { formatted_name: 'Barbara J. Johnson', first_name: 'Barbara', last_name: 'Johnson' },
    phones: [{ phone: '+1 (940) 555-1234', type: 'HOME', wa_id: '19405551234' }],
    emails: [{ email: 'bjohnson@example.com', type: 'WORK' }],
    urls: [{ url: 'https://www.example.com', type: 'WORK' }],
    addresses: [
      {
        street: '1 Lucky Shrub Way',
        city: 'Menlo Park',
        state: 'CA',
        zip: '94025',
        country: 'United States',
        country_code: 'US',
        type: 'WORK',
      },
    ],
    org: { company: 'Lucky Shrub', department: 'Legal', title: 'Lead Counsel' },
    birthday: '1999-01-23',
  };

  it('accepts a full contact card', () => {
    assert.equal(message(send('contacts', [contact])).type, 'contacts');
    assert.equal(message(send('contacts', [{ name: { formatted_name: 'Only Name' } }])).type, 'contacts');
  });

  it('requires a non-empty array with a formatted name', () => {
    assertError(send('contacts', []), 131009, 'Param contacts must have at least 1 element.');
    assertError(
      send('contacts', [{ name: { first_name: 'B' } }]),
      131008,
      "The parameter contacts[0]['name']['formatted_name'] is required.",
    );
    assertError(send('contacts', [{ phones: [] }]), 131008, "The parameter contacts[0]['name'] is required.");
    assertError(send('contacts', { name: { formatted_name: 'B' } }), 100, 'Param contacts must be an array.');
  });

  it('checks the shapes of optional fields', () => {
    assertError(
      send('contacts', [{ ...contact, birthday: '23.01.1999' }]),
      131009,
      "Param contacts[0]['birthday'] must be a date in YYYY-MM-DD format.",
    );
    assertError(send('contacts', [{ ...contact, phones: { phone: '1' } }]), 100, "Param contacts[0]['phones'] must be an array.");
    assertError(
      send('contacts', [{ ...contact, emails: [{ email: 5 }] }]),
      100,
      "Param contacts[0]['emails'][0]['email'] must be a string.",
    );
  });
});

describe('validateSendRequest: reaction', () => {
  it('accepts an emoji, including sequences', () => {
    assert.deepEqual(message(send('reaction', { message_id: 'wamid.IN', emoji: '😀' })).reaction, { messageId: 'wamid.IN', emoji: '😀' });
    assert.equal(message(send('reaction', { message_id: 'wamid.IN', emoji: '👍🏽' })).reaction?.emoji, '👍🏽');
    assert.equal(message(send('reaction', { message_id: 'wamid.IN', emoji: '\uD83D\uDE00' })).reaction?.emoji, '😀');
  });

  it('treats an empty emoji as removing the reaction', () => {
    assert.deepEqual(message(send('reaction', { message_id: 'wamid.IN', emoji: '' })).reaction, { messageId: 'wamid.IN', emoji: '' });
  });

  it('requires message_id and emoji, and a single emoji', () => {
    assertError(send('reaction', { emoji: '😀' }), 131008, "The parameter reaction['message_id'] is required.");
    assertError(send('reaction', { message_id: 'wamid.IN' }), 131008, "The parameter reaction['emoji'] is required.");
    assertError(send('reaction', { message_id: 'wamid.IN', emoji: 'ok' }), 131009, /reaction\['emoji'\] must be a single emoji/);
    assertError(send('reaction', { message_id: 'wamid.IN', emoji: '😀😀' }), 131009, /single emoji/);
  });

  it('refuses a reaction that quotes a message (context), as Meta does', () => {
    assertError(
      send('reaction', { message_id: 'wamid.IN', emoji: '😀' }, { context: { message_id: 'wamid.OTHER' } }),
      131009,
      'Param context is not supported for reaction messages.',
    );
  });
});

describe('validateSendRequest: interactive reply buttons', () => {
  const button = (id: string, title: string) => ({ type: 'reply', reply: { id, title } });
  const buttons = {
    type: 'button',
    header: { type: 'image', image: { id: '2762702990552401' } },
    body: { text: 'Your gardening workshop is at 9am tomorrow.' },
    footer: { text: 'Lucky Shrub' },
    action: { buttons: [button('change-button', 'Change'), button('cancel-button', 'Cancel')] },
  };

  it('accepts up to three buttons with text or media headers', () => {
    assert.equal(message(send('interactive', buttons)).type, 'interactive');
    assert.equal(message(send('interactive', { ...buttons, header: { type: 'text', text: 'Workshop' } })).type, 'interactive');
    const three = {
      ...buttons,
      header: undefined,
      footer: undefined,
      action: { buttons: [button('a', 'A'), button('b', 'B'), button('c', 'C')] },
    };
    assert.equal(message(send('interactive', three)).type, 'interactive');
  });

  it("answers a wrong button count with Meta's wording", () => {
    const four = { ...buttons, action: { buttons: [button('a', 'A'), button('b', 'B'), button('c', 'C'), button('d', 'D')] } };
    const details = 'Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3';
    assertError(send('interactive', four), 131009, details);
    assertError(send('interactive', { ...buttons, action: { buttons: [] } }), 131009, details);
    assertError(send('interactive', { ...buttons, action: {} }), 131008, "The parameter interactive['action']['buttons'] is required.");
  });

  it("answers a bad title with Meta's wording, and checks ids", () => {
    const details = 'Button title length invalid. Min length: 1, Max length: 20';
    assertError(send('interactive', { ...buttons, action: { buttons: [button('a', 'x'.repeat(21))] } }), 131009, details);
    assertError(send('interactive', { ...buttons, action: { buttons: [button('a', '')] } }), 131009, details);
    assertError(
      send('interactive', { ...buttons, action: { buttons: [button('a'.repeat(257), 'A')] } }),
      100,
      "Param interactive['action']['buttons'][0]['reply']['id'] must be at most 256 characters long.",
    );
    assertError(
      send('interactive', { ...buttons, action: { buttons: [button('a', 'A'), button('a', 'B')] } }),
      131009,
      /\['id'\] must be unique/,
    );
    assertError(
      send('interactive', { ...buttons, action: { buttons: [button('a', 'Same'), button('b', 'Same')] } }),
      131009,
      /\['title'\] must be unique/,
    );
    assertError(
      send('interactive', { ...buttons, action: { buttons: [{ type: 'url', reply: { id: 'a', title: 'A' } }] } }),
      131009,
      /\['type'\] must be 'reply'/,
    );
  });

  it('requires the body and limits body, header and footer', () => {
    assertError(send('interactive', { ...buttons, body: undefined }), 131008, "The parameter interactive['body'] is required.");
    assertError(
      send('interactive', { ...buttons, body: { text: 'x'.repeat(1025) } }),
      100,
      "Param interactive['body']['text'] must be at most 1024 characters long.",
    );
    assertError(
      send('interactive', { ...buttons, footer: { text: 'x'.repeat(61) } }),
      100,
      "Param interactive['footer']['text'] must be at most 60 characters long.",
    );
    assertError(
      send('interactive', { ...buttons, header: { type: 'text', text: 'x'.repeat(61) } }),
      100,
      "Param interactive['header']['text'] must be at most 60 characters long.",
    );
    assertError(
      send('interactive', { ...buttons, header: { type: 'image', image: {} } }),
      131008,
      "The parameter interactive['header']['image']['id'] or interactive['header']['image']['link'] is required.",
    );
  });

  it('requires and checks the interactive type', () => {
    assertError(send('interactive', { ...buttons, type: undefined }), 131008, "The parameter interactive['type'] is required.");
    assertError(
      send('interactive', { ...buttons, type: 'carousel' }),
      131009,
      /interactive\['type'\] must be one of 'button', 'list', 'cta_url', got "carousel"/,
    );
  });
});

describe('validateSendRequest: interactive list', () => {
  const row = (id: string, title = id) => ({ id, title, description: 'Next day to 2 days' });
  const list = {
    type: 'list',
    header: { type: 'text', text: 'Choose Shipping Option' },
    body: { text: 'Which shipping option do you prefer?' },
    footer: { text: 'Lucky Shrub' },
    action: {
      button: 'Shipping Options',
      sections: [
        { title: 'I want it ASAP!', rows: [row('priority_express'), row('priority_mail')] },
        { title: 'I can wait a bit', rows: [row('usps_ground')] },
      ],
    },
  };

  it('accepts sections with rows', () => {
    assert.equal(message(send('interactive', list)).type, 'interactive');
    const single = { ...list, action: { button: 'Options', sections: [{ rows: [row('only')] }] } };
    assert.equal(message(send('interactive', single)).type, 'interactive');
  });

  it('allows a list body of 4096 characters', () => {
    assert.equal(message(send('interactive', { ...list, body: { text: 'x'.repeat(4096) } })).type, 'interactive');
    assertError(
      send('interactive', { ...list, body: { text: 'x'.repeat(4097) } }),
      100,
      "Param interactive['body']['text'] must be at most 4096 characters long.",
    );
  });

  it("limits rows to ten in total, with Meta's wording", () => {
    const rows = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => row(`${prefix}${index}`));
    const details = 'Total row count exceed max allowed count: 10';
    const split = {
      ...list,
      action: {
        button: 'Options',
        sections: [
          { title: 'A', rows: rows('a', 6) },
          { title: 'B', rows: rows('b', 5) },
        ],
      },
    };
    assertError(send('interactive', split), 131009, details);
    assertError(send('interactive', { ...list, action: { button: 'Options', sections: [{ rows: rows('a', 11) }] } }), 131009, details);
  });

  it('checks row and section fields', () => {
    const withRow = (value: unknown) => ({ ...list, action: { button: 'Options', sections: [{ rows: [value] }] } });
    assertError(send('interactive', withRow(row('a', 'x'.repeat(25)))), 131009, 'Row title is too long. Max length is 24');
    assertError(send('interactive', withRow(row('a'.repeat(201)))), 100, /\['rows'\]\[0\]\['id'\] must be at most 200 characters long/);
    assertError(
      send('interactive', withRow({ ...row('a'), description: 'x'.repeat(73) })),
      100,
      /\['description'\] must be at most 72 characters long/,
    );
    assertError(
      send('interactive', withRow({ title: 'No id' })),
      131008,
      "The parameter interactive['action']['sections'][0]['rows'][0]['id'] is required.",
    );
    const untitled = { ...list, action: { button: 'Options', sections: [{ title: 'A', rows: [row('a')] }, { rows: [row('b')] }] } };
    assertError(send('interactive', untitled), 131008, "The parameter interactive['action']['sections'][1]['title'] is required.");
    assertError(
      send('interactive', { ...list, action: { ...list.action, button: 'x'.repeat(21) } }),
      100,
      "Param interactive['action']['button'] must be at most 20 characters long.",
    );
    assertError(
      send('interactive', { ...list, action: { button: 'Options', sections: [] } }),
      131009,
      "Param interactive['action']['sections'] must have at least 1 element.",
    );
    const eleven = Array.from({ length: 11 }, (_, index) => ({ title: `S${index}`, rows: [row(`r${index}`)] }));
    assertError(send('interactive', { ...list, action: { button: 'Options', sections: eleven } }), 131009, /must have at most 10 elements/);
  });

  it('only takes a text header', () => {
    assertError(
      send('interactive', { ...list, header: { type: 'image', image: { id: '1' } } }),
      131009,
      /\['header'\]\['type'\] must be 'text'/,
    );
  });
});

describe('validateSendRequest: interactive cta_url', () => {
  const cta = {
    type: 'cta_url',
    header: { type: 'text', text: 'New workshop dates announced!' },
    body: { text: 'Tap the button below to see available dates.' },
    action: { name: 'cta_url', parameters: { display_text: 'See Dates', url: 'https://www.luckyshrub.com?clickID=abc' } },
  };

  it('accepts a URL button', () => {
    assert.equal(message(send('interactive', cta)).type, 'interactive');
  });

  it('checks display text, url and action name', () => {
    assertError(
      send('interactive', { ...cta, action: { name: 'cta_url', parameters: { display_text: 'x'.repeat(21), url: 'https://a.example' } } }),
      100,
      "Param interactive['action']['parameters']['display_text'] must be at most 20 characters long.",
    );
    assertError(
      send('interactive', { ...cta, action: { name: 'cta_url', parameters: { display_text: 'Go' } } }),
      131008,
      "The parameter interactive['action']['parameters']['url'] is required.",
    );
    assertError(
      send('interactive', { ...cta, action: { name: 'cta_url', parameters: { display_text: 'Go', url: 'javascript:alert(1)' } } }),
      131009,
      /must be an http\(s\) URL/,
    );
    assertError(
      send('interactive', { ...cta, action: { ...cta.action, name: 'send_location' } }),
      131009,
      /\['action'\]\['name'\] must be 'cta_url'/,
    );
  });
});

describe('validateSendRequest: template', () => {
  const template = (value: Record<string, unknown>) => send('template', { name: 'order_update', language: { code: 'en_US' }, ...value });

  it('summarises header, body and buttons for the registry', () => {
    const request = message(
      template({
        language: { policy: 'deterministic', code: 'en_US' },
        components: [
          { type: 'header', parameters: [{ type: 'image', image: { link: 'https://example.com/banner.png' } }] },
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Pablo' },
              { type: 'currency', currency: { fallback_value: '$100.99', code: 'USD', amount_1000: 100990 } },
              { type: 'date_time', date_time: { fallback_value: 'February 25, 1977' } },
            ],
          },
          { type: 'button', sub_type: 'quick_reply', index: '0', parameters: [{ type: 'payload', payload: 'STOP' }] },
          { type: 'button', sub_type: 'url', index: 1, parameters: [{ type: 'text', text: 'order/123' }] },
        ],
      }),
    );
    assert.deepEqual(request.template, {
      name: 'order_update',
      languageCode: 'en_US',
      header: { kind: 'image', media: { type: 'image', link: 'https://example.com/banner.png' } },
      body: { parameterCount: 3, parameterNames: [] },
      buttons: [
        { subType: 'quick_reply', index: 0, parameterCount: 1 },
        { subType: 'url', index: 1, parameterCount: 1 },
      ],
    });
    assert.deepEqual(request.media, { type: 'image', link: 'https://example.com/banner.png' });
  });

  it('summarises named parameters, text headers and location headers', () => {
    const named = message(
      template({
        components: [
          { type: 'header', parameters: [{ type: 'text', parameter_name: 'sale_start_date', text: 'December 1st' }] },
          { type: 'body', parameters: [{ type: 'text', parameter_name: 'order_id', text: '9128312831' }] },
        ],
      }),
    );
    assert.deepEqual(named.template?.header, { kind: 'text', parameterCount: 1, parameterNames: ['sale_start_date'] });
    assert.deepEqual(named.template?.body, { parameterCount: 1, parameterNames: ['order_id'] });
    const located = message(
      template({
        components: [{ type: 'header', parameters: [{ type: 'location', location: { latitude: '37.48', longitude: '-122.14' } }] }],
      }),
    );
    assert.deepEqual(located.template?.header, { kind: 'location' });
    assert.equal(located.media, undefined);
    assert.deepEqual(message(template({})).template, {
      name: 'order_update',
      languageCode: 'en_US',
      body: { parameterCount: 0, parameterNames: [] },
      buttons: [],
    });
  });

  it('accepts coupon codes, flow actions and upper-case kinds', () => {
    const request = message(
      template({
        components: [
          { type: 'BODY', parameters: [{ type: 'TEXT', text: 'x' }] },
          { type: 'button', sub_type: 'COPY_CODE', index: 1, parameters: [{ type: 'coupon_code', coupon_code: 'CARIBE25' }] },
          { type: 'button', sub_type: 'flow', index: 2, parameters: [{ type: 'action', action: { flow_token: 'T' } }] },
        ],
      }),
    );
    assert.deepEqual(request.template?.buttons, [
      { subType: 'copy_code', index: 1, parameterCount: 1 },
      { subType: 'flow', index: 2, parameterCount: 1 },
    ]);
  });

  it('requires name and language code', () => {
    assertError(send('template', { language: { code: 'en_US' } }), 131008, "The parameter template['name'] is required.");
    assertError(send('template', { name: 'x' }), 131008, "The parameter template['language'] is required.");
    assertError(
      send('template', { name: 'x', language: { policy: 'deterministic' } }),
      131008,
      "The parameter template['language']['code'] is required.",
    );
    assertError(
      send('template', { name: 'x', language: { code: 'en', policy: 'fallback' } }),
      131009,
      /\['policy'\] must be 'deterministic'/,
    );
  });

  it('checks component and parameter kinds', () => {
    assertError(
      template({ components: [{ type: 'footer' }] }),
      131009,
      /template\['components'\]\[0\]\['type'\] must be one of 'header', 'body', 'button', got "footer"/,
    );
    assertError(
      template({ components: [{ type: 'button', index: 0 }] }),
      131008,
      "The parameter template['components'][0]['sub_type'] is required.",
    );
    assertError(
      template({ components: [{ type: 'button', sub_type: 'url' }] }),
      131008,
      "The parameter template['components'][0]['index'] is required.",
    );
    assertError(template({ components: [{ type: 'button', sub_type: 'teleport', index: 0 }] }), 131009, /\['sub_type'\] must be one of/);
    assertError(
      template({ components: [{ type: 'button', sub_type: 'url', index: '12' }] }),
      131009,
      /\['index'\] must be a button index from 0 to 9/,
    );
    assertError(
      template({ components: [{ type: 'body', parameters: [{ type: 'image', image: { id: '1' } }] }] }),
      131009,
      /\['parameters'\]\[0\]\['type'\] must be one of 'text', 'currency', 'date_time'/,
    );
    assertError(
      template({ components: [{ type: 'body', parameters: [{ type: 'text' }] }] }),
      131008,
      "The parameter template['components'][0]['parameters'][0]['text'] is required.",
    );
    assertError(template({ components: [{ type: 'body' }, { type: 'body' }] }), 131009, /\[1\] repeats the body component/);
  });

  it('checks parameter values', () => {
    const body = (parameter: unknown, more: unknown[] = []) =>
      template({ components: [{ type: 'body', parameters: [parameter] }, ...more] });
    assertError(
      body({ type: 'text', text: 'line\nbreak' }),
      100,
      'Param text cannot have new-line/tab characters or more than 4 consecutive spaces',
    );
    assertError(body({ type: 'text', text: 'too     wide' }), 100, /new-line\/tab/);
    assertError(body({ type: 'text', parameter_name: '', text: 'x' }), 100, 'Parameter name is missing or empty');
    assertError(
      body({ type: 'currency', currency: { fallback_value: '$1', code: 'usd', amount_1000: 1000 } }),
      131009,
      /must be an ISO 4217 currency code/,
    );
    assertError(
      body({ type: 'currency', currency: { fallback_value: '$1', code: 'USD', amount_1000: 1.5 } }),
      100,
      /amount_1000'\] must be an integer/,
    );
    assert.equal(message(body({ type: 'text', text: 'x'.repeat(32768) })).type, 'template');
    assertError(
      body({ type: 'text', text: 'x'.repeat(1025) }, [{ type: 'button', sub_type: 'quick_reply', index: 0 }]),
      100,
      "Param template['components'][0]['parameters'][0]['text'] must be at most 1024 characters long.",
    );
    assertError(
      template({ components: [{ type: 'header', parameters: [{ type: 'text', text: 'x'.repeat(61) }] }] }),
      100,
      /\['text'\] must be at most 60 characters long/,
    );
    assertError(
      template({ components: [{ type: 'header', parameters: [{ type: 'video', video: {} }] }] }),
      131008,
      /\['video'\]\['id'\] or .*\['video'\]\['link'\] is required/,
    );
  });
});

describe('validateSendRequest: the body is kept as sent', () => {
  it('returns the parsed request unchanged', () => {
    const body = send('template', { name: 'hello_world', language: { code: 'en_US' }, components: [{ type: 'BODY', parameters: [] }] });
    assert.equal(message(body).body, body);
  });
});
