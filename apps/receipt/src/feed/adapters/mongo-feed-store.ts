import { MongoBulkWriteError, type Collection, type Document, type Filter } from 'mongodb';
import { applyMongoMigrations, isDuplicateKeyError, type MongoDatabase, type MongoMigration } from '@waygate/storage';
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

/** An event as stored (and as a message's pending event, without tenant and sequence). */
interface PendingEventDocument {
  eventId: string;
  type: 'status' | 'inbound';
  occurredAt: Date;
  recordedAt: Date;
  status?: MessageStatusChange;
  inbound?: InboundMessage;
}

interface EventDocument extends PendingEventDocument {
  _id: string; // `${tenantId}/${eventId}`: the unique (tenant, event id) key that makes appends idempotent.
  tenantId: string;
  sequence: number; // unique with tenantId (index `tenant_sequence`): the arbiter of who gets a sequence.
  messageId?: string;
  customer?: string;
}

interface MessageDocument {
  _id: string; // `${tenantId}/${messageId}`
  tenantId: string;
  messageId: string;
  status: string;
  /** null (or absent, in documents written before) when unknown. */
  waMessageId?: string | null;
  recipient?: string | null;
  failureSurfaced: boolean;
  /** null (or absent, in documents written before content types) when unknown. */
  contentType?: string | null;
  contentSummary?: string | null;
  /** Compare-and-set token: a decision is stored only on the version it was made from. */
  version: number;
  /** Events decided with the state but not yet confirmed in the log (see applyToMessage). */
  pending: PendingEventDocument[];
  updatedAt: Date;
}

interface EndpointDocument {
  _id: string; // `${tenantId}/${endpointId}`
  tenantId: string;
  endpointId: string;
  cursor: number;
  consecutiveFailures: number;
  openUntil: Date | null;
}

interface DeliveryDocument {
  _id: string; // `${tenantId}/${endpointId}/${eventId}`
  tenantId: string;
  endpointId: string;
  eventId: string;
  sequence: number;
  messageKey: string;
  body: string;
  state: CallbackDeliveryState;
  attempts: number;
  queuedAt: Date;
  nextAttemptAt: Date;
  leaseToken: string | null;
  leaseUntil: Date | null;
  lastError?: string | null;
  deliveredAt?: Date | null;
  deadAt?: Date | null;
}

function toPendingDocument(event: NewTenantEvent): PendingEventDocument {
  const base = { eventId: event.eventId, type: event.type, occurredAt: event.occurredAt, recordedAt: event.recordedAt };
  return event.type === 'status' ? { ...base, status: stripUndefined(event.status) } : { ...base, inbound: stripUndefined(event.inbound) };
}

function fromPendingDocument(tenantId: string, doc: PendingEventDocument): NewTenantEvent {
  const base = { tenantId, eventId: doc.eventId, occurredAt: doc.occurredAt, recordedAt: doc.recordedAt };
  return doc.type === 'status'
    ? { ...base, type: 'status', status: doc.status as MessageStatusChange }
    : { ...base, type: 'inbound', inbound: doc.inbound as InboundMessage };
}

function toEvent(doc: EventDocument): TenantEvent {
  return { ...fromPendingDocument(doc.tenantId, doc), sequence: doc.sequence } as TenantEvent;
}

function toDelivery(doc: DeliveryDocument): CallbackDelivery {
  return {
    tenantId: doc.tenantId,
    endpointId: doc.endpointId,
    eventId: doc.eventId,
    sequence: doc.sequence,
    messageKey: doc.messageKey,
    body: doc.body,
    state: doc.state,
    attempts: doc.attempts,
    queuedAt: doc.queuedAt,
    nextAttemptAt: doc.nextAttemptAt,
    ...(doc.lastError !== undefined && doc.lastError !== null ? { lastError: doc.lastError } : {}),
    ...(doc.deliveredAt ? { deliveredAt: doc.deliveredAt } : {}),
    ...(doc.deadAt ? { deadAt: doc.deadAt } : {}),
    ...(doc.leaseUntil ? { leaseUntil: doc.leaseUntil } : {}),
  };
}

/**
 * The update (an aggregation pipeline, so that "keep the last error if set" is one atomic write) that carries out a
 * callback delivery change (feed-store.ts). Values are `$literal`, so no string is ever read as a field path.
 */
function changeUpdate(change: CallbackDeliveryChange): Document[] {
  const literal = (value: unknown) => ({ $literal: value });
  const set: Record<string, unknown> = {
    leaseToken: literal(change.lease?.token ?? null),
    leaseUntil: literal(change.lease?.until ?? null),
  };
  if (change.state !== undefined) set.state = literal(change.state);
  if (change.attempts === 'increment') set.attempts = { $add: [{ $ifNull: ['$attempts', 0] }, 1] };
  else if (change.attempts !== undefined) set.attempts = literal(change.attempts);
  if (change.queuedAt !== undefined) set.queuedAt = literal(change.queuedAt);
  if (change.nextAttemptAt !== undefined) set.nextAttemptAt = literal(change.nextAttemptAt);
  if (change.deliveredAt !== undefined) set.deliveredAt = literal(change.deliveredAt);
  if (change.deadAt !== undefined) set.deadAt = literal(change.deadAt);
  if (change.lastError !== null && typeof change.lastError === 'object') {
    set.lastError = { $ifNull: ['$lastError', literal(change.lastError.keepOr)] };
  } else if (change.lastError !== undefined) {
    set.lastError = literal(change.lastError);
  }
  return [{ $set: set }];
}

function toEndpoint(doc: EndpointDocument): EndpointState {
  return { cursor: doc.cursor, consecutiveFailures: doc.consecutiveFailures, ...(doc.openUntil ? { openUntil: doc.openUntil } : {}) };
}

/** Not leased, or the lease ran out. `null` also matches a missing field. */
const leaseFree = (now: Date): Filter<DeliveryDocument> => ({ $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }] });

/** An event appended concurrently by another writer settles within this many conflicts; more means a bug. */
const MAX_CONFLICTS = 1000;

/**
 * A claim skips messages whose earliest pending delivery is not due (their later deliveries wait for it); it stops
 * looking after this many such messages in one call (the next call goes on from the start).
 */
const MAX_BLOCKED_KEYS_PER_CLAIM = 1000;

/**
 * Versioned data migrations of this store's MongoDB collections (version = position, recorded in `schema_migrations`
 * as `receipt-feed`); only appended. Indexes are ensured at every open.
 */
const MONGO_MIGRATIONS: readonly MongoMigration[] = [];

/**
 * The production TenantFeedStore. MongoDB gives no multi-document atomicity without transactions, so:
 * - A sequence is taken by inserting the event at `last + 1`; the unique (tenant, sequence) index lets exactly one
 *   writer have it, the other retries higher. A sequence therefore exists only once its event is committed, and
 *   `n + 1` can only be inserted after `n` was: readers (majority read concern) never see a gap that fills later.
 *   See docs/decisions/0004-tenant-feed-sequences.md.
 * - The unique `_id` (tenant/event id) makes the same insert idempotent.
 * - A message's state and the events decided from it are written together (compare-and-set on `version`, events
 *   kept in `pending`), then the events are appended and removed from `pending`. Whoever finds `pending` non-empty
 *   (a redelivery after a crash, another replica) appends them first, so a decision is never lost nor taken on a
 *   stale state.
 */
export class MongoFeedStore implements TenantFeedStore {
  private readonly events: Collection<EventDocument>;
  private readonly messages: Collection<MessageDocument>;
  private readonly endpoints: Collection<EndpointDocument>;
  private readonly deliveries: Collection<DeliveryDocument>;

  private constructor(mongo: MongoDatabase) {
    this.events = mongo.db.collection<EventDocument>('feed_events');
    this.messages = mongo.db.collection<MessageDocument>('feed_messages');
    this.endpoints = mongo.db.collection<EndpointDocument>('feed_callback_endpoints');
    this.deliveries = mongo.db.collection<DeliveryDocument>('feed_callback_deliveries');
  }

  static async open(mongo: MongoDatabase): Promise<MongoFeedStore> {
    const store = new MongoFeedStore(mongo);
    // The log's order and the sequence arbiter; also serves readEvents, lastSequence, firstSequence, prune.
    await store.events.createIndex({ tenantId: 1, sequence: 1 }, { name: 'tenant_sequence', unique: true });
    // prune
    await store.messages.createIndex({ updatedAt: 1 }, { name: 'by_updated_at' });
    await store.deliveries.createIndexes([
      // claimDeliveries, nextAttemptAt
      { key: { tenantId: 1, endpointId: 1, state: 1, nextAttemptAt: 1 }, name: 'due' },
      // claimDeliveries: the earliest pending delivery of each message
      { key: { tenantId: 1, endpointId: 1, messageKey: 1, state: 1, sequence: 1 }, name: 'by_message' },
      // listDeadLetters
      { key: { tenantId: 1, state: 1, endpointId: 1, sequence: 1 }, name: 'by_state' },
      // prune
      { key: { state: 1, deliveredAt: 1 }, name: 'delivered_at' },
      { key: { state: 1, deadAt: 1 }, name: 'dead_at' },
    ]);
    await applyMongoMigrations(mongo.db, 'receipt-feed', MONGO_MIGRATIONS);
    return store;
  }

  async applyToMessage(
    tenantId: string,
    messageId: string,
    at: Date,
    decide: (state: MessageFeedState | undefined) => MessageDecision | undefined,
  ): Promise<TenantEvent[]> {
    const _id = `${tenantId}/${messageId}`;
    const appended: TenantEvent[] = [];
    for (let conflicts = 0; conflicts < MAX_CONFLICTS; conflicts++) {
      const doc = await this.messages.findOne({ _id });
      if (doc && doc.pending.length > 0) {
        // An earlier decision's events may not be in the log yet: append them before deciding anything new.
        appended.push(...(await this.flushPending(_id, tenantId, doc.pending)));
        continue;
      }
      const decision = decide(doc ? fromStoredFeedState(doc) : undefined);
      if (!decision) return appended;
      const pending = decision.events.map(toPendingDocument);
      const fields = { ...toStoredFeedState(decision.state), pending, updatedAt: at };
      if (doc) {
        const result = await this.messages.updateOne({ _id, version: doc.version }, { $set: fields, $inc: { version: 1 } });
        if (result.matchedCount === 0) continue; // Someone decided first: decide again on their state.
      } else {
        try {
          await this.messages.insertOne({ _id, tenantId, messageId, version: 1, ...fields });
        } catch (error) {
          if (isDuplicateKeyError(error)) continue;
          throw error;
        }
      }
      appended.push(...(await this.flushPending(_id, tenantId, pending)));
      return appended;
    }
    throw new Error(`message ${messageId} of tenant ${tenantId}: too many concurrent updates`);
  }

  /** Appends a message's pending events in order (idempotently), then drops them from `pending`. */
  private async flushPending(messageDocId: string, tenantId: string, pending: readonly PendingEventDocument[]): Promise<TenantEvent[]> {
    const appended: TenantEvent[] = [];
    for (const event of pending) {
      const added = await this.appendEvent(fromPendingDocument(tenantId, event));
      if (added) appended.push(added);
    }
    await this.messages.updateOne(
      { _id: messageDocId },
      { $pull: { pending: { eventId: { $in: pending.map((event) => event.eventId) } } } },
    );
    return appended;
  }

  async appendEvent(event: NewTenantEvent): Promise<TenantEvent | undefined> {
    const _id = `${event.tenantId}/${event.eventId}`;
    const document = {
      _id,
      tenantId: event.tenantId,
      ...toPendingDocument(event),
      ...(messageIdOf(event) !== undefined ? { messageId: messageIdOf(event) } : {}),
      ...(customerOf(event) !== undefined ? { customer: customerOf(event) } : {}),
    };
    let sequence = (await this.lastSequence(event.tenantId)) + 1;
    for (let conflicts = 0; conflicts < MAX_CONFLICTS; conflicts++) {
      try {
        await this.events.insertOne({ ...document, sequence });
        return { ...event, sequence } as TenantEvent;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        const keyPattern = (error as { keyPattern?: Record<string, unknown> }).keyPattern;
        const duplicateEvent = keyPattern ? '_id' in keyPattern : (await this.events.countDocuments({ _id }, { limit: 1 })) > 0;
        if (duplicateEvent) return undefined;
        // Another writer took this sequence: go past it.
        sequence = Math.max(sequence + 1, (await this.lastSequence(event.tenantId)) + 1);
      }
    }
    throw new Error(`tenant ${event.tenantId}: could not take a sequence`);
  }

  async lastSequence(tenantId: string): Promise<number> {
    const newest = await this.events.findOne({ tenantId }, { sort: { sequence: -1 }, projection: { sequence: 1 } });
    return newest?.sequence ?? 0;
  }

  async firstSequence(tenantId: string): Promise<number | undefined> {
    const oldest = await this.events.findOne({ tenantId }, { sort: { sequence: 1 }, projection: { sequence: 1 } });
    return oldest?.sequence;
  }

  async eraseCustomer(tenantId: string, customer: string, customerRef: string): Promise<{ events: number; deliveries: number }> {
    let events = 0;
    let deliveries = 0;
    // In pages: a customer's history can be long. Each rewritten event no longer matches the number.
    for (;;) {
      const docs = await this.events.find({ tenantId, customer }).sort({ sequence: 1 }).limit(500).toArray();
      if (docs.length === 0) break;
      for (const doc of docs) {
        const erased = erasedEventOf(toEvent(doc), customerRef);
        // The deliveries first: a crash in between leaves the event under the number, found again by the next call.
        deliveries += (await this.deliveries.deleteMany({ tenantId, eventId: doc.eventId })).deletedCount;
        await this.events.updateOne(
          { _id: doc._id },
          erased.type === 'status'
            ? { $set: { status: erased.status, customer: customerRef } }
            : { $set: { inbound: erased.inbound, customer: customerRef } },
        );
        events++;
      }
    }
    await this.messages.updateMany({ tenantId, recipient: customer }, { $set: { recipient: customerRef, contentSummary: null } });
    return { events, deliveries };
  }

  async readEvents(tenantId: string, query: EventQuery): Promise<TenantEvent[]> {
    const filter: Filter<EventDocument> = {
      tenantId,
      sequence: { $gt: query.after, ...(query.upTo !== undefined ? { $lte: query.upTo } : {}) },
    };
    const { messageIds, customers, types } = query.filter ?? {};
    if (messageIds) filter.messageId = { $in: [...messageIds] };
    if (customers) filter.customer = { $in: [...customers] };
    if (types) filter.type = { $in: [...types] };
    const docs = await this.events.find(filter).sort({ sequence: 1 }).limit(query.limit).toArray();
    return docs.map(toEvent);
  }

  async prune(before: Date): Promise<number> {
    let deleted = 0;
    for (const tenantId of await this.events.distinct('tenantId')) {
      // Each tenant's newest event stays, so the next append continues its sequence.
      const last = await this.lastSequence(tenantId);
      deleted += (await this.events.deleteMany({ tenantId, recordedAt: { $lt: before }, sequence: { $lt: last } })).deletedCount;
    }
    await this.deliveries.deleteMany({ state: 'delivered', deliveredAt: { $lt: before } });
    await this.deliveries.deleteMany({ state: 'dead', deadAt: { $lt: before } });
    await this.messages.deleteMany({ updatedAt: { $lt: before }, pending: { $size: 0 } });
    return deleted;
  }

  async initEndpoint(tenantId: string, endpointId: string): Promise<EndpointState> {
    const _id = `${tenantId}/${endpointId}`;
    const existing = await this.endpoints.findOne({ _id });
    if (existing) return toEndpoint(existing);
    try {
      await this.endpoints.updateOne(
        { _id },
        { $setOnInsert: { tenantId, endpointId, cursor: await this.lastSequence(tenantId), consecutiveFailures: 0, openUntil: null } },
        { upsert: true },
      );
    } catch (error) {
      // Two replicas created it at once; either's document is right.
      if (!isDuplicateKeyError(error)) throw error;
    }
    return toEndpoint((await this.endpoints.findOne({ _id })) as EndpointDocument);
  }

  async getEndpoint(tenantId: string, endpointId: string): Promise<EndpointState | undefined> {
    const doc = await this.endpoints.findOne({ _id: `${tenantId}/${endpointId}` });
    return doc ? toEndpoint(doc) : undefined;
  }

  async enqueueDeliveries(
    tenantId: string,
    endpointId: string,
    deliveries: readonly CallbackDeliveryDraft[],
    cursor: number,
  ): Promise<void> {
    if (deliveries.length > 0) {
      try {
        await this.deliveries.insertMany(
          deliveries.map((d) => ({
            _id: `${tenantId}/${endpointId}/${d.eventId}`,
            tenantId,
            endpointId,
            eventId: d.eventId,
            sequence: d.sequence,
            messageKey: d.messageKey,
            body: d.body,
            state: 'pending' as const,
            attempts: 0,
            queuedAt: d.queuedAt,
            nextAttemptAt: d.queuedAt,
            leaseToken: null,
            leaseUntil: null,
          })),
          { ordered: false },
        );
      } catch (error) {
        // Another replica queued some of them already: those are duplicates, the rest were inserted.
        if (!(error instanceof MongoBulkWriteError) || ![error.writeErrors].flat().every((writeError) => writeError.code === 11000))
          throw error;
      }
    }
    await this.endpoints.updateOne({ _id: `${tenantId}/${endpointId}` }, { $max: { cursor } });
  }

  async claimDeliveries(
    tenantId: string,
    endpointId: string,
    options: { now: Date; limit: number; leaseToken: string; leaseUntil: Date },
  ): Promise<CallbackDelivery[]> {
    const due: Filter<DeliveryDocument> = { state: 'pending', nextAttemptAt: { $lte: options.now }, ...leaseFree(options.now) };
    const pageSize = options.limit * 4 + 10;
    const claimed: CallbackDelivery[] = [];
    // Message keys already looked at: only a message's earliest pending delivery may go out, and candidates come in
    // sequence order, so a key's later candidates are never its head. Skipping them in the next pages means a
    // message with many deliveries waiting behind one that is not due hides no other message's deliveries.
    const seenKeys = new Set<string>();
    let afterSequence = 0;
    while (claimed.length < options.limit && seenKeys.size <= MAX_BLOCKED_KEYS_PER_CLAIM) {
      const page = await this.deliveries
        .find({ tenantId, endpointId, ...due, sequence: { $gt: afterSequence }, messageKey: { $nin: [...seenKeys] } })
        .sort({ sequence: 1 })
        .limit(pageSize)
        .toArray();
      if (page.length === 0) break;
      const heads = await this.deliveries
        .aggregate<{ _id: string; sequence: number }>([
          { $match: { tenantId, endpointId, state: 'pending', messageKey: { $in: [...new Set(page.map((c) => c.messageKey))] } } },
          { $group: { _id: '$messageKey', sequence: { $min: '$sequence' } } },
        ])
        .toArray();
      const headOf = new Map(heads.map((head) => [head._id, head.sequence]));
      for (const candidate of page) {
        if (claimed.length >= options.limit) break;
        if (seenKeys.has(candidate.messageKey)) continue;
        seenKeys.add(candidate.messageKey);
        if (headOf.get(candidate.messageKey) !== candidate.sequence) continue;
        // The conditional update is the lease: of several replicas claiming at once, one matches.
        const won = await this.deliveries.findOneAndUpdate(
          { _id: candidate._id, ...due },
          changeUpdate(claimChange(options.leaseToken, options.leaseUntil)),
          { returnDocument: 'after' },
        );
        if (won) claimed.push(toDelivery(won));
      }
      if (page.length < pageSize) break;
      afterSequence = page[page.length - 1].sequence;
    }
    return claimed;
  }

  async completeDelivery(
    tenantId: string,
    endpointId: string,
    eventId: string,
    leaseToken: string,
    outcome: DeliveryOutcome,
  ): Promise<boolean> {
    const result = await this.deliveries.updateOne(
      { _id: `${tenantId}/${endpointId}/${eventId}`, leaseToken, state: 'pending' },
      changeUpdate(completionChange(outcome)),
    );
    return result.matchedCount === 1;
  }

  async nextAttemptAt(tenantId: string, endpointId: string): Promise<Date | undefined> {
    // Only each message's earliest pending delivery can go out; the ones behind it are due when it is done.
    const [next] = await this.deliveries
      .aggregate<{ nextAttemptAt: Date }>([
        { $match: { tenantId, endpointId, state: 'pending' } },
        { $sort: { messageKey: 1, sequence: 1 } },
        { $group: { _id: '$messageKey', head: { $first: '$nextAttemptAt' } } },
        { $group: { _id: null, nextAttemptAt: { $min: '$head' } } },
      ])
      .toArray();
    return next?.nextAttemptAt;
  }

  async parkExpired(tenantId: string, endpointId: string, options: { queuedBefore: Date; at: Date; error: string }): Promise<number> {
    const result = await this.deliveries.updateMany(
      { tenantId, endpointId, state: 'pending', queuedAt: { $lt: options.queuedBefore }, ...leaseFree(options.at) },
      changeUpdate(parkChange(options.at, options.error)),
    );
    return result.matchedCount;
  }

  async getDelivery(tenantId: string, endpointId: string, eventId: string): Promise<CallbackDelivery | undefined> {
    const doc = await this.deliveries.findOne({ _id: `${tenantId}/${endpointId}/${eventId}` });
    return doc ? toDelivery(doc) : undefined;
  }

  async recordEndpointSuccess(tenantId: string, endpointId: string): Promise<void> {
    await this.endpoints.updateOne({ _id: `${tenantId}/${endpointId}` }, { $set: { consecutiveFailures: 0, openUntil: null } });
  }

  async recordEndpointFailure(
    tenantId: string,
    endpointId: string,
    options: { threshold: number; openUntil: Date },
  ): Promise<EndpointState> {
    // One atomic pipeline update: count the failure and, from the threshold on, (re)open the breaker.
    const doc = await this.endpoints.findOneAndUpdate(
      { _id: `${tenantId}/${endpointId}` },
      [
        { $set: { consecutiveFailures: { $add: [{ $ifNull: ['$consecutiveFailures', 0] }, 1] } } },
        { $set: { openUntil: { $cond: [{ $gte: ['$consecutiveFailures', options.threshold] }, options.openUntil, '$openUntil'] } } },
      ],
      { returnDocument: 'after' },
    );
    if (!doc) throw new Error(`callback endpoint ${tenantId}/${endpointId} was not initialised`);
    return toEndpoint(doc);
  }

  async tryTakeProbe(tenantId: string, endpointId: string, options: { now: Date; until: Date }): Promise<boolean> {
    const result = await this.endpoints.updateOne(
      { _id: `${tenantId}/${endpointId}`, openUntil: { $ne: null, $lte: options.now } },
      { $set: { openUntil: options.until } },
    );
    // Matched, not modified, as SQLite counts it: a probe whose `until` equals the old `openUntil` is taken too.
    return result.matchedCount === 1;
  }

  async listDeadLetters(
    tenantId: string,
    options: { endpointId?: string; after?: { endpointId: string; sequence: number }; limit: number },
  ): Promise<CallbackDelivery[]> {
    const filter: Filter<DeliveryDocument> = { tenantId, state: 'dead' };
    if (options.endpointId !== undefined) filter.endpointId = options.endpointId;
    if (options.after) {
      filter.$or = [
        { endpointId: { $gt: options.after.endpointId } },
        { endpointId: options.after.endpointId, sequence: { $gt: options.after.sequence } },
      ];
    }
    const docs = await this.deliveries.find(filter).sort({ endpointId: 1, sequence: 1 }).limit(options.limit).toArray();
    return docs.map(toDelivery);
  }

  async replayDeadLetters(tenantId: string, endpointId: string, eventIds: readonly string[] | 'all', now: Date): Promise<number> {
    const result = await this.deliveries.updateMany(
      { tenantId, endpointId, state: 'dead', ...(eventIds === 'all' ? {} : { eventId: { $in: [...eventIds] } }) },
      changeUpdate(replayChange(now)),
    );
    return result.matchedCount;
  }

  async close(): Promise<void> {
    // The connection belongs to whoever opened it.
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
