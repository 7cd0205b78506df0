import type { MessageStatus } from '@waygate/domain';
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
];

interface EventRow {
  tenant_id: string;
  event_id: string;
  message_id: string;
  kind: 'accepted' | 'status';
  status: string;
  occurred_at_ms: number;
  recorded_at_ms: number;
  recipient: string | null;
  phone_number_id: string | null;
  text_body: string | null;
  source: string | null;
  wa_message_id: string | null;
  error_code: number | null;
  error_title: string | null;
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
      ...(row.text_body !== null ? { textBody: row.text_body } : {}),
    };
  }
  return {
    ...base,
    kind: 'status',
    status: row.status as MessageStatus,
    source: row.source as StatusSource,
    ...(row.wa_message_id !== null ? { waMessageId: row.wa_message_id } : {}),
    ...(row.error_code !== null ? { errorCode: row.error_code } : {}),
    ...(row.error_title !== null ? { errorTitle: row.error_title } : {}),
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
    const result = this.db
      .prepare(
        `INSERT INTO archived_events (tenant_id, event_id, message_id, kind, status, occurred_at_ms, recorded_at_ms,
           recipient, phone_number_id, text_body, source, wa_message_id, error_code, error_title)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, event_id) DO NOTHING`,
      )
      .run(
        event.tenantId,
        event.eventId,
        event.messageId,
        event.kind,
        event.status,
        event.occurredAt.getTime(),
        event.recordedAt.getTime(),
        accepted?.recipient ?? null,
        accepted?.phoneNumberId ?? null,
        accepted?.textBody ?? null,
        status?.source ?? null,
        status?.waMessageId ?? null,
        status?.errorCode ?? null,
        status?.errorTitle ?? null,
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
