import assert from 'node:assert/strict';
import type { MessageStatus } from '@waygate/domain';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import { conversationIdOf, type ConversationKey, type Direction, type TranscriptEntry } from '../domain/transcript';
import { MongoSearchIndex } from './mongo-search-index';
import type { IndexedMessage, SearchFilters, SearchIndex } from './search-index';
import { parseSearchQuery, type SearchQuery } from './search-query';
import { SqliteSearchIndex } from './sqlite-search-index';

const backends = contractBackends<SearchIndex>({
  sqlite: (file) => SqliteSearchIndex.openFile(file),
  mongodb: (mongo) => MongoSearchIndex.open(mongo),
  close: (index) => index.close(),
});

const T0 = Date.UTC(2026, 0, 1);
const ALICE = '+4915112345678';
const BOB = '+4915187654321';

interface MessageSpec {
  readonly id: string;
  readonly text?: string;
  readonly tenantId?: string;
  readonly customer?: string;
  readonly phoneNumberId?: string;
  readonly direction?: Direction;
  readonly type?: string;
  readonly status?: MessageStatus;
  readonly at?: number;
}

function message(spec: MessageSpec): IndexedMessage {
  const conversation: ConversationKey = {
    tenantId: spec.tenantId ?? 'acme',
    phoneNumberId: spec.phoneNumberId ?? '200',
    customer: spec.customer ?? ALICE,
  };
  const direction = spec.direction ?? 'inbound';
  const entry: TranscriptEntry = {
    recordId: direction === 'outbound' ? `accepted:${spec.id}` : `wa:in:${spec.id}`,
    tenantId: conversation.tenantId,
    conversationId: conversationIdOf(conversation),
    messageId: spec.id,
    direction,
    type: spec.type ?? 'text',
    occurredAt: new Date(T0 + (spec.at ?? 0) * 1000),
    ...(spec.text !== undefined ? { text: spec.text } : {}),
    mediaIds: [],
    statuses: [],
    ...(spec.status ? { status: spec.status } : {}),
  };
  return { entry, conversation };
}

function q(raw: string): SearchQuery {
  const parsed = parseSearchQuery(raw);
  assert.ok('query' in parsed, `query ${raw} parses`);
  return parsed.query;
}

for (const backend of backends) {
  describeContract(backend, 'SearchIndex contract', (test) => {
    async function withIndex(run: (index: SearchIndex) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    /** The message ids (sorted) of every hit of a search, all pages. */
    async function found(index: SearchIndex, raw: string, filters: SearchFilters = {}, tenantId = 'acme'): Promise<string[]> {
      const page = await index.search(tenantId, q(raw), filters, { offset: 0, limit: 100 });
      assert.equal(page.hasMore, false);
      return page.hits.map((hit) => hit.messageId).sort();
    }

    test('folds case and diacritics in Latin script', () =>
      withIndex(async (index) => {
        await index.index(message({ id: 'm1', text: 'Ein Café mit Herrn Müller, bitte' }));
        await index.index(message({ id: 'm2', text: 'Nothing to see here' }));
        assert.deepEqual(await found(index, 'cafe'), ['m1']);
        assert.deepEqual(await found(index, 'CAFÉ'), ['m1']);
        assert.deepEqual(await found(index, 'muller'), ['m1']);
        assert.deepEqual(await found(index, 'Müller'), ['m1']);
        const [hit] = (await index.search('acme', q('cafe muller'), {}, { offset: 0, limit: 10 })).hits;
        assert.equal(hit?.snippet, 'Ein [Café] mit Herrn [Müller], bitte');
        assert.equal(hit?.recordId, 'wa:in:m1');
        assert.equal(hit?.occurredAt.getTime(), T0);
        assert.ok((hit?.rank ?? 0) > 0, 'a ranked hit has a positive rank');
      }));

    test('folds case in Cyrillic script', () =>
      withIndex(async (index) => {
        await index.index(message({ id: 'm1', text: 'ПРИВЕТ, как дела?' }));
        await index.index(message({ id: 'm2', text: 'привет мир' }));
        await index.index(message({ id: 'm3', text: 'пока' }));
        assert.deepEqual(await found(index, 'привет'), ['m1', 'm2']);
        assert.deepEqual(await found(index, 'ПРИВЕТ'), ['m1', 'm2']);
        assert.deepEqual(await found(index, 'Привет мир'), ['m2']);
        const [hit] = (await index.search('acme', q('мир'), {}, { offset: 0, limit: 10 })).hits;
        assert.equal(hit?.snippet, 'привет [мир]');
      }));

    test('finds Chinese words inside sentences without spaces, of 1, 2 and more characters', () =>
      withIndex(async (index) => {
        await index.index(message({ id: 'm1', text: '我想申请退款可以吗' }));
        await index.index(message({ id: 'm2', text: '订单已经发货了' }));
        assert.deepEqual(await found(index, '退款'), ['m1']);
        assert.deepEqual(await found(index, '退'), ['m1']);
        assert.deepEqual(await found(index, '申请退款'), ['m1']);
        assert.deepEqual(await found(index, '发货'), ['m2']);
        assert.deepEqual(await found(index, '款申'), [], 'not a substring of either');
        assert.deepEqual(await found(index, '退款申'), []);
        const [hit] = (await index.search('acme', q('退款'), {}, { offset: 0, limit: 10 })).hits;
        assert.equal(hit?.snippet, '我想申请[退款]可以吗');
      }));

    test('finds Thai words inside sentences without spaces', () =>
      withIndex(async (index) => {
        await index.index(message({ id: 'm1', text: 'สวัสดีครับ ผมต้องการขอคืนเงินครับ' }));
        await index.index(message({ id: 'm2', text: 'ขอบคุณมากครับ' }));
        assert.deepEqual(await found(index, 'คืนเงิน'), ['m1']);
        assert.deepEqual(await found(index, 'ครับ'), ['m1', 'm2']);
        assert.deepEqual(await found(index, 'ขอบคุณ'), ['m2']);
        assert.deepEqual(await found(index, 'ดี'), ['m1'], 'a 2-character Thai term');
        const [hit] = (await index.search('acme', q('คืนเงิน'), {}, { offset: 0, limit: 10 })).hits;
        assert.equal(hit?.snippet, 'สวัสดีครับ ผมต้องการขอ[คืนเงิน]ครับ');
      }));

    test('every term must match, across scripts', () =>
      withIndex(async (index) => {
        await index.index(message({ id: 'm1', text: 'Café order 退款 please' }));
        await index.index(message({ id: 'm2', text: 'Café order only' }));
        await index.index(message({ id: 'm3', text: '退款 only' }));
        assert.deepEqual(await found(index, 'cafe 退款'), ['m1']);
        assert.deepEqual(await found(index, 'cafe order'), ['m1', 'm2']);
        assert.deepEqual(await found(index, 'cafe missing'), []);
        assert.deepEqual(await found(index, '"order please"'), [], 'a phrase is not two loose words');
        assert.deepEqual(await found(index, '"cafe order"'), ['m1', 'm2']);
      }));

    test('ranks a message that is more about the term first', () =>
      withIndex(async (index) => {
        await index.index(
          message({ id: 'weak', text: 'refund mentioned once in a long message about delivery times and other topics', at: 2 }),
        );
        await index.index(message({ id: 'strong', text: 'refund refund refund', at: 1 }));
        const { hits } = await index.search('acme', q('refund'), {}, { offset: 0, limit: 10 });
        assert.deepEqual(
          hits.map((hit) => hit.messageId),
          ['strong', 'weak'],
        );
        assert.ok((hits[0]?.rank ?? 0) > (hits[1]?.rank ?? 0));
      }));

    test('filters by customer, number, direction, type and time range', () =>
      withIndex(async (index) => {
        await index.index(
          message({ id: 'a', text: 'invoice', customer: ALICE, phoneNumberId: '200', direction: 'inbound', type: 'text', at: 10 }),
        );
        await index.index(
          message({ id: 'b', text: 'invoice', customer: BOB, phoneNumberId: '200', direction: 'outbound', type: 'text', at: 20 }),
        );
        await index.index(
          message({ id: 'c', text: 'invoice', customer: ALICE, phoneNumberId: '300', direction: 'outbound', type: 'document', at: 30 }),
        );
        assert.deepEqual(await found(index, 'invoice'), ['a', 'b', 'c']);
        assert.deepEqual(await found(index, 'invoice', { customer: ALICE }), ['a', 'c']);
        assert.deepEqual(await found(index, 'invoice', { phoneNumberId: '300' }), ['c']);
        assert.deepEqual(await found(index, 'invoice', { direction: 'outbound' }), ['b', 'c']);
        assert.deepEqual(await found(index, 'invoice', { type: 'document' }), ['c']);
        assert.deepEqual(await found(index, 'invoice', { from: new Date(T0 + 20_000) }), ['b', 'c'], 'from is inclusive');
        assert.deepEqual(await found(index, 'invoice', { to: new Date(T0 + 20_000) }), ['a'], 'to is exclusive');
        assert.deepEqual(await found(index, 'invoice', { customer: ALICE, direction: 'outbound', from: new Date(T0) }), ['c']);
      }));

    test("filters by an outbound message's latest status; a status set before the message was indexed wins", () =>
      withIndex(async (index) => {
        // A status set before its message was indexed is kept for it, over the entry's older view.
        await index.setStatus('acme', 'early', 'DELIVERED');
        await index.index(message({ id: 'early', text: 'parcel', direction: 'outbound', status: 'ACCEPTED' }));
        await index.index(message({ id: 'late', text: 'parcel', direction: 'outbound', status: 'ACCEPTED' }));
        await index.index(message({ id: 'in', text: 'parcel', direction: 'inbound' }));
        assert.deepEqual(await found(index, 'parcel', { status: 'DELIVERED' }), ['early']);
        assert.deepEqual(await found(index, 'parcel', { status: 'ACCEPTED' }), ['late']);
        await index.setStatus('acme', 'late', 'READ');
        await index.setStatus('acme', 'late', 'READ'); // redelivered: no change
        assert.deepEqual(await found(index, 'parcel', { status: 'READ' }), ['late']);
        assert.deepEqual(await found(index, 'parcel', { status: 'ACCEPTED' }), []);
        // The archive's latest status replaces the former one (it computes it from every stored status).
        await index.setStatus('acme', 'early', 'FAILED');
        assert.deepEqual(await found(index, 'parcel', { status: 'FAILED' }), ['early']);
        assert.deepEqual(await found(index, 'parcel', { status: 'DELIVERED' }), []);
        assert.deepEqual(await found(index, 'parcel', { status: 'READ', direction: 'inbound' }), []);
        // Re-indexing (a redelivered record) keeps the status that was set.
        await index.index(message({ id: 'late', text: 'parcel again', direction: 'outbound', status: 'ACCEPTED' }));
        assert.deepEqual(await found(index, 'parcel', { status: 'READ' }), ['late']);
        // Another tenant's message of the same id is not touched.
        await index.setStatus('globex', 'late', 'FAILED');
        assert.deepEqual(await found(index, 'parcel', { status: 'READ' }), ['late']);
      }));

    test('pages through a ranked result without gaps or repeats', () =>
      withIndex(async (index) => {
        for (let i = 0; i < 25; i += 1)
          await index.index(message({ id: `m${String(i).padStart(2, '0')}`, text: `hello number ${i}`, at: i }));
        const seen: string[] = [];
        for (let offset = 0, more = true; more; offset += 10) {
          const page = await index.search('acme', q('hello'), {}, { offset, limit: 10 });
          assert.equal(page.hits.length, offset < 20 ? 10 : 5);
          seen.push(...page.hits.map((hit) => hit.messageId));
          more = page.hasMore;
          assert.equal(more, offset < 20);
        }
        assert.equal(new Set(seen).size, 25);
        // Equal ranks: newest first.
        assert.equal(seen[0], 'm24');
      }));

    test('never shows another tenant a message', () =>
      withIndex(async (index) => {
        await index.index(message({ id: 'mine', text: 'secret plan 退款', tenantId: 'acme' }));
        await index.index(message({ id: 'theirs', text: 'secret plan 退款', tenantId: 'globex' }));
        assert.deepEqual(await found(index, 'secret'), ['mine']);
        assert.deepEqual(await found(index, '退款'), ['mine']);
        assert.deepEqual(await found(index, 'secret', {}, 'globex'), ['theirs']);
        assert.deepEqual(await found(index, 'secret', {}, 'initech'), []);
        assert.equal(await index.remove('globex', 'wa:in:mine'), false, "a tenant cannot remove another's message");
        assert.equal(await index.removeCustomer('globex', ALICE), 1);
        assert.deepEqual(await found(index, 'secret'), ['mine']);
      }));

    test('searches query syntax as text: no input raises a syntax error', () =>
      withIndex(async (index) => {
        await index.index(message({ id: 'ops', text: 'NEAR AND OR NOT the (quoted) "text" col:value * 100% -minus ^caret :-)' }));
        await index.index(message({ id: 'other', text: 'plain words' }));
        for (const raw of ['NEAR', 'AND', 'OR', 'NOT', '"quoted"', '(quoted)', 'col:value', '-minus', '^caret', '100%', ':-)']) {
          assert.deepEqual(await found(index, raw), ['ops'], raw);
        }
        for (const raw of [
          '"',
          '""',
          '" AND',
          'NEAR(a b)',
          'a* OR b*',
          ')(',
          '{col}: x',
          "'; DROP TABLE search_messages; --",
          '\\',
          '"unbalanced',
        ]) {
          const parsed = parseSearchQuery(raw);
          if ('violations' in parsed) continue; // nothing to search: the caller gets INVALID_ARGUMENT
          await index.search('acme', parsed.query, {}, { offset: 0, limit: 10 });
        }
        assert.deepEqual(await found(index, 'plain'), ['other'], 'the tables are intact');
      }));

    test('indexing is idempotent and re-indexing replaces the text', () =>
      withIndex(async (index) => {
        await index.index(message({ id: 'm1', text: 'first version' }));
        await index.index(message({ id: 'm1', text: 'first version' }));
        assert.deepEqual(await found(index, 'first'), ['m1']);
        await index.index(message({ id: 'm1', text: 'second version 退款' }));
        assert.deepEqual(await found(index, 'first'), []);
        assert.deepEqual(await found(index, 'second'), ['m1']);
        assert.deepEqual(await found(index, 'version'), ['m1']);
        assert.deepEqual(await found(index, '退款'), ['m1']);
        // Without text (a location, an uncaptioned image) there is nothing to find it by.
        await index.index(message({ id: 'm1', type: 'location' }));
        assert.deepEqual(await found(index, 'version'), []);
      }));

    test('removes one message or every message of a customer', () =>
      withIndex(async (index) => {
        await index.index(message({ id: 'a1', text: 'erase me', customer: ALICE }));
        await index.index(message({ id: 'a2', text: 'erase me too', customer: ALICE, direction: 'outbound' }));
        await index.index(message({ id: 'b1', text: 'erase me not', customer: BOB }));
        assert.equal(await index.remove('acme', 'wa:in:b1'), true);
        assert.equal(await index.remove('acme', 'wa:in:b1'), false);
        assert.deepEqual(await found(index, 'erase'), ['a1', 'a2']);
        assert.equal(await index.removeCustomer('acme', ALICE), 2);
        assert.deepEqual(await found(index, 'erase'), []);
      }));

    test("erasure of a customer removes every script's rows, is idempotent, and leaves the others' rows searchable and re-indexable", () =>
      withIndex(async (index) => {
        // Word, trigram (CJK) and 1-2 character gram rows, re-indexed once with another text.
        await index.index(message({ id: 'a1', text: 'zebrafish 退款申请 水', customer: ALICE }));
        await index.index(message({ id: 'a1', text: 'zebrafish 退款 水', customer: ALICE }));
        await index.index(message({ id: 'a2', text: 'ขอบคุณ zebrafish', customer: ALICE }));
        await index.index(message({ id: 'b1', text: 'zebrafish 退款 ขอบคุณ 水', customer: BOB }));
        assert.deepEqual(await found(index, 'zebrafish'), ['a1', 'a2', 'b1']);
        assert.equal(await index.removeCustomer('acme', ALICE), 2);
        assert.equal(await index.removeCustomer('acme', ALICE), 0);
        for (const term of ['zebrafish', '退款', '水', 'ขอบคุณ']) assert.deepEqual(await found(index, term), ['b1'], term);
        await index.index(message({ id: 'b1', text: 'zebrafish again 退款', customer: BOB }));
        assert.deepEqual(await found(index, 'again'), ['b1']);
        assert.equal(await index.remove('acme', 'wa:in:b1'), true);
        assert.deepEqual(await found(index, 'zebrafish'), []);
      }));
  });
}
