import type { Collection } from 'mongodb';
import type { ContentKind, MessageStatus } from '@waygate/domain';
import { applyMongoMigrations, isDuplicateKeyError, type MongoDatabase, type MongoMigration } from '@waygate/storage';
import type { ArchiveStore } from '../domain/archive-store';
import type { ArchivedEvent, StatusSource } from '../domain/archived-event';

interface EventDocument {
  /** `${tenantId}/${eventId}`: tenant ids never contain '/', so the key is unambiguous. */
  _id: string;
  tenantId: string;
  eventId: string;
  /** Waygate's message id; for kind 'inbound' the message's wamid. */
  messageId: string;
  kind: 'accepted' | 'status' | 'inbound';
  /** Absent for kind 'inbound'. */
  status?: string;
  occurredAt: Date;
  recordedAt: Date;
  recipient?: string;
  phoneNumberId?: string;
  textBody?: string;
  contentType?: string;
  contentSummary?: string;
  source?: string;
  waMessageId?: string;
  errorCode?: number;
  errorTitle?: string;
  // kind 'inbound' (with phoneNumberId and text)
  from?: string;
  messageType?: string;
  text?: string;
  replyId?: string;
  mediaId?: string;
  mimeType?: string;
  contextWaMessageId?: string;
  contentJson?: string;
}

/** `{ [key]: value }` unless the value is undefined: absent optional fields stay missing keys. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function toDocument(event: ArchivedEvent): EventDocument {
  const base = {
    _id: `${event.tenantId}/${event.eventId}`,
    tenantId: event.tenantId,
    eventId: event.eventId,
    messageId: event.messageId,
    kind: event.kind,
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
  };
  if (event.kind === 'inbound') {
    return {
      ...base,
      phoneNumberId: event.phoneNumberId,
      from: event.from,
      messageType: event.messageType,
      ...optional('text', event.text),
      ...optional('replyId', event.replyId),
      ...optional('mediaId', event.mediaId),
      ...optional('mimeType', event.mimeType),
      ...optional('contextWaMessageId', event.contextWaMessageId),
      ...optional('contentJson', event.contentJson),
    };
  }
  if (event.kind === 'accepted') {
    return {
      ...base,
      status: event.status,
      recipient: event.recipient,
      phoneNumberId: event.phoneNumberId,
      ...(event.textBody !== undefined ? { textBody: event.textBody } : {}),
      ...(event.contentType !== undefined ? { contentType: event.contentType } : {}),
      ...(event.contentSummary !== undefined ? { contentSummary: event.contentSummary } : {}),
    };
  }
  return {
    ...base,
    status: event.status,
    source: event.source,
    ...(event.waMessageId !== undefined ? { waMessageId: event.waMessageId } : {}),
    ...(event.errorCode !== undefined ? { errorCode: event.errorCode } : {}),
    ...(event.errorTitle !== undefined ? { errorTitle: event.errorTitle } : {}),
  };
}

function toEvent(doc: EventDocument): ArchivedEvent {
  const base = {
    eventId: doc.eventId,
    tenantId: doc.tenantId,
    messageId: doc.messageId,
    occurredAt: doc.occurredAt,
    recordedAt: doc.recordedAt,
  };
  if (doc.kind === 'inbound') {
    return {
      ...base,
      kind: 'inbound',
      phoneNumberId: doc.phoneNumberId ?? '',
      from: doc.from ?? '',
      messageType: doc.messageType ?? '',
      ...optional('text', doc.text),
      ...optional('replyId', doc.replyId),
      ...optional('mediaId', doc.mediaId),
      ...optional('mimeType', doc.mimeType),
      ...optional('contextWaMessageId', doc.contextWaMessageId),
      ...optional('contentJson', doc.contentJson),
    };
  }
  if (doc.kind === 'accepted') {
    return {
      ...base,
      kind: 'accepted',
      status: 'ACCEPTED',
      recipient: doc.recipient ?? '',
      phoneNumberId: doc.phoneNumberId ?? '',
      ...(doc.textBody !== undefined ? { textBody: doc.textBody } : {}),
      ...(doc.contentType !== undefined ? { contentType: doc.contentType as ContentKind } : {}),
      ...(doc.contentSummary !== undefined ? { contentSummary: doc.contentSummary } : {}),
    };
  }
  return {
    ...base,
    kind: 'status',
    status: doc.status as MessageStatus,
    source: doc.source as StatusSource,
    ...(doc.waMessageId !== undefined ? { waMessageId: doc.waMessageId } : {}),
    ...(doc.errorCode !== undefined ? { errorCode: doc.errorCode } : {}),
    ...(doc.errorTitle !== undefined ? { errorTitle: doc.errorTitle } : {}),
  };
}

/**
 * Versioned data migrations of this store's MongoDB collections (version = position, recorded in `schema_migrations`
 * as `archive`); only appended. Indexes are ensured at every open.
 */
const MONGO_MIGRATIONS: readonly MongoMigration[] = [];

/** The production ArchiveStore: one document per event in `archived_events`. */
export class MongoArchiveStore implements ArchiveStore {
  private readonly events: Collection<EventDocument>;

  private constructor(mongo: MongoDatabase) {
    this.events = mongo.db.collection<EventDocument>('archived_events');
  }

  static async open(mongo: MongoDatabase): Promise<MongoArchiveStore> {
    const store = new MongoArchiveStore(mongo);
    // record: idempotency needs no index of its own; the unique `_id` index (`${tenantId}/${eventId}`) serves it.
    await store.events.createIndexes([
      // listByMessage: one message's events, already in the order they are returned.
      { key: { tenantId: 1, messageId: 1, occurredAt: 1, recordedAt: 1, eventId: 1 }, name: 'by_message' },
    ]);
    await applyMongoMigrations(mongo.db, 'archive', MONGO_MIGRATIONS);
    return store;
  }

  async record(event: ArchivedEvent): Promise<'recorded' | 'duplicate'> {
    try {
      await this.events.insertOne(toDocument(event));
      return 'recorded';
    } catch (error) {
      if (isDuplicateKeyError(error)) return 'duplicate';
      throw error;
    }
  }

  async listByMessage(tenantId: string, messageId: string): Promise<ArchivedEvent[]> {
    const docs = await this.events.find({ tenantId, messageId }).sort({ occurredAt: 1, recordedAt: 1, eventId: 1 }).toArray();
    return docs.map(toEvent);
  }

  async close(): Promise<void> {
    // The connection belongs to whoever opened it (server wiring or the contract suite).
  }
}
