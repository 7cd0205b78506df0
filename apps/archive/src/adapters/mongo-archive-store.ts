import type { Collection, Filter } from 'mongodb';
import type { ContentKind, MessageStatus, TemplateCategory } from '@waygate/domain';
import { applyMongoMigrations, isDuplicateKeyError, type MongoDatabase, type MongoMigration } from '@waygate/storage';
import { canonicalRecordBytes, type ArchiveLogLeaf } from '../domain/archive-log';
import { readConversations, readTranscript, type ArchiveStore } from '../domain/archive-store';
import type { ArchivedEvent, StatusArchivedEvent, StatusSource } from '../domain/archived-event';
import {
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
  type TimeRange,
  type TranscriptCursor,
  type TranscriptMessageEntry,
} from '../domain/conversation';
import { messageRowOf, outboundStatusOf, transcriptStatusesOf, type MessageEvent, type MessageRow } from '../domain/message-projection';
import { isCustomerMessage, startsSession, type SessionState } from '../domain/sessions';
import type { Pricing, Sentiment } from '../domain/transcript';
import { MongoArchiveLog } from './mongo-archive-log';

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
  // issue 13
  searchText?: string;
  templateName?: string;
  templateCategory?: string;
  mediaIds?: string[];
  pricing?: Pricing;
  sentiment?: Sentiment;
}

/** One message (see MessageRow), `_id` = `${tenantId}/${messageId}`. */
interface MessageDocument extends Omit<MessageRow, 'mediaIds'> {
  _id: string;
  mediaIds: string[];
  /** Outbound: the latest status. */
  status?: string;
  startsSession: boolean;
}

/** One conversation's summary, `_id` = `${tenantId}/${conversationId}`; sentiment end points keep their times. */
interface ConversationDocument {
  _id: string;
  tenantId: string;
  conversationId: string;
  phoneNumberId: string;
  customer: string;
  firstMessageAt: Date;
  lastMessageAt: Date;
  inboundCount: number;
  outboundCount: number;
  lastInboundAt?: Date;
  lastOutboundAt?: Date;
  hasUnanswered: boolean;
  sessionCount: number;
  sentimentStart?: Sentiment;
  sentimentEnd?: Sentiment;
  /** listConversations' sentiment filter. */
  sentimentEndLabel?: string;
  scoredMessages: number;
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
      ...optional('searchText', event.searchText),
      ...optional('sentiment', event.sentiment),
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
      ...optional('contentJson', event.contentJson),
      ...optional('searchText', event.text),
      ...optional('templateName', event.templateName),
      ...optional('templateCategory', event.templateCategory),
      ...optional('contextWaMessageId', event.contextWaMessageId),
      ...optional('mediaIds', event.mediaIds ? [...event.mediaIds] : undefined),
    };
  }
  return {
    ...base,
    status: event.status,
    source: event.source,
    ...(event.waMessageId !== undefined ? { waMessageId: event.waMessageId } : {}),
    ...(event.errorCode !== undefined ? { errorCode: event.errorCode } : {}),
    ...(event.errorTitle !== undefined ? { errorTitle: event.errorTitle } : {}),
    ...optional('pricing', event.pricing),
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
      ...optional('searchText', doc.searchText),
      ...optional('sentiment', doc.sentiment),
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
      ...optional('contentJson', doc.contentJson),
      ...optional('text', doc.searchText),
      ...optional('templateName', doc.templateName),
      ...optional('templateCategory', doc.templateCategory as TemplateCategory | undefined),
      ...optional('contextWaMessageId', doc.contextWaMessageId),
      ...optional('mediaIds', doc.mediaIds),
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
    ...optional('pricing', doc.pricing),
  };
}

function toSummary(doc: ConversationDocument): ConversationSummary {
  const trend = sentimentTrendOf(doc.sentimentStart, doc.sentimentEnd, doc.scoredMessages);
  return {
    tenantId: doc.tenantId,
    conversationId: doc.conversationId,
    phoneNumberId: doc.phoneNumberId,
    customer: doc.customer,
    firstMessageAt: doc.firstMessageAt,
    lastMessageAt: doc.lastMessageAt,
    inboundCount: doc.inboundCount,
    outboundCount: doc.outboundCount,
    ...optional('lastInboundAt', doc.lastInboundAt),
    ...optional('lastOutboundAt', doc.lastOutboundAt),
    hasUnanswered: doc.hasUnanswered,
    sessionCount: doc.sessionCount,
    sentiment: {
      ...optional('start', doc.sentimentStart),
      ...optional('end', doc.sentimentEnd),
      ...optional('trend', trend),
      scoredMessages: doc.scoredMessages,
    },
  };
}

/** The archive's order of messages. */
const MESSAGE_ORDER = { occurredAt: 1, recordId: 1 } as const;
const MESSAGE_ORDER_DESC = { occurredAt: -1, recordId: -1 } as const;

/** Messages strictly before (or after) a point in the archive's order. */
function beforeKey(at: Date, recordId: string): Filter<MessageDocument> {
  return { $or: [{ occurredAt: { $lt: at } }, { occurredAt: at, recordId: { $lt: recordId } }] };
}
function afterKey(at: Date, recordId: string): Filter<MessageDocument> {
  return { $or: [{ occurredAt: { $gt: at } }, { occurredAt: at, recordId: { $gt: recordId } }] };
}

/** The customer's own messages (isCustomerMessage): inbound, but no system notice. */
const CUSTOMER_MESSAGE = { direction: 'inbound', type: { $ne: 'system' } } as const;

/** How many followers the session walk reads per query. */
const SESSION_WALK_PAGE = 200;

/**
 * Versioned data migrations of this store's MongoDB collections (version = position, recorded in `schema_migrations`
 * as `archive`); only appended. Indexes are ensured at every open.
 */
const MONGO_MIGRATIONS: readonly MongoMigration[] = [];

/**
 * The production ArchiveStore: one document per event in `archived_events`, one per message in `archive_messages`
 * and one per conversation in `archive_conversations`. MongoDB gives no multi-document atomicity without
 * transactions (which Waygate does not require, see docs/decisions/0004), so the projections are derived
 * idempotently: after each event, new or duplicate, the message document is upserted from the event alone, its status
 * re-derived from all its status events, and the conversation summary recomputed from the message documents (indexed
 * counts and sorts). A crash between the writes is repaired by the redelivery of the event.
 */
export class MongoArchiveStore implements ArchiveStore {
  private readonly events: Collection<EventDocument>;
  private readonly messages: Collection<MessageDocument>;
  private readonly summaries: Collection<ConversationDocument>;
  private log!: MongoArchiveLog;

  private constructor(mongo: MongoDatabase) {
    this.events = mongo.db.collection<EventDocument>('archived_events');
    this.messages = mongo.db.collection<MessageDocument>('archive_messages');
    this.summaries = mongo.db.collection<ConversationDocument>('archive_conversations');
  }

  static async open(mongo: MongoDatabase): Promise<MongoArchiveStore> {
    const store = new MongoArchiveStore(mongo);
    // record: idempotency needs no index of its own; the unique `_id` index (`${tenantId}/${eventId}`) serves it.
    await store.events.createIndexes([
      // listByMessage, and a message's status events (status re-derivation, transcript pages).
      { key: { tenantId: 1, messageId: 1, occurredAt: 1, recordedAt: 1, eventId: 1 }, name: 'by_message' },
    ]);
    await store.messages.createIndexes([
      // transcriptPage, the session walk, the summary's first and last message.
      { key: { tenantId: 1, conversationId: 1, occurredAt: 1, recordId: 1 }, name: 'by_conversation' },
      // The summary's counts and last message by direction; the session walk's last customer message; range checks.
      { key: { tenantId: 1, conversationId: 1, direction: 1, occurredAt: 1, recordId: 1 }, name: 'by_conversation_direction' },
      // The summary's session count and a transcript page's first session index.
      { key: { tenantId: 1, conversationId: 1, startsSession: 1, occurredAt: 1, recordId: 1 }, name: 'session_starts' },
    ]);
    await store.summaries.createIndexes([
      // listConversations: most recently active first.
      { key: { tenantId: 1, lastMessageAt: -1, conversationId: -1 }, name: 'by_activity' },
      // listConversations filtered by customer.
      { key: { tenantId: 1, customer: 1, lastMessageAt: -1, conversationId: -1 }, name: 'by_customer' },
    ]);
    await applyMongoMigrations(mongo.db, 'archive', MONGO_MIGRATIONS);
    store.log = await MongoArchiveLog.open(mongo.db);
    return store;
  }

  async record(event: ArchivedEvent): Promise<'recorded' | 'duplicate'> {
    let outcome: 'recorded' | 'duplicate' = 'recorded';
    try {
      await this.events.insertOne(toDocument(event));
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      outcome = 'duplicate';
    }
    // Also for a duplicate: the projection writes are idempotent, and finish what a crash may have interrupted.
    if (event.kind === 'status') await this.applyStatus(event.tenantId, event.messageId);
    else await this.applyMessage(event);
    // Also for a duplicate (idempotent): the entry, committing to the record as it reads back from its document.
    const stored = await this.events.findOne({ _id: `${event.tenantId}/${event.eventId}` });
    if (stored) await this.log.appendRecord(event.tenantId, event.eventId, canonicalRecordBytes(toEvent(stored)));
    return outcome;
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

  async listByMessage(tenantId: string, messageId: string): Promise<ArchivedEvent[]> {
    const docs = await this.events.find({ tenantId, messageId }).sort({ occurredAt: 1, recordedAt: 1, eventId: 1 }).toArray();
    return docs.map(toEvent);
  }

  async getConversation(tenantId: string, conversationId: string): Promise<ConversationSummary | undefined> {
    const doc = await this.summaries.findOne({ _id: `${tenantId}/${conversationId}`, tenantId });
    return doc ? toSummary(doc) : undefined;
  }

  async listConversations(
    tenantId: string,
    filter: ConversationFilter,
    page: PageRequest<ConversationCursor>,
  ): Promise<Page<ConversationSummary, ConversationCursor>> {
    const query: Filter<ConversationDocument> = { tenantId };
    if (filter.customer !== undefined) query.customer = filter.customer;
    if (filter.phoneNumberId !== undefined) query.phoneNumberId = filter.phoneNumberId;
    if (filter.hasUnanswered) query.hasUnanswered = true;
    if (filter.sentiment !== undefined) query.sentimentEndLabel = filter.sentiment;
    const ranged = filter.from !== undefined || filter.to !== undefined;
    if (filter.from !== undefined) query.lastMessageAt = { $gte: filter.from };
    if (filter.to !== undefined) query.firstMessageAt = { $lt: filter.to };
    const and: Filter<ConversationDocument>[] = [query];
    if (page.after) {
      const { lastMessageAt, conversationId } = page.after;
      and.push({ $or: [{ lastMessageAt: { $lt: lastMessageAt } }, { lastMessageAt, conversationId: { $lt: conversationId } }] });
    }
    const cursor = this.summaries.find({ $and: and }).sort({ lastMessageAt: -1, conversationId: -1 });
    const found: ConversationSummary[] = [];
    try {
      for await (const doc of cursor) {
        // The summary's bounds overlap the range; keep it only if a message falls inside it (one index probe).
        if (ranged && !(await this.hasMessageIn(tenantId, doc.conversationId, filter))) continue;
        found.push(toSummary(doc));
        if (found.length > page.size) break;
      }
    } finally {
      await cursor.close();
    }
    return pageOf(found.slice(0, page.size), found.length > page.size, conversationCursorOf);
  }

  async transcriptPage(
    tenantId: string,
    conversationId: string,
    range: TimeRange,
    page: PageRequest<TranscriptCursor>,
  ): Promise<Page<TranscriptMessageEntry, TranscriptCursor>> {
    const and: Filter<MessageDocument>[] = [{ tenantId, conversationId }];
    if (range.from) and.push({ occurredAt: { $gte: range.from } });
    if (range.to) and.push({ occurredAt: { $lt: range.to } });
    if (page.after) and.push(afterKey(page.after.occurredAt, page.after.recordId));
    const docs = await this.messages
      .find({ $and: and })
      .sort(MESSAGE_ORDER)
      .limit(page.size + 1)
      .toArray();
    const pageDocs = docs.slice(0, page.size);
    const first = pageDocs[0];
    if (!first) return { items: [] };
    let startsBefore = await this.messages.countDocuments({
      $and: [{ tenantId, conversationId, startsSession: true }, beforeKey(first.occurredAt, first.recordId)],
    });
    const outboundIds = pageDocs.filter((doc) => doc.direction === 'outbound').map((doc) => doc.messageId);
    const statusDocs =
      outboundIds.length === 0
        ? []
        : await this.events
            .find({ tenantId, messageId: { $in: outboundIds }, kind: 'status' })
            .sort({ occurredAt: 1, recordedAt: 1, eventId: 1 })
            .toArray();
    const statuses = new Map<string, StatusArchivedEvent[]>();
    for (const doc of statusDocs)
      statuses.set(doc.messageId, [...(statuses.get(doc.messageId) ?? []), toEvent(doc) as StatusArchivedEvent]);
    const items = pageDocs.map((doc): TranscriptMessageEntry => {
      if (doc.startsSession) startsBefore += 1;
      return {
        recordId: doc.recordId,
        tenantId: doc.tenantId,
        conversationId: doc.conversationId,
        messageId: doc.messageId,
        ...optional('waMessageId', doc.waMessageId),
        direction: doc.direction,
        type: doc.type,
        occurredAt: doc.occurredAt,
        ...optional('text', doc.text),
        ...optional('contentJson', doc.contentJson),
        mediaIds: doc.mediaIds,
        ...optional('templateName', doc.templateName),
        ...optional('templateCategory', doc.templateCategory),
        ...optional('contextWaMessageId', doc.contextWaMessageId),
        statuses: transcriptStatusesOf(statuses.get(doc.messageId) ?? []),
        ...optional('status', doc.status as MessageStatus | undefined),
        ...optional('sentiment', doc.sentiment),
        sessionIndex: Math.max(0, startsBefore - 1),
      };
    });
    return pageOf(items, docs.length > page.size, transcriptCursorOf);
  }

  transcript(tenantId: string, conversationId: string, range: TimeRange = {}): AsyncIterable<TranscriptMessageEntry> {
    return readTranscript(this, tenantId, conversationId, range);
  }

  conversations(tenantId: string, filter: ConversationFilter = {}): AsyncIterable<ConversationSummary> {
    return readConversations(this, tenantId, filter);
  }

  async close(): Promise<void> {
    // The connection belongs to whoever opened it (server wiring or the contract suite).
  }

  private async hasMessageIn(tenantId: string, conversationId: string, range: TimeRange): Promise<boolean> {
    const occurredAt = { ...(range.from ? { $gte: range.from } : {}), ...(range.to ? { $lt: range.to } : {}) };
    return (await this.messages.findOne({ tenantId, conversationId, occurredAt }, { projection: { _id: 1 } })) !== null;
  }

  /** Re-derives an outbound message's latest status and wamid from all its status events (if its row exists). */
  private async applyStatus(tenantId: string, messageId: string): Promise<void> {
    const docs = await this.events.find({ tenantId, messageId, kind: 'status' }).toArray();
    const { status, waMessageId } = outboundStatusOf(docs.map((doc) => toEvent(doc) as StatusArchivedEvent));
    await this.messages.updateOne(
      { _id: `${tenantId}/${messageId}`, direction: 'outbound' },
      waMessageId ? { $set: { status, waMessageId } } : { $set: { status }, $unset: { waMessageId: '' } },
    );
  }

  private async applyMessage(event: MessageEvent): Promise<void> {
    const row = messageRowOf(event);
    await this.messages.updateOne(
      { _id: `${row.tenantId}/${row.messageId}` },
      {
        $setOnInsert: {
          ...row,
          mediaIds: [...row.mediaIds],
          ...(row.direction === 'outbound' ? { status: 'ACCEPTED' } : {}),
          startsSession: false,
        },
      },
      { upsert: true },
    );
    if (row.direction === 'outbound') await this.applyStatus(row.tenantId, row.messageId);
    await this.updateSessionStarts(row);
    await this.recomputeSummary(row);
  }

  /** As SqliteArchiveStore's: re-decides the new message's session start and those after it that it can change. */
  private async updateSessionStarts(row: MessageRow): Promise<void> {
    const scope = { tenantId: row.tenantId, conversationId: row.conversationId };
    const previous = await this.messages.findOne({ $and: [scope, beforeKey(row.occurredAt, row.recordId)] }, { projection: { _id: 1 } });
    const lastInbound = await this.messages.findOne(
      { $and: [{ ...scope, ...CUSTOMER_MESSAGE }, beforeKey(row.occurredAt, row.recordId)] },
      { sort: MESSAGE_ORDER_DESC, projection: { occurredAt: 1 } },
    );
    let state: SessionState | undefined = previous
      ? { sessionIndex: 0, ...(lastInbound ? { lastInboundAt: lastInbound.occurredAt } : {}) }
      : undefined;
    await this.messages.updateOne({ _id: `${row.tenantId}/${row.messageId}` }, { $set: { startsSession: startsSession(state, row) } });
    const lastInboundAt = isCustomerMessage(row) ? row.occurredAt : state?.lastInboundAt;
    state = { sessionIndex: 0, ...(lastInboundAt ? { lastInboundAt } : {}) };
    let after = { occurredAt: row.occurredAt, recordId: row.recordId };
    for (;;) {
      const followers = await this.messages
        .find(
          { $and: [scope, afterKey(after.occurredAt, after.recordId)] },
          { projection: { direction: 1, type: 1, occurredAt: 1, recordId: 1, startsSession: 1 } },
        )
        .sort(MESSAGE_ORDER)
        .limit(isCustomerMessage(row) ? SESSION_WALK_PAGE : 1)
        .toArray();
      for (const follower of followers) {
        const starts = startsSession(state, follower);
        if (starts !== follower.startsSession) await this.messages.updateOne({ _id: follower._id }, { $set: { startsSession: starts } });
        if (!isCustomerMessage(row) || isCustomerMessage(follower)) return;
      }
      const last = followers.at(-1);
      if (!last || followers.length < SESSION_WALK_PAGE) return;
      after = { occurredAt: last.occurredAt, recordId: last.recordId };
    }
  }

  /** Recomputes the conversation's summary from its message documents (idempotent). */
  private async recomputeSummary(row: MessageRow): Promise<void> {
    const scope = { tenantId: row.tenantId, conversationId: row.conversationId };
    const newest = (extra: Filter<MessageDocument>, order: typeof MESSAGE_ORDER | typeof MESSAGE_ORDER_DESC) =>
      this.messages.findOne({ ...scope, ...extra }, { sort: order, projection: { occurredAt: 1, sentiment: 1 } });
    const scored = { direction: 'inbound' as const, 'sentiment.label': { $exists: true } };
    const [
      inboundCount,
      outboundCount,
      sessionCount,
      scoredMessages,
      first,
      last,
      lastInbound,
      lastOutbound,
      sentimentStart,
      sentimentEnd,
    ] = await Promise.all([
      this.messages.countDocuments({ ...scope, direction: 'inbound' }),
      this.messages.countDocuments({ ...scope, direction: 'outbound' }),
      this.messages.countDocuments({ ...scope, startsSession: true }),
      this.messages.countDocuments({ ...scope, ...scored }),
      newest({}, MESSAGE_ORDER),
      newest({}, MESSAGE_ORDER_DESC),
      newest(CUSTOMER_MESSAGE, MESSAGE_ORDER_DESC),
      newest({ direction: 'outbound' }, MESSAGE_ORDER_DESC),
      newest(scored, MESSAGE_ORDER),
      newest(scored, MESSAGE_ORDER_DESC),
    ]);
    if (!first || !last) return;
    const summary: Omit<ConversationDocument, '_id'> = {
      ...scope,
      phoneNumberId: row.phoneNumberId,
      customer: row.customer,
      firstMessageAt: first.occurredAt,
      lastMessageAt: last.occurredAt,
      inboundCount,
      outboundCount,
      ...optional('lastInboundAt', lastInbound?.occurredAt),
      ...optional('lastOutboundAt', lastOutbound?.occurredAt),
      hasUnanswered: isUnanswered(lastInbound?.occurredAt, lastOutbound?.occurredAt),
      sessionCount,
      ...optional('sentimentStart', sentimentStart?.sentiment),
      ...optional('sentimentEnd', sentimentEnd?.sentiment),
      ...optional('sentimentEndLabel', sentimentEnd?.sentiment?.label),
      scoredMessages,
    };
    await this.summaries.replaceOne({ _id: `${row.tenantId}/${row.conversationId}` }, summary, { upsert: true });
  }
}
