import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations } from '@waygate/grpc';
import { Direction, MessageStatus, SearchMessagesRequest, type SearchMessagesResponse } from '@waygate/proto';
import { startArchiveHarness, type ArchiveHarness } from '../testing/archive-harness';

/**
 * SearchMessages end to end: events published on a real nats-server, archived by the archive's real consumers into a
 * real SQLite file, indexed on their record path, searched over real gRPC.
 */

const KEYS = { acme: 'key-acme', umbrella: 'key-umbrella' };
const T0 = Date.UTC(2026, 0, 10, 9);
const ALICE = '+4915112345678';
const BORIS = '+79161234567';
const LI = '+8613812345678';

let harness: ArchiveHarness;

before(async () => {
  harness = await startArchiveHarness({
    tenants: [
      { id: 'acme', homeRegion: 'eu', apiKey: KEYS.acme, phoneNumberIds: ['200', '300'] },
      { id: 'umbrella', homeRegion: 'eu', apiKey: KEYS.umbrella, phoneNumberIds: ['202'] },
    ],
  });

  // Outbound, Latin with accents; its statuses are published first (another stream: they may arrive first).
  await publishStatus('acme', 'msg_cafe', MessageStatus.MESSAGE_STATUS_SENT, T0 + 1000);
  await publishStatus('acme', 'msg_cafe', MessageStatus.MESSAGE_STATUS_DELIVERED, T0 + 2000);
  await publishAccepted('acme', 'msg_cafe', ALICE, 'Ihre Bestellung im Café Müller ist unterwegs', T0);
  await publishStatus('acme', 'msg_cafe', MessageStatus.MESSAGE_STATUS_READ, T0 + 3000);
  // Outbound, Cyrillic, from another number.
  await publishAccepted('acme', 'msg_privet', BORIS, 'ПРИВЕТ! Ваш заказ отправлен', T0 + 10_000, '300');
  // Inbound, Chinese and Thai.
  await publishInbound('acme', 'wamid.zh', LI, '我想申请退款可以吗', T0 + 20_000);
  await publishInbound('acme', 'wamid.th', LI, 'สวัสดีครับ ผมต้องการขอคืนเงินครับ', T0 + 30_000);
  // Another tenant with the same words.
  await publishAccepted('umbrella', 'msg_other', ALICE, 'Café Müller 退款 привет', T0, '202');
  await harness.waitUntilCaughtUp();
});

after(() => harness?.stop());

async function publishAccepted(
  tenantId: string,
  messageId: string,
  to: string,
  body: string,
  at: number,
  phoneNumberId = '200',
  msgId?: string,
) {
  await harness.publishAccepted({ tenantId, messageId, to, phoneNumberId, acceptedAt: new Date(at), text: body }, msgId);
}

async function publishStatus(tenantId: string, messageId: string, status: MessageStatus, at: number) {
  await harness.publishStatus({ eventId: `evt_${messageId}_${status}`, tenantId, messageId, status, occurredAt: new Date(at) });
}

async function publishInbound(tenantId: string, waMessageId: string, from: string, text: string, at: number) {
  await harness.publishInbound({ tenantId, waMessageId, phoneNumberId: '200', from, occurredAt: new Date(at), text });
}

function search(request: Partial<SearchMessagesRequest>, apiKey = KEYS.acme): Promise<SearchMessagesResponse> {
  return harness.unary('searchMessages', SearchMessagesRequest.fromPartial(request), apiKey);
}

async function idsOf(request: Partial<SearchMessagesRequest>, apiKey = KEYS.acme): Promise<string[]> {
  return (await search(request, apiKey)).hits.map((hit) => hit.message?.messageId ?? '').sort();
}

test('finds archived messages in Latin with accents, Cyrillic, Chinese and Thai, with the whole message and a snippet', async () => {
  const latin = await search({ query: 'cafe muller' });
  assert.equal(latin.hits.length, 1);
  const hit = latin.hits[0];
  assert.equal(hit?.snippet, 'Ihre Bestellung im [Café] [Müller] ist unterwegs');
  assert.ok((hit?.rank ?? 0) > 0);
  const message = hit?.message;
  assert.equal(message?.recordId, 'accepted:msg_cafe');
  assert.equal(message?.direction, Direction.DIRECTION_OUTBOUND);
  assert.equal(message?.text, 'Ihre Bestellung im Café Müller ist unterwegs');
  assert.equal(message?.type, 'text');
  assert.equal(message?.status, MessageStatus.MESSAGE_STATUS_READ);
  assert.deepEqual(
    message?.statuses.map((s) => s.status),
    [MessageStatus.MESSAGE_STATUS_SENT, MessageStatus.MESSAGE_STATUS_DELIVERED, MessageStatus.MESSAGE_STATUS_READ],
  );
  assert.match(message?.conversationId ?? '', /^cv_/u);

  const cyrillic = await search({ query: 'привет' });
  assert.deepEqual(
    cyrillic.hits.map((h) => [h.message?.messageId, h.snippet]),
    [['msg_privet', '[ПРИВЕТ]! Ваш заказ отправлен']],
  );
  const chinese = await search({ query: '退款' });
  assert.deepEqual(
    chinese.hits.map((h) => [h.message?.messageId, h.message?.direction, h.snippet]),
    [['wamid.zh', Direction.DIRECTION_INBOUND, '我想申请[退款]可以吗']],
  );
  assert.deepEqual(await idsOf({ query: '申请退款' }), ['wamid.zh']);
  assert.deepEqual(await idsOf({ query: 'คืนเงิน' }), ['wamid.th']);
});

test('filters by customer, number, direction, type, status and time range', async () => {
  assert.deepEqual(await idsOf({ query: 'Müller', status: MessageStatus.MESSAGE_STATUS_READ }), ['msg_cafe']);
  assert.deepEqual(await idsOf({ query: 'Müller', status: MessageStatus.MESSAGE_STATUS_DELIVERED }), []);
  assert.deepEqual(await idsOf({ query: '退款', direction: Direction.DIRECTION_INBOUND }), ['wamid.zh']);
  assert.deepEqual(await idsOf({ query: '退款', direction: Direction.DIRECTION_OUTBOUND }), []);
  assert.deepEqual(await idsOf({ query: 'привет', phoneNumberId: '300' }), ['msg_privet']);
  assert.deepEqual(await idsOf({ query: 'привет', phoneNumberId: '200' }), []);
  assert.deepEqual(await idsOf({ query: 'ครับ', customer: LI }), ['wamid.th']);
  assert.deepEqual(await idsOf({ query: 'ครับ', customer: ALICE }), []);
  assert.deepEqual(await idsOf({ query: 'cafe', type: 'text' }), ['msg_cafe']);
  assert.deepEqual(await idsOf({ query: 'cafe', type: 'image' }), []);
  assert.deepEqual(await idsOf({ query: 'cafe', from: new Date(T0), to: new Date(T0 + 1) }), ['msg_cafe']);
  assert.deepEqual(await idsOf({ query: 'cafe', from: new Date(T0 + 1) }), []);
});

test("never shows a tenant another tenant's messages", async () => {
  assert.deepEqual(await idsOf({ query: 'cafe' }, KEYS.umbrella), ['msg_other']);
  assert.deepEqual(await idsOf({ query: '退款' }, KEYS.umbrella), ['msg_other']);
  assert.deepEqual(await idsOf({ query: 'ครับ' }, KEYS.umbrella), []);
  await assert.rejects(search({ query: 'cafe' }, 'wrong-key'), (error: ServiceError) => error.code === grpcStatus.UNAUTHENTICATED);
});

test('a redelivered record is indexed once, and a status after it still updates the filter', async () => {
  // The same event under another NATS message id: JetStream does not de-duplicate it, the archive store does.
  await publishAccepted('acme', 'msg_privet', BORIS, 'ПРИВЕТ! Ваш заказ отправлен', T0 + 10_000, '300', 'redelivered-accepted');
  await publishStatus('acme', 'msg_privet', MessageStatus.MESSAGE_STATUS_FAILED, T0 + 11_000);
  await harness.waitUntilCaughtUp();
  assert.deepEqual(await idsOf({ query: 'заказ' }), ['msg_privet']);
  assert.deepEqual(await idsOf({ query: 'заказ', status: MessageStatus.MESSAGE_STATUS_FAILED }), ['msg_privet']);
});

test('query syntax is searched as text, and bad input is INVALID_ARGUMENT naming each field, never echoing it', async () => {
  for (const query of ['NEAR(cafe', '"Müller', 'cafe AND -', 'cafe*', 'col:cafe']) {
    await search({ query });
  }
  assert.deepEqual(await idsOf({ query: 'NEAR(cafe' }), [], 'every term must match: "near" is not in the message');
  assert.deepEqual(await idsOf({ query: '(cafe)' }), ['msg_cafe']);
  await assert.rejects(search({ query: '* -', customer: 'secret-not-a-number', pageSize: 1000 }), (error: ServiceError) => {
    assert.equal(error.code, grpcStatus.INVALID_ARGUMENT);
    assert.deepEqual(
      badRequestViolations(error)
        .map((v) => [v.field, v.reason])
        .sort(),
      [
        ['customer', 'INVALID_FORMAT'],
        ['page_size', 'OUT_OF_RANGE'],
        ['query', 'NOTHING_TO_SEARCH'],
      ],
    );
    assert.ok(!error.details.includes('secret-not-a-number'));
    return true;
  });
  await assert.rejects(search({ query: 'x'.repeat(257) }), (error: ServiceError) => {
    assert.deepEqual(
      badRequestViolations(error).map((v) => [v.field, v.reason]),
      [['query', 'TOO_LONG']],
    );
    return true;
  });
});

test('pages through the hits with an opaque token', async () => {
  for (let i = 0; i < 5; i += 1) await publishInbound('acme', `wamid.page${i}`, LI, `Seite ${i}: Rückerstattung`, T0 + 40_000 + i);
  await harness.waitUntilCaughtUp();
  const seen: string[] = [];
  let pageToken = '';
  for (let pages = 0; pages < 3; pages += 1) {
    const page = await search({ query: 'ruckerstattung', pageSize: 2, pageToken });
    assert.equal(page.hits.length, pages < 2 ? 2 : 1);
    seen.push(...page.hits.map((hit) => hit.message?.messageId ?? ''));
    pageToken = page.nextPageToken;
    assert.equal(pageToken === '', pages === 2, 'only the last page has no token');
  }
  assert.deepEqual([...seen].sort(), ['wamid.page0', 'wamid.page1', 'wamid.page2', 'wamid.page3', 'wamid.page4']);
  await assert.rejects(search({ query: 'cafe', pageSize: 2, pageToken: 'not-a-token' }), (error: ServiceError) => {
    assert.deepEqual(
      badRequestViolations(error).map((v) => [v.field, v.reason]),
      [['page_token', 'INVALID']],
    );
    return true;
  });
});

test('logs never carry message text or phone numbers', () => {
  const logs = harness.logLines.join('');
  for (const secret of ['Müller', 'ПРИВЕТ', '退款', 'คืนเงิน', ALICE, LI, BORIS])
    assert.ok(!logs.includes(secret), 'a log line has personal data');
});
