import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTENT_KINDS, type MessageContent } from '@waygate/domain';
import { SAMPLE_CONTENTS } from '@waygate/testing';
import { MAX_CONTENT_SUMMARY_CHARS, summarizeContent } from './content-summary';

test('one summary per kind: the kind and what identifies it', () => {
  const summaries = Object.fromEntries(CONTENT_KINDS.map((kind) => [kind, summarizeContent(SAMPLE_CONTENTS[kind])]));
  assert.deepEqual(summaries, {
    text: 'text "Your parcel ships today"',
    template: 'template order_update (en_US)',
    image: 'image "A cat"',
    video: 'video "Clip"',
    audio: 'voice message',
    document: 'document invoice-42.pdf "Your invoice"',
    sticker: 'sticker',
    interactive: 'interactive 2 reply buttons "When should we deliver?"',
    location: 'location "Pickup point"',
    contacts: 'contacts (1 card): Ada Lovelace',
    reaction: 'reaction 👍',
  });
  assert.equal(summarizeContent(SAMPLE_CONTENTS.image, { mimeType: 'image/jpeg' }), 'image (image/jpeg) "A cat"');
  assert.equal(summarizeContent({ kind: 'reaction', messageId: 'wamid.1', emoji: '' }), 'reaction removed');
});

test('a template summary never carries a parameter (an authentication code)', () => {
  const otp: MessageContent = {
    kind: 'template',
    name: 'login_code',
    language: 'en',
    components: [
      { type: 'body', subType: '', index: 0, parameters: [{ parameterName: '', value: { type: 'text', text: '918273' } }] },
      { type: 'button', subType: 'url', index: 0, parameters: [{ parameterName: '', value: { type: 'text', text: '918273' } }] },
    ],
  };
  assert.equal(summarizeContent(otp), 'template login_code (en)');
});

test('texts are cut to their first characters on one line, with digit runs masked; links never appear', () => {
  const summary = summarizeContent({ kind: 'text', body: `Your code is 918273\nvalid 10 min ${'x'.repeat(100)}`, previewUrl: false });
  assert.ok(!summary.includes('918273'));
  assert.ok(summary.startsWith('text "Your code is ••••••'), summary);
  assert.ok(summary.endsWith('…"'));
  assert.ok(
    !summarizeContent({
      kind: 'image',
      source: { link: 'https://a.example/x?token=s3cret' },
      caption: '',
      filename: '',
      voice: false,
    }).includes('s3cret'),
  );
});

const CARD = (SAMPLE_CONTENTS.contacts as Extract<MessageContent, { kind: 'contacts' }>).contacts[0]!;

test('every summary is bounded', () => {
  const long = 'n'.repeat(1000);
  const contents: MessageContent[] = [
    { kind: 'template', name: long, language: 'en', components: [] },
    { kind: 'document', source: { link: 'https://a.example/d' }, caption: long, filename: long, voice: false },
    {
      kind: 'contacts',
      contacts: Array.from({ length: 5 }, () => ({ ...CARD, name: { ...CARD.name, formattedName: long } })),
    },
  ];
  for (const content of contents) assert.ok([...summarizeContent(content)].length <= MAX_CONTENT_SUMMARY_CHARS, content.kind);
});
