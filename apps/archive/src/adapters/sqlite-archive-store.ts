import type { ContentKind, MessageStatus } from '@waygate/domain';
import { openSqliteDatabase, type SqliteDatabase } from '@waygate/storage';
import type { ArchiveStore } from '../domain/archive-store';
import type { ArchivedEvent, StatusSource } from '../domain/archived-event';

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
}

/** `{ [key]: value }` unless the column is NULL: absent optional fields stay missing keys. */
function optional<K extends string, V>(key: K, value: V | null): { [P in K]?: V } {
  return (value === null ? {} : { [key]: value }) as { [P in K]?: V };
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
  };
}

/** The embedded ArchiveStore: one SQLite file, WAL mode, one row per event. */
export class SqliteArchiveStore implements ArchiveStore {
  private readonly db: SqliteDatabase;

  constructor(file: string) {
    this.db = openSqliteDatabase(file, MIGRATIONS);
  }

  async record(event: ArchivedEvent): Promise<'recorded' | 'duplicate'> {
    const accepted = event.kind === 'accepted' ? event : undefined;
    const status = event.kind === 'status' ? event : undefined;
    const inbound = event.kind === 'inbound' ? event : undefined;
    const result = this.db
      .prepare(
        `INSERT INTO archived_events (tenant_id, event_id, message_id, kind, status, occurred_at_ms, recorded_at_ms,
           recipient, phone_number_id, text_body, source, wa_message_id, error_code, error_title,
           sender, message_type, reply_id, media_id, mime_type, context_wa_message_id, content_json,
           content_type, content_summary)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, event_id) DO NOTHING`,
      )
      .run(
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
        inbound?.contextWaMessageId ?? null,
        inbound?.contentJson ?? null,
        accepted?.contentType ?? null,
        accepted?.contentSummary ?? null,
      );
    return result.changes === 1 ? 'recorded' : 'duplicate';
  }

  async listByMessage(tenantId: string, messageId: string): Promise<ArchivedEvent[]> {
    const rows = this.db
      .prepare('SELECT * FROM archived_events WHERE tenant_id = ? AND message_id = ? ORDER BY occurred_at_ms, recorded_at_ms, event_id')
      .all(tenantId, messageId) as EventRow[];
    return rows.map(toEvent);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
