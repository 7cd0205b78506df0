/**
 * The archive half of `npm run bench -- --only archive` (tools/bench/src/benchmarks/archive-search.ts), run by it as a
 * child process so that tools do not depend on apps in the project graph. Not part of the service.
 *
 *   tsx apps/archive/src/bench/archive-bench.worker.ts <archive.sqlite> <result.json> <tenant> <ingestEvents> <messages> <repeats>
 *
 * 1. Ingest: `ingestEvents` events (accepted and inbound messages in four scripts, and statuses) through the archive's
 *    record path exactly as its consumers call it: ArchiveService.record (validation, the store's durable commit)
 *    and the search feed (index / status), INGEST_IN_FLIGHT events at once as the consumers handle them (their
 *    concurrency, server.ts), each awaited until durable (synchronous=FULL; the writes of one event-loop turn share
 *    the store's group commit).
 * 2. Seed: messages up to `messages` through the same record path, 1,000 events per transaction on one connection
 *    (a million durable commits one by one would take the better part of an hour; the work per event is the same).
 * 3. Search: each query of QUERIES `repeats` times through SearchMessages' use case (validation, the FTS5 indexes,
 *    the store read of each hit, snippets; no gRPC), the search index alone (no store read), and a bare FTS5 MATCH
 *    of the same terms over the same texts (plain FTS5 tables, no tenant, no filters, no store read, no snippets),
 *    one after the other, in the same process.
 * A file seeded by an earlier run is continued, not rebuilt (so a large corpus is seeded once: pass 0 ingest events).
 * Writes the figures as JSON to <result.json>.
 */
import { statSync, writeFileSync } from 'node:fs';
import { createHistogram, performance } from 'node:perf_hooks';
import { systemClock, type MessageStatus } from '@waygate/domain';
import { SqliteArchiveStore } from '../adapters/sqlite-archive-store';
import { createArchiveService, type ArchiveService } from '../domain/archive-service';
import type { IncomingEvent } from '../domain/archived-event';
import { loadEntriesFromStore, withSearchIndexing } from '../search/archive-search-feed';
import { createMessageSearch, type MessageSearch } from '../search/search-messages';
import { parseSearchQuery, toFtsString } from '../search/search-query';
import { SqliteSearchIndex } from '../search/sqlite-search-index';

/** The queries measured: what each exercises, and the bare FTS5 table and MATCH it is compared with. */
export const QUERIES = [
  { label: 'latin, common word', query: 'refund', bare: { table: 'words', terms: ['refund'] } },
  { label: 'latin, folded (muller -> Müller)', query: 'muller', bare: { table: 'words', terms: ['muller'] } },
  { label: 'latin, two words', query: 'cafe muller', bare: { table: 'words', terms: ['cafe', 'muller'] } },
  { label: 'latin, rare word', query: 'invoice', bare: { table: 'words', terms: ['invoice'] } },
  { label: 'cyrillic, upper case', query: 'ВОЗВРАТ', bare: { table: 'words', terms: ['ВОЗВРАТ'] } },
  { label: 'chinese, 4 characters (trigram)', query: '申请退款', bare: { table: 'trigrams', terms: ['申请退款'] } },
  { label: 'thai (trigram)', query: 'คืนเงิน', bare: { table: 'trigrams', terms: ['คืนเงิน'] } },
  { label: 'chinese, 2 characters (gram index)', query: '退款', bare: undefined },
] as const;

const TENANTS = 4;
/** Events in flight during ingest: the archive consumers' concurrency on SQLite (server.ts). */
const INGEST_IN_FLIGHT = 64;
const SEED_BATCH = 1000;
const PAGE_SIZE = 20;
const T0 = Date.UTC(2026, 0, 1);

/** A small deterministic PRNG (mulberry32): the same corpus on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = random(13);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
/** Zipf-like: low indexes much more often, so words have the skewed frequencies of real text. */
const zipf = <T>(items: readonly T[]): T => items[Math.floor(items.length * rnd() ** 3)] as T;

function vocabulary(syllables: readonly string[], size: number, minSyllables: number): string[] {
  const words = new Set<string>();
  while (words.size < size) {
    words.add(Array.from({ length: minSyllables + Math.floor(rnd() * 3) }, () => pick(syllables)).join(''));
  }
  return [...words];
}

const LATIN = vocabulary(['ba', 'ke', 'lo', 'mi', 'nu', 'ra', 'se', 'ti', 'vo', 'za', 'ché', 'rü', 'ña', 'ßo', 'de', 'fa'], 5000, 2);
const CYRILLIC = vocabulary(['ка', 'ло', 'ми', 'ну', 'ра', 'се', 'ти', 'во', 'за', 'жи', 'щу', 'ёл', 'пе', 'ды'], 3000, 2);
const HAN = [
  ...'的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明',
];
const THAI = vocabulary(
  ['กา', 'ขอ', 'คน', 'งาน', 'จะ', 'ชา', 'ดี', 'ตา', 'ทำ', 'นา', 'บ้าน', 'ปี', 'มา', 'ยา', 'รัก', 'ลม', 'วัน', 'สวย'],
  2000,
  2,
);

/** One message text: mostly vocabulary words, with the queried words at known rates. */
function textOf(script: number): string {
  const length = 4 + Math.floor(rnd() * 16);
  if (script < 6) {
    const words = Array.from({ length }, () => zipf(LATIN));
    if (rnd() < 0.05) words.splice(Math.floor(rnd() * words.length), 0, 'refund');
    if (rnd() < 0.01) words.splice(Math.floor(rnd() * words.length), 0, rnd() < 0.5 ? 'Café Müller' : 'Müller');
    if (rnd() < 0.001) words.push('invoice');
    return words.join(' ');
  }
  if (script < 8) {
    const words = Array.from({ length }, () => zipf(CYRILLIC));
    if (rnd() < 0.03) words.splice(Math.floor(rnd() * words.length), 0, rnd() < 0.5 ? 'возврат' : 'Возврат');
    return words.join(' ');
  }
  if (script < 9) {
    let text = Array.from({ length: length * 2 }, () => zipf(HAN)).join('');
    if (rnd() < 0.03) text = `${text.slice(0, length)}${rnd() < 0.5 ? '我想申请退款' : '退款'}${text.slice(length)}`;
    return text;
  }
  let text = Array.from({ length }, () => zipf(THAI)).join('');
  if (rnd() < 0.03) text += ' ขอคืนเงินครับ';
  return text;
}

/** Every tenth event is a status (of the latest accepted message before it). */
function isStatus(n: number): boolean {
  return n % 10 === 9 && n >= 10;
}

/** A hash of the event number: script and direction are functions of it, so every tenant gets every kind. */
function mix(n: number, salt: number): number {
  let h = Math.imul(n ^ salt, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

function isAccepted(n: number): boolean {
  return !isStatus(n) && mix(n, 2) % 2 === 0;
}

/** The n-th event of the corpus: a message (accepted or inbound) of one of the tenants, or a status of an earlier one. */
function eventOf(n: number, tenantOf: (n: number) => string): IncomingEvent {
  const tenantId = tenantOf(n);
  const occurredAt = new Date(T0 + n * 1000);
  const customer = `+4915${String(n % 50_000).padStart(9, '0')}`;
  const phoneNumberId = '106540352242922';
  if (isStatus(n)) {
    let target = n - 1;
    while (target > 0 && !isAccepted(target)) target -= 1;
    const status: MessageStatus = pick(['SENT', 'DELIVERED', 'READ']);
    return {
      eventId: `evt_${n}`,
      tenantId: tenantOf(target),
      messageId: `msg_${target}`,
      kind: 'status',
      status,
      occurredAt,
      source: 'webhook',
    };
  }
  const text = textOf(mix(n, 1) % 10);
  if (isAccepted(n)) {
    return {
      eventId: `accepted:msg_${n}`,
      tenantId,
      messageId: `msg_${n}`,
      kind: 'accepted',
      status: 'ACCEPTED',
      occurredAt,
      recipient: customer,
      phoneNumberId,
      textBody: text,
      contentType: 'text',
      contentJson: JSON.stringify({ kind: 'text', body: text }),
      text,
      mediaIds: [],
    };
  }
  return {
    eventId: `wa:in:wamid.${n}`,
    tenantId,
    messageId: `wamid.${n}`,
    kind: 'inbound',
    occurredAt,
    phoneNumberId,
    from: customer,
    messageType: 'text',
    text,
  };
}

function percentiles(samples: readonly number[]): { p50: number; p99: number; count: number } {
  const histogram = createHistogram();
  for (const ms of samples) histogram.record(Math.max(1, Math.round(ms * 1000)));
  return { p50: histogram.percentile(50) / 1000, p99: histogram.percentile(99) / 1000, count: samples.length };
}

function recordPath(store: SqliteArchiveStore, index: SqliteSearchIndex): ArchiveService {
  const archive = createArchiveService({ store, homeRegionOf: () => 'eu', region: 'eu', clock: systemClock });
  return withSearchIndexing(archive, { index, store });
}

async function main(): Promise<void> {
  const [file, out, benchTenant, ingestArg, messagesArg, repeatsArg] = process.argv.slice(2);
  if (!file || !out || !benchTenant) throw new Error('usage: archive-bench.worker.ts <file> <out> <tenant> <ingest> <messages> <repeats>');
  const ingestEvents = Number(ingestArg);
  const messages = Number(messagesArg);
  const repeats = Number(repeatsArg);
  const tenantOf = (n: number) => (n % TENANTS === 0 ? benchTenant : `tenant-${n % TENANTS}`);

  // 1. Ingest, wired as server.ts wires it: the index on the store's connection, writing through its group commit.
  const store = new SqliteArchiveStore(file);
  // The store's connection, so that seeding can batch its writes with the index's (see step 2).
  const db = store.connection;
  // A file seeded by an earlier run continues where it stopped (events are numbered): a large corpus is seeded once.
  const firstEvent = db.prepare('SELECT count(*) FROM archived_events').pluck().get() as number;
  const sharedIndex = new SqliteSearchIndex(db, false, (work) => store.write(work));
  const durable = recordPath(store, sharedIndex);
  const ingestLatencies: number[] = [];
  const ingestStarted = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (let n = firstEvent; n < firstEvent + ingestEvents; n += 1) {
    const started = performance.now();
    const recorded: Promise<void> = durable.record(eventOf(n, tenantOf)).then(() => {
      ingestLatencies.push(performance.now() - started);
      inFlight.delete(recorded);
    });
    inFlight.add(recorded);
    if (inFlight.size >= INGEST_IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const ingestMs = performance.now() - ingestStarted;

  // 2. Seed in batches on one connection (the store's), through the same record path; the seeding's own transaction
  // takes the writes directly (no group commit inside it).
  const batched = recordPath(store, sharedIndex);
  const seedStarted = performance.now();
  let n = firstEvent + ingestEvents;
  let messageEvents = db.prepare('SELECT count(*) FROM archive_messages').pluck().get() as number;
  while (messageEvents < messages) {
    db.exec('BEGIN IMMEDIATE');
    for (const end = n + SEED_BATCH; n < end && messageEvents < messages; n += 1) {
      if (!isStatus(n)) messageEvents += 1;
      await batched.record(eventOf(n, tenantOf));
    }
    db.exec('COMMIT');
  }
  const seedMs = performance.now() - seedStarted;
  const archivedMessages = db.prepare('SELECT count(*) FROM archive_messages').pluck().get() as number;
  const benchTenantMessages = db.prepare('SELECT count(*) FROM search_messages WHERE tenant_id = ?').pluck().get(benchTenant) as number;

  // 3. Bare FTS5 tables over the same texts, then the queries, each next to its bare MATCH.
  db.exec(`DROP TABLE IF EXISTS bench_bare_words; DROP TABLE IF EXISTS bench_bare_trigrams;
    CREATE VIRTUAL TABLE bench_bare_words USING fts5(body, tokenize = "unicode61 remove_diacritics 2");
    CREATE VIRTUAL TABLE bench_bare_trigrams USING fts5(body, tokenize = "trigram remove_diacritics 1");
    INSERT INTO bench_bare_words (rowid, body) SELECT id, text FROM search_messages;
    INSERT INTO bench_bare_trigrams (rowid, body) SELECT id, text FROM search_messages;`);
  const search: MessageSearch = createMessageSearch({ index: sharedIndex, loadEntries: loadEntriesFromStore(store) });
  const results = [];
  // Over the queries that have a bare equivalent: the figures the ratio is taken of.
  const comparable = { search: [] as number[], index: [] as number[], bare: [] as number[] };
  for (const spec of QUERIES) {
    const searchMs: number[] = [];
    const indexMs: number[] = [];
    const bareMs: number[] = [];
    let hits = 0;
    let bareHits = 0;
    const bare = spec.bare
      ? db.prepare(
          `SELECT rowid FROM bench_bare_${spec.bare.table} WHERE bench_bare_${spec.bare.table} MATCH ? ORDER BY rank LIMIT ${PAGE_SIZE}`,
        )
      : undefined;
    const bareMatch = spec.bare?.terms.map(toFtsString).join(' AND ');
    const parsed = parseSearchQuery(spec.query);
    if (!('query' in parsed)) throw new Error(`query ${spec.label} does not parse`);
    const parsedQuery = parsed.query;
    for (let r = 0; r < repeats; r += 1) {
      let started = performance.now();
      const result = await search.search(benchTenant, {
        query: spec.query,
        customer: '',
        phoneNumberId: '',
        type: '',
        pageSize: PAGE_SIZE,
        pageToken: '',
      });
      searchMs.push(performance.now() - started);
      hits = result.hits.length;
      started = performance.now();
      await sharedIndex.search(benchTenant, parsedQuery, {}, { offset: 0, limit: PAGE_SIZE });
      indexMs.push(performance.now() - started);
      if (bare) {
        started = performance.now();
        bareHits = bare.all(bareMatch).length;
        bareMs.push(performance.now() - started);
      }
    }
    if (bare) {
      comparable.search.push(...searchMs);
      comparable.index.push(...indexMs);
      comparable.bare.push(...bareMs);
    }
    results.push({
      label: spec.label,
      query: spec.query,
      hits,
      search: percentiles(searchMs),
      index: percentiles(indexMs),
      ...(bare ? { bare: { ...percentiles(bareMs), hits: bareHits } } : {}),
    });
  }
  await store.close();
  writeFileSync(
    out,
    JSON.stringify({
      ingest: { events: ingestEvents, ms: ingestMs, latency: percentiles(ingestLatencies), inFlight: INGEST_IN_FLIGHT },
      seed: { events: n - firstEvent - ingestEvents, ms: seedMs, batch: SEED_BATCH },
      corpus: { archivedMessages, benchTenantMessages, fileBytes: statSync(file).size, tenants: TENANTS },
      queries: results,
      comparable: { search: percentiles(comparable.search), index: percentiles(comparable.index), bare: percentiles(comparable.bare) },
    }),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
