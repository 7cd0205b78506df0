import { createHash } from 'node:crypto';
import type { MessageStatus } from '@waygate/domain';
import type { Statement } from 'better-sqlite3';
import { openSqliteDatabase, SqliteGroupCommit, type SqliteDatabase } from '@waygate/storage';
import {
  indexedFieldsOf,
  type IndexedMessage,
  type SearchFilters,
  type SearchIndex,
  type SearchIndexHit,
  type SearchIndexPage,
  type SearchPageRequest,
} from './search-index';
import { gramsOf, needsTrigrams, toFtsString, type SearchQuery, type TermRoute } from './search-query';
import { buildSnippet } from './snippet';

/**
 * The search index's own migrations, recorded in their own table: the index lives in the archive's SQLite file
 * beside the archive store, whose `schema_migrations` numbers its own migrations.
 */
const MIGRATIONS_TABLE = 'search_schema_migrations';
const MIGRATIONS: readonly (string | ((db: SqliteDatabase) => void))[] = [
  `-- One row per indexed message; its id is the rowid of the three FTS tables. Messages without text are not indexed.
   CREATE TABLE search_messages (
     id INTEGER PRIMARY KEY,
     tenant_id TEXT NOT NULL,
     record_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     conversation_id TEXT NOT NULL,
     customer TEXT NOT NULL,
     phone_number_id TEXT NOT NULL,
     direction TEXT NOT NULL,
     type TEXT NOT NULL,
     occurred_at_ms INTEGER NOT NULL,
     -- NFC; read for snippets.
     text TEXT NOT NULL,
     -- index (idempotency: re-indexing a record replaces its row) and remove.
     UNIQUE (tenant_id, record_id)
   );
   -- removeCustomer (erasure of one person).
   CREATE INDEX search_messages_by_customer ON search_messages (tenant_id, customer);
   -- The latest status of each outbound message (the status filter), kept apart from search_messages so that a status
   -- reported before its message was indexed is kept for it. Primary key: setStatus and the filter's join.
   CREATE TABLE search_statuses (
     tenant_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     status TEXT NOT NULL,
     PRIMARY KEY (tenant_id, message_id)
   ) WITHOUT ROWID;
   -- Contentless FTS5 tables (the text is in search_messages), with contentless_delete so that re-indexing and
   -- erasure can delete by rowid. Each has the tenant's key as a column of its own (tenantKeyOf), and every query
   -- matches it with its terms: FTS5 intersects the tenant's postings with the terms' before it ranks, so one tenant's
   -- search does not rank every other tenant's matches (bm25 weighs that column 0). search_messages.tenant_id is
   -- checked as well; the key only makes it fast.
   -- Word terms: unicode61 folds case and, with remove_diacritics 2, every diacritic.
   CREATE VIRTUAL TABLE search_words USING fts5(tenant, body, content = '', contentless_delete = 1, tokenize = "unicode61 remove_diacritics 2");
   -- Terms of 3+ characters in scripts without spaces (and symbol terms): substrings, case and diacritics folded.
   -- Holds only the texts that can contain such a term (search-query.ts needsTrigrams).
   CREATE VIRTUAL TABLE search_trigrams USING fts5(tenant, body, content = '', contentless_delete = 1, tokenize = "trigram remove_diacritics 1");
   -- 1-2 character terms in scripts without spaces: the body is every 1- and 2-character substring of those runs
   -- (search-query.ts gramsOf), one token each; combining marks (Thai vowels) are token characters here.
   CREATE VIRTUAL TABLE search_grams USING fts5(tenant, body, content = '', contentless_delete = 1, tokenize = "unicode61 remove_diacritics 0 categories 'L* N* M* Co'");`,
  // Issue 14: erasure must remove a message's terms from the index's pages, not only hide them. A contentless_delete
  // table deletes by tombstone (the terms stay in its segments until they are merged), and FTS5's `secure-delete`
  // option cannot reach them there: it needs the deleted row's values, which contentless_delete never asks for. So the
  // three tables become plain contentless tables with `secure-delete` on, deleted with the 'delete' command and the
  // values they were indexed with (search_messages keeps the text), and are filled again from search_messages.
  (db) => rebuildFtsTables(db),
];

/** Migration 2's body (see above): the FTS tables recreated without contentless_delete, secure-delete on, refilled. */
function rebuildFtsTables(db: SqliteDatabase): void {
  const tokenizers: Record<TermRoute, string> = {
    word: 'unicode61 remove_diacritics 2',
    trigram: 'trigram remove_diacritics 1',
    gram: "unicode61 remove_diacritics 0 categories 'L* N* M* Co'",
  };
  for (const [route, table] of Object.entries(FTS_TABLES) as [TermRoute, string][]) {
    db.exec(`DROP TABLE ${table}`);
    db.exec(`CREATE VIRTUAL TABLE ${table} USING fts5(tenant, body, content = '', tokenize = "${tokenizers[route]}")`);
    db.exec(`INSERT INTO ${table} (${table}, rank) VALUES ('secure-delete', 1)`);
  }
  const page = db.prepare('SELECT id, tenant_id, text FROM search_messages WHERE id > ? ORDER BY id LIMIT 1000');
  const insert = ftsInserts(db);
  for (let after = 0; ;) {
    const rows = page.all(after) as FtsRow[];
    for (const row of rows) insert(row);
    const last = rows.at(-1);
    if (!last) return;
    after = last.id;
  }
}

/** What a message's FTS rows are made of: its search_messages id, tenant and text. */
interface FtsRow {
  readonly id: number;
  readonly tenant_id: string;
  readonly text: string;
}

/**
 * Runs `INSERT INTO <table> (rowid, tenant, body)` (or, with `command`, FTS5's `<table>(<table>, rowid, …)`
 * command form) for each table the text belongs in. Deleting with the 'delete' command must pass exactly the values
 * inserted and only for the tables that hold the row (or the index is corrupted), so both go through this one
 * function: the word table always, the trigram table when needsTrigrams, the gram table when gramsOf gives a body.
 */
function ftsInserts(db: SqliteDatabase, command?: 'delete'): (row: FtsRow) => void {
  const statements = Object.fromEntries(
    (Object.entries(FTS_TABLES) as [TermRoute, string][]).map(([route, table]) => [
      route,
      command
        ? db.prepare<[number, string, string]>(`INSERT INTO ${table} (${table}, rowid, tenant, body) VALUES ('${command}', ?, ?, ?)`)
        : db.prepare<[number, string, string]>(`INSERT INTO ${table} (rowid, tenant, body) VALUES (?, ?, ?)`),
    ]),
  ) as Record<TermRoute, Statement<[number, string, string]>>;
  return ({ id, tenant_id: tenantId, text }) => {
    statements.word.run(id, tenantKeyOf(tenantId, 'word'), text);
    if (needsTrigrams(text)) statements.trigram.run(id, tenantKeyOf(tenantId, 'trigram'), text);
    const grams = gramsOf(text);
    if (grams) statements.gram.run(id, tenantKeyOf(tenantId, 'gram'), grams);
  };
}

const FTS_TABLES: Readonly<Record<TermRoute, string>> = {
  word: 'search_words',
  trigram: 'search_trigrams',
  gram: 'search_grams',
};
/** Which index drives a query that uses several (its bm25 ranks; the others filter). Words are the most selective. */
const DRIVING_ORDER: readonly TermRoute[] = ['word', 'trigram', 'gram'];

/** CJK Unified Ideographs: the alphabet of the trigram table's tenant keys. */
const TRIGRAM_KEY_ALPHABET = { first: 0x4e00, size: 20_992 } as const;

/**
 * The tenant's key in an FTS table: a digest of fixed length, so that one tenant's key is never a token or substring
 * of another's, whatever the tenant ids look like. In the word and gram tables it is one token (hex). The trigram
 * tokenizer cuts everything into trigrams, so there it is exactly 3 characters (one trigram, drawn from 20,992
 * ideographs: 9e12 keys): a search then intersects the terms with one posting list, not with the 23 of a longer key.
 * Two tenants with one key would only share postings: search_messages.tenant_id is checked on every query anyway.
 */
function tenantKeyOf(tenantId: string, route: TermRoute): string {
  const digest = createHash('sha256').update(tenantId).digest();
  if (route !== 'trigram') return `k${digest.toString('hex').slice(0, 24)}`;
  return String.fromCodePoint(...[0, 2, 4].map((at) => TRIGRAM_KEY_ALPHABET.first + (digest.readUInt16BE(at) % TRIGRAM_KEY_ALPHABET.size)));
}

function applyMigrations(db: SqliteDatabase): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`);
  const isApplied = db.prepare(`SELECT 1 FROM ${MIGRATIONS_TABLE} WHERE version = ?`).pluck();
  const record = db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (version, applied_at) VALUES (?, ?)`);
  // IMMEDIATE, checking again inside: processes opening one file at once wait for each other instead of both applying.
  const apply = db.transaction((version: number, sql: (typeof MIGRATIONS)[number]) => {
    if (isApplied.get(version)) return;
    if (typeof sql === 'string') db.exec(sql);
    else sql(db);
    record.run(version, new Date().toISOString());
  });
  MIGRATIONS.forEach((sql, index) => apply.immediate(index + 1, sql));
}

interface HitRow {
  record_id: string;
  message_id: string;
  conversation_id: string;
  occurred_at_ms: number;
  text: string;
  score: number;
}

/**
 * How the index's record-path writes (index, setStatus) reach the file: `work` runs inside a write transaction and the
 * promise resolves once it is durable. The archive store's group commit (SqliteArchiveStore.write) puts them in the
 * same transaction, and fsync, as the records queued in that turn.
 */
export type SearchWriteQueue = <T>(work: () => T) => Promise<T>;

/**
 * The embedded SearchIndex: SQLite FTS5 in the archive's own database file (search_* tables). Pass the archive
 * store's connection to share it, with the store's write queue to share its group commit (without one, each write is
 * its own transaction, run synchronously before its promise is returned, so a caller's open transaction takes it);
 * {@link SqliteSearchIndex.openFile} opens a file of its own, with a group commit of its own.
 */
export class SqliteSearchIndex implements SearchIndex {
  private readonly indexMessage: (message: IndexedMessage) => void;
  private readonly writeStatus: (tenantId: string, messageId: string, status: MessageStatus) => void;
  private readonly removeRows: (rows: readonly FtsRow[]) => void;
  private readonly write: SearchWriteQueue;
  private readonly ownGroupCommit: SqliteGroupCommit | undefined;

  /**
   * @param ownsDatabase whether close() closes `db` (false when it is shared with the archive store); an owned
   *   connection without `writes` gets a group commit of its own.
   * @param writes the queue index and setStatus go through (see {@link SearchWriteQueue}).
   */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly ownsDatabase = false,
    writes?: SearchWriteQueue,
  ) {
    applyMigrations(db);
    const findRow = db.prepare('SELECT id, tenant_id, text FROM search_messages WHERE tenant_id = ? AND record_id = ?');
    const insertRow = db.prepare(
      `INSERT INTO search_messages (tenant_id, record_id, message_id, conversation_id, customer, phone_number_id, direction, type, occurred_at_ms, text)
       VALUES (@tenantId, @recordId, @messageId, @conversationId, @customer, @phoneNumberId, @direction, @type, @occurredAtMs, @text)`,
    );
    const updateRow = db.prepare(
      `UPDATE search_messages SET message_id = @messageId, conversation_id = @conversationId, customer = @customer,
         phone_number_id = @phoneNumberId, direction = @direction, type = @type, occurred_at_ms = @occurredAtMs, text = @text
       WHERE id = @id`,
    );
    const insertFts = ftsInserts(db);
    // With the values the row was indexed with: secure-delete removes its terms from the index's pages.
    const deleteFts = ftsInserts(db, 'delete');
    const deleteRow = db.prepare('DELETE FROM search_messages WHERE id = ?');
    const setStatus = db.prepare(
      'INSERT INTO search_statuses (tenant_id, message_id, status) VALUES (?, ?, ?) ON CONFLICT (tenant_id, message_id) DO UPDATE SET status = excluded.status',
    );
    const addStatus = db.prepare(
      'INSERT INTO search_statuses (tenant_id, message_id, status) VALUES (?, ?, ?) ON CONFLICT (tenant_id, message_id) DO NOTHING',
    );

    this.removeRows = db.transaction((rows: readonly FtsRow[]) => {
      for (const row of rows) {
        deleteFts(row);
        deleteRow.run(row.id);
      }
    });
    this.writeStatus = (tenantId, messageId, status) => void setStatus.run(tenantId, messageId, status);
    this.indexMessage = db.transaction((message: IndexedMessage) => {
      const { entry } = message;
      const fields = indexedFieldsOf(message);
      const existing = findRow.get(entry.tenantId, entry.recordId) as FtsRow | undefined;
      if (entry.status) addStatus.run(entry.tenantId, entry.messageId, entry.status);
      if (!fields) {
        if (existing) this.removeRows([existing]);
        return;
      }
      const { occurredAt, text, ...rest } = fields;
      const values = { ...rest, occurredAtMs: occurredAt.getTime(), text };
      if (existing) {
        updateRow.run({ ...values, id: existing.id });
        // A redelivered record has the same text: the FTS tables already hold it.
        if (existing.text === text) return;
        deleteFts(existing);
      }
      const id = existing ? existing.id : Number(insertRow.run(values).lastInsertRowid);
      insertFts({ id, tenant_id: entry.tenantId, text });
    });
    this.ownGroupCommit = writes === undefined && ownsDatabase ? new SqliteGroupCommit(db) : undefined;
    const groupCommit = this.ownGroupCommit;
    this.write =
      writes ??
      (groupCommit
        ? // A transaction the caller opened on this connection takes the write directly.
          <T>(work: () => T) => (db.inTransaction ? Promise.resolve(work()) : groupCommit.run(work))
        : <T>(work: () => T) => Promise.resolve(work()));
  }

  /** A search index in its own SQLite file (WAL, like every Waygate store); close() closes the file. */
  static openFile(file: string): SqliteSearchIndex {
    return new SqliteSearchIndex(openSqliteDatabase(file, []), true);
  }

  async index(message: IndexedMessage): Promise<void> {
    await this.write(() => this.indexMessage(message));
  }

  async setStatus(tenantId: string, messageId: string, status: MessageStatus): Promise<void> {
    await this.write(() => this.writeStatus(tenantId, messageId, status));
  }

  // Removals go through the write queue too: they come after every index write queued before them (an erasure never
  // precedes a write of the customer's text that was already queued).
  async remove(tenantId: string, recordId: string): Promise<boolean> {
    return this.write(() => {
      const row = this.db
        .prepare('SELECT id, tenant_id, text FROM search_messages WHERE tenant_id = ? AND record_id = ?')
        .get(tenantId, recordId) as FtsRow | undefined;
      if (row === undefined) return false;
      this.removeRows([row]);
      return true;
    });
  }

  async removeCustomer(tenantId: string, customer: string): Promise<number> {
    return this.write(() => {
      const rows = this.db
        .prepare('SELECT id, tenant_id, text FROM search_messages WHERE tenant_id = ? AND customer = ?')
        .all(tenantId, customer) as FtsRow[];
      this.removeRows(rows);
      return rows.length;
    });
  }

  async search(tenantId: string, query: SearchQuery, filters: SearchFilters, page: SearchPageRequest): Promise<SearchIndexPage> {
    const routes = DRIVING_ORDER.filter((route) => query.terms.some((term) => term.route === route));
    const [driver, ...others] = routes;
    if (!driver) return { hits: [], hasMore: false };
    const matchOf = (route: TermRoute) =>
      [
        `tenant : ${toFtsString(tenantKeyOf(tenantId, route))}`,
        ...query.terms.filter((term) => term.route === route).map((term) => `body : ${toFtsString(term.text)}`),
      ].join(' AND ');
    const params: unknown[] = [matchOf(driver), tenantId];
    // The driving index ranks (bm25: lower is better); the other indexes only filter, each by an IN over its matches.
    let sql = `SELECT m.record_id, m.message_id, m.conversation_id, m.occurred_at_ms, m.text, f.score
      FROM (SELECT rowid AS id, bm25(${FTS_TABLES[driver]}, 0, 1) AS score FROM ${FTS_TABLES[driver]} WHERE ${FTS_TABLES[driver]} MATCH ?) f
      JOIN search_messages m ON m.id = f.id
      WHERE m.tenant_id = ?`;
    for (const route of others) {
      sql += ` AND m.id IN (SELECT rowid FROM ${FTS_TABLES[route]} WHERE ${FTS_TABLES[route]} MATCH ?)`;
      params.push(matchOf(route));
    }
    if (filters.customer !== undefined) {
      sql += ' AND m.customer = ?';
      params.push(filters.customer);
    }
    if (filters.phoneNumberId !== undefined) {
      sql += ' AND m.phone_number_id = ?';
      params.push(filters.phoneNumberId);
    }
    if (filters.direction !== undefined) {
      sql += ' AND m.direction = ?';
      params.push(filters.direction);
    }
    if (filters.type !== undefined) {
      sql += ' AND m.type = ?';
      params.push(filters.type);
    }
    if (filters.from !== undefined) {
      sql += ' AND m.occurred_at_ms >= ?';
      params.push(filters.from.getTime());
    }
    if (filters.to !== undefined) {
      sql += ' AND m.occurred_at_ms < ?';
      params.push(filters.to.getTime());
    }
    if (filters.status !== undefined) {
      sql += ` AND m.direction = 'outbound' AND EXISTS (SELECT 1 FROM search_statuses s WHERE s.tenant_id = m.tenant_id AND s.message_id = m.message_id AND s.status = ?)`;
      params.push(filters.status);
    }
    sql += ' ORDER BY f.score, m.occurred_at_ms DESC, m.id DESC LIMIT ? OFFSET ?';
    params.push(page.limit + 1, page.offset);
    const rows = this.db.prepare(sql).all(...params) as HitRow[];
    const hits = rows.slice(0, page.limit).map((row): SearchIndexHit => ({
      recordId: row.record_id,
      messageId: row.message_id,
      conversationId: row.conversation_id,
      occurredAt: new Date(row.occurred_at_ms),
      snippet: buildSnippet(row.text, query.terms),
      rank: row.score === 0 ? 0 : -row.score,
    }));
    return { hits, hasMore: rows.length > page.limit };
  }

  async close(): Promise<void> {
    // Writes still queued commit first: none is lost on shutdown.
    this.ownGroupCommit?.close();
    if (this.ownsDatabase) this.db.close();
  }
}
