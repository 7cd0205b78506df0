import type { Statement } from 'better-sqlite3';
import { checkpointWalTruncate, openSqliteDatabase, SqliteGroupCommit, statementCache, type SqliteDatabase } from '@waygate/storage';
import { isTerminalStatus, type CustomerDataSubject, type MessageStatus, type TemplateCategory } from '@waygate/domain';
import type { CustomerSealer } from '@waygate/keyring';
import {
  ERASED_REQUEST_HASH,
  type MessageQuery,
  type MessageStatusState,
  type MessageStore,
  type StatusChangeRecord,
} from '../domain/message-store';
import type { ContentKind, OutboundMessage, StatusSource, TimelineEntry } from '../domain/outbound-message';
import { openMessageContent, sealMessageContent } from './message-content-sealing';

/** Schema versions, applied in order once each (exported for the upgrade test). */
export const MIGRATIONS = [
  `CREATE TABLE messages (
     tenant_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     idempotency_key TEXT NOT NULL,
     request_hash TEXT NOT NULL,
     recipient TEXT NOT NULL,
     phone_number_id TEXT NOT NULL,
     content_json TEXT NOT NULL,
     status TEXT NOT NULL,
     wa_message_id TEXT,
     accepted_at_ms INTEGER NOT NULL,
     expires_at_ms INTEGER NOT NULL,
     published INTEGER NOT NULL DEFAULT 0,
     version INTEGER NOT NULL,
     PRIMARY KEY (tenant_id, message_id)
   );
   -- insertIfAbsent: one message per tenant and idempotency key.
   CREATE UNIQUE INDEX messages_by_idempotency_key ON messages (tenant_id, idempotency_key);
   -- listUnpublished: the outbox relay's scan stays small because published rows drop out.
   CREATE INDEX messages_unpublished ON messages (accepted_at_ms) WHERE published = 0;
   CREATE TABLE message_timeline (
     tenant_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     event_id TEXT NOT NULL,
     position INTEGER NOT NULL,
     status TEXT NOT NULL,
     occurred_at_ms INTEGER NOT NULL,
     source TEXT NOT NULL,
     error_code INTEGER,
     error_title TEXT,
     PRIMARY KEY (tenant_id, message_id, event_id),
     FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, message_id) ON DELETE CASCADE
   );`,
  // Content is deleted when a message ends FAILED, EXPIRED or CANCELED, so content_json becomes nullable (and is
  // dropped right away for messages already there); delivery attempts are recorded in the timeline.
  `ALTER TABLE messages RENAME COLUMN content_json TO content_json_required;
   ALTER TABLE messages ADD COLUMN content_json TEXT;
   UPDATE messages SET content_json = CASE WHEN status IN ('FAILED', 'EXPIRED', 'CANCELED') THEN NULL ELSE content_json_required END;
   ALTER TABLE messages DROP COLUMN content_json_required;
   ALTER TABLE message_timeline ADD COLUMN attempt INTEGER;
   ALTER TABLE message_timeline ADD COLUMN next_attempt_at_ms INTEGER;`,
  // Every content kind (issue 11): what a message is and its summary stay after the content is deleted. Messages
  // stored before were all text; their summary stays empty (their content may already be gone).
  `ALTER TABLE messages ADD COLUMN content_type TEXT NOT NULL DEFAULT 'text';
   ALTER TABLE messages ADD COLUMN content_summary TEXT NOT NULL DEFAULT '';
   ALTER TABLE messages ADD COLUMN reply_to_wa_message_id TEXT;
   ALTER TABLE messages ADD COLUMN template_category TEXT;`,
  // listMessages: a tenant's messages newest first, the page cursor a seek on (accepted_at_ms, message_id).
  `CREATE INDEX messages_by_tenant_accepted ON messages (tenant_id, accepted_at_ms DESC, message_id DESC);`,
  // eraseCustomer and the customer's export (listMessages by recipient): one customer's messages (issue 14).
  `CREATE INDEX messages_by_recipient ON messages (tenant_id, recipient);`,
];

/** A message row and its timeline as read together. */
interface StoredRow {
  readonly row: MessageRow;
  readonly timeline: TimelineEntry[];
}

/** Longest a markPublished waits for another write to ride along with before it is committed alone. */
const MARK_DELAY_MS = 20;

interface MessageRow {
  tenant_id: string;
  message_id: string;
  idempotency_key: string;
  request_hash: string;
  recipient: string;
  phone_number_id: string;
  content_json: string | null;
  content_type: string;
  content_summary: string;
  reply_to_wa_message_id: string | null;
  template_category: string | null;
  status: string;
  wa_message_id: string | null;
  accepted_at_ms: number;
  expires_at_ms: number;
  published: number;
  version: number;
}

interface TimelineRow {
  event_id: string;
  status: string;
  occurred_at_ms: number;
  source: string;
  error_code: number | null;
  error_title: string | null;
  attempt: number | null;
  next_attempt_at_ms: number | null;
}

/**
 * The embedded MessageStore: one SQLite file, WAL mode, secure_delete. Content and summary are stored sealed under
 * the recipient's data key (`sealer`), so the file and its backups hold nothing readable once the key is destroyed.
 */
export class SqliteMessageStore implements MessageStore {
  private readonly db: SqliteDatabase;
  /** Each SQL text prepared once (issue 15: preparing on every call cost 15 % of ingress CPU). */
  private readonly sql: (text: string) => Statement;
  /**
   * Every write of this file goes through one group commit (issue 15): concurrent sends and status events share one
   * durable transaction (one fsync, synchronous=FULL kept); each write's promise settles after its COMMIT.
   */
  private readonly commits: SqliteGroupCommit;
  /** markPublished calls waiting to ride along with the next write (see markPublished). */
  private marks: Array<{ tenantId: string; messageId: string; resolve: () => void; reject: (error: unknown) => void }> = [];
  private marksTimer: NodeJS.Timeout | undefined;

  constructor(
    file: string,
    private readonly sealer: CustomerSealer,
  ) {
    this.db = openSqliteDatabase(file, MIGRATIONS);
    this.sql = statementCache(this.db);
    // The WAL is synced off the event loop (issue 15); every read whose result leaves the store goes through
    // commits.read, so it returns nothing that is not yet durable.
    this.commits = new SqliteGroupCommit(this.db, { syncOffLoop: true });
  }

  private timelineOf(tenantId: string, messageId: string): TimelineEntry[] {
    const rows = this.sql('SELECT * FROM message_timeline WHERE tenant_id = ? AND message_id = ? ORDER BY position').all(
      tenantId,
      messageId,
    ) as TimelineRow[];
    return rows.map((row) => ({
      eventId: row.event_id,
      status: row.status as MessageStatus,
      occurredAt: new Date(row.occurred_at_ms),
      source: row.source as StatusSource,
      ...(row.error_code !== null ? { errorCode: row.error_code } : {}),
      ...(row.error_title !== null ? { errorTitle: row.error_title } : {}),
      ...(row.attempt !== null ? { attempt: row.attempt } : {}),
      ...(row.next_attempt_at_ms !== null ? { nextAttemptAt: new Date(row.next_attempt_at_ms) } : {}),
    }));
  }

  /** A row with its timeline, read together (synchronously: both in one `commits.read`). */
  private withTimeline(row: MessageRow): StoredRow {
    return { row, timeline: this.timelineOf(row.tenant_id, row.message_id) };
  }

  private async toMessage({ row, timeline }: StoredRow): Promise<OutboundMessage> {
    const opened = await openMessageContent(this.sealer, row.tenant_id, row.content_type as ContentKind, {
      content: row.content_json,
      summary: row.content_summary,
    });
    return {
      tenantId: row.tenant_id,
      messageId: row.message_id,
      idempotencyKey: row.idempotency_key,
      requestHash: row.request_hash,
      to: row.recipient,
      phoneNumberId: row.phone_number_id,
      content: opened.content,
      contentType: row.content_type as ContentKind,
      contentSummary: opened.contentSummary,
      ...(row.reply_to_wa_message_id ? { replyToWaMessageId: row.reply_to_wa_message_id } : {}),
      ...(row.template_category ? { templateCategory: row.template_category as TemplateCategory } : {}),
      status: row.status as MessageStatus,
      ...(row.wa_message_id ? { waMessageId: row.wa_message_id } : {}),
      acceptedAt: new Date(row.accepted_at_ms),
      expiresAt: new Date(row.expires_at_ms),
      published: row.published === 1,
      version: row.version,
      timeline,
    };
  }

  private appendTimeline(tenantId: string, messageId: string, entry: TimelineEntry): void {
    this.sql(
      `INSERT INTO message_timeline (tenant_id, message_id, event_id, position, status, occurred_at_ms, source, error_code, error_title,
           attempt, next_attempt_at_ms)
         VALUES (?, ?, ?, (SELECT COUNT(*) FROM message_timeline WHERE tenant_id = ? AND message_id = ?), ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      tenantId,
      messageId,
      entry.eventId,
      tenantId,
      messageId,
      entry.status,
      entry.occurredAt.getTime(),
      entry.source,
      entry.errorCode ?? null,
      entry.errorTitle ?? null,
      entry.attempt ?? null,
      entry.nextAttemptAt?.getTime() ?? null,
    );
  }

  async insertIfAbsent(message: OutboundMessage): Promise<{ inserted: boolean; message: OutboundMessage }> {
    const sealed = await sealMessageContent(this.sealer, message);
    this.flushMarks();
    // The row already there (an idempotent replay) is read in the insert's own transaction, so what is answered is
    // durable once the write resolves.
    const existing = await this.commits.run((): StoredRow | undefined => {
      const result = this.sql(
        `INSERT INTO messages (tenant_id, message_id, idempotency_key, request_hash, recipient, phone_number_id, content_json, content_type,
           content_summary, reply_to_wa_message_id, template_category, status, wa_message_id, accepted_at_ms, expires_at_ms, published, version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING`,
      ).run(
        message.tenantId,
        message.messageId,
        message.idempotencyKey,
        message.requestHash,
        message.to,
        message.phoneNumberId,
        sealed.content ?? null,
        message.contentType,
        sealed.summary,
        message.replyToWaMessageId ?? null,
        message.templateCategory ?? null,
        message.status,
        message.waMessageId ?? null,
        message.acceptedAt.getTime(),
        message.expiresAt.getTime(),
        message.published ? 1 : 0,
        message.version,
      );
      if (result.changes === 0) {
        // Nothing inserted means the idempotency key's row is there (the only conflict this INSERT absorbs).
        const stored = this.storedByIdempotencyKey(message.tenantId, message.idempotencyKey);
        if (!stored) throw new Error(`message with idempotency key of ${message.messageId} neither inserted nor found`);
        return stored;
      }
      for (const entry of message.timeline) this.appendTimeline(message.tenantId, message.messageId, entry);
      return undefined;
    });
    // Inserted: the stored row is `message` itself, so it is answered without reading it back and opening its sealed
    // content again (issue 15: that read cost a SELECT, two decryptions and a JSON parse per send).
    if (!existing) return { inserted: true, message };
    return { inserted: false, message: await this.toMessage(existing) };
  }

  /** The tenant's message with this idempotency key, with its timeline (call inside a write or `commits.read`). */
  private storedByIdempotencyKey(tenantId: string, idempotencyKey: string): StoredRow | undefined {
    const row = this.sql('SELECT * FROM messages WHERE tenant_id = ? AND idempotency_key = ?').get(tenantId, idempotencyKey) as
      MessageRow | undefined;
    return row && this.withTimeline(row);
  }

  async findByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<OutboundMessage | undefined> {
    const found = await this.commits.read(() => this.storedByIdempotencyKey(tenantId, idempotencyKey));
    return found ? await this.toMessage(found) : undefined;
  }

  async get(tenantId: string, messageId: string): Promise<OutboundMessage | undefined> {
    const found = await this.commits.read(() => {
      const row = this.sql('SELECT * FROM messages WHERE tenant_id = ? AND message_id = ?').get(tenantId, messageId) as
        MessageRow | undefined;
      return row && this.withTimeline(row);
    });
    return found ? await this.toMessage(found) : undefined;
  }

  async getStatusState(tenantId: string, messageId: string): Promise<MessageStatusState | undefined> {
    return this.commits.read(() => {
      const row = this.sql('SELECT status, version, wa_message_id FROM messages WHERE tenant_id = ? AND message_id = ?').get(
        tenantId,
        messageId,
      ) as Pick<MessageRow, 'status' | 'version' | 'wa_message_id'> | undefined;
      if (!row) return undefined;
      const eventIds = this.sql('SELECT event_id FROM message_timeline WHERE tenant_id = ? AND message_id = ?')
        .pluck()
        .all(tenantId, messageId) as string[];
      return {
        status: row.status as MessageStatus,
        version: row.version,
        ...(row.wa_message_id ? { waMessageId: row.wa_message_id } : {}),
        eventIds: new Set(eventIds),
      };
    });
  }

  async recordStatusChange(change: StatusChangeRecord): Promise<boolean> {
    this.flushMarks();
    return this.commits.run(() => {
      const known = this.sql('SELECT 1 FROM message_timeline WHERE tenant_id = ? AND message_id = ? AND event_id = ?').get(
        change.tenantId,
        change.messageId,
        change.entry.eventId,
      );
      if (known) return false;
      const updated = this.sql(
        `UPDATE messages SET status = ?, wa_message_id = COALESCE(?, wa_message_id), version = version + 1,
           content_json = CASE WHEN ? THEN NULL ELSE content_json END
         WHERE tenant_id = ? AND message_id = ? AND version = ?`,
      ).run(
        change.status,
        change.waMessageId ?? null,
        isTerminalStatus(change.status) ? 1 : 0,
        change.tenantId,
        change.messageId,
        change.expectedVersion,
      );
      if (updated.changes !== 1) return false;
      this.appendTimeline(change.tenantId, change.messageId, change.entry);
      return true;
    });
  }

  /**
   * Resolves once the mark is durable, but does not pay a commit of its own: it rides along with the next write of
   * this file (the next send's insert or a status change), or is committed within MARK_DELAY_MS when none comes.
   * A mark lost in a crash only makes the outbox relay publish the message again, which JetStream's Nats-Msg-Id
   * de-duplication and delivery-retry's idempotent insert absorb.
   */
  markPublished(tenantId: string, messageId: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.marks.push({ tenantId, messageId, resolve, reject });
      // A batch already queued in this turn takes it along now.
      if (this.commits.pending > 0) this.flushMarks();
      else if (this.marksTimer === undefined) {
        // Not unref'd: someone awaits the mark (the outbox relay does), and it lasts MARK_DELAY_MS at most.
        this.marksTimer = setTimeout(() => this.flushMarks(), MARK_DELAY_MS);
      }
    });
  }

  /** Queues the waiting marks as one write in the group commit's next batch. */
  private flushMarks(): void {
    if (this.marksTimer !== undefined) {
      clearTimeout(this.marksTimer);
      this.marksTimer = undefined;
    }
    if (this.marks.length === 0) return;
    const marks = this.marks;
    this.marks = [];
    this.commits
      .run(() => {
        const mark = this.sql('UPDATE messages SET published = 1 WHERE tenant_id = ? AND message_id = ?');
        for (const { tenantId, messageId } of marks) mark.run(tenantId, messageId);
      })
      .then(
        () => marks.forEach((mark) => mark.resolve()),
        (error: unknown) => marks.forEach((mark) => mark.reject(error)),
      );
  }

  async listUnpublished(before: Date, limit: number): Promise<OutboundMessage[]> {
    const rows = await this.commits.read(() =>
      (
        this.sql(
          'SELECT * FROM messages WHERE published = 0 AND content_json IS NOT NULL AND accepted_at_ms < ? ORDER BY accepted_at_ms LIMIT ?',
        ).all(before.getTime(), limit) as MessageRow[]
      ).map((row) => this.withTimeline(row)),
    );
    // A message whose customer was erased (key destroyed) before its row was: nothing left to deliver.
    const messages = await Promise.all(rows.map((row) => this.toMessage(row)));
    return messages.filter((message) => message.content !== undefined);
  }

  async listMessages(query: MessageQuery): Promise<OutboundMessage[]> {
    const where = ['tenant_id = ?'];
    const params: (string | number)[] = [query.tenantId];
    if (query.to) {
      where.push('recipient = ?');
      params.push(query.to);
    }
    if (query.statuses && query.statuses.length > 0) {
      where.push(`status IN (${query.statuses.map(() => '?').join(', ')})`);
      params.push(...query.statuses);
    }
    if (query.acceptedFrom) {
      where.push('accepted_at_ms >= ?');
      params.push(query.acceptedFrom.getTime());
    }
    if (query.acceptedBefore) {
      where.push('accepted_at_ms < ?');
      params.push(query.acceptedBefore.getTime());
    }
    if (query.contentKinds && query.contentKinds.length > 0) {
      // The stored content type, kept after the content is deleted.
      where.push(`content_type IN (${query.contentKinds.map(() => '?').join(', ')})`);
      params.push(...query.contentKinds);
    }
    if (query.after) {
      where.push('(accepted_at_ms < ? OR (accepted_at_ms = ? AND message_id < ?))');
      params.push(query.after.acceptedAt.getTime(), query.after.acceptedAt.getTime(), query.after.messageId);
    }
    const rows = await this.commits.read(() =>
      (
        this.sql(`SELECT * FROM messages WHERE ${where.join(' AND ')} ORDER BY accepted_at_ms DESC, message_id DESC LIMIT ?`).all(
          ...params,
          query.limit,
        ) as MessageRow[]
      ).map((row) => this.withTimeline(row)),
    );
    return Promise.all(rows.map((row) => this.toMessage(row)));
  }

  async eraseCustomer(subject: CustomerDataSubject): Promise<number> {
    const { changes } = this.sql(
      `UPDATE messages SET content_json = NULL, content_summary = content_type || ' (erased)', recipient = ?, request_hash = ?
         WHERE tenant_id = ? AND recipient = ?`,
    ).run(subject.customerRef, ERASED_REQUEST_HASH, subject.tenantId, subject.customer);
    return changes;
  }

  async flushDeleted(): Promise<void> {
    await checkpointWalTruncate(this.db);
  }

  async close(): Promise<void> {
    // Marks and writes still queued are committed before the connection closes.
    this.flushMarks();
    this.commits.close();
    this.db.close();
  }
}
