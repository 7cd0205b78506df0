import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONTENT_KINDS, type MessageContent } from '@waygate/domain';
import { SAMPLE_CONTENTS } from '@waygate/testing';
import { CONTENT_LIMITS } from './content-limits';
import { contentViolations } from './content-validation';

/** `field:REASON` of every violation, in order. */
function problems(content: MessageContent): string[] {
  return contentViolations(content).map((violation) => `${violation.field}:${violation.reason}`);
}

const link = (url: string) => ({ source: { link: url }, caption: '', filename: '', voice: false });
const interactive = SAMPLE_CONTENTS.interactive as Extract<MessageContent, { kind: 'interactive' }>;
const template = SAMPLE_CONTENTS.template as Extract<MessageContent, { kind: 'template' }>;
const contacts = SAMPLE_CONTENTS.contacts as Extract<MessageContent, { kind: 'contacts' }>;
const card = contacts.contacts[0]!;

test('a valid sample of every kind passes', () => {
  for (const kind of CONTENT_KINDS) assert.deepEqual(problems(SAMPLE_CONTENTS[kind]), [], kind);
});

/** [what, content, expected `field:REASON`s] — each limit of the table, just over it, with its field path. */
const REFUSED: readonly (readonly [string, MessageContent, readonly string[]])[] = [
  ['text over 4,096', { kind: 'text', body: 'x'.repeat(4097), previewUrl: false }, ['text.body:TOO_LONG']],
  ['blank text', { kind: 'text', body: '  ', previewUrl: false }, ['text.body:REQUIRED']],
  ['caption over 1,024', { kind: 'image', ...link('https://a.example/i.png'), caption: 'c'.repeat(1025) }, ['image.caption:TOO_LONG']],
  ['http link', { kind: 'video', ...link('http://a.example/v.mp4') }, ['video.link:INVALID_FORMAT']],
  ['not a URL', { kind: 'document', ...link('invoice.pdf') }, ['document.link:INVALID_FORMAT']],
  ['empty link', { kind: 'image', ...link('') }, ['image.link:REQUIRED']],
  [
    'bad media id',
    { kind: 'image', source: { mediaId: 'a b' }, caption: '', filename: '', voice: false },
    ['image.media_id:INVALID_FORMAT'],
  ],
  ['audio caption', { kind: 'audio', ...link('https://a.example/a.ogg'), caption: 'hi' }, ['audio.caption:UNSUPPORTED']],
  ['sticker caption', { kind: 'sticker', ...link('https://a.example/s.webp'), caption: 'hi' }, ['sticker.caption:UNSUPPORTED']],
  ['image filename', { kind: 'image', ...link('https://a.example/i.png'), filename: 'i.png' }, ['image.filename:UNSUPPORTED']],
  [
    'filename over 240',
    { kind: 'document', ...link('https://a.example/d.pdf'), filename: `${'f'.repeat(237)}.pdf` },
    ['document.filename:TOO_LONG'],
  ],
  ['voice video', { kind: 'video', ...link('https://a.example/v.mp4'), voice: true }, ['video.voice:UNSUPPORTED']],
  [
    'four reply buttons, a duplicate title, a title over 20',
    {
      ...interactive,
      action: {
        type: 'buttons',
        buttons: [
          { id: 'a', title: 'Yes' },
          { id: 'b', title: 'Yes' },
          { id: 'c', title: 't'.repeat(21) },
          { id: 'd', title: 'No' },
        ],
      },
    },
    [
      'interactive.buttons.buttons:TOO_MANY',
      'interactive.buttons.buttons[2].title:TOO_LONG',
      'interactive.buttons.buttons[1].title:DUPLICATE',
    ],
  ],
  ['no reply buttons', { ...interactive, action: { type: 'buttons', buttons: [] } }, ['interactive.buttons.buttons:REQUIRED']],
  [
    'interactive body, header and footer too long',
    { ...interactive, header: { type: 'text', text: 'h'.repeat(61) }, body: 'b'.repeat(1025), footer: 'f'.repeat(61) },
    ['interactive.body:TOO_LONG', 'interactive.footer:TOO_LONG', 'interactive.header.text:TOO_LONG'],
  ],
  ['blank interactive body', { ...interactive, body: '' }, ['interactive.body:REQUIRED']],
  [
    'a list: 11 sections, 11 rows, long titles, media header',
    {
      kind: 'interactive',
      header: { type: 'image', media: link('https://a.example/i.png') },
      body: 'Pick',
      footer: '',
      action: {
        type: 'list',
        button: 'b'.repeat(21),
        sections: Array.from({ length: 11 }, (_, i) => ({
          title: i === 0 ? 's'.repeat(25) : `S${i}`,
          rows: [{ id: i === 1 ? 'r0' : `r${i}`, title: i === 0 ? 't'.repeat(25) : 'Row', description: i === 0 ? 'd'.repeat(73) : '' }],
        })),
      },
    },
    [
      'interactive.header.image:UNSUPPORTED',
      'interactive.list.button:TOO_LONG',
      'interactive.list.sections:TOO_MANY',
      'interactive.list.sections[].rows:TOO_MANY',
      'interactive.list.sections[0].title:TOO_LONG',
      'interactive.list.sections[0].rows[0].title:TOO_LONG',
      'interactive.list.sections[0].rows[0].description:TOO_LONG',
      'interactive.list.sections[].rows[1].id:DUPLICATE',
    ],
  ],
  [
    'a list with two sections needs their titles; a section needs rows',
    {
      kind: 'interactive',
      header: undefined,
      body: 'Pick',
      footer: '',
      action: {
        type: 'list',
        button: 'Menu',
        sections: [
          { title: '', rows: [{ id: 'a', title: 'A', description: '' }] },
          { title: 'B', rows: [] },
        ],
      },
    },
    ['interactive.list.sections[0].title:REQUIRED', 'interactive.list.sections[1].rows:REQUIRED'],
  ],
  [
    'cta_url: http URL, text over 20',
    {
      kind: 'interactive',
      header: undefined,
      body: 'Go',
      footer: '',
      action: { type: 'cta_url', displayText: 'd'.repeat(21), url: 'http://a.example' },
    },
    ['interactive.cta_url.display_text:TOO_LONG', 'interactive.cta_url.url:INVALID_FORMAT'],
  ],
  [
    'location out of range',
    { kind: 'location', latitude: 90.5, longitude: -181, name: '', address: '' },
    ['location.latitude:OUT_OF_RANGE', 'location.longitude:OUT_OF_RANGE'],
  ],
  [
    'location not a number',
    { kind: 'location', latitude: Number.NaN, longitude: 0, name: '', address: '' },
    ['location.latitude:OUT_OF_RANGE'],
  ],
  ['no contacts', { kind: 'contacts', contacts: [] }, ['contacts.contacts:REQUIRED']],
  ['258 contacts', { kind: 'contacts', contacts: Array.from({ length: 258 }, () => card) }, ['contacts.contacts:TOO_MANY']],
  [
    'contact without a formatted name, bad e-mail, http URL, bad birthday, bad wa_id',
    {
      kind: 'contacts',
      contacts: [
        {
          ...card,
          name: { ...card.name, formattedName: '' },
          phones: [{ phone: '+1 555', type: 'CELL', waId: '+1555' }],
          emails: [{ email: 'nobody', type: '' }],
          urls: [{ url: 'http://a.example', type: '' }],
          birthday: '10.12.1815',
        },
      ],
    },
    [
      'contacts.contacts[0].name.formatted_name:REQUIRED',
      'contacts.contacts[0].phones[0].wa_id:INVALID_FORMAT',
      'contacts.contacts[0].emails[0].email:INVALID_FORMAT',
      'contacts.contacts[0].urls[0].url:INVALID_FORMAT',
      'contacts.contacts[0].birthday:INVALID_FORMAT',
    ],
  ],
  ['two emoji', { kind: 'reaction', messageId: 'wamid.1', emoji: '👍👍' }, ['reaction.emoji:INVALID_FORMAT']],
  ['text as emoji', { kind: 'reaction', messageId: 'wamid.1', emoji: 'ok' }, ['reaction.emoji:INVALID_FORMAT']],
  ['reaction without a message', { kind: 'reaction', messageId: '', emoji: '👍' }, ['reaction.message_id:REQUIRED']],
  [
    'template: name, language, unknown sub_type, index, duplicate body, wrong parameter kinds',
    {
      kind: 'template',
      name: 'Order Update',
      language: 'english',
      components: [
        { type: 'body', subType: '', index: 0, parameters: [{ parameterName: '', value: { type: 'text', text: 'x'.repeat(1025) } }] },
        { type: 'body', subType: '', index: 0, parameters: [{ parameterName: '', value: { type: 'payload', payload: 'p' } }] },
        { type: 'button', subType: 'teleport', index: 0, parameters: [] },
        { type: 'button', subType: 'url', index: 10, parameters: [{ parameterName: '', value: { type: 'payload', payload: 'p' } }] },
        {
          type: 'button',
          subType: 'copy_code',
          index: 1,
          parameters: [{ parameterName: '', value: { type: 'coupon_code', couponCode: 'C'.repeat(16) } }],
        },
        { type: 'button', subType: '', index: 1, parameters: [] },
        {
          type: 'header',
          subType: 'url',
          index: 0,
          parameters: [{ parameterName: 'Bad Name', value: { type: 'text', text: 'h'.repeat(61) } }],
        },
      ],
    },
    [
      'template.name:INVALID_FORMAT',
      'template.language:INVALID_FORMAT',
      'template.components[0].parameters[0].text:TOO_LONG',
      'template.components[1].type:DUPLICATE',
      'template.components[1].parameters[0]:UNSUPPORTED',
      'template.components[2].sub_type:UNKNOWN',
      'template.components[3].index:OUT_OF_RANGE',
      'template.components[3].parameters[0]:UNSUPPORTED',
      'template.components[4].parameters[0].coupon_code:TOO_LONG',
      'template.components[5].sub_type:REQUIRED',
      'template.components[5].index:DUPLICATE',
      'template.components[6].sub_type:UNSUPPORTED',
      'template.components[6].parameters[0].parameter_name:INVALID_FORMAT',
      'template.components[6].parameters[0].text:TOO_LONG',
    ],
  ],
  [
    'template currency: code, amount',
    {
      ...template,
      components: [
        {
          type: 'body',
          subType: '',
          index: 0,
          parameters: [{ parameterName: '', value: { type: 'currency', fallbackValue: '1', code: 'eur', amount1000: 2 ** 60 } }],
        },
      ],
    },
    [
      'template.components[0].parameters[0].currency.code:INVALID_FORMAT',
      'template.components[0].parameters[0].currency.amount_1000:OUT_OF_RANGE',
    ],
  ],
];

for (const [what, content, expected] of REFUSED) {
  test(`refused with field paths: ${what}`, () => assert.deepEqual(problems(content), expected));
}

test('single emoji of every form pass: skin tones, ZWJ families, flags, keycaps; empty removes the reaction', () => {
  for (const emoji of ['👍', '👍🏽', '👨‍👩‍👧', '🇩🇪', '1️⃣', '❤️', '']) {
    assert.deepEqual(problems({ kind: 'reaction', messageId: 'wamid.1', emoji }), [], emoji);
  }
});

test('authentication templates pass the shape check: the code as body text and as the url button 0 text', () => {
  const otp: MessageContent = {
    kind: 'template',
    name: 'login_code',
    language: 'en_US',
    components: [
      { type: 'body', subType: '', index: 0, parameters: [{ parameterName: '', value: { type: 'text', text: '918273' } }] },
      { type: 'button', subType: 'url', index: 0, parameters: [{ parameterName: '', value: { type: 'text', text: '918273' } }] },
    ],
  };
  assert.deepEqual(problems(otp), []);
});

test('descriptions never quote the content', () => {
  const secret = 'secret-918273';
  for (const content of [
    { kind: 'text', body: `${secret}\u0007`, previewUrl: false },
    { kind: 'image', ...link(`http://a.example/${secret}`) },
    { kind: 'reaction', messageId: 'wamid.1', emoji: secret },
  ] as MessageContent[]) {
    for (const violation of contentViolations(content)) assert.ok(!violation.description.includes(secret), violation.description);
  }
});

test('docs/message-types.md lists every limit of the table with its value', () => {
  const docs = readFileSync(path.resolve(__dirname, '../../../../docs/message-types.md'), 'utf8');
  for (const [name, limit] of Object.entries(CONTENT_LIMITS)) {
    const row = docs.split('\n').find((line) => line.includes(`\`${name}\``));
    assert.ok(row, `docs row for ${name}`);
    const cells = row.split('|').map((cell) => cell.trim());
    assert.ok(cells.includes(limit.max.toLocaleString('en-US')), `docs row for ${name} says ${limit.max}`);
    assert.ok(cells.includes(limit.source), `docs row for ${name} names its source`);
  }
});
