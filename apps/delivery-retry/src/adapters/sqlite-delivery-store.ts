import Database, { type Statement } from 'better-sqlite3';
import type { CustomerDataSubject } from '@waygate/domain';
import type { CustomerSealer } from '@waygate/keyring';
import { SqliteGroupCommit, checkpointWalTruncate, openSqliteDatabase, statementCache, type SqliteDatabase } from '@waygate/storage';
import {
  CONTENT_FREE_STATES,
  type Delivery,
  type DeliveryContent,
  type DeliveryEvent,
  type DeliveryState,
  type DeliveryUpdate,
} from '../domain/delivery';
import type { DeliveryBacklog, DeliveryStore, PendingAnnouncements, StoredDelivery } from '../domain/delivery-store';
import type { LimiterChange, LimiterState } from '../domain/limiter-state';
import type { MetaMediaCache, MetaMediaEntry } from '../domain/media-resolver';
import { pseudonymiseStoredEvents, sealDeliveryContent, openDeliveryContent } from './delivery-content-sealing';
import { fromStoredEvent, toStoredEvent, type StoredDeliveryEvent } from './delivery-event-codec';

const MIGRATIONS = [
  // 1: the walking skeleton's table.
  `CREATE TABLE deliveries (
     tenant_id TEXT NOT NULL, message_id TEXT NOT NULL, recipient TEXT NOT NULL, phone_number_id TEXT NOT NULL,
     content_json TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, wa_message_id TEXT,
     last_error_code INTEGER, last_error_title TEXT, next_attempt_at_ms INTEGER, expires_at_ms INTEGER NOT NULL,
     updated_at_ms INTEGER NOT NULL, PRIMARY KEY (tenant_id, message_id)
   );`,
  // 2: the durable schedule: lanes, leases, versions, the outbox, shared limiter state.
  `ALTER TABLE deliveries RENAME TO deliveries_v1;
   CREATE TABLE deliveries (
     tenant_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     phone_number_id TEXT NOT NULL,
     recipient TEXT NOT NULL,
     lane_seq INTEGER NOT NULL,
     content_json TEXT,
     state TEXT NOT NULL,
     attempts INTEGER NOT NULL,
     wa_message_id TEXT,
     last_error_code INTEGER,
     last_error_title TEXT,
     next_attempt_at_ms INTEGER,
     accepted_at_ms INTEGER NOT NULL,
     expires_at_ms INTEGER NOT NULL,
     updated_at_ms INTEGER NOT NULL,
     trace_context TEXT,
     version INTEGER NOT NULL DEFAULT 1,
     lease_owner TEXT,
     lease_until_ms INTEGER NOT NULL DEFAULT 0,
     outbox_json TEXT,
     outbox_lease_until_ms INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (tenant_id, message_id)
   );
   INSERT INTO deliveries (tenant_id, message_id, phone_number_id, recipient, lane_seq, content_json, state, attempts, wa_message_id,
     last_error_code, last_error_title, next_attempt_at_ms, accepted_at_ms, expires_at_ms, updated_at_ms)
   SELECT tenant_id, message_id, phone_number_id, recipient, rowid,
     CASE WHEN state = 'PENDING' OR state = 'SENT' THEN content_json ELSE NULL END, state, attempts, wa_message_id,
     last_error_code, last_error_title, CASE WHEN state = 'PENDING' THEN COALESCE(next_attempt_at_ms, updated_at_ms) END,
     updated_at_ms, expires_at_ms, updated_at_ms
   FROM deliveries_v1;
   DROP TABLE deliveries_v1;
   CREATE INDEX deliveries_due ON deliveries (next_attempt_at_ms) WHERE state = 'PENDING';
   CREATE INDEX deliveries_lane ON deliveries (phone_number_id, recipient, lane_seq) WHERE state = 'PENDING';
   CREATE INDEX deliveries_deadline ON deliveries (expires_at_ms) WHERE state IN ('PENDING', 'SENT');
   CREATE INDEX deliveries_outbox ON deliveries (outbox_lease_until_ms) WHERE outbox_json IS NOT NULL;
   CREATE TABLE limiters (key TEXT PRIMARY KEY, state_json TEXT NOT NULL);`,
  // 3: calls in flight, to recognise a call interrupted by a crash.
  `ALTER TABLE deliveries ADD COLUMN call_started_at_ms INTEGER;`,
  // 4: Meta's ids of uploaded media-store blobs, per business number (getMetaMedia / putMetaMedia by primary key).
  `CREATE TABLE meta_media (
     tenant_id TEXT NOT NULL, phone_number_id TEXT NOT NULL, media_id TEXT NOT NULL, meta_media_id TEXT NOT NULL,
     uploaded_at_ms INTEGER NOT NULL, reuse_until_ms INTEGER NOT NULL,
     PRIMARY KEY (tenant_id, phone_number_id, media_id)
   );`,
  // 5: listForCustomer and eraseCustomer: one customer's deliveries, by message id (issue 14).
  `CREATE INDEX deliveries_by_recipient ON deliveries (tenant_id, recipient, message_id);`,
];

interface DeliveryRow {
  tenant_id: string;
  message_id: string;
  phone_number_id: string;
  recipient: string;
  lane_seq: number;
  content_json: string | null;
  state: string;
  attempts: number;
  wa_message_id: string | null;
  last_error_code: number | null;
  last_error_title: string | null;
  next_attempt_at_ms: number | null;
  accepted_at_ms: number;
  expires_at_ms: number;
  updated_at_ms: number;
  trace_context: string | null;
  version: number;
  lease_owner: string | null;
  lease_until_ms: number;
  outbox_json: string | null;
  call_started_at_ms: number | null;
}

function toStored(row: DeliveryRow): StoredDelivery {
  const delivery: Delivery = {
    tenantId: row.tenant_id,
    messageId: row.message_id,
    phoneNumberId: row.phone_number_id,
    to: row.recipient,
    laneSeq: row.lane_seq,
    state: row.state as DeliveryState,
    attempts: row.attempts,
    acceptedAt: new Date(row.accepted_at_ms),
    expiresAt: new Date(row.expires_at_ms),
    updatedAt: new Date(row.updated_at_ms),
    ...(row.content_json !== null ? { content: JSON.parse(row.content_json) as DeliveryContent } : {}),
    ...(row.wa_message_id !== null ? { waMessageId: row.wa_message_id } : {}),
    ...(row.last_error_code !== null ? { lastErrorCode: row.last_error_code } : {}),
    ...(row.last_error_title !== null ? { lastErrorTitle: row.last_error_title } : {}),
    ...(row.next_attempt_at_ms !== null ? { nextAttemptAt: new Date(row.next_attempt_at_ms) } : {}),
    ...(row.trace_context !== null ? { traceContext: row.trace_context } : {}),
  };
  return {
    delivery,
    version: row.version,
    ...(row.lease_owner !== null && row.lease_until_ms > 0
      ? { leaseOwner: row.lease_owner, leaseUntil: new Date(row.lease_until_ms) }
      : {}),
    ...(row.call_started_at_ms !== null ? { callStartedAt: new Date(row.call_started_at_ms) } : {}),
  };
}

function parseOutbox(json: string | null): StoredDeliveryEvent[] {
  return json ? (JSON.parse(json) as StoredDeliveryEvent[]) : [];
}

function appendOutbox(json: string | null, event: DeliveryEvent | undefined): string | null {
  if (!event) return json;
  const outbox = parseOutbox(json);
  // One entry per event id, the first: the same id is the same fact (DeliveryStore.update).
  if (outbox.some((stored) => stored.eventId === event.eventId)) return json;
  return JSON.stringify([...outbox, toStoredEvent(event)]);
}

/** The smallest string greater than every string starting with `prefix`. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/**
 * The embedded DeliveryStore: one SQLite file (WAL, synchronous commits). Several replicas on one machine may share
 * the file: every read-modify-write runs in an IMMEDIATE transaction, which SQLite serialises across processes.
 *
 * Durable writes (intake, the call-started mark, outcomes, erasure, the media cache) go through a group commit
 * (issue 15): the writes of concurrent deliveries queued in one event-loop turn share one transaction and one fsync,
 * each in its own savepoint, and each promise resolves only after that COMMIT, so every caller still acts on a
 * durable write.
 */
export class SqliteDeliveryStore implements DeliveryStore, MetaMediaCache {
  /** Commits durably (synchronous=FULL): intake, the call-started mark and outcomes, which others act on. */
  private readonly db: SqliteDatabase;
  /**
   * A second connection to the same file for writes that need not survive a power cut on their own: leases,
   * pacing state, outbox clean-up. It skips the fsync (synchronous=NORMAL: still safe when the process is killed);
   * the next durable commit, which every send makes, writes them to disk anyway.
   */
  private readonly soft: SqliteDatabase;
  /** Batches the durable writes of one event-loop turn into one transaction (one fsync). */
  private readonly writes: SqliteGroupCommit;
  /** Prepared statements per connection, by SQL text. */
  private readonly sql: (text: string) => Statement;
  private readonly softSql: (text: string) => Statement;
  /** Runs `work` in an IMMEDIATE transaction on the soft connection (one transaction function, made once). */
  private readonly softWrite: <T>(work: () => T) => T;

  constructor(
    file: string,
    /** Seals content at rest under the recipient's data key (issue 14): unreadable once the customer is erased. */
    private readonly sealer: CustomerSealer,
  ) {
    this.db = openSqliteDatabase(file, MIGRATIONS);
    this.soft = new Database(file);
    this.soft.pragma('journal_mode = WAL');
    this.soft.pragma('synchronous = NORMAL');
    this.soft.pragma('busy_timeout = 5000');
    this.soft.pragma('secure_delete = ON');
    // The WAL is synced off the event loop (issue 15). Reads whose result leaves the process (admin, export, the
    // outbox's events) go through writes.read, so they return only durable writes. claimDue and listExpired need not:
    // nothing they return leaves the process before a durable write of its own (markCallStarted before the call, the
    // outcome with its outbox), and that write's sync covers every WAL frame before it.
    this.writes = new SqliteGroupCommit(this.db, { syncOffLoop: true });
    this.sql = statementCache(this.db);
    this.softSql = statementCache(this.soft);
    const softTransaction = this.soft.transaction((work: () => unknown) => work());
    this.softWrite = <T>(work: () => T) => softTransaction.immediate(work) as T;
  }

  /** The stored delivery with its content opened (none when the customer's key was destroyed: erased). */
  private async opened(row: DeliveryRow): Promise<StoredDelivery> {
    const stored = toStored({ ...row, content_json: null });
    return openDeliveryContent(this.sealer, stored, row.content_json);
  }

  private row(tenantId: string, messageId: string): DeliveryRow | undefined {
    return this.sql('SELECT * FROM deliveries WHERE tenant_id = ? AND message_id = ?').get(tenantId, messageId) as DeliveryRow | undefined;
  }

  async insertIfAbsent(delivery: Delivery, event?: DeliveryEvent): Promise<{ inserted: boolean; stored: StoredDelivery }> {
    const content =
      delivery.content && !CONTENT_FREE_STATES.has(delivery.state)
        ? await sealDeliveryContent(this.sealer, delivery, delivery.content)
        : null;
    const { inserted, row } = await this.writes.run(() => {
      const result = this.sql(
        `INSERT INTO deliveries (tenant_id, message_id, phone_number_id, recipient, lane_seq, content_json, state, attempts, wa_message_id,
               last_error_code, last_error_title, next_attempt_at_ms, accepted_at_ms, expires_at_ms, updated_at_ms, trace_context, outbox_json)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (tenant_id, message_id) DO NOTHING`,
      ).run(
        delivery.tenantId,
        delivery.messageId,
        delivery.phoneNumberId,
        delivery.to,
        delivery.laneSeq,
        content,
        delivery.state,
        delivery.attempts,
        delivery.waMessageId ?? null,
        delivery.lastErrorCode ?? null,
        delivery.lastErrorTitle ?? null,
        delivery.state === 'PENDING' ? (delivery.nextAttemptAt ?? delivery.acceptedAt).getTime() : null,
        delivery.acceptedAt.getTime(),
        delivery.expiresAt.getTime(),
        delivery.updatedAt.getTime(),
        delivery.traceContext ?? null,
        appendOutbox(null, event),
      );
      return { inserted: result.changes === 1, row: this.row(delivery.tenantId, delivery.messageId) as DeliveryRow };
    });
    if (!inserted) return { inserted, stored: await this.opened(row) };
    // Just stored: its content is the one given (sealed above), so it is not opened again (one AES-GCM less per intake).
    const stored = toStored({ ...row, content_json: null });
    return { inserted, stored: content === null ? stored : { ...stored, delivery: { ...stored.delivery, content: delivery.content } } };
  }

  async get(tenantId: string, messageId: string): Promise<StoredDelivery | undefined> {
    const row = await this.writes.read(() => this.row(tenantId, messageId));
    return row ? this.opened(row) : undefined;
  }

  async claimDue(options: {
    now: Date;
    limit: number;
    owner: string;
    leaseMs: number;
    excludePhoneNumberIds: readonly string[];
  }): Promise<StoredDelivery[]> {
    const now = options.now.getTime();
    const claimed = this.softWrite(() => {
      const rows = this.softSql(
        `SELECT * FROM deliveries d
             WHERE d.state = 'PENDING' AND d.next_attempt_at_ms <= @now AND d.lease_until_ms <= @now
               AND d.phone_number_id NOT IN (SELECT value FROM json_each(@excluded))
               AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.state = 'PENDING' AND e.phone_number_id = d.phone_number_id
                                 AND e.recipient = d.recipient AND e.lane_seq < d.lane_seq)
             ORDER BY d.next_attempt_at_ms LIMIT @limit`,
      ).all({ now, excluded: JSON.stringify(options.excludePhoneNumberIds), limit: options.limit }) as DeliveryRow[];
      const lease = this.softSql(
        'UPDATE deliveries SET lease_owner = ?, lease_until_ms = ?, version = version + 1 WHERE tenant_id = ? AND message_id = ?',
      );
      return rows.map((row) => {
        lease.run(options.owner, now + options.leaseMs, row.tenant_id, row.message_id);
        return { ...row, lease_owner: options.owner, lease_until_ms: now + options.leaseMs, version: row.version + 1 };
      });
    });
    return Promise.all(claimed.map((row) => this.opened(row)));
  }

  async update(
    tenantId: string,
    messageId: string,
    expectedVersion: number,
    update: DeliveryUpdate,
    event?: DeliveryEvent,
  ): Promise<boolean> {
    return this.writes.run(() => {
      const current = this.sql('SELECT version, outbox_json FROM deliveries WHERE tenant_id = ? AND message_id = ?').get(
        tenantId,
        messageId,
      ) as { version: number; outbox_json: string | null } | undefined;
      if (!current || current.version !== expectedVersion) return false;
      this.sql(
        `UPDATE deliveries SET state = ?, attempts = ?, wa_message_id = COALESCE(?, wa_message_id), last_error_code = ?,
               last_error_title = ?, next_attempt_at_ms = ?, updated_at_ms = ?,
               content_json = CASE WHEN ? THEN NULL ELSE content_json END,
               version = version + 1, lease_owner = NULL, lease_until_ms = 0, outbox_json = ?, call_started_at_ms = NULL
             WHERE tenant_id = ? AND message_id = ?`,
      ).run(
        update.state,
        update.attempts,
        update.waMessageId ?? null,
        update.lastErrorCode ?? null,
        update.lastErrorTitle ?? null,
        update.state === 'PENDING' ? (update.nextAttemptAt ?? update.updatedAt).getTime() : null,
        update.updatedAt.getTime(),
        CONTENT_FREE_STATES.has(update.state) ? 1 : 0,
        appendOutbox(current.outbox_json, event),
        tenantId,
        messageId,
      );
      return true;
    });
  }

  /**
   * Durable (FULL) before the call, as before issue 15; it now shares its commit with the other writes of the turn.
   * Not folded into the claim's lease: the lease is written before the pacing wait, so a crash during that wait would
   * look like an interrupted call and hold the message for the reconciliation grace; and the version check here, just
   * before the call, is what keeps a delivery that a webhook settled meanwhile from being sent again.
   */
  async markCallStarted(tenantId: string, messageId: string, expectedVersion: number, at: Date): Promise<boolean> {
    return this.writes.run(
      () =>
        this.sql('UPDATE deliveries SET call_started_at_ms = ? WHERE tenant_id = ? AND message_id = ? AND version = ?').run(
          at.getTime(),
          tenantId,
          messageId,
          expectedVersion,
        ).changes === 1,
    );
  }

  async listExpired(now: Date, limit: number): Promise<StoredDelivery[]> {
    const rows = this.sql(
      `SELECT * FROM deliveries WHERE state IN ('PENDING', 'SENT') AND expires_at_ms <= @now AND lease_until_ms <= @now
         ORDER BY expires_at_ms LIMIT @limit`,
    ).all({ now: now.getTime(), limit }) as DeliveryRow[];
    return Promise.all(rows.map((row) => this.opened(row)));
  }

  async claimAnnouncements(options: { now: Date; limit: number; leaseMs: number }): Promise<PendingAnnouncements[]> {
    const now = options.now.getTime();
    // Through writes.read: the events leave the process, so the outbox entries must be durable first.
    return this.writes.read(() =>
      this.softWrite(() => {
        const rows = this.softSql(
          `SELECT tenant_id, message_id, outbox_json FROM deliveries
             WHERE outbox_json IS NOT NULL AND outbox_lease_until_ms <= ? ORDER BY outbox_lease_until_ms LIMIT ?`,
        ).all(now, options.limit) as { tenant_id: string; message_id: string; outbox_json: string }[];
        const lease = this.softSql('UPDATE deliveries SET outbox_lease_until_ms = ? WHERE tenant_id = ? AND message_id = ?');
        return rows.map((row) => {
          lease.run(now + options.leaseMs, row.tenant_id, row.message_id);
          return { tenantId: row.tenant_id, messageId: row.message_id, events: parseOutbox(row.outbox_json).map(fromStoredEvent) };
        });
      }),
    );
  }

  async markAnnounced(tenantId: string, messageId: string, eventIds: readonly string[]): Promise<void> {
    this.softWrite(() => {
      const row = this.softSql('SELECT outbox_json FROM deliveries WHERE tenant_id = ? AND message_id = ?').get(tenantId, messageId) as
        { outbox_json: string | null } | undefined;
      if (!row) return;
      const left = parseOutbox(row.outbox_json).filter((event) => !eventIds.includes(event.eventId));
      this.softSql('UPDATE deliveries SET outbox_json = ?, outbox_lease_until_ms = 0 WHERE tenant_id = ? AND message_id = ?').run(
        left.length > 0 ? JSON.stringify(left) : null,
        tenantId,
        messageId,
      );
    });
  }

  async changeLimiters<R>(changes: readonly { key: string; change: LimiterChange<R> }[]): Promise<R[]> {
    const read = this.softSql('SELECT state_json FROM limiters WHERE key = ?');
    const write = this.softSql(
      'INSERT INTO limiters (key, state_json) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET state_json = excluded.state_json',
    );
    return this.softWrite(() =>
      changes.map(({ key, change }) => {
        const row = read.get(key) as { state_json: string } | undefined;
        const current = row ? (JSON.parse(row.state_json) as LimiterState) : undefined;
        const { next, result } = change(current);
        // Most changes are no-ops (a closed circuit stays closed); skipping them saves a write.
        if (next !== current) write.run(key, JSON.stringify(next));
        return result;
      }),
    );
  }

  async listLimiters(prefix: string): Promise<{ key: string; state: LimiterState }[]> {
    const rows = await this.writes.read(
      () =>
        this.sql('SELECT key, state_json FROM limiters WHERE key >= ? AND key < ?').all(prefix, prefixEnd(prefix)) as {
          key: string;
          state_json: string;
        }[],
    );
    return rows.map((row) => ({ key: row.key, state: JSON.parse(row.state_json) as LimiterState }));
  }

  async pruneLimiters(prefix: string, idleBefore: Date): Promise<number> {
    return this.softSql(
      "DELETE FROM limiters WHERE key >= ? AND key < ? AND json_extract(state_json, '$.tatMs') < ? AND COALESCE(json_extract(state_json, '$.pairBackoffExponent'), 0) = 0",
    ).run(prefix, prefixEnd(prefix), idleBefore.getTime()).changes;
  }

  async backlog(): Promise<DeliveryBacklog> {
    const pending = this.sql("SELECT COUNT(*) AS n, MIN(accepted_at_ms) AS oldest FROM deliveries WHERE state = 'PENDING'").get() as {
      n: number;
      oldest: number | null;
    };
    const unannounced = this.sql('SELECT COUNT(*) AS n FROM deliveries WHERE outbox_json IS NOT NULL').get() as { n: number };
    return {
      pending: pending.n,
      ...(pending.oldest !== null ? { oldestPendingAcceptedAt: new Date(pending.oldest) } : {}),
      unannounced: unannounced.n,
    };
  }

  async getMetaMedia(tenantId: string, phoneNumberId: string, mediaId: string): Promise<MetaMediaEntry | undefined> {
    const row = this.sql('SELECT * FROM meta_media WHERE tenant_id = ? AND phone_number_id = ? AND media_id = ?').get(
      tenantId,
      phoneNumberId,
      mediaId,
    ) as { meta_media_id: string; uploaded_at_ms: number; reuse_until_ms: number } | undefined;
    if (!row) return undefined;
    return {
      tenantId,
      phoneNumberId,
      mediaId,
      metaMediaId: row.meta_media_id,
      uploadedAt: new Date(row.uploaded_at_ms),
      reuseUntil: new Date(row.reuse_until_ms),
    };
  }

  async putMetaMedia(entry: MetaMediaEntry): Promise<void> {
    await this.writes.run(() =>
      this.sql(
        `INSERT INTO meta_media (tenant_id, phone_number_id, media_id, meta_media_id, uploaded_at_ms, reuse_until_ms) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, phone_number_id, media_id) DO UPDATE SET
         meta_media_id = excluded.meta_media_id, uploaded_at_ms = excluded.uploaded_at_ms, reuse_until_ms = excluded.reuse_until_ms`,
      ).run(entry.tenantId, entry.phoneNumberId, entry.mediaId, entry.metaMediaId, entry.uploadedAt.getTime(), entry.reuseUntil.getTime()),
    );
  }

  async listForCustomer(
    tenantId: string,
    to: string,
    page: { readonly afterMessageId?: string; readonly limit: number },
  ): Promise<StoredDelivery[]> {
    const rows = await this.writes.read(
      () =>
        this.sql('SELECT * FROM deliveries WHERE tenant_id = ? AND recipient = ? AND message_id > ? ORDER BY message_id LIMIT ?').all(
          tenantId,
          to,
          page.afterMessageId ?? '',
          page.limit,
        ) as DeliveryRow[],
    );
    return Promise.all(rows.map((row) => this.opened(row)));
  }

  async eraseCustomer(subject: CustomerDataSubject): Promise<number> {
    return this.writes.run(() => {
      const rows = this.sql('SELECT message_id, outbox_json FROM deliveries WHERE tenant_id = ? AND recipient = ?').all(
        subject.tenantId,
        subject.customer,
      ) as { message_id: string; outbox_json: string | null }[];
      // Not the version: an outcome being recorded for a delivery in flight must still land (it is never re-sent).
      const erase = this.sql(
        'UPDATE deliveries SET recipient = ?, content_json = NULL, outbox_json = ? WHERE tenant_id = ? AND message_id = ?',
      );
      for (const row of rows) {
        const outbox = row.outbox_json ? JSON.stringify(pseudonymiseStoredEvents(parseOutbox(row.outbox_json), subject.customerRef)) : null;
        erase.run(subject.customerRef, outbox, subject.tenantId, row.message_id);
      }
      // Pair pacing states name the recipient (`pair:<phone number id>:<to>`).
      // (E.164 holds no LIKE wildcard.)
      const limiters = this.sql('DELETE FROM limiters WHERE key LIKE ?').run(`pair:%:${subject.customer}`).changes;
      return rows.length + limiters;
    });
  }

  async flushDeleted(): Promise<void> {
    await checkpointWalTruncate(this.db);
  }

  async close(): Promise<void> {
    // Commits whatever is queued before the connection goes.
    this.writes.close();
    this.soft.close();
    this.db.close();
  }
}
