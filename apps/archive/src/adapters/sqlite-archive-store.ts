import type { ContentKind, MessageStatus, TemplateCategory } from '@waygate/domain';
import type { Statement } from 'better-sqlite3';
import { checkpointWalTruncate, openSqliteDatabase, SqliteGroupCommit, type SqliteDatabase } from '@waygate/storage';
import { canonicalRecordBytes, type ArchiveLogLeaf } from '../domain/archive-log';
import { readConversations, readTranscript, type ArchiveStore, type CustomerErasure, type ReadersView } from '../domain/archive-store';
import type { ArchivedEvent, StatusArchivedEvent, StatusSource } from '../domain/archived-event';
import type { ArchiveRetentionStore, ExpiredRecord } from '../governance/domain/archive-retention';
import {
  foldSentiment,
  conversationCursorOf,
  isUnanswered,
  pageOf,
  sentimentTrendOf,
  transcriptCursorOf,
  type ConversationCursor,
  type ConversationFilter,
  type ConversationSummary,
  type Page,
  type PageRequest,
  type SentimentPoints,
  type TimeRange,
  type TranscriptCursor,
  type TranscriptMessageEntry,
} from '../domain/conversation';
import { messageRowOf, outboundStatusOf, transcriptStatusesOf, type MessageEvent, type MessageRow } from '../domain/message-projection';
import { isCustomerMessage, startsSession, type SessionState } from '../domain/sessions';
import { conversationIdOf, type Pricing, type Sentiment, type SentimentLabel } from '../domain/transcript';
import { ARCHIVE_LOG_MIGRATION, SqliteArchiveLog } from './sqlite-archive-log';

const MIGRATIONS = [
  `CREATE TABLE archived_events (
     tenant_id TEXT NOT NULL,
     event_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('accepted', 'status')),
     status TEXT NOT NULL,
     occurred_at_ms INTEGER NOT NULL,
     recorded_at_ms INTEGER NOT NULL,
     -- kind = 'accepted'
     recipient TEXT,
     phone_number_id TEXT,
     text_body TEXT,
     -- kind = 'status'
     source TEXT,
     wa_message_id TEXT,
     error_code INTEGER,
     error_title TEXT,
     -- record: one row per tenant and event id (idempotency; ON CONFLICT DO NOTHING relies on it).
     PRIMARY KEY (tenant_id, event_id)
   );
   -- listByMessage: one message's events, already in the order they are returned.
   CREATE INDEX archived_events_by_message ON archived_events (tenant_id, message_id, occurred_at_ms, recorded_at_ms, event_id);`,
  // Inbound messages: a third kind, without a status. SQLite cannot change a CHECK constraint in place, so the table
  // is rebuilt (inside the migration's transaction) with every existing row.
  `CREATE TABLE archived_events_v2 (
     tenant_id TEXT NOT NULL,
     event_id TEXT NOT NULL,
     -- Waygate's message id; for kind = 'inbound' WhatsApp's id of the message (wamid).
     message_id TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('accepted', 'status', 'inbound')),
     -- NULL for kind = 'inbound'.
     status TEXT,
     occurred_at_ms INTEGER NOT NULL,
     recorded_at_ms INTEGER NOT NULL,
     -- kind = 'accepted' (phone_number_id and text_body also for 'inbound')
     recipient TEXT,
     phone_number_id TEXT,
     text_body TEXT,
     -- kind = 'status'
     source TEXT,
     wa_message_id TEXT,
     error_code INTEGER,
     error_title TEXT,
     -- kind = 'inbound'
     sender TEXT,
     message_type TEXT,
     reply_id TEXT,
     media_id TEXT,
     mime_type TEXT,
     context_wa_message_id TEXT,
     content_json TEXT,
     -- record: one row per tenant and event id (idempotency; ON CONFLICT DO NOTHING relies on it).
     PRIMARY KEY (tenant_id, event_id)
   );
   INSERT INTO archived_events_v2 (tenant_id, event_id, message_id, kind, status, occurred_at_ms, recorded_at_ms,
     recipient, phone_number_id, text_body, source, wa_message_id, error_code, error_title)
   SELECT tenant_id, event_id, message_id, kind, status, occurred_at_ms, recorded_at_ms,
     recipient, phone_number_id, text_body, source, wa_message_id, error_code, error_title FROM archived_events;
   DROP TABLE archived_events;
   ALTER TABLE archived_events_v2 RENAME TO archived_events;
   -- listByMessage: one message's events, already in the order they are returned.
   CREATE INDEX archived_events_by_message ON archived_events (tenant_id, message_id, occurred_at_ms, recorded_at_ms, event_id);`,
  // Every content kind (issue 11): an accepted message's type and summary.
  `ALTER TABLE archived_events ADD COLUMN content_type TEXT;
   ALTER TABLE archived_events ADD COLUMN content_summary TEXT;`,
  // Issue 13: full content of accepted messages (content_json and context_wa_message_id now serve both kinds),
  // searchable text, templates, media ids, pricing of statuses, sentiment of inbound texts; and the two projections
  // kept in the same transaction as each event: one row per message and one summary per conversation.
  `ALTER TABLE archived_events ADD COLUMN search_text TEXT;
   ALTER TABLE archived_events ADD COLUMN template_name TEXT;
   ALTER TABLE archived_events ADD COLUMN template_category TEXT;
   -- JSON array of media-store ids (accepted).
   ALTER TABLE archived_events ADD COLUMN media_ids TEXT;
   -- kind = 'status': Meta's pricing (billable 0/1).
   ALTER TABLE archived_events ADD COLUMN pricing_billable INTEGER;
   ALTER TABLE archived_events ADD COLUMN pricing_model TEXT;
   ALTER TABLE archived_events ADD COLUMN pricing_type TEXT;
   ALTER TABLE archived_events ADD COLUMN pricing_category TEXT;
   -- kind = 'inbound': language and sentiment of the text.
   ALTER TABLE archived_events ADD COLUMN sentiment_language TEXT;
   ALTER TABLE archived_events ADD COLUMN sentiment_score REAL;
   ALTER TABLE archived_events ADD COLUMN sentiment_label TEXT;
   -- transcriptPage: a page's statuses (kind = 'status' of the page's message ids).
   CREATE INDEX archived_events_statuses ON archived_events (tenant_id, message_id) WHERE kind = 'status';

   CREATE TABLE archive_messages (
     tenant_id TEXT NOT NULL,
     -- Waygate's message id (outbound) or the wamid (inbound).
     message_id TEXT NOT NULL,
     -- The event id of its accepted or inbound event.
     record_id TEXT NOT NULL,
     conversation_id TEXT NOT NULL,
     phone_number_id TEXT NOT NULL,
     customer TEXT NOT NULL,
     direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
     type TEXT NOT NULL,
     occurred_at_ms INTEGER NOT NULL,
     text TEXT,
     content_json TEXT,
     media_ids TEXT NOT NULL DEFAULT '[]',
     template_name TEXT,
     template_category TEXT,
     context_wa_message_id TEXT,
     wa_message_id TEXT,
     -- Outbound: the latest status; NULL for inbound.
     status TEXT,
     sentiment_language TEXT,
     sentiment_score REAL,
     sentiment_label TEXT,
     -- 1 when the message starts a session (sessions.ts); kept right as messages arrive out of order.
     starts_session INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (tenant_id, message_id)
   );
   -- transcriptPage and the session walk: a conversation's messages in the archive's order.
   CREATE INDEX archive_messages_by_conversation ON archive_messages (tenant_id, conversation_id, occurred_at_ms, record_id);
   -- The session index of a page's first message: session starts before it.
   CREATE INDEX archive_messages_session_starts ON archive_messages (tenant_id, conversation_id, occurred_at_ms, record_id)
     WHERE starts_session = 1;
   -- The session walk: the customer's last message before a point.
   CREATE INDEX archive_messages_inbound ON archive_messages (tenant_id, conversation_id, occurred_at_ms, record_id)
     WHERE direction = 'inbound';

   CREATE TABLE archive_conversations (
     tenant_id TEXT NOT NULL,
     conversation_id TEXT NOT NULL,
     phone_number_id TEXT NOT NULL,
     customer TEXT NOT NULL,
     first_message_at_ms INTEGER NOT NULL,
     last_message_at_ms INTEGER NOT NULL,
     inbound_count INTEGER NOT NULL,
     outbound_count INTEGER NOT NULL,
     last_inbound_at_ms INTEGER,
     last_outbound_at_ms INTEGER,
     has_unanswered INTEGER NOT NULL,
     session_count INTEGER NOT NULL,
     -- The first and last scored customer message: JSON Sentiment and its time.
     sentiment_start TEXT,
     sentiment_start_at_ms INTEGER,
     sentiment_end TEXT,
     sentiment_end_at_ms INTEGER,
     -- listConversations' sentiment filter: the last scored label.
     sentiment_end_label TEXT,
     scored_messages INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (tenant_id, conversation_id)
   );
   -- listConversations: most recently active first (every filter narrows this walk).
   CREATE INDEX archive_conversations_by_activity ON archive_conversations (tenant_id, last_message_at_ms DESC, conversation_id DESC);
   -- listConversations filtered by customer.
   CREATE INDEX archive_conversations_by_customer ON archive_conversations (tenant_id, customer, last_message_at_ms DESC, conversation_id DESC);`,
  // Issue 14: the tamper-evident archive log (adapters/sqlite-archive-log.ts).
  ARCHIVE_LOG_MIGRATION,
  // Retention (issue 14): the sweeper's scan of a tenant's oldest messages.
  `CREATE INDEX archive_messages_by_time ON archive_messages (tenant_id, occurred_at_ms, record_id);`,
];

interface EventRow {
  tenant_id: string;
  event_id: string;
  message_id: string;
  kind: 'accepted' | 'status' | 'inbound';
  status: string | null;
  occurred_at_ms: number;
  recorded_at_ms: number;
  recipient: string | null;
  phone_number_id: string | null;
  text_body: string | null;
  source: string | null;
  wa_message_id: string | null;
  error_code: number | null;
  error_title: string | null;
  sender: string | null;
  message_type: string | null;
  reply_id: string | null;
  media_id: string | null;
  mime_type: string | null;
  context_wa_message_id: string | null;
  content_json: string | null;
  content_type: string | null;
  content_summary: string | null;
  search_text: string | null;
  template_name: string | null;
  template_category: string | null;
  media_ids: string | null;
  pricing_billable: number | null;
  pricing_model: string | null;
  pricing_type: string | null;
  pricing_category: string | null;
  sentiment_language: string | null;
  sentiment_score: number | null;
  sentiment_label: string | null;
}

interface MessageDbRow {
  tenant_id: string;
  message_id: string;
  record_id: string;
  conversation_id: string;
  phone_number_id: string;
  customer: string;
  direction: 'inbound' | 'outbound';
  type: string;
  occurred_at_ms: number;
  text: string | null;
  content_json: string | null;
  media_ids: string;
  template_name: string | null;
  template_category: string | null;
  context_wa_message_id: string | null;
  wa_message_id: string | null;
  status: string | null;
  sentiment_language: string | null;
  sentiment_score: number | null;
  sentiment_label: string | null;
  starts_session: number;
}

interface ConversationRow {
  tenant_id: string;
  conversation_id: string;
  phone_number_id: string;
  customer: string;
  first_message_at_ms: number;
  last_message_at_ms: number;
  inbound_count: number;
  outbound_count: number;
  last_inbound_at_ms: number | null;
  last_outbound_at_ms: number | null;
  has_unanswered: number;
  session_count: number;
  sentiment_start: string | null;
  sentiment_start_at_ms: number | null;
  sentiment_end: string | null;
  sentiment_end_at_ms: number | null;
  sentiment_end_label: string | null;
  scored_messages: number;
}

/** `{ [key]: value }` unless the column is NULL: absent optional fields stay missing keys. */
function optional<K extends string, V>(key: K, value: V | null | undefined): { [P in K]?: V } {
  return (value === null || value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function pricingOf(row: EventRow): Pricing | undefined {
  if (row.pricing_billable === null && row.pricing_model === null && row.pricing_category === null) return undefined;
  return {
    billable: row.pricing_billable === 1,
    ...optional('pricingModel', row.pricing_model),
    ...optional('type', row.pricing_type),
    ...optional('category', row.pricing_category),
  };
}

function sentimentOf(row: {
  sentiment_language: string | null;
  sentiment_score: number | null;
  sentiment_label: string | null;
}): Sentiment | undefined {
  if (row.sentiment_language === null && row.sentiment_score === null && row.sentiment_label === null) return undefined;
  return {
    ...optional('language', row.sentiment_language),
    ...optional('score', row.sentiment_score),
    ...optional('label', row.sentiment_label as SentimentLabel | null),
  };
}

function toEvent(row: EventRow): ArchivedEvent {
  const base = {
    eventId: row.event_id,
    tenantId: row.tenant_id,
    messageId: row.message_id,
    occurredAt: new Date(row.occurred_at_ms),
    recordedAt: new Date(row.recorded_at_ms),
  };
  if (row.kind === 'accepted') {
    return {
      ...base,
      kind: 'accepted',
      status: 'ACCEPTED',
      recipient: row.recipient ?? '',
      phoneNumberId: row.phone_number_id ?? '',
      ...optional('textBody', row.text_body),
      ...optional('contentType', row.content_type as ContentKind | null),
      ...optional('contentSummary', row.content_summary),
      ...optional('contentJson', row.content_json),
      ...optional('text', row.search_text),
      ...optional('templateName', row.template_name),
      ...optional('templateCategory', row.template_category as TemplateCategory | null),
      ...optional('contextWaMessageId', row.context_wa_message_id),
      ...optional('mediaIds', row.media_ids === null ? null : (JSON.parse(row.media_ids) as string[])),
    };
  }
  if (row.kind === 'inbound') {
    return {
      ...base,
      kind: 'inbound',
      phoneNumberId: row.phone_number_id ?? '',
      from: row.sender ?? '',
      messageType: row.message_type ?? '',
      ...optional('text', row.text_body),
      ...optional('replyId', row.reply_id),
      ...optional('mediaId', row.media_id),
      ...optional('mimeType', row.mime_type),
      ...optional('contextWaMessageId', row.context_wa_message_id),
      ...optional('contentJson', row.content_json),
      ...optional('searchText', row.search_text),
      ...optional('sentiment', sentimentOf(row)),
    };
  }
  return {
    ...base,
    kind: 'status',
    status: row.status as MessageStatus,
    source: row.source as StatusSource,
    ...optional('waMessageId', row.wa_message_id),
    ...optional('errorCode', row.error_code),
    ...optional('errorTitle', row.error_title),
    ...optional('pricing', pricingOf(row)),
  };
}

function toSummary(row: ConversationRow): ConversationSummary {
  const start = row.sentiment_start === null ? undefined : (JSON.parse(row.sentiment_start) as Sentiment);
  const end = row.sentiment_end === null ? undefined : (JSON.parse(row.sentiment_end) as Sentiment);
  const trend = sentimentTrendOf(start, end, row.scored_messages);
  return {
    tenantId: row.tenant_id,
    conversationId: row.conversation_id,
    phoneNumberId: row.phone_number_id,
    customer: row.customer,
    firstMessageAt: new Date(row.first_message_at_ms),
    lastMessageAt: new Date(row.last_message_at_ms),
    inboundCount: row.inbound_count,
    outboundCount: row.outbound_count,
    ...optional('lastInboundAt', row.last_inbound_at_ms === null ? null : new Date(row.last_inbound_at_ms)),
    ...optional('lastOutboundAt', row.last_outbound_at_ms === null ? null : new Date(row.last_outbound_at_ms)),
    hasUnanswered: row.has_unanswered === 1,
    sessionCount: row.session_count,
    sentiment: { ...optional('start', start), ...optional('end', end), ...optional('trend', trend), scoredMessages: row.scored_messages },
  };
}

/** A WHERE clause built from conditions and their parameters. */
function conditions(first: string, ...values: (string | number)[]) {
  const where = [first];
  const params = [...values];
  return {
    where,
    params,
    add(condition: string, ...more: (string | number)[]) {
      where.push(condition);
      params.push(...more);
    },
  };
}

/** How many old events the one-time backfill reads per query. */
const BACKFILL_PAGE = 1000;

/** How many followers the session walk reads per query. */
const SESSION_WALK_PAGE = 200;

/**
 * The embedded ArchiveStore: one SQLite file, WAL mode. One row per event in `archived_events`; in the same
 * transaction as each event, its message's row in `archive_messages` and its conversation's summary in
 * `archive_conversations` (so the projections never disagree with the events, and a duplicate changes nothing).
 */
export class SqliteArchiveStore implements ArchiveStore, ArchiveRetentionStore {
  private readonly db: SqliteDatabase;
  private readonly log: SqliteArchiveLog;
  /**
   * Records queued in one event-loop turn (a consumer handling several events at once) share one transaction and one
   * fsync; each resolves after that COMMIT, so an ack still follows a durable write (issue 15).
   */
  private readonly groupCommit: SqliteGroupCommit;

  /** Prepared statements by SQL text: preparing costs more than running most of them. */
  private readonly statements = new Map<string, Statement<unknown[]>>();

  /**
   * The store's own connection, for code that must write in its transactions: the archive benchmark seeds a large
   * corpus in batched transactions that span the store's and the search index's writes. Services do not use it (the
   * search index keeps its own connection, see server.ts).
   */
  get connection(): SqliteDatabase {
    return this.db;
  }

  constructor(file: string) {
    this.db = openSqliteDatabase(file, MIGRATIONS);
    this.log = new SqliteArchiveLog(this.db);
    // BEGIN IMMEDIATE: the write lock is taken before the projections are read, so two processes on one file serialize.
    this.groupCommit = new SqliteGroupCommit(this.db);
    this.backfillProjections();
    this.backfillArchiveLog();
  }

  /** The record's entry in its tenant's log, committing to the record as its readers see it (read back from its row). */
  private appendToLog(tenantId: string, eventId: string, readersView: ReadersView = (stored) => stored): void {
    const row = this.statement('SELECT * FROM archived_events WHERE tenant_id = ? AND event_id = ?').get(tenantId, eventId) as EventRow;
    this.log.appendRecord(tenantId, eventId, canonicalRecordBytes(readersView(toEvent(row))));
  }

  /**
   * An archive written before the log existed gets its entries once, when it is opened: every record, in the order it
   * was stored (rowid), in pages, in one transaction.
   */
  private backfillArchiveLog(): void {
    if (this.log.hasLeaves() || !this.statement('SELECT 1 FROM archived_events LIMIT 1').get()) return;
    this.db
      .transaction(() => {
        const page = this.statement('SELECT rowid, tenant_id, event_id FROM archived_events WHERE rowid > ? ORDER BY rowid LIMIT ?');
        let after = 0;
        for (;;) {
          const rows = page.all(after, BACKFILL_PAGE) as { rowid: number; tenant_id: string; event_id: string }[];
          for (const row of rows) this.appendToLog(row.tenant_id, row.event_id);
          if (rows.length < BACKFILL_PAGE) break;
          after = rows[rows.length - 1]!.rowid;
        }
      })
      .immediate();
  }

  logSize(tenantId: string): Promise<number> {
    return this.log.logSize(tenantId);
  }

  logRoot(tenantId: string, treeSize: number): Promise<Buffer> {
    return this.log.logRoot(tenantId, treeSize);
  }

  logLeaf(tenantId: string, recordId: string): Promise<ArchiveLogLeaf | undefined> {
    return this.log.logLeaf(tenantId, recordId);
  }

  logInclusionProof(tenantId: string, leafIndex: number, treeSize: number): Promise<Buffer[]> {
    return this.log.logInclusionProof(tenantId, leafIndex, treeSize);
  }

  logConsistencyProof(tenantId: string, firstSize: number, secondSize: number): Promise<Buffer[]> {
    return this.log.logConsistencyProof(tenantId, firstSize, secondSize);
  }

  shredRecordSalts(tenantId: string, recordIds: readonly string[]): Promise<number> {
    return this.log.shredRecordSalts(tenantId, recordIds);
  }

  async record(event: ArchivedEvent, readersView: ReadersView = (stored) => stored): Promise<'recorded' | 'duplicate'> {
    // A caller that opened a transaction on this connection itself (the benchmark's batched seeding) writes in it.
    return this.write(() => this.recordNow(event, readersView));
  }

  /**
   * Runs `work` (synchronous, no BEGIN/COMMIT of its own) in the store's next group commit, in its own savepoint;
   * resolves once it is durable. The search index sharing this connection writes through it, so its writes share the
   * records' fsync. A transaction the caller opened on this connection takes the write directly.
   */
  write<T>(work: () => T): Promise<T> {
    if (this.db.inTransaction) return Promise.resolve(this.db.transaction(work)());
    return this.groupCommit.run(work);
  }

  /**
   * The event, its log entry and its projections, all or nothing: runs inside a transaction (the group commit's
   * savepoint for this write), so a record and its log entry commit together and a duplicate changes nothing.
   */
  private recordNow(event: ArchivedEvent, readersView: ReadersView): 'recorded' | 'duplicate' {
    if (!this.insertEvent(event)) return 'duplicate';
    this.appendToLog(event.tenantId, event.eventId, readersView);
    if (event.kind === 'status') this.applyStatus(event.tenantId, event.messageId);
    else this.applyMessage(event);
    return 'recorded';
  }

  /**
   * An outbound message's latest status from its stored status events (outboundStatusOf), undefined while it has
   * none: the search feed's read for a status event, which needs neither the message's content nor whole records.
   */
  async latestStatus(tenantId: string, messageId: string): Promise<MessageStatus | undefined> {
    const statuses = this.statusPointsOf(tenantId, messageId);
    return statuses.length === 0 ? undefined : outboundStatusOf(statuses).status;
  }

  /** The fields of a message's status events that decide its latest status and wamid, in stored order. */
  private statusPointsOf(tenantId: string, messageId: string): { status: MessageStatus; occurredAt: Date; waMessageId?: string }[] {
    const rows = this.statement(
      `SELECT status, occurred_at_ms, wa_message_id FROM archived_events WHERE tenant_id = ? AND message_id = ? AND kind = 'status'
         ORDER BY occurred_at_ms, recorded_at_ms, event_id`,
    ).all(tenantId, messageId) as { status: MessageStatus; occurred_at_ms: number; wa_message_id: string | null }[];
    return rows.map((row) => ({
      status: row.status,
      occurredAt: new Date(row.occurred_at_ms),
      ...(row.wa_message_id !== null ? { waMessageId: row.wa_message_id } : {}),
    }));
  }

  async listByMessage(tenantId: string, messageId: string): Promise<ArchivedEvent[]> {
    const rows = this.statement(
      'SELECT * FROM archived_events WHERE tenant_id = ? AND message_id = ? ORDER BY occurred_at_ms, recorded_at_ms, event_id',
    ).all(tenantId, messageId) as EventRow[];
    return rows.map(toEvent);
  }

  async getConversation(tenantId: string, conversationId: string): Promise<ConversationSummary | undefined> {
    const row = this.statement('SELECT * FROM archive_conversations WHERE tenant_id = ? AND conversation_id = ?').get(
      tenantId,
      conversationId,
    ) as ConversationRow | undefined;
    return row ? toSummary(row) : undefined;
  }

  async listConversations(
    tenantId: string,
    filter: ConversationFilter,
    page: PageRequest<ConversationCursor>,
  ): Promise<Page<ConversationSummary, ConversationCursor>> {
    const { where, params, add } = conditions('c.tenant_id = ?', tenantId);
    if (filter.customer !== undefined) add('c.customer = ?', filter.customer);
    if (filter.phoneNumberId !== undefined) add('c.phone_number_id = ?', filter.phoneNumberId);
    if (filter.hasUnanswered) add('c.has_unanswered = 1');
    if (filter.sentiment !== undefined) add('c.sentiment_end_label = ?', filter.sentiment);
    if (filter.from !== undefined || filter.to !== undefined) {
      // Cheap bounds on the summary first, then a message inside the range (an index probe per candidate).
      const from = filter.from?.getTime() ?? Number.MIN_SAFE_INTEGER;
      const to = filter.to?.getTime() ?? Number.MAX_SAFE_INTEGER;
      add('c.last_message_at_ms >= ? AND c.first_message_at_ms < ?', from, to);
      add(
        `EXISTS (SELECT 1 FROM archive_messages m WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.conversation_id
           AND m.occurred_at_ms >= ? AND m.occurred_at_ms < ?)`,
        from,
        to,
      );
    }
    if (page.after) {
      add('(c.last_message_at_ms, c.conversation_id) < (?, ?)', page.after.lastMessageAt.getTime(), page.after.conversationId);
    }
    const rows = this.statement(
      `SELECT c.* FROM archive_conversations c WHERE ${where.join(' AND ')} ORDER BY c.last_message_at_ms DESC, c.conversation_id DESC LIMIT ?`,
    ).all(...params, page.size + 1) as ConversationRow[];
    return pageOf(rows.slice(0, page.size).map(toSummary), rows.length > page.size, conversationCursorOf);
  }

  async transcriptPage(
    tenantId: string,
    conversationId: string,
    range: TimeRange,
    page: PageRequest<TranscriptCursor>,
  ): Promise<Page<TranscriptMessageEntry, TranscriptCursor>> {
    const { where, params, add } = conditions('tenant_id = ? AND conversation_id = ?', tenantId, conversationId);
    if (range.from) add('occurred_at_ms >= ?', range.from.getTime());
    if (range.to) add('occurred_at_ms < ?', range.to.getTime());
    if (page.after) add('(occurred_at_ms, record_id) > (?, ?)', page.after.occurredAt.getTime(), page.after.recordId);
    // One read transaction: the rows, their statuses and the session count before them agree.
    return this.db.transaction(() => {
      const rows = this.statement(
        `SELECT * FROM archive_messages WHERE ${where.join(' AND ')} ORDER BY occurred_at_ms, record_id LIMIT ?`,
      ).all(...params, page.size + 1) as MessageDbRow[];
      const pageRows = rows.slice(0, page.size);
      const first = pageRows[0];
      if (!first) return { items: [] };
      let startsBefore = this.statement(
        `SELECT count(*) FROM archive_messages WHERE tenant_id = ? AND conversation_id = ? AND starts_session = 1
             AND (occurred_at_ms, record_id) < (?, ?)`,
      )
        .pluck()
        .get(tenantId, conversationId, first.occurred_at_ms, first.record_id) as number;
      const statuses = this.statusEventsOf(
        tenantId,
        pageRows.filter((row) => row.direction === 'outbound').map((row) => row.message_id),
      );
      const items = pageRows.map((row): TranscriptMessageEntry => {
        if (row.starts_session === 1) startsBefore += 1;
        const sentiment = sentimentOf(row);
        return {
          recordId: row.record_id,
          tenantId: row.tenant_id,
          conversationId: row.conversation_id,
          messageId: row.message_id,
          ...optional('waMessageId', row.wa_message_id),
          direction: row.direction,
          type: row.type,
          occurredAt: new Date(row.occurred_at_ms),
          ...optional('text', row.text),
          ...optional('contentJson', row.content_json),
          mediaIds: JSON.parse(row.media_ids) as string[],
          ...optional('templateName', row.template_name),
          ...optional('templateCategory', row.template_category),
          ...optional('contextWaMessageId', row.context_wa_message_id),
          statuses: transcriptStatusesOf(statuses.get(row.message_id) ?? []),
          ...optional('status', row.status as MessageStatus | null),
          ...optional('sentiment', sentiment),
          sessionIndex: Math.max(0, startsBefore - 1),
        };
      });
      return pageOf(items, rows.length > page.size, transcriptCursorOf);
    })();
  }

  transcript(tenantId: string, conversationId: string, range: TimeRange = {}): AsyncIterable<TranscriptMessageEntry> {
    return readTranscript(this, tenantId, conversationId, range);
  }

  conversations(tenantId: string, filter: ConversationFilter = {}): AsyncIterable<ConversationSummary> {
    return readConversations(this, tenantId, filter);
  }

  async expiredRecords(
    tenantId: string,
    before: Date,
    options: { readonly exceptCustomers: readonly string[]; readonly limit: number },
  ): Promise<ExpiredRecord[]> {
    const except = options.exceptCustomers;
    const rows = this.db
      .prepare<unknown[], { record_id: string; message_id: string; conversation_id: string; customer: string }>(
        `SELECT record_id, message_id, conversation_id, customer FROM archive_messages
           WHERE tenant_id = ? AND occurred_at_ms < ?${except.length > 0 ? ` AND customer NOT IN (${except.map(() => '?').join(', ')})` : ''}
           ORDER BY occurred_at_ms, record_id LIMIT ?`,
      )
      .all(tenantId, before.getTime(), ...except, options.limit);
    return rows.map((row) => ({
      recordId: row.record_id,
      messageId: row.message_id,
      conversationId: row.conversation_id,
      customer: row.customer,
    }));
  }

  async disposeRecords(tenantId: string, records: readonly ExpiredRecord[]): Promise<{ disposed: number; eventIds: string[] }> {
    const dispose = this.db.transaction(() => {
      let disposed = 0;
      const eventIds: string[] = [];
      const conversations = new Set<string>();
      for (const record of records) {
        const statusIds = this.statement(`SELECT event_id FROM archived_events WHERE tenant_id = ? AND message_id = ? AND kind = 'status'`)
          .pluck()
          .all(tenantId, record.messageId) as string[];
        eventIds.push(record.recordId, ...statusIds);
        const gone = this.statement('DELETE FROM archive_messages WHERE tenant_id = ? AND message_id = ? AND record_id = ?').run(
          tenantId,
          record.messageId,
          record.recordId,
        ).changes;
        this.statement(`DELETE FROM archived_events WHERE tenant_id = ? AND (event_id = ? OR (message_id = ? AND kind = 'status'))`).run(
          tenantId,
          record.recordId,
          record.messageId,
        );
        if (gone > 0) {
          disposed += 1;
          conversations.add(record.conversationId);
        }
      }
      for (const conversationId of conversations) this.rebuildConversation(tenantId, conversationId);
      return { disposed, eventIds };
    });
    // Through the write queue: after every record queued before it.
    return this.write(() => dispose());
  }

  async eraseCustomer(tenantId: string, customer: string, customerRef: string): Promise<CustomerErasure> {
    // Through the write queue: after every record queued before it (none of the customer's is written after).
    return this.write(() => this.eraseCustomerNow(tenantId, customer, customerRef));
  }

  private eraseCustomerNow(tenantId: string, customer: string, customerRef: string): CustomerErasure {
    return this.db.transaction((): CustomerErasure => {
      const recordIds = this.statement(
        // Also those erased before (under the pseudonym): a retried erasure shreds every record's salt again.
        `SELECT event_id FROM archived_events WHERE tenant_id = ?
             AND ((kind = 'accepted' AND recipient IN (?, ?)) OR (kind = 'inbound' AND sender IN (?, ?)))`,
      )
        .pluck()
        .all(tenantId, customer, customerRef, customer, customerRef) as string[];
      const content = `text_body = NULL, content_json = NULL, search_text = NULL, content_summary = NULL, reply_id = NULL`;
      const accepted = this.statement(
        `UPDATE archived_events SET ${content}, recipient = ? WHERE tenant_id = ? AND kind = 'accepted' AND recipient = ?`,
      ).run(customerRef, tenantId, customer);
      const inbound = this.statement(
        `UPDATE archived_events SET ${content}, sender = ? WHERE tenant_id = ? AND kind = 'inbound' AND sender = ?`,
      ).run(customerRef, tenantId, customer);
      const conversations = this.statement(
        'SELECT conversation_id, phone_number_id FROM archive_conversations WHERE tenant_id = ? AND customer = ?',
      ).all(tenantId, customer) as { conversation_id: string; phone_number_id: string }[];
      let messages = 0;
      // Message rows by conversation (the conversation id changes with them); then any row whose summary is missing.
      for (const conversation of conversations) {
        const renamed = conversationIdOf({ tenantId, phoneNumberId: conversation.phone_number_id, customer: customerRef });
        messages += this.statement(
          `UPDATE archive_messages SET text = NULL, content_json = NULL, customer = ?, conversation_id = ?
               WHERE tenant_id = ? AND conversation_id = ? AND customer = ?`,
        ).run(customerRef, renamed, tenantId, conversation.conversation_id, customer).changes;
        this.statement(
          'UPDATE archive_conversations SET customer = ?, conversation_id = ? WHERE tenant_id = ? AND conversation_id = ?',
        ).run(customerRef, renamed, tenantId, conversation.conversation_id);
      }
      messages += this.statement(
        'UPDATE archive_messages SET text = NULL, content_json = NULL, customer = ? WHERE tenant_id = ? AND customer = ?',
      ).run(customerRef, tenantId, customer).changes;
      return { messages, records: accepted.changes + inbound.changes, conversations: conversations.length, recordIds };
    })();
  }

  /**
   * Moves the WAL into the database file and truncates it (`wal_checkpoint(TRUNCATE)`, retried while readers keep it
   * busy), so that content deleted by an erasure leaves the -wal file too.
   */
  async checkpointWal(): Promise<void> {
    await checkpointWalTruncate(this.db);
  }

  async close(): Promise<void> {
    // Records still queued commit before the connection closes: none is lost on shutdown.
    this.groupCommit.close();
    this.db.close();
  }

  private statement(sql: string): Statement<unknown[]> {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare<unknown[]>(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Inserts the event row; false if the tenant has it already. */
  private insertEvent(event: ArchivedEvent): boolean {
    const accepted = event.kind === 'accepted' ? event : undefined;
    const status = event.kind === 'status' ? event : undefined;
    const inbound = event.kind === 'inbound' ? event : undefined;
    const result = this.statement(
      `INSERT INTO archived_events (tenant_id, event_id, message_id, kind, status, occurred_at_ms, recorded_at_ms,
           recipient, phone_number_id, text_body, source, wa_message_id, error_code, error_title,
           sender, message_type, reply_id, media_id, mime_type, context_wa_message_id, content_json,
           content_type, content_summary, search_text, template_name, template_category, media_ids,
           pricing_billable, pricing_model, pricing_type, pricing_category, sentiment_language, sentiment_score, sentiment_label)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, event_id) DO NOTHING`,
    ).run(
      event.tenantId,
      event.eventId,
      event.messageId,
      event.kind,
      event.kind === 'inbound' ? null : event.status,
      event.occurredAt.getTime(),
      event.recordedAt.getTime(),
      accepted?.recipient ?? null,
      accepted?.phoneNumberId ?? inbound?.phoneNumberId ?? null,
      accepted?.textBody ?? inbound?.text ?? null,
      status?.source ?? null,
      status?.waMessageId ?? null,
      status?.errorCode ?? null,
      status?.errorTitle ?? null,
      inbound?.from ?? null,
      inbound?.messageType ?? null,
      inbound?.replyId ?? null,
      inbound?.mediaId ?? null,
      inbound?.mimeType ?? null,
      accepted?.contextWaMessageId ?? inbound?.contextWaMessageId ?? null,
      accepted?.contentJson ?? inbound?.contentJson ?? null,
      accepted?.contentType ?? null,
      accepted?.contentSummary ?? null,
      accepted?.text ?? inbound?.searchText ?? null,
      accepted?.templateName ?? null,
      accepted?.templateCategory ?? null,
      accepted?.mediaIds ? JSON.stringify(accepted.mediaIds) : null,
      status?.pricing ? (status.pricing.billable ? 1 : 0) : null,
      status?.pricing?.pricingModel ?? null,
      status?.pricing?.type ?? null,
      status?.pricing?.category ?? null,
      inbound?.sentiment?.language ?? null,
      inbound?.sentiment?.score ?? null,
      inbound?.sentiment?.label ?? null,
    );
    return result.changes === 1;
  }

  /** The status events of these messages, by message id, in stored order. */
  private statusEventsOf(tenantId: string, messageIds: readonly string[]): Map<string, StatusArchivedEvent[]> {
    const byMessage = new Map<string, StatusArchivedEvent[]>();
    if (messageIds.length === 0) return byMessage;
    const rows = this.statement(
      `SELECT * FROM archived_events WHERE tenant_id = ? AND kind = 'status' AND message_id IN (${messageIds.map(() => '?').join(', ')})
         ORDER BY occurred_at_ms, recorded_at_ms, event_id`,
    ).all(tenantId, ...messageIds) as EventRow[];
    for (const row of rows) {
      const event = toEvent(row) as StatusArchivedEvent;
      const list = byMessage.get(event.messageId) ?? [];
      list.push(event);
      byMessage.set(event.messageId, list);
    }
    return byMessage;
  }

  /** A status event: the message's row (if its accepted event came already) takes its latest status and wamid. */
  private applyStatus(tenantId: string, messageId: string): void {
    const { status, waMessageId } = outboundStatusOf(this.statusPointsOf(tenantId, messageId));
    this.statement(
      `UPDATE archive_messages SET status = ?, wa_message_id = ? WHERE tenant_id = ? AND message_id = ? AND direction = 'outbound'`,
    ).run(status, waMessageId ?? null, tenantId, messageId);
  }

  /** An accepted or inbound event: its message row, the session starts it moves, and its conversation's summary. */
  private applyMessage(event: MessageEvent): void {
    const row = messageRowOf(event);
    const inserted = this.statement(
      `INSERT INTO archive_messages (tenant_id, message_id, record_id, conversation_id, phone_number_id, customer, direction, type,
           occurred_at_ms, text, content_json, media_ids, template_name, template_category, context_wa_message_id, wa_message_id,
           status, sentiment_language, sentiment_score, sentiment_label, starts_session)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
         ON CONFLICT (tenant_id, message_id) DO NOTHING`,
    ).run(
      row.tenantId,
      row.messageId,
      row.recordId,
      row.conversationId,
      row.phoneNumberId,
      row.customer,
      row.direction,
      row.type,
      row.occurredAt.getTime(),
      row.text ?? null,
      row.contentJson ?? null,
      JSON.stringify(row.mediaIds),
      row.templateName ?? null,
      row.templateCategory ?? null,
      row.contextWaMessageId ?? null,
      row.waMessageId ?? null,
      row.direction === 'outbound' ? 'ACCEPTED' : null,
      row.sentiment?.language ?? null,
      row.sentiment?.score ?? null,
      row.sentiment?.label ?? null,
    );
    // A second event for one message id (never expected: its event id is derived from it) changes nothing.
    if (inserted.changes !== 1) return;
    // Statuses may have come first (another stream).
    if (row.direction === 'outbound') this.applyStatus(row.tenantId, row.messageId);
    const sessionDelta = this.updateSessionStarts(row);
    this.foldIntoConversation(row, sessionDelta);
  }

  /**
   * Marks whether the new message starts a session and re-decides the messages after it that it can change (it may
   * have arrived late): the next one (it may no longer be first) and, for a customer message, every one up to and
   * including the customer's next message (the window they see moved). Returns the change in session count.
   */
  private updateSessionStarts(row: MessageRow): number {
    const key = [row.tenantId, row.conversationId, row.occurredAt.getTime(), row.recordId] as const;
    const hasPrevious = this.statement(
      'SELECT 1 FROM archive_messages WHERE tenant_id = ? AND conversation_id = ? AND (occurred_at_ms, record_id) < (?, ?) LIMIT 1',
    ).get(...key);
    const lastInboundMs = this.statement(
      `SELECT max(occurred_at_ms) FROM archive_messages WHERE tenant_id = ? AND conversation_id = ? AND direction = 'inbound'
           AND type != 'system' AND (occurred_at_ms, record_id) < (?, ?)`,
    )
      .pluck()
      .get(...key) as number | null;
    let state: SessionState | undefined = hasPrevious
      ? { sessionIndex: 0, ...(lastInboundMs !== null ? { lastInboundAt: new Date(lastInboundMs) } : {}) }
      : undefined;
    const setStarts = this.statement('UPDATE archive_messages SET starts_session = ? WHERE tenant_id = ? AND message_id = ?');
    let delta = 0;
    const starts = startsSession(state, row);
    if (starts) {
      setStarts.run(1, row.tenantId, row.messageId);
      delta += 1;
    }
    state = {
      sessionIndex: 0,
      ...(isCustomerMessage(row) ? { lastInboundAt: row.occurredAt } : state?.lastInboundAt ? { lastInboundAt: state.lastInboundAt } : {}),
    };

    const followers = this.statement(
      `SELECT message_id, record_id, direction, type, occurred_at_ms, starts_session FROM archive_messages
         WHERE tenant_id = ? AND conversation_id = ? AND (occurred_at_ms, record_id) > (?, ?)
         ORDER BY occurred_at_ms, record_id LIMIT ?`,
    );
    let after: readonly [number, string] = [row.occurredAt.getTime(), row.recordId];
    for (;;) {
      const rows = followers.all(row.tenantId, row.conversationId, ...after, isCustomerMessage(row) ? SESSION_WALK_PAGE : 1) as Pick<
        MessageDbRow,
        'message_id' | 'record_id' | 'direction' | 'type' | 'occurred_at_ms' | 'starts_session'
      >[];
      for (const follower of rows) {
        const message = { direction: follower.direction, type: follower.type, occurredAt: new Date(follower.occurred_at_ms) };
        const followerStarts = startsSession(state, message) ? 1 : 0;
        if (followerStarts !== follower.starts_session) {
          setStarts.run(followerStarts, row.tenantId, follower.message_id);
          delta += followerStarts - follower.starts_session;
        }
        // Past the customer's next message (or the next message, for a business one) nothing else changes.
        if (!isCustomerMessage(row) || isCustomerMessage(follower)) return delta;
      }
      const last = rows.at(-1);
      if (!last || rows.length < SESSION_WALK_PAGE) return delta;
      after = [last.occurred_at_ms, last.record_id];
    }
  }

  /** Creates or updates the conversation's summary with one new message. */
  private foldIntoConversation(row: MessageRow, sessionDelta: number): void {
    const current = this.statement('SELECT * FROM archive_conversations WHERE tenant_id = ? AND conversation_id = ?').get(
      row.tenantId,
      row.conversationId,
    ) as ConversationRow | undefined;
    const at = row.occurredAt.getTime();
    const inbound = row.direction === 'inbound';
    // A system notice is counted as inbound, but is not the customer's: it neither needs nor marks an answer.
    const customer = isCustomerMessage(row);
    const maxOf = (a: number | null | undefined, b: number | undefined) =>
      b === undefined ? (a ?? null) : a === null || a === undefined ? b : Math.max(a, b);
    const lastInbound = maxOf(current?.last_inbound_at_ms, customer ? at : undefined);
    const lastOutbound = maxOf(current?.last_outbound_at_ms, inbound ? undefined : at);
    const points: SentimentPoints = foldSentiment(
      {
        ...(current?.sentiment_start
          ? { start: { sentiment: JSON.parse(current.sentiment_start) as Sentiment, at: new Date(current.sentiment_start_at_ms ?? 0) } }
          : {}),
        ...(current?.sentiment_end
          ? { end: { sentiment: JSON.parse(current.sentiment_end) as Sentiment, at: new Date(current.sentiment_end_at_ms ?? 0) } }
          : {}),
        scoredMessages: current?.scored_messages ?? 0,
      },
      { direction: row.direction, occurredAt: row.occurredAt, ...(row.sentiment ? { sentiment: row.sentiment } : {}) },
    );
    this.statement(
      `INSERT INTO archive_conversations (tenant_id, conversation_id, phone_number_id, customer, first_message_at_ms, last_message_at_ms,
           inbound_count, outbound_count, last_inbound_at_ms, last_outbound_at_ms, has_unanswered, session_count,
           sentiment_start, sentiment_start_at_ms, sentiment_end, sentiment_end_at_ms, sentiment_end_label, scored_messages)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET
           first_message_at_ms = excluded.first_message_at_ms, last_message_at_ms = excluded.last_message_at_ms,
           inbound_count = excluded.inbound_count, outbound_count = excluded.outbound_count,
           last_inbound_at_ms = excluded.last_inbound_at_ms, last_outbound_at_ms = excluded.last_outbound_at_ms,
           has_unanswered = excluded.has_unanswered, session_count = excluded.session_count,
           sentiment_start = excluded.sentiment_start, sentiment_start_at_ms = excluded.sentiment_start_at_ms,
           sentiment_end = excluded.sentiment_end, sentiment_end_at_ms = excluded.sentiment_end_at_ms,
           sentiment_end_label = excluded.sentiment_end_label, scored_messages = excluded.scored_messages`,
    ).run(
      row.tenantId,
      row.conversationId,
      row.phoneNumberId,
      row.customer,
      Math.min(current?.first_message_at_ms ?? at, at),
      Math.max(current?.last_message_at_ms ?? at, at),
      (current?.inbound_count ?? 0) + (inbound ? 1 : 0),
      (current?.outbound_count ?? 0) + (inbound ? 0 : 1),
      lastInbound,
      lastOutbound,
      isUnanswered(lastInbound === null ? undefined : new Date(lastInbound), lastOutbound === null ? undefined : new Date(lastOutbound))
        ? 1
        : 0,
      (current?.session_count ?? 0) + sessionDelta,
      points.start ? JSON.stringify(points.start.sentiment) : null,
      points.start ? points.start.at.getTime() : null,
      points.end ? JSON.stringify(points.end.sentiment) : null,
      points.end ? points.end.at.getTime() : null,
      points.end?.sentiment.label ?? null,
      points.scoredMessages,
    );
  }

  /**
   * Rebuilds a conversation's summary and session starts from its remaining messages, in the archive's order (after
   * retention disposed of some); removes the summary when none is left.
   */
  private rebuildConversation(tenantId: string, conversationId: string): void {
    this.statement('DELETE FROM archive_conversations WHERE tenant_id = ? AND conversation_id = ?').run(tenantId, conversationId);
    const page = this.statement(
      `SELECT * FROM archive_messages WHERE tenant_id = ? AND conversation_id = ? AND (occurred_at_ms, record_id) > (?, ?)
         ORDER BY occurred_at_ms, record_id LIMIT ?`,
    );
    const setStarts = this.statement('UPDATE archive_messages SET starts_session = ? WHERE tenant_id = ? AND message_id = ?');
    let state: SessionState | undefined;
    let after: [number, string] = [Number.MIN_SAFE_INTEGER, ''];
    for (;;) {
      const rows = page.all(tenantId, conversationId, ...after, BACKFILL_PAGE) as MessageDbRow[];
      for (const db of rows) {
        const row = {
          tenantId,
          messageId: db.message_id,
          recordId: db.record_id,
          conversationId,
          phoneNumberId: db.phone_number_id,
          customer: db.customer,
          direction: db.direction,
          type: db.type,
          occurredAt: new Date(db.occurred_at_ms),
          mediaIds: [],
          ...(db.sentiment_label ? { sentiment: sentimentOf(db) as Sentiment } : {}),
        } satisfies MessageRow;
        const starts = startsSession(state, row) ? 1 : 0;
        if (starts !== db.starts_session) setStarts.run(starts, tenantId, db.message_id);
        this.foldIntoConversation(row, starts);
        const lastInboundAt = isCustomerMessage(row) ? row.occurredAt : state?.lastInboundAt;
        state = { sessionIndex: 0, ...(lastInboundAt ? { lastInboundAt } : {}) };
      }
      const last = rows.at(-1);
      if (!last || rows.length < BACKFILL_PAGE) return;
      after = [last.occurred_at_ms, last.record_id];
    }
  }

  /**
   * A file written before the projections existed has events but no message rows: they are built once, at open, by
   * replaying its accepted and inbound events in the archive's order (statuses are picked up per message).
   */
  private backfillProjections(): void {
    const hasMessages = this.statement('SELECT 1 FROM archive_messages LIMIT 1').get();
    const hasEvents = this.statement(`SELECT 1 FROM archived_events WHERE kind IN ('accepted', 'inbound') LIMIT 1`).get();
    if (hasMessages || !hasEvents) return;
    this.db
      .transaction(() => {
        // In pages (one in memory at a time): an old archive can be large.
        const page = this.statement(
          `SELECT * FROM archived_events WHERE kind IN ('accepted', 'inbound') AND (occurred_at_ms, event_id) > (?, ?)
             ORDER BY occurred_at_ms, event_id LIMIT ?`,
        );
        let after: [number, string] = [Number.MIN_SAFE_INTEGER, ''];
        for (;;) {
          const rows = page.all(...after, BACKFILL_PAGE) as EventRow[];
          for (const row of rows) this.applyMessage(toEvent(row) as MessageEvent);
          const last = rows.at(-1);
          if (!last || rows.length < BACKFILL_PAGE) return;
          after = [last.occurred_at_ms, last.event_id];
        }
      })
      .immediate();
  }
}
