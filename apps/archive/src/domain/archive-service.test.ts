import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { InvalidArgumentError, type Clock } from '@waygate/domain';
import { createTempDir } from '@waygate/testing';
import { SqliteArchiveStore } from '../adapters/sqlite-archive-store';
import { createArchiveService, type ArchiveService } from './archive-service';
import type { IncomingEvent } from './archived-event';

const T0 = 1_700_000_000_000;
const HOME_REGIONS: Record<string, string> = { acme: 'eu', globex: 'us' };

const accepted: IncomingEvent = {
  eventId: 'accepted:msg_1',
  tenantId: 'acme',
  messageId: 'msg_1',
  kind: 'accepted',
  status: 'ACCEPTED',
  occurredAt: new Date(T0),
  recipient: '+4915112345678',
  phoneNumberId: '200',
  textBody: 'hello',
};
const sent: IncomingEvent = {
  eventId: 'evt_1',
  tenantId: 'acme',
  messageId: 'msg_1',
  kind: 'status',
  status: 'SENT',
  occurredAt: new Date(T0 + 1000),
  source: 'delivery',
  waMessageId: 'wamid.1',
};

let dir: ReturnType<typeof createTempDir>;
let store: SqliteArchiveStore;
let now: number;
let service: ArchiveService;

beforeEach(() => {
  dir = createTempDir();
  store = new SqliteArchiveStore(path.join(dir.path, 'archive.sqlite'));
  now = T0 + 60_000;
  const clock: Clock = { now: () => new Date(now) };
  service = createArchiveService({ store, homeRegionOf: (tenantId) => HOME_REGIONS[tenantId], region: 'eu', clock });
});
afterEach(async () => {
  await store.close();
  dir.remove();
});

test('records events stamped with the time they were recorded, and lists them oldest first', async () => {
  assert.equal(await service.record(sent), 'recorded');
  now += 1000;
  assert.equal(await service.record(accepted), 'recorded');
  const events = await service.listMessageEvents('acme', 'msg_1');
  assert.deepEqual(
    events.map((e) => [e.kind, e.kind === 'inbound' ? undefined : e.status]),
    [
      ['accepted', 'ACCEPTED'],
      ['status', 'SENT'],
    ],
    'ordered by occurredAt, not arrival',
  );
  assert.deepEqual(events[0], { ...accepted, recordedAt: new Date(T0 + 61_000) });
  assert.equal(events[1].recordedAt.getTime(), T0 + 60_000);
});

test('recording an event id twice has one effect', async () => {
  assert.equal(await service.record(sent), 'recorded');
  now += 5000;
  assert.equal(await service.record(sent), 'duplicate');
  const events = await service.listMessageEvents('acme', 'msg_1');
  assert.equal(events.length, 1);
  assert.equal(events[0].recordedAt.getTime(), T0 + 60_000, 'the first recording stands');
});

test('events of tenants homed elsewhere or unknown are not stored', async () => {
  assert.equal(await service.record({ ...sent, tenantId: 'globex' }), 'homed-elsewhere');
  assert.equal(await service.record({ ...accepted, tenantId: 'initech' }), 'unknown-tenant');
  assert.deepEqual(await store.listByMessage('globex', 'msg_1'), []);
  assert.deepEqual(await store.listByMessage('initech', 'msg_1'), []);
});

test("lists only the calling tenant's events", async () => {
  await service.record(accepted);
  assert.deepEqual(await service.listMessageEvents('globex', 'msg_1'), []);
  assert.deepEqual(await service.listMessageEvents('acme', 'msg_unknown'), []);
});

test('invalid events are refused, naming every bad field and never echoing values', async () => {
  await assert.rejects(
    service.record({
      ...accepted,
      eventId: '',
      messageId: '',
      recipient: '015112345678',
      phoneNumberId: '',
      occurredAt: new Date(Number.NaN),
    }),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.deepEqual(error.violations.map((v) => v.field).sort(), ['event_id', 'message_id', 'occurred_at', 'phone_number_id', 'to']);
      assert.doesNotMatch(error.message, /015112345678/);
      return true;
    },
  );
  await assert.rejects(
    service.record({ ...sent, tenantId: '' }),
    (error: unknown) => error instanceof InvalidArgumentError && error.violations[0].field === 'tenant_id',
  );
  assert.deepEqual(await store.listByMessage('acme', 'msg_1'), []);
});

test('listing requires a bounded, well-formed message id', async () => {
  for (const [id, reason] of [
    ['', 'REQUIRED'],
    ['m'.repeat(10_000), 'TOO_LONG'],
    ['msg 1', 'INVALID_FORMAT'],
  ]) {
    await assert.rejects(service.listMessageEvents('acme', id), (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.deepEqual(
        error.violations.map((v) => [v.field, v.reason]),
        [['message_id', reason]],
      );
      return true;
    });
  }
});

const inboundMessage: IncomingEvent = {
  eventId: 'wa:in:wamid.in1',
  tenantId: 'acme',
  messageId: 'wamid.in1',
  kind: 'inbound',
  occurredAt: new Date(T0 + 2000),
  phoneNumberId: '200',
  from: '+4915112345678',
  messageType: 'text',
  text: 'hi there',
};

test('records inbound messages under their wamid; a bad sender or number is refused without echoing it', async () => {
  assert.equal(await service.record(inboundMessage), 'recorded');
  assert.deepEqual(await service.listMessageEvents('acme', 'wamid.in1'), [{ ...inboundMessage, recordedAt: new Date(now) }]);
  await assert.rejects(
    service.record({ ...inboundMessage, eventId: 'wa:in:wamid.in2', from: '015112345678', phoneNumberId: '' }),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.deepEqual(error.violations.map((v) => v.field).sort(), ['from', 'phone_number_id']);
      assert.doesNotMatch(error.message, /015112345678/);
      return true;
    },
  );
});

const inbound: IncomingEvent = {
  eventId: 'wa:in:wamid.in1',
  tenantId: 'acme',
  messageId: 'wamid.in1',
  kind: 'inbound',
  occurredAt: new Date(T0),
  phoneNumberId: '200',
  from: '+4915112345678',
  messageType: 'text',
  text: 'the parcel never arrived',
};

function serviceWith(deps: Partial<Parameters<typeof createArchiveService>[0]>): ArchiveService {
  return createArchiveService({
    store,
    homeRegionOf: (tenantId) => HOME_REGIONS[tenantId],
    region: 'eu',
    clock: { now: () => new Date(now) },
    ...deps,
  });
}

test('a customer text is scored by the analyser before it is recorded; the conversation keeps the sentiment', async () => {
  const texts: string[] = [];
  const scoring = serviceWith({
    analyzeText: async (text) => (texts.push(text), { language: 'en', score: -0.6, label: 'negative' }),
  });
  assert.equal(await scoring.record(inbound), 'recorded');
  assert.equal(await scoring.record(accepted), 'recorded');
  assert.deepEqual(texts, ['the parcel never arrived'], 'only customer texts are analysed');
  const [event] = await store.listByMessage('acme', 'wamid.in1');
  assert.deepEqual(event?.kind === 'inbound' ? event.sentiment : undefined, { language: 'en', score: -0.6, label: 'negative' });
  const { conversations } = await scoring.listConversations('acme', { sentiment: 'negative' });
  assert.equal(conversations.length, 1);
  assert.equal(conversations[0]?.sentiment.end?.label, 'negative');
});

test('an analyser failure never loses the record: it is kept unscored, with a warning that does not quote the text', async () => {
  const warnings: string[] = [];
  const failing = serviceWith({
    analyzeText: async () => {
      throw new Error('the parcel never arrived: model crashed');
    },
    log: { warn: (fields, message) => warnings.push(JSON.stringify({ ...fields, message })) },
  });
  assert.equal(await failing.record(inbound), 'recorded');
  const [event] = await store.listByMessage('acme', 'wamid.in1');
  assert.equal(event?.kind === 'inbound' ? event.sentiment : 'missing', undefined);
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0]?.includes('wamid.in1') && !warnings[0].includes('parcel'), warnings[0]);
});

test('conversation and transcript requests are validated field by field, before the store is read', async () => {
  const fieldsOf = async (run: () => Promise<unknown>) => {
    try {
      await run();
    } catch (error) {
      assert.ok(error instanceof InvalidArgumentError, String(error));
      return error.violations.map((violation) => violation.field);
    }
    assert.fail('expected InvalidArgumentError');
  };
  assert.deepEqual(await fieldsOf(() => service.listConversations('acme', { pageSize: 201 })), ['page_size']);
  assert.deepEqual(await fieldsOf(() => service.listConversations('acme', { pageSize: -1 })), ['page_size']);
  assert.deepEqual(await fieldsOf(() => service.listConversations('acme', { customer: '0151 1234' })), ['customer']);
  assert.deepEqual(await fieldsOf(() => service.listConversations('acme', { from: new Date(T0), to: new Date(T0) })), ['to']);
  assert.deepEqual(await fieldsOf(() => service.listConversations('acme', { pageToken: 'not a token!' })), ['page_token']);
  assert.deepEqual(await fieldsOf(() => service.getTranscript('acme', { conversationId: '' })), ['conversation_id']);
  assert.deepEqual(await fieldsOf(() => service.getTranscript('acme', { conversationId: 'cv_x' })), ['conversation_id']);
  assert.deepEqual(await fieldsOf(() => service.getTranscript('acme', { conversationId: `cv_${'a'.repeat(26)}`, pageSize: 1001 })), [
    'page_size',
  ]);
});

test('a page token continues only the request it came from', async () => {
  for (let index = 0; index < 3; index += 1)
    await service.record({ ...inbound, eventId: `wa:in:w${index}`, messageId: `w${index}`, from: `+491510000000${index}` });
  const first = await service.listConversations('acme', { pageSize: 2 });
  assert.equal(first.conversations.length, 2);
  assert.ok(first.nextPageToken);
  const second = await service.listConversations('acme', { pageSize: 2, pageToken: first.nextPageToken });
  assert.equal(second.conversations.length, 1);
  assert.equal(second.nextPageToken, undefined);
  await assert.rejects(
    service.listConversations('acme', { pageSize: 2, pageToken: first.nextPageToken, hasUnanswered: true }),
    (error: unknown) => error instanceof InvalidArgumentError && error.violations[0]?.field === 'page_token',
  );
  const { conversation } = await service.getTranscript('acme', { conversationId: first.conversations[0]!.conversationId });
  assert.equal(conversation.inboundCount, 1);
  await assert.rejects(
    service.getTranscript('acme', { conversationId: first.conversations[0]!.conversationId, pageToken: first.nextPageToken }),
    (error: unknown) => error instanceof InvalidArgumentError && error.violations[0]?.field === 'page_token',
  );
  await assert.rejects(service.getTranscript('globex', { conversationId: first.conversations[0]!.conversationId }), {
    name: 'NotFoundError',
  });
});
