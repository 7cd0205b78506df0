import type { Collection, Filter } from 'mongodb';
import type { CustomerDataSubject } from '@waygate/domain';
import type { CustomerSealer } from '@waygate/keyring';
import { applyMongoMigrations, isDuplicateKeyError, type MongoDatabase, type MongoMigration } from '@waygate/storage';
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
import { openDeliveryContent, pseudonymiseStoredEvents, sealDeliveryContent } from './delivery-content-sealing';
import { fromStoredEvent, toStoredEvent, type StoredDeliveryEvent } from './delivery-event-codec';

interface DeliveryDocument {
  _id: string; // `${tenantId}/${messageId}`
  tenantId: string;
  messageId: string;
  phoneNumberId: string;
  to: string;
  laneSeq: number;
  /** Documents stored before content was sealed at rest. */
  content?: DeliveryContent | null;
  /** The content's JSON sealed under the recipient's data key; null once deleted. */
  sealedContent?: string | null;
  state: DeliveryState;
  attempts: number;
  waMessageId?: string | null;
  lastErrorCode?: number | null;
  lastErrorTitle?: string | null;
  /** null unless PENDING, so the due index only holds pending deliveries' times. */
  nextAttemptAtMs: number | null;
  acceptedAtMs: number;
  expiresAtMs: number;
  updatedAtMs: number;
  traceContext?: string | null;
  version: number;
  leaseOwner: string | null;
  leaseUntilMs: number;
  outbox: StoredDeliveryEvent[];
  hasOutbox: boolean;
  outboxLeaseUntilMs: number;
  callStartedAtMs?: number | null;
}

/** One uploaded media id; `_id` is the JSON array [tenantId, phoneNumberId, mediaId] (getMetaMedia / putMetaMedia by _id). */
interface MetaMediaDocument {
  _id: string;
  tenantId: string;
  phoneNumberId: string;
  mediaId: string;
  metaMediaId: string;
  uploadedAtMs: number;
  reuseUntilMs: number;
}

interface LimiterDocument {
  _id: string;
  state: LimiterState;
  version: number;
}

const idOf = (tenantId: string, messageId: string) => `${tenantId}/${messageId}`;
const LIMITER_WRITE_ATTEMPTS = 20;
/** A claim stops looking after this many lanes in one call (the next call starts afresh). */
const MAX_LANES_PER_CLAIM = 1000;

function toStored(doc: DeliveryDocument): StoredDelivery {
  const delivery: Delivery = {
    tenantId: doc.tenantId,
    messageId: doc.messageId,
    phoneNumberId: doc.phoneNumberId,
    to: doc.to,
    laneSeq: doc.laneSeq,
    state: doc.state,
    attempts: doc.attempts,
    acceptedAt: new Date(doc.acceptedAtMs),
    expiresAt: new Date(doc.expiresAtMs),
    updatedAt: new Date(doc.updatedAtMs),
    ...(doc.content ? { content: doc.content } : {}),
    ...(typeof doc.waMessageId === 'string' ? { waMessageId: doc.waMessageId } : {}),
    ...(typeof doc.lastErrorCode === 'number' ? { lastErrorCode: doc.lastErrorCode } : {}),
    ...(typeof doc.lastErrorTitle === 'string' ? { lastErrorTitle: doc.lastErrorTitle } : {}),
    ...(doc.nextAttemptAtMs !== null ? { nextAttemptAt: new Date(doc.nextAttemptAtMs) } : {}),
    ...(typeof doc.traceContext === 'string' ? { traceContext: doc.traceContext } : {}),
  };
  return {
    delivery,
    version: doc.version,
    ...(doc.leaseOwner && doc.leaseUntilMs > 0 ? { leaseOwner: doc.leaseOwner, leaseUntil: new Date(doc.leaseUntilMs) } : {}),
    ...(typeof doc.callStartedAtMs === 'number' ? { callStartedAt: new Date(doc.callStartedAtMs) } : {}),
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Versioned data migrations of this store's MongoDB collections (version = position, recorded in `schema_migrations`
 * as `delivery-retry`); only appended. Indexes are ensured at every open.
 */
const MONGO_MIGRATIONS: readonly MongoMigration[] = [];

/**
 * The production DeliveryStore. Every conditional write is one single-document operation guarded by `version`, so
 * replicas need no multi-document transactions: a delivery's state, lease and outbox live in one document, and a
 * limiter is one small document updated with optimistic concurrency.
 */
export class MongoDeliveryStore implements DeliveryStore, MetaMediaCache {
  private constructor(
    private readonly deliveries: Collection<DeliveryDocument>,
    private readonly limiters: Collection<LimiterDocument>,
    private readonly metaMedia: Collection<MetaMediaDocument>,
    /** Seals content at rest under the recipient's data key (issue 14): unreadable once the customer is erased. */
    private readonly sealer: CustomerSealer,
  ) {}

  /** The stored delivery with its content opened (none when the customer's key was destroyed: erased). */
  private opened(doc: DeliveryDocument): Promise<StoredDelivery> {
    return openDeliveryContent(this.sealer, toStored(doc), doc.sealedContent);
  }

  static async open(mongo: MongoDatabase, sealer: CustomerSealer): Promise<MongoDeliveryStore> {
    const deliveries = mongo.db.collection<DeliveryDocument>('deliveries');
    const limiters = mongo.db.collection<LimiterDocument>('delivery_limiters');
    await deliveries.createIndexes([
      { key: { nextAttemptAtMs: 1 }, name: 'due', partialFilterExpression: { state: 'PENDING' } },
      { key: { phoneNumberId: 1, to: 1, laneSeq: 1 }, name: 'lane', partialFilterExpression: { state: 'PENDING' } },
      { key: { state: 1, expiresAtMs: 1 }, name: 'deadline' },
      { key: { outboxLeaseUntilMs: 1 }, name: 'outbox', partialFilterExpression: { hasOutbox: true } },
      // listForCustomer and eraseCustomer.
      { key: { tenantId: 1, to: 1, messageId: 1 }, name: 'by_customer' },
    ]);
    await applyMongoMigrations(mongo.db, 'delivery-retry', MONGO_MIGRATIONS);
    return new MongoDeliveryStore(deliveries, limiters, mongo.db.collection<MetaMediaDocument>('delivery_meta_media'), sealer);
  }

  async insertIfAbsent(delivery: Delivery, event?: DeliveryEvent): Promise<{ inserted: boolean; stored: StoredDelivery }> {
    const outbox = event ? [toStoredEvent(event)] : [];
    const keepsContent = delivery.content && !CONTENT_FREE_STATES.has(delivery.state);
    const sealedContent = keepsContent && delivery.content ? await sealDeliveryContent(this.sealer, delivery, delivery.content) : null;
    const doc: DeliveryDocument = {
      _id: idOf(delivery.tenantId, delivery.messageId),
      tenantId: delivery.tenantId,
      messageId: delivery.messageId,
      phoneNumberId: delivery.phoneNumberId,
      to: delivery.to,
      laneSeq: delivery.laneSeq,
      content: null,
      sealedContent,
      state: delivery.state,
      attempts: delivery.attempts,
      waMessageId: delivery.waMessageId ?? null,
      lastErrorCode: delivery.lastErrorCode ?? null,
      lastErrorTitle: delivery.lastErrorTitle ?? null,
      nextAttemptAtMs: delivery.state === 'PENDING' ? (delivery.nextAttemptAt ?? delivery.acceptedAt).getTime() : null,
      acceptedAtMs: delivery.acceptedAt.getTime(),
      expiresAtMs: delivery.expiresAt.getTime(),
      updatedAtMs: delivery.updatedAt.getTime(),
      traceContext: delivery.traceContext ?? null,
      version: 1,
      leaseOwner: null,
      leaseUntilMs: 0,
      outbox,
      hasOutbox: outbox.length > 0,
      outboxLeaseUntilMs: 0,
    };
    try {
      await this.deliveries.insertOne(doc);
      return { inserted: true, stored: await this.opened(doc) };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await this.deliveries.findOne({ _id: doc._id });
      if (!existing) throw error;
      return { inserted: false, stored: await this.opened(existing) };
    }
  }

  async get(tenantId: string, messageId: string): Promise<StoredDelivery | undefined> {
    const doc = await this.deliveries.findOne({ _id: idOf(tenantId, messageId) });
    return doc ? this.opened(doc) : undefined;
  }

  async claimDue(options: {
    now: Date;
    limit: number;
    owner: string;
    leaseMs: number;
    excludePhoneNumberIds: readonly string[];
  }): Promise<StoredDelivery[]> {
    const now = options.now.getTime();
    const due: Filter<DeliveryDocument> = {
      state: 'PENDING',
      nextAttemptAtMs: { $lte: now },
      leaseUntilMs: { $lte: now },
      ...(options.excludePhoneNumberIds.length > 0 ? { phoneNumberId: { $nin: [...options.excludePhoneNumberIds] } } : {}),
    };
    const claimed: StoredDelivery[] = [];
    // Every due delivery reveals a lane with work; only the lane's first PENDING delivery may go. Each lane is looked
    // at once and left out of the next pages, so a lane whose head waits (many deliveries behind a 131049, say) costs
    // one look, and hides no other lane.
    const seen = new Set<string>();
    const seenLanes: Filter<DeliveryDocument>[] = [];
    while (claimed.length < options.limit && seen.size < MAX_LANES_PER_CLAIM) {
      const page = await this.deliveries
        .find(seenLanes.length > 0 ? { ...due, $nor: seenLanes } : due, { projection: { phoneNumberId: 1, to: 1 } })
        .sort({ nextAttemptAtMs: 1 })
        .limit((options.limit - claimed.length) * 4)
        .toArray();
      if (page.length === 0) break;
      for (const { phoneNumberId, to } of page) {
        const lane = `${phoneNumberId}\u0000${to}`;
        if (claimed.length >= options.limit || seen.has(lane)) continue;
        seen.add(lane);
        seenLanes.push({ phoneNumberId, to });
        const head = await this.claimLaneHead(phoneNumberId, to, now, options);
        if (head) claimed.push(head);
      }
    }
    return claimed;
  }

  /** Leases the lane's first PENDING delivery if it is due and nobody holds it. */
  private async claimLaneHead(
    phoneNumberId: string,
    to: string,
    now: number,
    options: { owner: string; leaseMs: number },
  ): Promise<StoredDelivery | undefined> {
    const head = await this.deliveries.findOne(
      { state: 'PENDING', phoneNumberId, to },
      { sort: { laneSeq: 1 }, projection: { _id: 1, version: 1 } },
    );
    if (!head) return undefined;
    const doc = await this.deliveries.findOneAndUpdate(
      { _id: head._id, version: head.version, state: 'PENDING', nextAttemptAtMs: { $lte: now }, leaseUntilMs: { $lte: now } },
      { $set: { leaseOwner: options.owner, leaseUntilMs: now + options.leaseMs }, $inc: { version: 1 } },
      { returnDocument: 'after' },
    );
    return doc ? this.opened(doc) : undefined;
  }

  async update(
    tenantId: string,
    messageId: string,
    expectedVersion: number,
    update: DeliveryUpdate,
    event?: DeliveryEvent,
  ): Promise<boolean> {
    const set: Partial<DeliveryDocument> = {
      state: update.state,
      attempts: update.attempts,
      lastErrorCode: update.lastErrorCode ?? null,
      lastErrorTitle: update.lastErrorTitle ?? null,
      nextAttemptAtMs: update.state === 'PENDING' ? (update.nextAttemptAt ?? update.updatedAt).getTime() : null,
      updatedAtMs: update.updatedAt.getTime(),
      leaseOwner: null,
      leaseUntilMs: 0,
      callStartedAtMs: null,
      ...(update.waMessageId !== undefined ? { waMessageId: update.waMessageId } : {}),
      ...(CONTENT_FREE_STATES.has(update.state) ? { content: null, sealedContent: null } : {}),
    };
    const filter = { _id: idOf(tenantId, messageId), version: expectedVersion };
    if (event) {
      // One entry per event id, the first: push it only if the outbox does not hold its id already.
      const pushed = await this.deliveries.updateOne(
        { ...filter, 'outbox.eventId': { $ne: event.eventId } },
        { $set: { ...set, hasOutbox: true }, $inc: { version: 1 }, $push: { outbox: toStoredEvent(event) } },
      );
      if (pushed.matchedCount === 1) return true;
    }
    const result = await this.deliveries.updateOne(filter, { $set: set, $inc: { version: 1 } });
    return result.matchedCount === 1;
  }

  async markCallStarted(tenantId: string, messageId: string, expectedVersion: number, at: Date): Promise<boolean> {
    const result = await this.deliveries.updateOne(
      { _id: idOf(tenantId, messageId), version: expectedVersion },
      { $set: { callStartedAtMs: at.getTime() } },
    );
    return result.matchedCount === 1;
  }

  async listExpired(now: Date, limit: number): Promise<StoredDelivery[]> {
    const docs = await this.deliveries
      .find({ state: { $in: ['PENDING', 'SENT'] }, expiresAtMs: { $lte: now.getTime() }, leaseUntilMs: { $lte: now.getTime() } })
      .sort({ expiresAtMs: 1 })
      .limit(limit)
      .toArray();
    return Promise.all(docs.map((doc) => this.opened(doc)));
  }

  async claimAnnouncements(options: { now: Date; limit: number; leaseMs: number }): Promise<PendingAnnouncements[]> {
    const now = options.now.getTime();
    const candidates = await this.deliveries
      .find({ hasOutbox: true, outboxLeaseUntilMs: { $lte: now } }, { projection: { _id: 1 } })
      .sort({ outboxLeaseUntilMs: 1 })
      .limit(options.limit)
      .toArray();
    const claimed: PendingAnnouncements[] = [];
    for (const { _id } of candidates) {
      const doc = await this.deliveries.findOneAndUpdate(
        { _id, hasOutbox: true, outboxLeaseUntilMs: { $lte: now } },
        { $set: { outboxLeaseUntilMs: now + options.leaseMs } },
        { returnDocument: 'after' },
      );
      if (doc) claimed.push({ tenantId: doc.tenantId, messageId: doc.messageId, events: doc.outbox.map(fromStoredEvent) });
    }
    return claimed;
  }

  async markAnnounced(tenantId: string, messageId: string, eventIds: readonly string[]): Promise<void> {
    // One pipeline update: the pull and the hasOutbox flag change together, even if a new event is pushed meanwhile.
    await this.deliveries.updateOne({ _id: idOf(tenantId, messageId) }, [
      { $set: { outbox: { $filter: { input: '$outbox', cond: { $not: [{ $in: ['$$this.eventId', [...eventIds]] }] } } } } },
      { $set: { hasOutbox: { $gt: [{ $size: '$outbox' }, 0] }, outboxLeaseUntilMs: 0 } },
    ]);
  }

  async changeLimiters<R>(changes: readonly { key: string; change: LimiterChange<R> }[]): Promise<R[]> {
    const results: R[] = [];
    for (const { key, change } of changes) results.push(await this.changeLimiter(key, change));
    return results;
  }

  /** Optimistic concurrency: read, compute, write if nobody else wrote meanwhile; otherwise again. */
  private async changeLimiter<R>(key: string, change: LimiterChange<R>): Promise<R> {
    for (let attempt = 0; attempt < LIMITER_WRITE_ATTEMPTS; attempt++) {
      const doc = await this.limiters.findOne({ _id: key });
      const { next, result } = change(doc?.state);
      if (doc) {
        const written = await this.limiters.updateOne({ _id: key, version: doc.version }, { $set: { state: next }, $inc: { version: 1 } });
        if (written.modifiedCount === 1 || written.matchedCount === 1) return result;
      } else {
        try {
          await this.limiters.insertOne({ _id: key, state: next, version: 1 });
          return result;
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
        }
      }
    }
    throw new Error(`limiter ${key} is too contended; try again`);
  }

  async listLimiters(prefix: string): Promise<{ key: string; state: LimiterState }[]> {
    const docs = await this.limiters.find({ _id: { $regex: `^${escapeRegExp(prefix)}` } }).toArray();
    return docs.map((doc) => ({ key: doc._id, state: doc.state }));
  }

  async pruneLimiters(prefix: string, idleBefore: Date): Promise<number> {
    const result = await this.limiters.deleteMany({
      _id: { $regex: `^${escapeRegExp(prefix)}` },
      'state.tatMs': { $lt: idleBefore.getTime() },
      'state.pairBackoffExponent': { $in: [null, 0] },
    });
    return result.deletedCount;
  }

  async backlog(): Promise<DeliveryBacklog> {
    const [pending, oldest, unannounced] = await Promise.all([
      this.deliveries.countDocuments({ state: 'PENDING' }),
      this.deliveries
        .find({ state: 'PENDING' }, { projection: { acceptedAtMs: 1 } })
        .sort({ acceptedAtMs: 1 })
        .limit(1)
        .next(),
      this.deliveries.countDocuments({ hasOutbox: true }),
    ]);
    return { pending, unannounced, ...(oldest ? { oldestPendingAcceptedAt: new Date(oldest.acceptedAtMs) } : {}) };
  }

  async getMetaMedia(tenantId: string, phoneNumberId: string, mediaId: string): Promise<MetaMediaEntry | undefined> {
    const doc = await this.metaMedia.findOne({ _id: JSON.stringify([tenantId, phoneNumberId, mediaId]) });
    if (!doc) return undefined;
    return {
      tenantId,
      phoneNumberId,
      mediaId,
      metaMediaId: doc.metaMediaId,
      uploadedAt: new Date(doc.uploadedAtMs),
      reuseUntil: new Date(doc.reuseUntilMs),
    };
  }

  async putMetaMedia(entry: MetaMediaEntry): Promise<void> {
    const doc: MetaMediaDocument = {
      _id: JSON.stringify([entry.tenantId, entry.phoneNumberId, entry.mediaId]),
      tenantId: entry.tenantId,
      phoneNumberId: entry.phoneNumberId,
      mediaId: entry.mediaId,
      metaMediaId: entry.metaMediaId,
      uploadedAtMs: entry.uploadedAt.getTime(),
      reuseUntilMs: entry.reuseUntil.getTime(),
    };
    await this.metaMedia.replaceOne({ _id: doc._id }, doc, { upsert: true });
  }

  async listForCustomer(
    tenantId: string,
    to: string,
    page: { readonly afterMessageId?: string; readonly limit: number },
  ): Promise<StoredDelivery[]> {
    const docs = await this.deliveries
      .find({ tenantId, to, messageId: { $gt: page.afterMessageId ?? '' } })
      .sort({ messageId: 1 })
      .limit(page.limit)
      .toArray();
    return Promise.all(docs.map((doc) => this.opened(doc)));
  }

  async eraseCustomer(subject: CustomerDataSubject): Promise<number> {
    let changed = 0;
    for (;;) {
      const docs = await this.deliveries.find({ tenantId: subject.tenantId, to: subject.customer }).limit(500).toArray();
      if (docs.length === 0) break;
      for (const doc of docs) {
        // Not the version: an outcome being recorded for a send in flight must still land (it is never re-sent). The
        // outbox is rewritten only if no event was added or removed meanwhile (else the next round does it).
        const result = await this.deliveries.updateOne(
          { _id: doc._id, to: subject.customer, outbox: doc.outbox },
          {
            $set: {
              to: subject.customerRef,
              content: null,
              sealedContent: null,
              outbox: pseudonymiseStoredEvents(doc.outbox, subject.customerRef),
            },
          },
        );
        changed += result.modifiedCount;
      }
    }
    const limiters = await this.limiters.deleteMany({ _id: { $regex: `^pair:.*:${escapeRegExp(subject.customer)}$` } });
    return changed + limiters.deletedCount;
  }

  async flushDeleted(): Promise<void> {
    // MongoDB rewrites documents in place; nothing to flush.
  }

  async close(): Promise<void> {}
}
