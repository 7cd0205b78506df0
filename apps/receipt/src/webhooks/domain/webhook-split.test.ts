import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitWebhookBody } from './webhook-split';

type Json = Record<string, unknown>;
const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
const decode = (part: Uint8Array) => JSON.parse(Buffer.from(part).toString('utf8')) as { object: string; entry: Json[] };
const metadata = { display_phone_number: '15550783881', phone_number_id: '106540352242922' };

function status(i: number): Json {
  return {
    id: `wamid.${i}`,
    status: 'delivered',
    timestamp: String(1_764_000_000 + i),
    recipient_id: '4915112345678',
    pad: 'x'.repeat(200),
  };
}
function message(i: number): Json {
  return {
    from: '4915112345678',
    id: `wamid.in.${i}`,
    timestamp: '1764000000',
    type: 'text',
    text: { body: `hello ${i} ${'y'.repeat(200)}` },
  };
}
function change(value: Json): Json {
  return { field: 'messages', value: { messaging_product: 'whatsapp', metadata, ...value } };
}
function body(entries: Json[]): Buffer {
  return encode({ object: 'whatsapp_business_account', entry: entries });
}
/** Every status / message id in a body, in order. */
function ids(parts: Uint8Array[], key: 'statuses' | 'messages'): string[] {
  return parts.flatMap((part) =>
    decode(part).entry.flatMap((entry) =>
      (entry.changes as Json[]).flatMap((c) => (((c.value as Json)[key] as Json[] | undefined) ?? []).map((item) => item.id as string)),
    ),
  );
}

test('a body within the limit is queued as it is, byte for byte', () => {
  const small = body([{ id: 'waba-1', changes: [change({ statuses: [status(1)] })] }]);
  const parts = splitWebhookBody(small, 1024 * 1024);
  assert.equal(parts.length, 1);
  assert.equal(parts[0], small);
});

test('many entries are packed in order into bodies within the limit, every status kept once', () => {
  const entries = Array.from({ length: 40 }, (_, e) => ({
    id: 'waba-1',
    changes: [change({ statuses: Array.from({ length: 250 }, (_, i) => status(e * 1000 + i)) })],
  }));
  const whole = body(entries);
  assert.ok(whole.length > 2.5 * 1024 * 1024, `a ${whole.length}-byte body`);
  const parts = splitWebhookBody(whole, 1024 * 1024);
  assert.ok(parts.length >= 3 && parts.length <= 4, `${parts.length} parts`);
  for (const part of parts) {
    assert.ok(part.length <= 1024 * 1024, `part of ${part.length} bytes`);
    assert.equal(decode(part).object, 'whatsapp_business_account');
  }
  assert.deepEqual(ids(parts, 'statuses'), ids([whole], 'statuses'));
});

test('one change too large alone is split along its statuses and messages; each part keeps metadata, messages keep contacts', () => {
  const contacts = [{ profile: { name: 'Sam' }, wa_id: '4915112345678' }];
  const big = change({
    contacts,
    statuses: Array.from({ length: 4000 }, (_, i) => status(i)),
    messages: Array.from({ length: 4000 }, (_, i) => message(i)),
  });
  const whole = body([{ id: 'waba-1', changes: [big] }]);
  const limit = 512 * 1024;
  const parts = splitWebhookBody(whole, limit);
  assert.ok(parts.length > 4, `${parts.length} parts`);
  for (const part of parts) {
    assert.ok(part.length <= limit, `part of ${part.length} bytes`);
    for (const entry of decode(part).entry) {
      assert.equal(entry.id, 'waba-1');
      for (const c of entry.changes as Json[]) {
        const value = c.value as Json;
        assert.deepEqual(value.metadata, metadata);
        assert.equal(value.messaging_product, 'whatsapp');
        if (value.messages) assert.deepEqual(value.contacts, contacts, 'messages keep the contacts naming their senders');
        else assert.equal(value.contacts, undefined);
      }
    }
  }
  assert.deepEqual(ids(parts, 'statuses'), ids([whole], 'statuses'));
  assert.deepEqual(ids(parts, 'messages'), ids([whole], 'messages'));
});

test('a part is exactly as large as its bytes say: sizes are computed, not re-serialized, and stay exact', () => {
  // Multi-byte characters: the limit is in UTF-8 bytes.
  const entries = Array.from({ length: 30 }, (_, e) => ({
    id: 'waba-1',
    changes: [change({ statuses: Array.from({ length: 40 }, (_, i) => ({ ...status(e * 100 + i), pad: 'ü€😀'.repeat(60) })) })],
  }));
  const whole = body(entries);
  for (const limit of [20_000, 50_000, 123_457]) {
    const parts = splitWebhookBody(whole, limit);
    for (const part of parts) assert.ok(part.length <= limit, `limit ${limit}: part of ${part.length} bytes`);
    assert.deepEqual(ids(parts, 'statuses'), ids([whole], 'statuses'));
  }
});

test('a single status larger than the limit cannot be split: it stays one oversized part, nothing is dropped', () => {
  const whole = body([{ id: 'waba-1', changes: [change({ statuses: [status(1), { ...status(2), pad: 'z'.repeat(5000) }, status(3)] })] }]);
  const parts = splitWebhookBody(whole, 2000);
  assert.deepEqual(ids(parts, 'statuses'), ['wamid.1', 'wamid.2', 'wamid.3']);
  assert.equal(parts.filter((part) => part.length > 2000).length, 1);
});

test('a change of 12,000 statuses (about 3 MB) is split into parts that together hold every status once', () => {
  const whole = body([{ id: 'waba-1', changes: [change({ statuses: Array.from({ length: 12_000 }, (_, i) => status(i)) })] }]);
  const parts = splitWebhookBody(whole, 256 * 1024);
  assert.ok(parts.every((part) => part.length <= 256 * 1024));
  assert.deepEqual(ids(parts, 'statuses'), ids([whole], 'statuses'));
});
