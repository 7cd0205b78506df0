import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageContent } from '@waygate/domain';
import { archivedContentOf, inboundDetailsOf, inboundSearchTextOf, searchableTextOf } from './message-record';

const media = (mediaId: string, caption = '', filename = '') => ({ source: { mediaId }, caption, filename, voice: false });

test('the searchable text of every content kind', () => {
  const cases: [MessageContent, string | undefined][] = [
    [{ kind: 'text', body: 'Hello there', previewUrl: false }, 'Hello there'],
    [{ kind: 'document', ...media('med_1', 'Your invoice', 'invoice-42.pdf') }, 'Your invoice\ninvoice-42.pdf'],
    [{ kind: 'sticker', ...media('med_2') }, undefined],
    [
      {
        kind: 'template',
        name: 'order_update',
        language: 'en',
        components: [
          {
            type: 'header',
            subType: '',
            index: 0,
            parameters: [{ parameterName: '', value: { type: 'image', media: media('med_3', '', 'x.jpg') } }],
          },
          {
            type: 'body',
            subType: '',
            index: 0,
            parameters: [
              { parameterName: 'name', value: { type: 'text', text: 'Jürgen' } },
              { parameterName: '', value: { type: 'currency', fallbackValue: '€12.50', code: 'EUR', amount1000: 12500 } },
            ],
          },
          {
            type: 'button',
            subType: 'quick_reply',
            index: 0,
            parameters: [{ parameterName: '', value: { type: 'payload', payload: 'P1' } }],
          },
        ],
      },
      'x.jpg\nJürgen\n€12.50',
    ],
    [
      {
        kind: 'interactive',
        header: { type: 'text', text: 'Menu' },
        body: 'Pick one',
        footer: 'Thanks',
        action: { type: 'list', button: 'Open', sections: [{ title: 'Drinks', rows: [{ id: 'r1', title: 'Tea', description: 'green' }] }] },
      },
      'Menu\nPick one\nThanks\nOpen\nDrinks\nTea\ngreen',
    ],
    [
      {
        kind: 'interactive',
        header: undefined,
        body: 'Yes?',
        footer: '',
        action: { type: 'buttons', buttons: [{ id: 'y', title: 'Yes' }] },
      },
      'Yes?\nYes',
    ],
    [{ kind: 'location', latitude: 1, longitude: 2, name: 'Office', address: 'Main St 1' }, 'Office\nMain St 1'],
    [{ kind: 'reaction', messageId: 'wamid.1', emoji: '👍' }, '👍'],
  ];
  for (const [content, text] of cases) assert.equal(searchableTextOf(content), text, content.kind);
});

test('an authentication template keeps its name and language only, never its code', () => {
  const content: MessageContent = {
    kind: 'template',
    name: 'otp_login',
    language: 'en',
    components: [
      { type: 'body', subType: '', index: 0, parameters: [{ parameterName: '', value: { type: 'text', text: '493817' } }] },
      { type: 'button', subType: 'url', index: 0, parameters: [{ parameterName: '', value: { type: 'text', text: '493817' } }] },
    ],
  };
  const archived = archivedContentOf(content, 'AUTHENTICATION');
  assert.deepEqual(archived, {
    contentJson: '{"kind":"template","name":"otp_login","language":"en"}',
    templateName: 'otp_login',
    mediaIds: [],
  });
  assert.ok(!JSON.stringify(archived).includes('493817'));
  assert.deepEqual(archivedContentOf(content), archived, 'without a category, its shape gives it away');
  const utility = archivedContentOf(content, 'UTILITY');
  assert.equal(utility.text, '493817\n493817');
  assert.deepEqual(JSON.parse(utility.contentJson), content);
});

test('media ids and content JSON of an accepted message', () => {
  const content: MessageContent = { kind: 'image', ...media('med_9', 'A photo') };
  assert.deepEqual(archivedContentOf(content), { contentJson: JSON.stringify(content), text: 'A photo', mediaIds: ['med_9'] });
});

test('the searchable text of an inbound message adds a filename, and survives content that is not JSON', () => {
  assert.equal(
    inboundSearchTextOf('the contract', '{"kind":"document","filename":"contract.pdf","caption":"the contract"}'),
    'the contract\ncontract.pdf',
  );
  assert.equal(inboundSearchTextOf(undefined, '{"kind":"location","name":"Home","address":"Elm St"}'), 'Home\nElm St');
  assert.equal(inboundSearchTextOf('hi', 'not json'), 'hi');
  assert.equal(inboundSearchTextOf(undefined, undefined), undefined);
});

test("edits, revokes and Flows replies: type, text and the message they refer to, from receipt's content JSON", () => {
  const unknown = (rawType: string, raw: Record<string, unknown>) => JSON.stringify({ kind: 'unknown', rawType, raw });
  const cases: [string, string | undefined, ReturnType<typeof inboundDetailsOf>][] = [
    [
      'edit',
      unknown('edit', { edit: { original_message_id: 'wamid.O', message: { type: 'text', text: { body: 'new words' } } } }),
      { type: 'edit', text: 'new words', contextWaMessageId: 'wamid.O' },
    ],
    [
      'edit',
      unknown('edit', { edit: { original_message_id: 'wamid.O', message: { type: 'image', image: { caption: 'new caption' } } } }),
      { type: 'edit', text: 'new caption', contextWaMessageId: 'wamid.O' },
    ],
    ['revoke', unknown('revoke', { revoke: { original_message_id: 'wamid.O' } }), { type: 'revoke', contextWaMessageId: 'wamid.O' }],
    ['revoke', unknown('revoke', { revoke: { original_message_id: 'x'.repeat(300) } }), { type: 'revoke' }],
    [
      'interactive',
      unknown('interactive', { interactive: { type: 'nfm_reply', nfm_reply: { body: 'Sent', response_json: '{}' } } }),
      { type: 'nfm_reply', text: 'Sent' },
    ],
    ['interactive', JSON.stringify({ kind: 'interactive', replyType: 'button_reply', id: 'b', title: 'Yes' }), { type: 'interactive' }],
    ['text', JSON.stringify({ kind: 'text', body: 'hi' }), { type: 'text' }],
    ['edit', 'not json', { type: 'edit' }],
    ['edit', undefined, { type: 'edit' }],
  ];
  for (const [type, json, expected] of cases) assert.deepEqual(inboundDetailsOf(type, json), expected, `${type} ${json}`);
});
