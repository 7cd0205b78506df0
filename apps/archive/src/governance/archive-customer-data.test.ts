import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { connect, type NatsConnection } from 'nats';
import type { CustomerDataRecord } from '@waygate/domain';
import { createCustomerSealer, createKeyring, JetStreamWrappedKeyStore, toKeyEncryptionKey, type Keyring } from '@waygate/keyring';
import { createTempDir, startNatsServer, type NatsServerHandle } from '@waygate/testing';
import { SealedArchiveStore } from '../adapters/sealed-archive-store';
import { SqliteArchiveStore } from '../adapters/sqlite-archive-store';
import { createArchiveService } from '../domain/archive-service';
import type { IncomingEvent } from '../domain/archived-event';
import { conversationIdOf } from '../domain/transcript';
import { withSearchIndexing } from '../search/archive-search-feed';
import { parseSearchQuery } from '../search/search-query';
import { SqliteSearchIndex } from '../search/sqlite-search-index';
import { createArchiveCustomerDataParticipant } from './archive-customer-data';

let nats: NatsServerHandle;
let nc: NatsConnection;
let keyring: Keyring;
before(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  const store = await JetStreamWrappedKeyStore.open(nc.jetstream(), 'test');
  keyring = createKeyring({ store, keks: { active: toKeyEncryptionKey(randomBytes(32)), retired: [] }, clock: { now: () => new Date() } });
});
after(async () => {
  await nc.close();
  await nats.stop();
});

const T0 = Date.UTC(2026, 0, 5, 9);
const ALICE = '+4915111111111';
const BOB = '+4915122222222';
/** Alice's unique texts: none may be found in any file once she is erased. Latin, CJK (trigram index) and Thai (grams). */
const ALICE_MARKERS = ['alicezqxmarkerone', 'alicezqxmarkertwo', '秘密アリス退款', 'อลิซลับ'];
const BOB_MARKER = 'bobzqxmarkerthree';

function inbound(id: string, from: string, text: string, at: number): IncomingEvent {
  return {
    eventId: `wa:in:${id}`,
    tenantId: 'acme',
    messageId: id,
    kind: 'inbound',
    occurredAt: new Date(at),
    phoneNumberId: '200',
    from,
    messageType: 'text',
    text,
    contentJson: JSON.stringify({ body: text }),
  };
}

function accepted(id: string, recipient: string, text: string, at: number): IncomingEvent {
  return {
    eventId: `accepted:${id}`,
    tenantId: 'acme',
    messageId: id,
    kind: 'accepted',
    status: 'ACCEPTED',
    occurredAt: new Date(at),
    recipient,
    phoneNumberId: '200',
    textBody: text,
    text,
    contentType: 'text',
    contentSummary: `text "${text}"`,
    contentJson: JSON.stringify({ body: text }),
  };
}

/** Which of `needles` occur in any file under `dir` (the database, its -wal and -shm). */
function foundInFiles(dir: string, needles: readonly string[]): string[] {
  const contents = readdirSync(dir).map((name) => readFileSync(path.join(dir, name)));
  return needles.filter((needle) => contents.some((bytes) => bytes.includes(Buffer.from(needle, 'utf8'))));
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

test("erasure: the customer's content is sealed at rest, then deleted from records, message rows and search; no file holds their texts; others still served; idempotent", async () => {
  const dir = createTempDir();
  const file = path.join(dir.path, 'archive.db');
  const plain = new SqliteArchiveStore(file);
  const index = SqliteSearchIndex.openFile(file);
  try {
    const cipher = createCustomerSealer(keyring);
    const store = new SealedArchiveStore(plain, cipher);
    const service = withSearchIndexing(
      createArchiveService({ store, homeRegionOf: () => 'eu', region: 'eu', clock: { now: () => new Date(T0 + 60_000) } }),
      {
        index,
        store,
      },
    );
    await service.record(inbound('wamid.a1', ALICE, `hello ${ALICE_MARKERS[0]} ${ALICE_MARKERS[2]}`, T0));
    await service.record(accepted('msg_a2', ALICE, `reply ${ALICE_MARKERS[1]} ${ALICE_MARKERS[3]}`, T0 + 1000));
    await service.record({
      eventId: 'evt_a2_sent',
      tenantId: 'acme',
      messageId: 'msg_a2',
      kind: 'status',
      status: 'SENT',
      occurredAt: new Date(T0 + 2000),
      source: 'delivery',
      waMessageId: 'wamid.a2',
    });
    await service.record(inbound('wamid.b1', BOB, `hi ${BOB_MARKER}`, T0 + 500));

    // At rest, the records and message rows hold sealed text only; the search index holds plaintext (by design).
    const raw = new Database(file, { readonly: true });
    try {
      const texts = raw.prepare('SELECT text FROM archive_messages WHERE text IS NOT NULL').pluck().all() as string[];
      assert.equal(texts.length, 3);
      for (const text of texts) assert.match(text, /^wgsealed:v1:tenant\.acme\.customer\.[0-9a-f]{32}@/);
      const bodies = raw.prepare(`SELECT text_body, content_json, search_text FROM archived_events WHERE kind != 'status'`).raw().all() as (
        string | null
      )[][];
      for (const value of bodies.flat()) if (value !== null) assert.ok(value.startsWith('wgsealed:v1:'), 'a record field is sealed');
    } finally {
      raw.close();
    }
    assert.deepEqual(foundInFiles(dir.path, ALICE_MARKERS), ALICE_MARKERS, 'before erasure the search index holds the texts');

    const customerRef = await keyring.customerRef('acme', ALICE);
    const subject = { tenantId: 'acme', customer: ALICE, customerRef };
    const aliceConversation = conversationIdOf({ tenantId: 'acme', phoneNumberId: '200', customer: ALICE });
    // Export (article 15), before erasure: the conversation and both messages, opened.
    const participant = createArchiveCustomerDataParticipant({
      store,
      searchIndex: index,
      flush: () => plain.checkpointWal(),
    });
    const exported: CustomerDataRecord[] = await collect(participant.exportCustomer(subject));
    assert.deepEqual(
      exported.map((item) => [item.section, item.record['conversationId'], item.record['text']]),
      [
        ['conversations.jsonl', aliceConversation, undefined],
        ['messages.jsonl', aliceConversation, `hello ${ALICE_MARKERS[0]} ${ALICE_MARKERS[2]}`],
        ['messages.jsonl', aliceConversation, `reply ${ALICE_MARKERS[1]} ${ALICE_MARKERS[3]}`],
      ],
    );

    // The erasure destroys the key first: what is still stored under it reads as absent at once.
    assert.equal(await keyring.destroyKey({ tenantId: 'acme', customerRef }), true);
    assert.deepEqual(
      (await collect(store.transcript('acme', aliceConversation))).map((entry) => entry.text),
      [undefined, undefined],
    );

    const counts = await participant.erase(subject, 'er_1');
    assert.deepEqual(counts, { messages: 2, records: 2, conversations: 1, search_rows: 2, log_salts: 2 });
    assert.deepEqual(foundInFiles(dir.path, [...ALICE_MARKERS, ALICE]), [], "no file holds the customer's texts or number");
    assert.equal(readFileSync(`${file}-wal`).length, 0, 'the WAL was checkpointed and truncated');

    // Bob is still served: transcript and search.
    const bob = await collect(store.transcript('acme', conversationIdOf({ tenantId: 'acme', phoneNumberId: '200', customer: BOB })));
    assert.deepEqual(
      bob.map((entry) => entry.text),
      [`hi ${BOB_MARKER}`],
    );
    const query = parseSearchQuery(BOB_MARKER);
    assert.ok('query' in query);
    const hits = await index.search('acme', query.query, {}, { offset: 0, limit: 10 });
    assert.deepEqual(
      hits.hits.map((hit) => hit.messageId),
      ['wamid.b1'],
    );
    const aliceQuery = parseSearchQuery(ALICE_MARKERS[0] ?? '');
    assert.ok('query' in aliceQuery);
    assert.deepEqual((await index.search('acme', aliceQuery.query, {}, { offset: 0, limit: 10 })).hits, []);
    // The conversation stays (metadata for audit and billing), under the pseudonym.
    const renamed = await store.getConversation(
      'acme',
      conversationIdOf({ tenantId: 'acme', phoneNumberId: '200', customer: customerRef }),
    );
    assert.deepEqual([renamed?.customer, renamed?.inboundCount, renamed?.outboundCount], [customerRef, 1, 1]);
    assert.deepEqual(await collect(participant.exportCustomer(subject)), [], 'nothing is left under the number');

    // The log keeps the erased records' entries, without their salts; Bob's record keeps its salt.
    assert.equal((await store.logLeaf('acme', 'wa:in:wamid.a1'))?.salt, undefined);
    assert.ok((await store.logLeaf('acme', 'wa:in:wamid.a1'))?.entry, 'the entry stays');
    assert.ok((await store.logLeaf('acme', 'wa:in:wamid.b1'))?.salt);
    // Idempotent.
    assert.deepEqual(await participant.erase(subject, 'er_1'), { messages: 0, records: 0, conversations: 0, search_rows: 0, log_salts: 0 });
    // The FTS index is intact after the 'delete' commands.
    const check = new Database(file);
    try {
      for (const table of ['search_words', 'search_trigrams', 'search_grams'])
        check.prepare(`INSERT INTO ${table} (${table}, rank) VALUES ('integrity-check', 0)`).run();
    } finally {
      check.close();
    }
  } finally {
    await index.close();
    await plain.close();
    dir.remove();
  }
});
