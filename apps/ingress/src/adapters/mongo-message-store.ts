import type { Collection, Filter, UpdateFilter } from 'mongodb';
import { applyMongoMigrations, isDuplicateKeyError, type MongoDatabase, type MongoMigration } from '@waygate/storage';
import { isTerminalStatus, type CustomerDataSubject, type MessageStatus, type TemplateCategory } from '@waygate/domain';
import type { CustomerSealer } from '@waygate/keyring';
import {
  ERASED_REQUEST_HASH,
  type MessageQuery,
  type MessageStatusState,
  type MessageStore,
  type StatusChangeRecord,
} from '../domain/message-store';
import type { ContentKind, MessageContent, OutboundMessage, StatusSource } from '../domain/outbound-message';
import { openMessageContent, sealMessageContent } from './message-content-sealing';

interface TimelineDocument {
  eventId: string;
  status: string;
  occurredAt: Date;
  source: string;
  errorCode?: number;
  errorTitle?: string;
  attempt?: number;
  nextAttemptAt?: Date;
}

interface MessageDocument {
  _id: string; // `${tenantId}/${messageId}`
  tenantId: string;
  messageId: string;
  idempotencyKey: string;
  requestHash: string;
  to: string;
  phoneNumberId: string;
  /** Documents stored before content was sealed at rest; removed ($unset) at a terminal status or erasure. */
  content?: MessageContent;
  /** The content's JSON sealed under the recipient's data key; removed ($unset) at a terminal status or erasure. */
  sealedContent?: string;
  /** Absent on documents stored before every content kind existed (all text). */
  contentType?: string;
  /** Sealed under the recipient's data key (it quotes the content); `<type> (erased)` after erasure. */
  contentSummary?: string;
  replyToWaMessageId?: string;
  templateCategory?: string;
  status: string;
  waMessageId?: string;
  acceptedAt: Date;
  expiresAt: Date;
  published: boolean;
  version: number;
  timeline: TimelineDocument[];
}

async function toMessage(sealer: CustomerSealer, doc: MessageDocument): Promise<OutboundMessage> {
  const contentType = (doc.contentType ?? 'text') as ContentKind;
  const opened = await openMessageContent(sealer, doc.tenantId, contentType, {
    content: doc.sealedContent,
    summary: doc.contentSummary ?? '',
  });
  return {
    tenantId: doc.tenantId,
    messageId: doc.messageId,
    idempotencyKey: doc.idempotencyKey,
    requestHash: doc.requestHash,
    to: doc.to,
    phoneNumberId: doc.phoneNumberId,
    content: doc.content ?? opened.content,
    contentType,
    contentSummary: opened.contentSummary,
    ...(doc.replyToWaMessageId ? { replyToWaMessageId: doc.replyToWaMessageId } : {}),
    ...(doc.templateCategory ? { templateCategory: doc.templateCategory as TemplateCategory } : {}),
    status: doc.status as MessageStatus,
    ...(doc.waMessageId ? { waMessageId: doc.waMessageId } : {}),
    acceptedAt: doc.acceptedAt,
    expiresAt: doc.expiresAt,
    published: doc.published,
    version: doc.version,
    timeline: doc.timeline.map((entry) => ({
      eventId: entry.eventId,
      status: entry.status as MessageStatus,
      occurredAt: entry.occurredAt,
      source: entry.source as StatusSource,
      ...(entry.errorCode !== undefined ? { errorCode: entry.errorCode } : {}),
      ...(entry.errorTitle !== undefined ? { errorTitle: entry.errorTitle } : {}),
      ...(entry.attempt !== undefined ? { attempt: entry.attempt } : {}),
      ...(entry.nextAttemptAt !== undefined ? { nextAttemptAt: entry.nextAttemptAt } : {}),
    })),
  };
}

function timelineDocument(entry: OutboundMessage['timeline'][number]): TimelineDocument {
  return {
    eventId: entry.eventId,
    status: entry.status,
    occurredAt: entry.occurredAt,
    source: entry.source,
    ...(entry.errorCode !== undefined ? { errorCode: entry.errorCode } : {}),
    ...(entry.errorTitle !== undefined ? { errorTitle: entry.errorTitle } : {}),
    ...(entry.attempt !== undefined ? { attempt: entry.attempt } : {}),
    ...(entry.nextAttemptAt !== undefined ? { nextAttemptAt: entry.nextAttemptAt } : {}),
  };
}

/**
 * Versioned data migrations of this store's MongoDB collections (version = position, recorded in `schema_migrations`
 * as `ingress`); only appended. Indexes are ensured at every open.
 */
const MONGO_MIGRATIONS: readonly MongoMigration[] = [];

/**
 * The production MessageStore: one document per message, timeline embedded (a message has a handful of entries).
 * Content and summary are stored sealed under the recipient's data key (`sealer`).
 */
export class MongoMessageStore implements MessageStore {
  private readonly messages: Collection<MessageDocument>;

  private constructor(
    mongo: MongoDatabase,
    private readonly sealer: CustomerSealer,
  ) {
    this.messages = mongo.db.collection<MessageDocument>('messages');
  }

  static async open(mongo: MongoDatabase, sealer: CustomerSealer): Promise<MongoMessageStore> {
    const store = new MongoMessageStore(mongo, sealer);
    await store.messages.createIndexes([
      // insertIfAbsent: one message per tenant and idempotency key.
      { key: { tenantId: 1, idempotencyKey: 1 }, name: 'by_idempotency_key', unique: true },
      // listUnpublished: only unpublished messages are indexed.
      { key: { acceptedAt: 1 }, name: 'unpublished_by_accepted_at', partialFilterExpression: { published: false } },
      // listMessages: a tenant's messages newest first, the page cursor a seek on (acceptedAt, messageId).
      { key: { tenantId: 1, acceptedAt: -1, messageId: -1 }, name: 'by_tenant_accepted_at' },
      // eraseCustomer and listMessages by recipient (the customer's export).
      { key: { tenantId: 1, to: 1 }, name: 'by_tenant_recipient' },
    ]);
    await applyMongoMigrations(mongo.db, 'ingress', MONGO_MIGRATIONS);
    return store;
  }

  async insertIfAbsent(message: OutboundMessage): Promise<{ inserted: boolean; message: OutboundMessage }> {
    const sealed = await sealMessageContent(this.sealer, message);
    const doc: MessageDocument = {
      _id: `${message.tenantId}/${message.messageId}`,
      tenantId: message.tenantId,
      messageId: message.messageId,
      idempotencyKey: message.idempotencyKey,
      requestHash: message.requestHash,
      to: message.to,
      phoneNumberId: message.phoneNumberId,
      ...(sealed.content !== undefined ? { sealedContent: sealed.content } : {}),
      contentType: message.contentType,
      contentSummary: sealed.summary,
      ...(message.replyToWaMessageId ? { replyToWaMessageId: message.replyToWaMessageId } : {}),
      ...(message.templateCategory ? { templateCategory: message.templateCategory } : {}),
      status: message.status,
      ...(message.waMessageId ? { waMessageId: message.waMessageId } : {}),
      acceptedAt: message.acceptedAt,
      expiresAt: message.expiresAt,
      published: message.published,
      version: message.version,
      timeline: message.timeline.map(timelineDocument),
    };
    try {
      await this.messages.insertOne(doc);
      return { inserted: true, message: await toMessage(this.sealer, doc) };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await this.messages.findOne({ tenantId: message.tenantId, idempotencyKey: message.idempotencyKey });
      if (!existing) throw error;
      return { inserted: false, message: await toMessage(this.sealer, existing) };
    }
  }

  async findByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<OutboundMessage | undefined> {
    const doc = await this.messages.findOne({ tenantId, idempotencyKey });
    return doc ? toMessage(this.sealer, doc) : undefined;
  }

  async get(tenantId: string, messageId: string): Promise<OutboundMessage | undefined> {
    const doc = await this.messages.findOne({ _id: `${tenantId}/${messageId}`, tenantId });
    return doc ? toMessage(this.sealer, doc) : undefined;
  }

  async getStatusState(tenantId: string, messageId: string): Promise<MessageStatusState | undefined> {
    const doc = await this.messages.findOne(
      { _id: `${tenantId}/${messageId}`, tenantId },
      { projection: { status: 1, version: 1, waMessageId: 1, 'timeline.eventId': 1 } },
    );
    if (!doc) return undefined;
    return {
      status: doc.status as MessageStatus,
      version: doc.version,
      ...(doc.waMessageId ? { waMessageId: doc.waMessageId } : {}),
      eventIds: new Set(doc.timeline.map((entry) => entry.eventId)),
    };
  }

  async recordStatusChange(change: StatusChangeRecord): Promise<boolean> {
    const update: UpdateFilter<MessageDocument> = {
      $set: { status: change.status, ...(change.waMessageId ? { waMessageId: change.waMessageId } : {}) },
      $inc: { version: 1 },
      $push: { timeline: timelineDocument(change.entry) },
      // Content deletion is part of the same single-document write as the terminal status.
      ...(isTerminalStatus(change.status) ? { $unset: { content: '' as const, sealedContent: '' as const } } : {}),
    };
    const result = await this.messages.updateOne(
      {
        _id: `${change.tenantId}/${change.messageId}`,
        tenantId: change.tenantId,
        version: change.expectedVersion,
        // One timeline entry per event id, as SQLite's key holds it.
        'timeline.eventId': { $ne: change.entry.eventId },
      },
      update,
    );
    return result.modifiedCount === 1;
  }

  async markPublished(tenantId: string, messageId: string): Promise<void> {
    await this.messages.updateOne({ _id: `${tenantId}/${messageId}`, tenantId }, { $set: { published: true } });
  }

  async listUnpublished(before: Date, limit: number): Promise<OutboundMessage[]> {
    const docs = await this.messages
      .find({
        published: false,
        acceptedAt: { $lt: before },
        $or: [{ content: { $exists: true } }, { sealedContent: { $exists: true } }],
      })
      .sort({ acceptedAt: 1 })
      .limit(limit)
      .toArray();
    // A message whose customer was erased (key destroyed) before its document was: nothing left to deliver.
    const messages = await Promise.all(docs.map((doc) => toMessage(this.sealer, doc)));
    return messages.filter((message) => message.content !== undefined);
  }

  async listMessages(query: MessageQuery): Promise<OutboundMessage[]> {
    const filter: Filter<MessageDocument> = { tenantId: query.tenantId };
    const and: Filter<MessageDocument>[] = [];
    if (query.to) filter.to = query.to;
    if (query.statuses && query.statuses.length > 0) filter.status = { $in: [...query.statuses] };
    if (query.acceptedFrom || query.acceptedBefore) {
      filter.acceptedAt = {
        ...(query.acceptedFrom ? { $gte: query.acceptedFrom } : {}),
        ...(query.acceptedBefore ? { $lt: query.acceptedBefore } : {}),
      };
    }
    if (query.contentKinds && query.contentKinds.length > 0) {
      // The stored content type, kept after the content is deleted; documents from before it was stored are text.
      const kinds = { contentType: { $in: [...query.contentKinds] } };
      and.push(query.contentKinds.includes('text') ? { $or: [kinds, { contentType: { $exists: false } }] } : kinds);
    }
    if (query.after) {
      and.push({
        $or: [
          { acceptedAt: { $lt: query.after.acceptedAt } },
          { acceptedAt: query.after.acceptedAt, messageId: { $lt: query.after.messageId } },
        ],
      });
    }
    if (and.length > 0) filter.$and = and;
    const docs = await this.messages.find(filter).sort({ acceptedAt: -1, messageId: -1 }).limit(query.limit).toArray();
    return Promise.all(docs.map((doc) => toMessage(this.sealer, doc)));
  }

  async eraseCustomer(subject: CustomerDataSubject): Promise<number> {
    const result = await this.messages.updateMany({ tenantId: subject.tenantId, to: subject.customer }, [
      {
        $set: {
          contentSummary: { $concat: [{ $ifNull: ['$contentType', 'text'] }, ' (erased)'] },
          to: subject.customerRef,
          requestHash: ERASED_REQUEST_HASH,
        },
      },
      { $unset: ['content', 'sealedContent'] },
    ]);
    return result.modifiedCount;
  }

  async flushDeleted(): Promise<void> {
    // MongoDB rewrites documents in place; its journal and oplog age out on their own (docs/governance.md).
  }

  async close(): Promise<void> {
    // The connection belongs to whoever opened it (server wiring or the contract suite).
  }
}
