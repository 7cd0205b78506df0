import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTENT_KINDS, type MessageContent } from '@waygate/domain';
import { ContentType, MessageAccepted, SendMessageRequest, TemplateComponentType } from '@waygate/proto';
import { SAMPLE_CONTENTS } from '@waygate/testing';
import { fromProtoContent, fromProtoContentType, toProtoContent, toProtoContentType } from './content-codec';

const LIST: MessageContent = {
  kind: 'interactive',
  header: { type: 'document', media: { source: { mediaId: 'med_1' }, caption: '', filename: 'menu.pdf', voice: false } },
  body: 'Pick a dish',
  footer: '',
  action: {
    type: 'list',
    button: 'Menu',
    sections: [{ title: 'Mains', rows: [{ id: 'r1', title: 'Pasta', description: 'Fresh' }] }],
  },
};
const CTA: MessageContent = {
  kind: 'interactive',
  header: undefined,
  body: 'Track your order',
  footer: 'Thanks',
  action: { type: 'cta_url', displayText: 'Track', url: 'https://example.com/t/1' },
};
const TEMPLATE_EXTRA: MessageContent = {
  kind: 'template',
  name: 'coupon',
  language: 'de',
  components: [
    {
      type: 'header',
      subType: '',
      index: 0,
      parameters: [
        { parameterName: 'place', value: { type: 'location', location: { latitude: 1, longitude: 2, name: 'n', address: 'a' } } },
      ],
    },
    {
      type: 'button',
      subType: 'copy_code',
      index: 0,
      parameters: [{ parameterName: '', value: { type: 'coupon_code', couponCode: 'SAVE10' } }],
    },
    {
      type: 'button',
      subType: 'flow',
      index: 1,
      parameters: [
        {
          parameterName: '',
          value: { type: 'action', action: { flowToken: 't', flowActionDataJson: '{"a":1}', thumbnailProductRetailerId: '' } },
        },
      ],
    },
  ],
};

const EVERY_CONTENT: readonly MessageContent[] = [...CONTENT_KINDS.map((kind) => SAMPLE_CONTENTS[kind]), LIST, CTA, TEMPLATE_EXTRA];

test('every content kind round-trips through SendMessageRequest.content, over the wire', () => {
  for (const content of EVERY_CONTENT) {
    const bytes = SendMessageRequest.encode(SendMessageRequest.fromPartial({ content: toProtoContent(content) })).finish();
    const decoded = fromProtoContent(SendMessageRequest.decode(bytes).content);
    assert.deepEqual(decoded, { ok: true, content }, content.kind);
  }
});

test('every content kind round-trips through MessageAccepted.content, over the wire', () => {
  for (const content of EVERY_CONTENT) {
    const bytes = MessageAccepted.encode(MessageAccepted.fromPartial({ content: toProtoContent(content) })).finish();
    assert.deepEqual(fromProtoContent(MessageAccepted.decode(bytes).content), { ok: true, content }, content.kind);
  }
});

test('every content kind has its own wire ContentType, and back', () => {
  const types = CONTENT_KINDS.map(toProtoContentType);
  assert.equal(new Set(types).size, CONTENT_KINDS.length);
  for (const kind of CONTENT_KINDS) assert.equal(fromProtoContentType(toProtoContentType(kind)), kind);
  assert.equal(fromProtoContentType(ContentType.CONTENT_TYPE_UNSPECIFIED), undefined);
});

test('no content case decodes to undefined content', () => {
  assert.deepEqual(fromProtoContent(undefined), { ok: true, content: undefined });
});

test('unset nested oneofs are reported with their field paths', () => {
  const fields = (content: Parameters<typeof fromProtoContent>[0]) => {
    const decoded = fromProtoContent(content);
    return decoded.ok ? [] : decoded.violations.map((violation) => `${violation.field}:${violation.reason}`);
  };
  assert.deepEqual(fields({ $case: 'image', value: { source: undefined, caption: '', filename: '', voice: false } }), [
    'image.source:REQUIRED',
  ]);
  assert.deepEqual(fields({ $case: 'interactive', value: { header: { header: undefined }, body: 'b', footer: '', action: undefined } }), [
    'interactive.header:REQUIRED',
    'interactive.action:REQUIRED',
  ]);
  assert.deepEqual(
    fields({
      $case: 'template',
      value: {
        name: 't',
        language: 'en',
        components: [
          { type: TemplateComponentType.TEMPLATE_COMPONENT_TYPE_UNSPECIFIED, subType: '', index: 0, parameters: [] },
          { type: TemplateComponentType.TEMPLATE_COMPONENT_TYPE_FOOTER, subType: '', index: 0, parameters: [] },
          {
            type: TemplateComponentType.TEMPLATE_COMPONENT_TYPE_BODY,
            subType: '',
            index: 0,
            parameters: [{ parameterName: '', value: undefined }],
          },
          {
            type: TemplateComponentType.TEMPLATE_COMPONENT_TYPE_HEADER,
            subType: '',
            index: 0,
            parameters: [
              { parameterName: '', value: { $case: 'video', value: { source: undefined, caption: '', filename: '', voice: false } } },
            ],
          },
        ],
      },
    }),
    [
      'template.components[0].type:REQUIRED',
      'template.components[1].type:UNSUPPORTED',
      'template.components[2].parameters[0].value:REQUIRED',
      'template.components[3].parameters[0].video.source:REQUIRED',
    ],
  );
});

test('a contact without a name decodes with an empty formatted name (validation then names it)', () => {
  const decoded = fromProtoContent({
    $case: 'contacts',
    value: { contacts: [{ name: undefined, phones: [], emails: [], addresses: [], org: undefined, urls: [], birthday: '' }] },
  });
  assert.ok(decoded.ok && decoded.content?.kind === 'contacts');
  assert.equal(decoded.content.contacts[0]?.name.formattedName, '');
});
