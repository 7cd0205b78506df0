import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { parseTenants } from '@waygate/tenancy';
import { fuzzParameters, tenantsYaml } from '@waygate/testing';
import { nestsDeeperThan } from './bounded-json';
import { createWebhookIntake, MAX_WEBHOOK_DEPTH } from './webhook-intake';
import {
  MAX_ERRORS_PER_ITEM,
  MAX_ID_CHARS,
  MAX_SKIPPED_REASONS,
  MAX_TEXT_CHARS,
  OPAQUE_LIMITS,
  parseWebhookPayload,
  type ParsedWebhook,
} from './webhook-payload';

// Property tests of webhook intake and parsing: whatever a correctly signed body holds — any JSON, nesting thousands
// of levels deep, huge arrays, wrong types, `__proto__`, `toString` keys, 1e999 — nothing throws and everything that
// comes out is bounded. Runs: WAYGATE_FUZZ_RUNS (libs/testing fuzz-parameters.ts); `npm run fuzz` runs many more. The
// webhook-shaped properties build large inputs (thousands of levels, long texts), so they take half the runs.
const WABA = '104873201958617';
const NUMBER = '109382746510293';
const SECRET = 'fuzz-app-secret';

/**
 * Values JSON.stringify cannot produce or would choke on are written as placeholders and expanded in the JSON text:
 * `{"$deep":n,"$kind":"o"|"a"}` becomes n levels of objects or arrays, `{"$num":"1e999"}` an out-of-range number.
 */
const deep = fc
  .record({ $deep: fc.integer({ min: 30, max: 1500 }), $kind: fc.constantFrom('o', 'a') })
  .map((placeholder) => placeholder as unknown);
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  deep,
  fc.constantFrom<unknown>(
    { $num: '1e999' },
    { $num: '-1e999' },
    { $num: '1e308' },
    { $num: '123456789012345678901234567890' },
    JSON.parse('{"toString":1}'),
    JSON.parse('{"valueOf":{},"toString":{}}'),
    JSON.parse('{"__proto__":{"polluted":true}}'),
    { constructor: 'x', hasOwnProperty: 1 },
    '',
    'x'.repeat(MAX_ID_CHARS + 1),
    -0,
    2 ** 53 + 1,
  ),
  fc.integer({ min: 1, max: 1000 }).map((length) => Array.from({ length }, (_, index) => (index % 3 === 0 ? { i: index } : index))),
  fc.integer({ min: MAX_TEXT_CHARS - 2, max: MAX_TEXT_CHARS * 2 }).map((length) => 'y'.repeat(length)),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.jsonValue({ maxDepth: 4 }),
);

/**
 * Leaves: usually a plausible value, often anything hostile, sometimes absent (undefined keys vanish from the JSON
 * text). Structure (`entry`, `changes`, `value`, `metadata`, the lists): nearly always plausible, so that most cases
 * reach the statuses and messages, yet sometimes broken too.
 */
const or = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 6, arbitrary: valid }, { weight: 3, arbitrary: hostile }, { weight: 1, arbitrary: fc.constant(undefined) });
const mostly = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 20, arbitrary: valid }, { weight: 1, arbitrary: hostile }, { weight: 1, arbitrary: fc.constant(undefined) });
const list = <T>(item: fc.Arbitrary<T>, maxLength = 4) => mostly(fc.array(item, { minLength: 1, maxLength }));

const id = fc.oneof(
  fc.constantFrom('wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEkU4OUYyNDNBRUVCNjQyMDhCQwA=', 'wamid.x'),
  fc.string({ minLength: 1 }),
);
const seconds = fc.oneof(fc.integer({ min: 0, max: 2_000_000_000 }).map(String), fc.constantFrom('1764072000', '99999999999999999999'));
const text = fc.string({ maxLength: 50 });
const error = fc.record({ code: or(fc.integer()), title: or(text), message: or(text), error_data: or(fc.record({ details: or(text) })) });
const status = fc.record({
  id: or(id),
  status: or(fc.constantFrom('sent', 'delivered', 'read', 'failed', 'deleted', 'constructor')),
  timestamp: or(seconds),
  recipient_id: or(text),
  recipient_user_id: or(text),
  biz_opaque_callback_data: or(text),
  errors: or(fc.array(error, { maxLength: 3 })),
  conversation: or(fc.record({ id: or(id), expiration_timestamp: or(seconds), origin: or(fc.record({ type: or(text) })) })),
  pricing: or(fc.record({ billable: or(fc.boolean()), pricing_model: or(text), category: or(text), type: or(text) })),
});
const media = fc.record({
  id: or(id),
  mime_type: or(text),
  sha256: or(text),
  caption: or(text),
  filename: or(text),
  voice: or(fc.boolean()),
});
const TYPES = ['text', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts', 'interactive', 'button', 'reaction'];
const message = fc.record({
  id: or(id),
  from: or(text),
  from_user_id: or(text),
  timestamp: or(seconds),
  type: or(fc.constantFrom(...TYPES, 'order', 'system', 'unsupported', 'future_type', '__proto__', 'toString')),
  context: or(fc.record({ id: or(id), from: or(text) })),
  errors: or(fc.array(error, { maxLength: 3 })),
  text: or(fc.record({ body: or(text) })),
  image: or(media),
  document: or(media),
  location: or(fc.record({ latitude: or(fc.double()), longitude: or(fc.double()), name: or(text) })),
  contacts: or(
    fc.array(or(fc.record({ name: or(fc.record({ formatted_name: or(text) })), phones: or(fc.array(hostile, { maxLength: 2 })) })), {
      maxLength: 3,
    }),
  ),
  interactive: or(
    fc.record({
      type: or(fc.constantFrom('button_reply', 'list_reply', 'nfm_reply')),
      button_reply: or(fc.record({ id: or(id), title: or(text) })),
      list_reply: or(fc.record({ id: or(id), title: or(text), description: or(text) })),
      nfm_reply: hostile,
    }),
  ),
  button: or(fc.record({ payload: or(text), text: or(text) })),
  reaction: or(fc.record({ message_id: or(id), emoji: or(text) })),
  order: or(
    fc.record({ catalog_id: or(text), product_items: or(fc.array(fc.record({ sku: or(text), extra: hostile }), { maxLength: 3 })) }),
  ),
  system: or(fc.record({ body: or(text), type: or(text), extra: hostile })),
  future_type: hostile,
  unsupported: hostile,
});
const change = fc.record({
  field: mostly(fc.constant('messages')),
  value: mostly(
    fc.record({
      metadata: mostly(fc.record({ phone_number_id: mostly(fc.constant(NUMBER)) })),
      contacts: or(fc.array(or(fc.record({ wa_id: or(text), profile: or(fc.record({ name: or(text) })) })), { maxLength: 2 })),
      statuses: list(status, 6),
      messages: list(message, 6),
      errors: or(fc.array(error, { maxLength: 3 })),
    }),
  ),
});
const payload = fc.record({
  object: mostly(fc.constant('whatsapp_business_account')),
  entry: list(fc.record({ id: mostly(fc.constant(WABA)), changes: list(change, 2) }), 2),
});

/** JSON text of a generated value, placeholders expanded. */
function toJsonText(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\{"\$deep":(\d+),"\$kind":"([oa])"\}/g, (_match, depth: string, kind: string) =>
      kind === 'o'
        ? `${'{"a":'.repeat(Number(depth))}1${'}'.repeat(Number(depth))}`
        : `${'['.repeat(Number(depth))}${']'.repeat(Number(depth))}`,
    )
    .replace(/\{"\$num":"([^"]+)"\}/g, '$1');
}

/** Every string and Date in a value, found without recursion. */
function leaves(value: unknown): { strings: string[]; dates: Date[] } {
  const strings: string[] = [];
  const dates: Date[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string') strings.push(item);
    else if (item instanceof Date) dates.push(item);
    else if (typeof item === 'object' && item !== null) {
      for (const key of Object.keys(item)) strings.push(key);
      stack.push(...Object.values(item));
    }
  }
  return { strings, dates };
}

/** Content kinds kept as Meta sent them, within OPAQUE_LIMITS. */
const OPAQUE_KINDS: ReadonlySet<string> = new Set(['contacts', 'order', 'system', 'unknown']);

/** The bounds parseWebhookPayload promises, whatever came in. */
function assertBounded(parsed: ParsedWebhook): void {
  assert.doesNotThrow(() => JSON.stringify(parsed), 'the result serializes (no deep nesting)');
  assert.ok(!nestsDeeperThan(parsed, OPAQUE_LIMITS.maxDepth + 8), 'shallow');
  assert.ok(parsed.skipped.length <= MAX_SKIPPED_REASONS);
  for (const reason of parsed.skipped) assert.ok(reason.length <= 200, `a short reason: ${reason.slice(0, 80)}`);
  assert.equal(parsed.inboundMessageCount, parsed.inboundMessages.length);
  for (const status of parsed.statuses) {
    assert.ok(status.waMessageId.length > 0 && status.waMessageId.length <= MAX_ID_CHARS);
    assert.ok((status.errors?.length ?? 0) <= MAX_ERRORS_PER_ITEM);
    assert.ok(status.errorCode === undefined || Number.isInteger(status.errorCode));
  }
  for (const message of parsed.inboundMessages) {
    for (const value of [message.messageId, message.from, message.phoneNumberId, message.type])
      assert.ok(value.length > 0 && value.length <= MAX_ID_CHARS);
    assert.ok((message.errors?.length ?? 0) <= MAX_ERRORS_PER_ITEM);
    // What is kept as-is stays within its budget (markers may overshoot by a few hundred bytes); what is understood
    // has each text within MAX_TEXT_CHARS.
    assert.ok(JSON.stringify(message.content).length <= OPAQUE_LIMITS.maxBytes + 4096, `${message.type}: bounded content`);
    if (!OPAQUE_KINDS.has(message.content.kind))
      for (const value of leaves(message.content).strings) assert.ok(value.length <= MAX_TEXT_CHARS, `${message.type}: bounded text`);
    for (const value of [message.profileName, message.contextFrom, message.contextMessageId, message.fromUserId])
      assert.ok((value ?? '').length <= MAX_TEXT_CHARS, 'bounded message fields');
  }
  for (const value of leaves(parsed.statuses).strings) assert.ok(value.length <= MAX_TEXT_CHARS, 'bounded status texts');
  for (const date of leaves(parsed).dates) assert.ok(Number.isFinite(date.getTime()), 'every time is a valid Date');
}

test('parseWebhookPayload: any JSON value never throws and yields bounded output', (t) => {
  const parameters = fuzzParameters();
  t.diagnostic(`${parameters.numRuns} runs`);
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue({ maxDepth: 6 }), hostile), (value) => {
      assertBounded(parseWebhookPayload(JSON.parse(toJsonText(value))));
    }),
    parameters,
  );
});

test('parseWebhookPayload: webhook-shaped payloads with hostile fields anywhere never throw and yield bounded output', (t) => {
  const parameters = fuzzParameters(0.5);
  t.diagnostic(`${parameters.numRuns} runs`);
  fc.assert(
    fc.property(payload, (value) => {
      assertBounded(parseWebhookPayload(JSON.parse(toJsonText(value))));
    }),
    parameters,
  );
});

test('webhook intake: a signed body of any shape is decided without throwing; what is queued parses and nests at most 64 levels', (t) => {
  const parameters = fuzzParameters(0.5);
  t.diagnostic(`${parameters.numRuns} runs`);
  const intake = createWebhookIntake(
    parseTenants(
      tenantsYaml([{ id: 'lena', homeRegion: 'eu', apiKey: 'key-lena', wabaId: WABA, appSecret: SECRET, phoneNumberIds: [NUMBER] }]),
    ),
    'eu',
  );
  const bodies = fc.oneof(
    payload.map(toJsonText),
    fc.jsonValue({ maxDepth: 4 }).map(toJsonText),
    fc.string({ unit: 'binary', maxLength: 200 }),
  );
  fc.assert(
    fc.property(bodies, (text) => {
      const body = Buffer.from(text, 'utf8');
      const decision = intake(body, `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`);
      assert.notEqual(decision.kind, 'unauthenticated');
      if (decision.kind !== 'accepted') return;
      const queued = JSON.parse(Buffer.from(decision.body).toString('utf8')) as unknown;
      assert.ok(!nestsDeeperThan(queued, MAX_WEBHOOK_DEPTH));
      assert.equal(decision.nestingReplaced, nestsDeeperThan(JSON.parse(text), MAX_WEBHOOK_DEPTH));
      assertBounded(parseWebhookPayload(queued));
    }),
    parameters,
  );
});
