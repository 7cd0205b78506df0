import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatorInputError } from '../simulator-input-error';
import {
  DEFAULT_PROFILE_NAME,
  buildInboundMessage,
  inboundWamid,
  parseInboundMessageInput,
  type InboundMessageInput,
  type StoredInboundMedia,
} from './inbound-payloads';

const CUSTOMER = '4915112345678';
const BUSINESS_WAMID = 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEkU4OUYyNDNBRUVCNjQyMDhCQwA=';
const PNG_BASE64 = Buffer.from('not really a png').toString('base64');
const RESOLVED = { messageId: 'wamid.INBOUND1', timestampSec: 1795432000 };
const STORED: StoredInboundMedia = { id: '1482937561029384', mimeType: 'image/jpeg', sha256: 'c2hhMjU2', url: 'https://media.example/1' };

function rejects(value: unknown, field: string): void {
  assert.throws(
    () => parseInboundMessageInput(value),
    (error: unknown) => error instanceof SimulatorInputError && error.message.includes(field),
    `expected an error naming ${field}`,
  );
}

describe('parseInboundMessageInput accepts each message type', () => {
  const valid: InboundMessageInput[] = [
    { type: 'text', from: CUSTOMER, profileName: 'Lena Vogel', text: 'Hallo!' },
    { type: 'text', from: CUSTOMER, text: 'Yes, please.', contextMessageId: BUSINESS_WAMID },
    { type: 'image', from: CUSTOMER, media: { base64: PNG_BASE64, mimeType: 'image/png' }, caption: 'Damaged box' },
    { type: 'video', from: CUSTOMER, media: { base64: PNG_BASE64, mimeType: 'video/mp4' } },
    { type: 'audio', from: CUSTOMER, media: { base64: PNG_BASE64, mimeType: 'audio/ogg; codecs=opus' }, voice: true },
    {
      type: 'document',
      from: CUSTOMER,
      media: { base64: PNG_BASE64, mimeType: 'application/pdf', filename: 'receipt.pdf' },
      caption: 'My receipt',
    },
    { type: 'sticker', from: CUSTOMER, media: { base64: PNG_BASE64, mimeType: 'image/webp' }, animated: true },
    { type: 'location', from: CUSTOMER, latitude: 52.52186, longitude: 13.41321, name: 'Alexanderplatz', address: 'Berlin' },
    { type: 'location', from: CUSTOMER, latitude: 0, longitude: 0 },
    {
      type: 'contacts',
      from: CUSTOMER,
      contacts: [
        { name: { formatted_name: 'Jonas Beispiel' }, phones: [{ phone: '+49 151 23456789', wa_id: '4915123456789', type: 'MOBILE' }] },
      ],
    },
    {
      type: 'interactive',
      from: CUSTOMER,
      reply: { kind: 'button_reply', id: 'confirm', title: 'Confirm' },
      contextMessageId: BUSINESS_WAMID,
    },
    {
      type: 'interactive',
      from: CUSTOMER,
      reply: { kind: 'list_reply', id: 'slot_am', title: 'Morning', description: '08:00 to 12:00' },
      contextMessageId: BUSINESS_WAMID,
    },
    { type: 'button', from: CUSTOMER, payload: 'STOP', text: 'Stop promotions', contextMessageId: BUSINESS_WAMID },
    { type: 'reaction', from: CUSTOMER, messageId: BUSINESS_WAMID, emoji: '👍' },
    { type: 'reaction', from: CUSTOMER, messageId: BUSINESS_WAMID, emoji: '' },
    { type: 'unsupported', from: CUSTOMER },
    { type: 'unsupported', from: CUSTOMER, unsupportedType: 'poll_creation' },
  ];
  for (const input of valid) {
    test(`${input.type} ${JSON.stringify(input).slice(0, 80)}`, () => {
      assert.deepEqual(parseInboundMessageInput(structuredClone(input)), input);
    });
  }
});

describe('parseInboundMessageInput rejects bad input, naming the field', () => {
  test('non-objects and unknown types', () => {
    rejects('text', 'expected object');
    rejects(null, 'expected object');
    rejects({ from: CUSTOMER, text: 'hi' }, 'type: must be one of text, image');
    rejects({ type: 'order', from: CUSTOMER }, 'type: must be one of');
  });

  test('from must be a 5-15 digit wa_id', () => {
    rejects({ type: 'text', text: 'hi' }, 'from');
    rejects({ type: 'text', from: '+4915112345678', text: 'hi' }, 'from: must be a wa_id');
    rejects({ type: 'text', from: '1234', text: 'hi' }, 'from: must be a wa_id');
    rejects({ type: 'text', from: '1234567890123456', text: 'hi' }, 'from: must be a wa_id');
  });

  test('text and profile name must not be empty', () => {
    rejects({ type: 'text', from: CUSTOMER, text: '' }, 'text: must not be empty');
    rejects({ type: 'text', from: CUSTOMER, text: 'hi', profileName: '' }, 'profileName: must not be empty');
  });

  test('base64 must decode', () => {
    for (const base64 of ['', 'abc', 'not base64!', 'aGVsbG8', 'aGVsbG9=']) {
      rejects({ type: 'image', from: CUSTOMER, media: { base64, mimeType: 'image/png' } }, 'media.base64');
    }
  });

  test('mimeType must be present and fit the message type', () => {
    rejects({ type: 'image', from: CUSTOMER, media: { base64: PNG_BASE64, mimeType: '' } }, 'media.mimeType: must not be empty');
    rejects({ type: 'image', from: CUSTOMER, media: { base64: PNG_BASE64 } }, 'media.mimeType');
    rejects({ type: 'image', from: CUSTOMER, media: { base64: PNG_BASE64, mimeType: 'application/pdf' } }, 'media.mimeType');
    rejects({ type: 'audio', from: CUSTOMER, media: { base64: PNG_BASE64, mimeType: 'video/mp4' } }, 'media.mimeType');
    rejects({ type: 'sticker', from: CUSTOMER, media: { base64: PNG_BASE64, mimeType: 'image/png' } }, 'media.mimeType');
    rejects({ type: 'document', from: CUSTOMER, media: { base64: PNG_BASE64, mimeType: 'pdf' } }, 'media.mimeType');
  });

  test('fields Meta does not carry for a type are rejected: captions on audio/stickers, filenames outside documents', () => {
    const audio = { base64: PNG_BASE64, mimeType: 'audio/ogg' };
    rejects({ type: 'audio', from: CUSTOMER, media: audio, caption: 'hi' }, 'caption: not a field');
    rejects({ type: 'sticker', from: CUSTOMER, media: { base64: PNG_BASE64, mimeType: 'image/webp' }, caption: 'hi' }, 'caption');
    rejects({ type: 'image', from: CUSTOMER, media: { base64: PNG_BASE64, mimeType: 'image/png', filename: 'a.png' } }, 'media.filename');
    rejects({ type: 'image', from: CUSTOMER, media: { base64: PNG_BASE64, mimeType: 'image/png' }, voice: true }, 'voice');
    rejects({ type: 'text', from: CUSTOMER, text: 'hi', extra: 1 }, 'extra: not a field');
  });

  test('location coordinates must be in range', () => {
    rejects({ type: 'location', from: CUSTOMER, latitude: 91, longitude: 0 }, 'latitude');
    rejects({ type: 'location', from: CUSTOMER, latitude: 0, longitude: -181 }, 'longitude');
    rejects({ type: 'location', from: CUSTOMER, latitude: '52.5', longitude: 13.4 }, 'latitude');
  });

  test('contacts need at least one card with a formatted name', () => {
    rejects({ type: 'contacts', from: CUSTOMER, contacts: [] }, 'contacts: must hold at least one contact');
    rejects({ type: 'contacts', from: CUSTOMER, contacts: [{ name: {} }] }, 'contacts.0.name.formatted_name');
    rejects(
      { type: 'contacts', from: CUSTOMER, contacts: [{ name: { formatted_name: 'A' }, phones: [{ phone: '' }] }] },
      'contacts.0.phones.0.phone',
    );
    rejects(
      { type: 'contacts', from: CUSTOMER, contacts: [{ name: { formatted_name: 'A' }, birthday: '12.04.1990' }] },
      'contacts.0.birthday',
    );
  });

  test('interactive and button replies need the business message they answer', () => {
    const reply = { kind: 'button_reply', id: 'confirm', title: 'Confirm' };
    rejects({ type: 'interactive', from: CUSTOMER, reply }, 'contextMessageId');
    rejects(
      { type: 'interactive', from: CUSTOMER, reply, contextMessageId: 'not-a-wamid' },
      'contextMessageId: must be a WhatsApp message id',
    );
    rejects({ type: 'interactive', from: CUSTOMER, reply: { ...reply, kind: 'tap' }, contextMessageId: BUSINESS_WAMID }, 'reply.kind');
    rejects(
      { type: 'interactive', from: CUSTOMER, reply: { ...reply, description: 'x' }, contextMessageId: BUSINESS_WAMID },
      'reply.description',
    );
    rejects({ type: 'interactive', from: CUSTOMER, reply: { ...reply, title: '' }, contextMessageId: BUSINESS_WAMID }, 'reply.title');
    rejects({ type: 'button', from: CUSTOMER, payload: 'STOP', text: 'Stop' }, 'contextMessageId');
    rejects({ type: 'button', from: CUSTOMER, text: 'Stop', contextMessageId: BUSINESS_WAMID }, 'payload');
  });

  test('reactions name a wamid and give an emoji (possibly empty)', () => {
    rejects({ type: 'reaction', from: CUSTOMER, messageId: 'x', emoji: '👍' }, 'messageId');
    rejects({ type: 'reaction', from: CUSTOMER, messageId: BUSINESS_WAMID }, 'emoji');
  });

  test("unsupported types are Meta's documented ones", () => {
    rejects({ type: 'unsupported', from: CUSTOMER, unsupportedType: 'hologram' }, 'unsupportedType');
  });

  test('every problem is reported at once', () => {
    assert.throws(
      () => parseInboundMessageInput({ type: 'text', from: 'x', text: '' }),
      /invalid inbound message: from: must be a wa_id: 5 to 15 digits; text: must not be empty/,
    );
  });
});

describe('buildInboundMessage', () => {
  test('text: contact with the profile name, message with string timestamp', () => {
    const built = buildInboundMessage({ type: 'text', from: CUSTOMER, profileName: 'Lena Vogel', text: 'Hallo!' }, RESOLVED);
    assert.deepEqual(built, {
      contact: { profile: { name: 'Lena Vogel' }, wa_id: CUSTOMER },
      message: { from: CUSTOMER, id: 'wamid.INBOUND1', timestamp: '1795432000', type: 'text', text: { body: 'Hallo!' } },
    });
  });

  test('a missing profile name falls back to the default, since WhatsApp always sends one', () => {
    const built = buildInboundMessage({ type: 'unsupported', from: CUSTOMER }, RESOLVED);
    assert.equal(built.contact.profile.name, DEFAULT_PROFILE_NAME);
  });

  test('a reply carries context.from (business number digits) and context.id', () => {
    const input: InboundMessageInput = { type: 'text', from: CUSTOMER, text: 'Yes', contextMessageId: BUSINESS_WAMID };
    const { message } = buildInboundMessage(input, { ...RESOLVED, contextFrom: '+1 555-010-1234' });
    assert.deepEqual(message.context, { from: '15550101234', id: BUSINESS_WAMID });
    assert.equal(Object.keys(message)[0], 'context');
    assert.throws(() => buildInboundMessage(input, RESOLVED), /contextFrom is required/);
  });

  test('image: caption first, then the stored media (mime type, sha256, id, url)', () => {
    const input: InboundMessageInput = {
      type: 'image',
      from: CUSTOMER,
      media: { base64: PNG_BASE64, mimeType: 'image/png' },
      caption: 'Box',
    };
    const { message } = buildInboundMessage(input, { ...RESOLVED, media: STORED });
    assert.deepEqual(message, {
      from: CUSTOMER,
      id: 'wamid.INBOUND1',
      timestamp: '1795432000',
      type: 'image',
      image: { caption: 'Box', mime_type: 'image/jpeg', sha256: 'c2hhMjU2', id: '1482937561029384', url: 'https://media.example/1' },
    });
  });

  test('media messages need the stored media', () => {
    const input: InboundMessageInput = { type: 'video', from: CUSTOMER, media: { base64: PNG_BASE64, mimeType: 'video/mp4' } };
    assert.throws(() => buildInboundMessage(input, RESOLVED), /video message needs the stored media/);
  });

  test('media without url or caption leaves those keys out', () => {
    const input: InboundMessageInput = { type: 'video', from: CUSTOMER, media: { base64: PNG_BASE64, mimeType: 'video/mp4' } };
    const { message } = buildInboundMessage(input, { ...RESOLVED, media: { id: 'm1', mimeType: 'video/mp4', sha256: 's' } });
    assert.deepEqual(message.type === 'video' && message.video, { mime_type: 'video/mp4', sha256: 's', id: 'm1' });
  });

  test('document: filename from the stored media, else from the input', () => {
    const input: InboundMessageInput = {
      type: 'document',
      from: CUSTOMER,
      media: { base64: PNG_BASE64, mimeType: 'application/pdf', filename: 'input.pdf' },
    };
    const stored = { id: 'm1', mimeType: 'application/pdf', sha256: 's' };
    const fromInput = buildInboundMessage(input, { ...RESOLVED, media: stored }).message;
    const fromStore = buildInboundMessage(input, { ...RESOLVED, media: { ...stored, filename: 'stored.pdf' } }).message;
    assert.equal(fromInput.type === 'document' && fromInput.document.filename, 'input.pdf');
    assert.equal(fromStore.type === 'document' && fromStore.document.filename, 'stored.pdf');
  });

  test('audio: voice defaults to true for Ogg (WhatsApp voice notes), false otherwise, and can be set', () => {
    const build = (mimeType: string, voice?: boolean) => {
      const input: InboundMessageInput = {
        type: 'audio',
        from: CUSTOMER,
        media: { base64: PNG_BASE64, mimeType },
        ...(voice === undefined ? {} : { voice }),
      };
      const { message } = buildInboundMessage(input, { ...RESOLVED, media: { id: 'm', mimeType, sha256: 's' } });
      return message.type === 'audio' ? message.audio.voice : undefined;
    };
    assert.equal(build('audio/ogg; codecs=opus'), true);
    assert.equal(build('audio/mpeg'), false);
    assert.equal(build('audio/ogg', false), false);
  });

  test('sticker: animated defaults to false', () => {
    const input: InboundMessageInput = { type: 'sticker', from: CUSTOMER, media: { base64: PNG_BASE64, mimeType: 'image/webp' } };
    const { message } = buildInboundMessage(input, { ...RESOLVED, media: { id: 'm', mimeType: 'image/webp', sha256: 's' } });
    assert.equal(message.type === 'sticker' && message.sticker.animated, false);
  });

  test('location: numbers stay numbers; absent name/address/url stay absent', () => {
    const { message } = buildInboundMessage({ type: 'location', from: CUSTOMER, latitude: 52.5, longitude: 13.4 }, RESOLVED);
    assert.deepEqual(message.type === 'location' && message.location, { latitude: 52.5, longitude: 13.4 });
  });

  test('contacts: the cards are copied in Meta’s key order', () => {
    const card = { phones: [{ phone: '+49 151', type: 'MOBILE' }], name: { formatted_name: 'Jonas' }, birthday: '1990-04-12' };
    const { message } = buildInboundMessage({ type: 'contacts', from: CUSTOMER, contacts: [card] }, RESOLVED);
    assert.ok(message.type === 'contacts');
    assert.deepEqual(Object.keys(message.contacts[0] ?? {}), ['birthday', 'name', 'phones']);
    assert.notEqual(message.contacts[0]?.phones, card.phones);
  });

  test('interactive: button_reply and list_reply objects', () => {
    const resolved = { ...RESOLVED, contextFrom: '15550101234' };
    const button = buildInboundMessage(
      { type: 'interactive', from: CUSTOMER, reply: { kind: 'button_reply', id: 'ok', title: 'OK' }, contextMessageId: BUSINESS_WAMID },
      resolved,
    ).message;
    assert.deepEqual(button.type === 'interactive' && button.interactive, {
      type: 'button_reply',
      button_reply: { id: 'ok', title: 'OK' },
    });
    const list = buildInboundMessage(
      {
        type: 'interactive',
        from: CUSTOMER,
        reply: { kind: 'list_reply', id: 'r1', title: 'Row', description: 'D' },
        contextMessageId: BUSINESS_WAMID,
      },
      resolved,
    ).message;
    assert.deepEqual(list.type === 'interactive' && list.interactive, {
      type: 'list_reply',
      list_reply: { id: 'r1', title: 'Row', description: 'D' },
    });
  });

  test('button: payload and text, with context', () => {
    const { message } = buildInboundMessage(
      { type: 'button', from: CUSTOMER, payload: 'STOP', text: 'Stop', contextMessageId: BUSINESS_WAMID },
      { ...RESOLVED, contextFrom: '15550101234' },
    );
    assert.deepEqual(message.type === 'button' && message.button, { payload: 'STOP', text: 'Stop' });
    assert.equal(message.context?.id, BUSINESS_WAMID);
  });

  test('reaction: emoji given, or the key left out when the reaction is removed', () => {
    const added = buildInboundMessage({ type: 'reaction', from: CUSTOMER, messageId: BUSINESS_WAMID, emoji: '👍' }, RESOLVED).message;
    assert.deepEqual(added.type === 'reaction' && added.reaction, { message_id: BUSINESS_WAMID, emoji: '👍' });
    const removed = buildInboundMessage({ type: 'reaction', from: CUSTOMER, messageId: BUSINESS_WAMID, emoji: '' }, RESOLVED).message;
    assert.deepEqual(removed.type === 'reaction' && removed.reaction, { message_id: BUSINESS_WAMID });
  });

  test('unsupported: the 131051 error and the unsupported type', () => {
    const { message } = buildInboundMessage({ type: 'unsupported', from: CUSTOMER, unsupportedType: 'poll_creation' }, RESOLVED);
    assert.ok(message.type === 'unsupported');
    assert.deepEqual(message.errors, [
      {
        code: 131051,
        title: 'Message type unknown',
        message: 'Message type unknown',
        error_data: { details: 'Message type is currently not supported.' },
      },
    ]);
    assert.deepEqual(message.unsupported, { type: 'poll_creation' });
  });
});

describe('inboundWamid', () => {
  test("reproduces Meta's documented inbound message id", () => {
    assert.equal(inboundWamid('16503879439', '4A6599AEE03810144F'), 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=');
  });

  test('embeds the sender and upper-cases the unique part', () => {
    const decoded = Buffer.from(inboundWamid(CUSTOMER, 'abcdef0123456789ab').slice('wamid.'.length), 'base64').toString('latin1');
    assert.ok(decoded.includes(CUSTOMER));
    assert.ok(decoded.includes('3AABCDEF0123456789AB'));
  });

  test('rejects ids it cannot encode', () => {
    assert.throws(() => inboundWamid('+4915112345678', 'abcdef0123456789ab'), /waId/);
    assert.throws(() => inboundWamid(CUSTOMER, 'xyz'), /uniqueHex/);
  });
});
