import type { ContentKind, MessageContent } from '@waygate/domain';

/**
 * One valid content of every kind, each field set to a value Meta accepts: for round-trip tests of the codec, the
 * validation table and the Meta JSON builder. Media come by https link; `reaction.messageId` is a wamid.
 */
export const SAMPLE_CONTENTS: Readonly<Record<ContentKind, MessageContent>> = {
  text: { kind: 'text', body: 'Your parcel ships today', previewUrl: true },
  template: {
    kind: 'template',
    name: 'order_update',
    language: 'en_US',
    components: [
      {
        type: 'header',
        subType: '',
        index: 0,
        parameters: [
          {
            parameterName: '',
            value: {
              type: 'image',
              media: { source: { link: 'https://cdn.example.com/h.png' }, caption: '', filename: '', voice: false },
            },
          },
        ],
      },
      {
        type: 'body',
        subType: '',
        index: 0,
        parameters: [
          { parameterName: '', value: { type: 'text', text: 'Ada' } },
          { parameterName: '', value: { type: 'currency', fallbackValue: '€12.50', code: 'EUR', amount1000: 12500 } },
          { parameterName: '', value: { type: 'date_time', fallbackValue: 'May 1, 2026' } },
        ],
      },
      {
        type: 'button',
        subType: 'quick_reply',
        index: 0,
        parameters: [{ parameterName: '', value: { type: 'payload', payload: 'STOP' } }],
      },
      { type: 'button', subType: 'url', index: 1, parameters: [{ parameterName: '', value: { type: 'text', text: 'order/42' } }] },
    ],
  },
  image: { kind: 'image', source: { link: 'https://cdn.example.com/cat.jpg' }, caption: 'A cat', filename: '', voice: false },
  video: { kind: 'video', source: { link: 'https://cdn.example.com/clip.mp4' }, caption: 'Clip', filename: '', voice: false },
  audio: { kind: 'audio', source: { link: 'https://cdn.example.com/note.ogg' }, caption: '', filename: '', voice: true },
  document: {
    kind: 'document',
    source: { link: 'https://cdn.example.com/invoice.pdf' },
    caption: 'Your invoice',
    filename: 'invoice-42.pdf',
    voice: false,
  },
  sticker: { kind: 'sticker', source: { link: 'https://cdn.example.com/smile.webp' }, caption: '', filename: '', voice: false },
  interactive: {
    kind: 'interactive',
    header: { type: 'text', text: 'Delivery slot' },
    body: 'When should we deliver?',
    footer: 'Reply by 6 pm',
    action: {
      type: 'buttons',
      buttons: [
        { id: 'slot-am', title: 'Morning' },
        { id: 'slot-pm', title: 'Afternoon' },
      ],
    },
  },
  location: { kind: 'location', latitude: 52.520008, longitude: 13.404954, name: 'Pickup point', address: 'Alexanderplatz 1, Berlin' },
  contacts: {
    kind: 'contacts',
    contacts: [
      {
        name: { formattedName: 'Ada Lovelace', firstName: 'Ada', lastName: 'Lovelace', middleName: '', suffix: '', prefix: '' },
        phones: [{ phone: '+4915112345678', type: 'CELL', waId: '4915112345678' }],
        emails: [{ email: 'ada@example.com', type: 'WORK' }],
        addresses: [{ street: 'Main St 1', city: 'Berlin', state: '', zip: '10115', country: 'Germany', countryCode: 'DE', type: 'WORK' }],
        org: { company: 'Analytical Engines', department: '', title: 'Programmer' },
        urls: [{ url: 'https://example.com', type: 'WORK' }],
        birthday: '1815-12-10',
      },
    ],
  },
  reaction: { kind: 'reaction', messageId: 'wamid.HBgLMTIzNDU2Nzg5MBUCABEYEjQ', emoji: '👍' },
};
