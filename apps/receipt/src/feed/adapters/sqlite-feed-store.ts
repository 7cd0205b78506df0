import type { Statement } from 'better-sqlite3';
import { checkpointWalTruncate, openSqliteDatabase, SqliteGroupCommit, statementCache, type SqliteDatabase } from '@waygate/storage';
import type { MessageFeedState } from '../domain/feed-rules';
import {
  claimChange,
  completionChange,
  fromStoredFeedState,
  parkChange,
  replayChange,
  toStoredFeedState,
  type CallbackDelivery,
  type CallbackDeliveryChange,
  type CallbackDeliveryDraft,
  type CallbackDeliveryState,
  type DeliveryOutcome,
  type EndpointState,
  type EventQuery,
  type MessageDecision,
  type TenantFeedStore,
} from '../domain/feed-store';
import {
  customerOf,
  erasedEventOf,
  messageIdOf,
  type InboundMessage,
  type MessageStatusChange,
  type NewTenantEvent,
  type TenantEvent,
} from '../domain/tenant-event';

// The feed keeps its own SQLite file: `schema_migrations` numbers migrations per file, so sharing receipt's file
// would mix two migration lists.
const MIGRATIONS = [
  `CREATE TABLE feed_events (
     tenant_id TEXT NOT NULL,
     sequence INTEGER NOT NULL,
     event_id TEXT NOT NULL,
     type TEXT NOT NULL CHECK (type IN ('status', 'inbound')),
     message_id TEXT,
     customer TEXT,
     occurred_at_ms INTEGER NOT NULL,
     recorded_at_ms INTEGER NOT NULL,
     payload_json TEXT NOT NULL,
     -- The log's order, and what makes a sequence unique per tenant.
     PRIMARY KEY (tenant_id, sequence),
     -- Idempotent appends.
     UNIQUE (tenant_id, event_id)
   );
   -- prune
   CREATE INDEX feed_events_by_recorded_at ON feed_events (recorded_at_ms);
   CREATE TABLE feed_messages (
     tenant_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     status TEXT NOT NULL,
     wa_message_id TEXT,
     recipient TEXT,
     failure_surfaced INTEGER NOT NULL,
     updated_at_ms INTEGER NOT NULL,
     PRIMARY KEY (tenant_id, message_id)
   );
   CREATE TABLE feed_callback_endpoints (
     tenant_id TEXT NOT NULL,
     endpoint_id TEXT NOT NULL,
     cursor INTEGER NOT NULL,
     consecutive_failures INTEGER NOT NULL DEFAULT 0,
     open_until_ms INTEGER,
     PRIMARY KEY (tenant_id, endpoint_id)
   );
   CREATE TABLE feed_callback_deliveries (
     tenant_id TEXT NOT NULL,
     endpoint_id TEXT NOT NULL,
     event_id TEXT NOT NULL,
     sequence INTEGER NOT NULL,
     message_key TEXT NOT NULL,
     body TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
     attempts INTEGER NOT NULL DEFAULT 0,
     queued_at_ms INTEGER NOT NULL,
     next_attempt_at_ms INTEGER NOT NULL,
     lease_token TEXT,
     lease_until_ms INTEGER,
     last_error TEXT,
     delivered_at_ms INTEGER,
     dead_at_ms INTEGER,
     PRIMARY KEY (tenant_id, endpoint_id, event_id)
   );
   -- claimDeliveries, nextAttemptAt
   CREATE INDEX feed_callback_deliveries_due ON feed_callback_deliveries (tenant_id, endpoint_id, state, next_attempt_at_ms);
   -- claimDeliveries: is an earlier delivery of the same message still pending?
   CREATE INDEX feed_callback_deliveries_by_message ON feed_callback_deliveries (tenant_id, endpoint_id, message_key, state, sequence);
   -- listDeadLetters
   CREATE INDEX feed_callback_deliveries_by_state ON feed_callback_deliveries (tenant_id, state, endpoint_id, sequence);`,
  // Every content kind (issue 11): what an accepted message carries, shown on its status events.
  `ALTER TABLE feed_messages ADD COLUMN content_type TEXT;
   ALTER TABLE feed_messages ADD COLUMN content_summary TEXT;`,
];

interface EventRow {
  tenant_id: string;
  sequence: number;
  event_id: string;
  type: 'status' | 'inbound';
  occurred_at_ms: number;
  recorded_at_ms: number;
  payload_json: string;
}

interface DeliveryRow {
  tenant_id: string;
  endpoint_id: string;
  event_id: string;
  sequence: number;
  message_key: string;
  body: string;
  state: CallbackDeliveryState;
  attempts: number;
  queued_at_ms: number;
  next_attempt_at_ms: number;
  lease_until_ms: number | null;
  last_error: string | null;
  delivered_at_ms: number | null;
  dead_at_ms: number | null;
}

interface EndpointRow {
  cursor: number;
  consecutive_failures: number;
  open_until_ms: number | null;
}

function payloadJson(event: NewTenantEvent): string {
  if (event.type === 'status') return JSON.stringify(event.status);
  const { serviceWindowClosesAt, ...rest } = event.inbound;
  return JSON.stringify({ ...rest, ...(serviceWindowClosesAt ? { serviceWindowClosesAtMs: serviceWindowClosesAt.getTime() } : {}) });
}

function toEvent(row: EventRow): TenantEvent {
  const base = {
    tenantId: row.tenant_id,
    sequence: row.sequence,
    eventId: row.event_id,
    occurredAt: new Date(row.occurred_at_ms),
    recordedAt: new Date(row.recorded_at_ms),
  };
  if (row.type === 'status') return { ...base, type: 'status', status: JSON.parse(row.payload_json) as MessageStatusChange };
  const { serviceWindowClosesAtMs, ...inbound } = JSON.parse(row.payload_json) as Omit<InboundMessage, 'serviceWindowClosesAt'> & {
    serviceWindowClosesAtMs?: number;
  };
  return {
    ...base,
    type: 'inbound',
    inbound: { ...inbound, ...(serviceWindowClosesAtMs === undefined ? {} : { serviceWindowClosesAt: new Date(serviceWindowClosesAtMs) }) },
  };
}

function toDelivery(row: DeliveryRow): CallbackDelivery {
  return {
    tenantId: row.tenant_id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    sequence: row.sequence,
    messageKey: row.message_key,
    body: row.body,
    state: row.state,
    attempts: row.attempts,
    queuedAt: new Date(row.queued_at_ms),
    nextAttemptAt: new Date(row.next_attempt_at_ms),
    ...(row.last_error !== null ? { lastError: row.last_error } : {}),
    ...(row.delivered_at_ms !== null ? { deliveredAt: new Date(row.delivered_at_ms) } : {}),
    ...(row.dead_at_ms !== null ? { deadAt: new Date(row.dead_at_ms) } : {}),
    ...(row.lease_until_ms !== null ? { leaseUntil: new Date(row.lease_until_ms) } : {}),
  };
}

/** The `SET` list (and its parameters) that carries out a callback delivery change (feed-store.ts). */
function setClause(change: CallbackDeliveryChange): { sql: string; params: (string | number | null)[] } {
  const parts: string[] = [];
  const params: (string | number | null)[] = [];
  const set = (column: string, value: string | number | null) => {
    parts.push(`${column} = ?`);
    params.push(value);
  };
  if (change.state !== undefined) set('state', change.state);
  if (change.attempts === 'increment') parts.push('attempts = attempts + 1');
  else if (change.attempts !== undefined) set('attempts', change.attempts);
  if (change.queuedAt !== undefined) set('queued_at_ms', change.queuedAt.getTime());
  if (change.nextAttemptAt !== undefined) set('next_attempt_at_ms', change.nextAttemptAt.getTime());
  if (change.deliveredAt !== undefined) set('delivered_at_ms', change.deliveredAt?.getTime() ?? null);
  if (change.deadAt !== undefined) set('dead_at_ms', change.deadAt?.getTime() ?? null);
  if (change.lastError !== null && typeof change.lastError === 'object') {
    parts.push('last_error = COALESCE(last_error, ?)');
    params.push(change.lastError.keepOr);
  } else if (change.lastError !== undefined) {
    set('last_error', change.lastError);
  }
  set('lease_token', change.lease?.token ?? null);
  set('lease_until_ms', change.lease?.until.getTime() ?? null);
  return { sql: parts.join(', '), params };
}

function toEndpoint(row: EndpointRow): EndpointState {
  return {
    cursor: row.cursor,
    consecutiveFailures: row.consecutive_failures,
    ...(row.open_until_ms !== null ? { openUntil: new Date(row.open_until_ms) } : {}),
  };
}

const placeholders = (count: number) => Array.from({ length: count }, () => '?').join(', ');

/** SQLite limits bound parameters per statement; id lists are processed in chunks of this size. */
const ID_CHUNK = 500;

/**
 * The embedded TenantFeedStore. Every write runs through one group commit for the file (issue 15): the writes queued
 * in one event-loop turn (the feed consumer's concurrent events, the callback lanes) share one `BEGIN IMMEDIATE`
 * transaction, each in its own savepoint, and each promise settles after the COMMIT. The transaction takes the write
 * lock before reading, so even two processes sharing the file assign sequences one after the other.
 */
export class SqliteFeedStore implements TenantFeedStore {
  private readonly db: SqliteDatabase;
  private readonly writes: SqliteGroupCommit;
  /** Statements of fixed SQL, prepared once. */
  private readonly sql: (sql: string) => Statement;

  constructor(file: string) {
    this.db = openSqliteDatabase(file, MIGRATIONS);
    // The WAL is synced off the event loop (issue 15). Every read goes through writes.read, so a stream or callback
    // never carries an event (or a sequence number) that a power loss could still take back.
    this.writes = new SqliteGroupCommit(this.db, { syncOffLoop: true });
    this.sql = statementCache(this.db);
  }

  private appendInTransaction(event: NewTenantEvent): TenantEvent | undefined {
    const known = this.sql('SELECT 1 FROM feed_events WHERE tenant_id = ? AND event_id = ?').get(event.tenantId, event.eventId);
    if (known) return undefined;
    const sequence =
      (this.sql('SELECT MAX(sequence) FROM feed_events WHERE tenant_id = ?').pluck().get(event.tenantId) as number | null) ?? 0;
    const appended = { ...event, sequence: sequence + 1 } as TenantEvent;
    this.sql(
      `INSERT INTO feed_events (tenant_id, sequence, event_id, type, message_id, customer, occurred_at_ms, recorded_at_ms, payload_json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      event.tenantId,
      appended.sequence,
      event.eventId,
      event.type,
      messageIdOf(event) ?? null,
      customerOf(event) ?? null,
      event.occurredAt.getTime(),
      event.recordedAt.getTime(),
      payloadJson(event),
    );
    return appended;
  }

  async applyToMessage(
    tenantId: string,
    messageId: string,
    at: Date,
    decide: (state: MessageFeedState | undefined) => MessageDecision | undefined,
  ): Promise<TenantEvent[]> {
    return this.writes.run((): TenantEvent[] => {
      const row = this.sql(
        `SELECT status, wa_message_id, recipient, failure_surfaced, content_type, content_summary FROM feed_messages
           WHERE tenant_id = ? AND message_id = ?`,
      ).get(tenantId, messageId) as
        | {
            status: string;
            wa_message_id: string | null;
            recipient: string | null;
            failure_surfaced: number;
            content_type: string | null;
            content_summary: string | null;
          }
        | undefined;
      const state: MessageFeedState | undefined =
        row &&
        fromStoredFeedState({
          status: row.status,
          waMessageId: row.wa_message_id,
          recipient: row.recipient,
          failureSurfaced: row.failure_surfaced === 1,
          contentType: row.content_type,
          contentSummary: row.content_summary,
        });
      const decision = decide(state);
      if (!decision) return [];
      const next = toStoredFeedState(decision.state);
      this.sql(
        `INSERT INTO feed_messages (tenant_id, message_id, status, wa_message_id, recipient, failure_surfaced, content_type,
             content_summary, updated_at_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (tenant_id, message_id) DO UPDATE SET status = excluded.status, wa_message_id = excluded.wa_message_id,
             recipient = excluded.recipient, failure_surfaced = excluded.failure_surfaced, content_type = excluded.content_type,
             content_summary = excluded.content_summary, updated_at_ms = excluded.updated_at_ms`,
      ).run(
        tenantId,
        messageId,
        next.status,
        next.waMessageId,
        next.recipient,
        next.failureSurfaced ? 1 : 0,
        next.contentType,
        next.contentSummary,
        at.getTime(),
      );
      return decision.events.flatMap((event) => this.appendInTransaction(event) ?? []);
    });
  }

  async appendEvent(event: NewTenantEvent): Promise<TenantEvent | undefined> {
    return this.writes.run(() => this.appendInTransaction(event));
  }

  async lastSequence(tenantId: string): Promise<number> {
    return (
      (await this.writes.read(
        () => this.sql('SELECT MAX(sequence) FROM feed_events WHERE tenant_id = ?').pluck().get(tenantId) as number | null,
      )) ?? 0
    );
  }

  async firstSequence(tenantId: string): Promise<number | undefined> {
    return (
      (await this.writes.read(
        () => this.sql('SELECT MIN(sequence) FROM feed_events WHERE tenant_id = ?').pluck().get(tenantId) as number | null,
      )) ?? undefined
    );
  }

  async eraseCustomer(tenantId: string, customer: string, customerRef: string): Promise<{ events: number; deliveries: number }> {
    return this.writes.run(() => {
      const rows = this.db.prepare('SELECT * FROM feed_events WHERE tenant_id = ? AND customer = ?').all(tenantId, customer) as EventRow[];
      const rewrite = this.db.prepare('UPDATE feed_events SET payload_json = ?, customer = ? WHERE tenant_id = ? AND sequence = ?');
      const dropDeliveries = this.db.prepare('DELETE FROM feed_callback_deliveries WHERE tenant_id = ? AND event_id = ?');
      let deliveries = 0;
      for (const row of rows) {
        rewrite.run(payloadJson(erasedEventOf(toEvent(row), customerRef)), customerRef, tenantId, row.sequence);
        deliveries += dropDeliveries.run(tenantId, row.event_id).changes;
      }
      this.db
        .prepare('UPDATE feed_messages SET recipient = ?, content_summary = NULL WHERE tenant_id = ? AND recipient = ?')
        .run(customerRef, tenantId, customer);
      return { events: rows.length, deliveries };
    });
  }

  /** `wal_checkpoint(TRUNCATE)`, retried while readers keep it busy: an erasure's deletions leave the -wal file. */
  async checkpointWal(): Promise<void> {
    await checkpointWalTruncate(this.db);
  }

  async readEvents(tenantId: string, query: EventQuery): Promise<TenantEvent[]> {
    const conditions = ['tenant_id = ?', 'sequence > ?'];
    const params: (string | number)[] = [tenantId, query.after];
    if (query.upTo !== undefined) {
      conditions.push('sequence <= ?');
      params.push(query.upTo);
    }
    const { messageIds, customers, types } = query.filter ?? {};
    if (messageIds) {
      conditions.push(`message_id IN (${placeholders(messageIds.length)})`);
      params.push(...messageIds);
    }
    if (customers) {
      conditions.push(`customer IN (${placeholders(customers.length)})`);
      params.push(...customers);
    }
    if (types) {
      conditions.push(`type IN (${placeholders(types.length)})`);
      params.push(...types);
    }
    const rows = await this.writes.read(
      () =>
        this.db
          .prepare(`SELECT * FROM feed_events WHERE ${conditions.join(' AND ')} ORDER BY sequence LIMIT ?`)
          .all(...params, query.limit) as EventRow[],
    );
    return rows.map(toEvent);
  }

  async prune(before: Date): Promise<number> {
    const cutoff = before.getTime();
    return this.writes.run(() => {
      const deleted = this.db
        .prepare(
          `DELETE FROM feed_events WHERE recorded_at_ms < ?
               AND sequence < (SELECT MAX(newest.sequence) FROM feed_events AS newest WHERE newest.tenant_id = feed_events.tenant_id)`,
        )
        .run(cutoff).changes;
      this.db
        .prepare(
          `DELETE FROM feed_callback_deliveries WHERE (state = 'delivered' AND delivered_at_ms < ?) OR (state = 'dead' AND dead_at_ms < ?)`,
        )
        .run(cutoff, cutoff);
      this.db.prepare('DELETE FROM feed_messages WHERE updated_at_ms < ?').run(cutoff);
      return deleted;
    });
  }

  async initEndpoint(tenantId: string, endpointId: string): Promise<EndpointState> {
    return this.writes.run(() => {
      this.db
        .prepare(
          `INSERT INTO feed_callback_endpoints (tenant_id, endpoint_id, cursor)
             VALUES (?, ?, (SELECT COALESCE(MAX(sequence), 0) FROM feed_events WHERE tenant_id = ?))
             ON CONFLICT DO NOTHING`,
        )
        .run(tenantId, endpointId, tenantId);
      return toEndpoint(this.endpointRow(tenantId, endpointId) as EndpointRow);
    });
  }

  private endpointRow(tenantId: string, endpointId: string): EndpointRow | undefined {
    return this.sql(
      'SELECT cursor, consecutive_failures, open_until_ms FROM feed_callback_endpoints WHERE tenant_id = ? AND endpoint_id = ?',
    ).get(tenantId, endpointId) as EndpointRow | undefined;
  }

  async getEndpoint(tenantId: string, endpointId: string): Promise<EndpointState | undefined> {
    const row = await this.writes.read(() => this.endpointRow(tenantId, endpointId));
    return row && toEndpoint(row);
  }

  async enqueueDeliveries(
    tenantId: string,
    endpointId: string,
    deliveries: readonly CallbackDeliveryDraft[],
    cursor: number,
  ): Promise<void> {
    const insert = this.sql(
      `INSERT INTO feed_callback_deliveries (tenant_id, endpoint_id, event_id, sequence, message_key, body, state, queued_at_ms, next_attempt_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)
       ON CONFLICT DO NOTHING`,
    );
    await this.writes.run(() => {
      for (const d of deliveries) {
        insert.run(tenantId, endpointId, d.eventId, d.sequence, d.messageKey, d.body, d.queuedAt.getTime(), d.queuedAt.getTime());
      }
      this.sql('UPDATE feed_callback_endpoints SET cursor = MAX(cursor, ?) WHERE tenant_id = ? AND endpoint_id = ?').run(
        cursor,
        tenantId,
        endpointId,
      );
    });
  }

  async claimDeliveries(
    tenantId: string,
    endpointId: string,
    options: { now: Date; limit: number; leaseToken: string; leaseUntil: Date },
  ): Promise<CallbackDelivery[]> {
    const now = options.now.getTime();
    return this.writes.run(() => {
      const rows = this.sql(
        `SELECT * FROM feed_callback_deliveries AS d
             WHERE d.tenant_id = ? AND d.endpoint_id = ? AND d.state = 'pending' AND d.next_attempt_at_ms <= ?
               AND (d.lease_until_ms IS NULL OR d.lease_until_ms <= ?)
               AND NOT EXISTS (
                 SELECT 1 FROM feed_callback_deliveries AS earlier
                 WHERE earlier.tenant_id = d.tenant_id AND earlier.endpoint_id = d.endpoint_id AND earlier.message_key = d.message_key
                   AND earlier.state = 'pending' AND earlier.sequence < d.sequence)
             ORDER BY d.sequence
             LIMIT ?`,
      ).all(tenantId, endpointId, now, now, options.limit) as DeliveryRow[];
      const { sql, params } = setClause(claimChange(options.leaseToken, options.leaseUntil));
      const lease = this.sql(`UPDATE feed_callback_deliveries SET ${sql} WHERE tenant_id = ? AND endpoint_id = ? AND event_id = ?`);
      for (const row of rows) lease.run(...params, tenantId, endpointId, row.event_id);
      return rows.map((row) => toDelivery({ ...row, lease_until_ms: options.leaseUntil.getTime() }));
    });
  }

  async completeDelivery(
    tenantId: string,
    endpointId: string,
    eventId: string,
    leaseToken: string,
    outcome: DeliveryOutcome,
  ): Promise<boolean> {
    const { sql, params } = setClause(completionChange(outcome));
    const changes = await this.writes.run(
      () =>
        this.sql(
          `UPDATE feed_callback_deliveries SET ${sql}
           WHERE tenant_id = ? AND endpoint_id = ? AND event_id = ? AND lease_token = ? AND state = 'pending'`,
        ).run(...params, tenantId, endpointId, eventId, leaseToken).changes,
    );
    return changes === 1;
  }

  async nextAttemptAt(tenantId: string, endpointId: string): Promise<Date | undefined> {
    const ms = await this.writes.read(
      () =>
        this.sql(
          `SELECT MIN(d.next_attempt_at_ms) FROM feed_callback_deliveries AS d
             WHERE d.tenant_id = ? AND d.endpoint_id = ? AND d.state = 'pending'
               AND NOT EXISTS (
                 SELECT 1 FROM feed_callback_deliveries AS earlier
                 WHERE earlier.tenant_id = d.tenant_id AND earlier.endpoint_id = d.endpoint_id AND earlier.message_key = d.message_key
                   AND earlier.state = 'pending' AND earlier.sequence < d.sequence)`,
        )
          .pluck()
          .get(tenantId, endpointId) as number | null,
    );
    return ms === null ? undefined : new Date(ms);
  }

  async parkExpired(tenantId: string, endpointId: string, options: { queuedBefore: Date; at: Date; error: string }): Promise<number> {
    const { sql, params } = setClause(parkChange(options.at, options.error));
    return this.writes.run(
      () =>
        this.sql(
          `UPDATE feed_callback_deliveries SET ${sql}
         WHERE tenant_id = ? AND endpoint_id = ? AND state = 'pending' AND queued_at_ms < ?
           AND (lease_until_ms IS NULL OR lease_until_ms <= ?)`,
        ).run(...params, tenantId, endpointId, options.queuedBefore.getTime(), options.at.getTime()).changes,
    );
  }

  async getDelivery(tenantId: string, endpointId: string, eventId: string): Promise<CallbackDelivery | undefined> {
    const row = await this.writes.read(
      () =>
        this.sql('SELECT * FROM feed_callback_deliveries WHERE tenant_id = ? AND endpoint_id = ? AND event_id = ?').get(
          tenantId,
          endpointId,
          eventId,
        ) as DeliveryRow | undefined,
    );
    return row && toDelivery(row);
  }

  async recordEndpointSuccess(tenantId: string, endpointId: string): Promise<void> {
    await this.writes.run(() =>
      this.sql(
        'UPDATE feed_callback_endpoints SET consecutive_failures = 0, open_until_ms = NULL WHERE tenant_id = ? AND endpoint_id = ?',
      ).run(tenantId, endpointId),
    );
  }

  async recordEndpointFailure(
    tenantId: string,
    endpointId: string,
    options: { threshold: number; openUntil: Date },
  ): Promise<EndpointState> {
    const row = await this.writes.run(
      () =>
        this.sql(
          `UPDATE feed_callback_endpoints
         SET consecutive_failures = consecutive_failures + 1,
             open_until_ms = CASE WHEN consecutive_failures + 1 >= ? THEN ? ELSE open_until_ms END
         WHERE tenant_id = ? AND endpoint_id = ?
         RETURNING cursor, consecutive_failures, open_until_ms`,
        ).get(options.threshold, options.openUntil.getTime(), tenantId, endpointId) as EndpointRow | undefined,
    );
    if (!row) throw new Error(`callback endpoint ${tenantId}/${endpointId} was not initialised`);
    return toEndpoint(row);
  }

  async tryTakeProbe(tenantId: string, endpointId: string, options: { now: Date; until: Date }): Promise<boolean> {
    const changes = await this.writes.run(
      () =>
        this.sql(
          `UPDATE feed_callback_endpoints SET open_until_ms = ?
           WHERE tenant_id = ? AND endpoint_id = ? AND open_until_ms IS NOT NULL AND open_until_ms <= ?`,
        ).run(options.until.getTime(), tenantId, endpointId, options.now.getTime()).changes,
    );
    return changes === 1;
  }

  async listDeadLetters(
    tenantId: string,
    options: { endpointId?: string; after?: { endpointId: string; sequence: number }; limit: number },
  ): Promise<CallbackDelivery[]> {
    const conditions = [`tenant_id = ?`, `state = 'dead'`];
    const params: (string | number)[] = [tenantId];
    if (options.endpointId !== undefined) {
      conditions.push('endpoint_id = ?');
      params.push(options.endpointId);
    }
    if (options.after) {
      conditions.push('(endpoint_id > ? OR (endpoint_id = ? AND sequence > ?))');
      params.push(options.after.endpointId, options.after.endpointId, options.after.sequence);
    }
    const rows = await this.writes.read(
      () =>
        this.db
          .prepare(`SELECT * FROM feed_callback_deliveries WHERE ${conditions.join(' AND ')} ORDER BY endpoint_id, sequence LIMIT ?`)
          .all(...params, options.limit) as DeliveryRow[],
    );
    return rows.map(toDelivery);
  }

  async replayDeadLetters(tenantId: string, endpointId: string, eventIds: readonly string[] | 'all', now: Date): Promise<number> {
    const { sql, params } = setClause(replayChange(now));
    const set = `UPDATE feed_callback_deliveries SET ${sql} WHERE tenant_id = ? AND endpoint_id = ? AND state = 'dead'`;
    return this.writes.run(() => {
      if (eventIds === 'all') return this.db.prepare(set).run(...params, tenantId, endpointId).changes;
      let replayed = 0;
      for (let start = 0; start < eventIds.length; start += ID_CHUNK) {
        const chunk = eventIds.slice(start, start + ID_CHUNK);
        replayed += this.db
          .prepare(`${set} AND event_id IN (${placeholders(chunk.length)})`)
          .run(...params, tenantId, endpointId, ...chunk).changes;
      }
      return replayed;
    });
  }

  /** Commits what is queued, then closes the file. */
  async close(): Promise<void> {
    this.writes.close();
    this.db.close();
  }
}
