import type { Collection } from 'mongodb';
import { applyMongoMigrations, isDuplicateKeyError, type MongoDatabase, type MongoMigration } from '@waygate/storage';
import {
  ERASED_CONTENT,
  type InboundMessageRecord,
  type InboundStore,
  type ServiceWindowKey,
  type ServiceWindowState,
  type StoredInboundMedia,
} from '../domain/inbound-store';
import type { InboundContent } from '../domain/webhook-payload';

interface InboundMessageDocument {
  _id: string; // `${tenantId}/${waMessageId}`: one record per wamid and tenant.
  tenantId: string;
  phoneNumberId: string;
  customer: string;
  waMessageId: string;
  occurredAt: Date;
  type: string;
  // Kept as JSON text: content is Meta's (unknown types keep their raw object), and its keys may start with `$`.
  contentJson: string;
  contextWaMessageId?: string;
  profileName?: string;
  media?: StoredInboundMedia;
  mediaUnavailable?: string;
  receivedAt: Date;
}

interface ServiceWindowDocument {
  _id: string; // `${tenantId}/${phoneNumberId}/${customer}`
  tenantId: string;
  phoneNumberId: string;
  customer: string;
  lastInboundAt: Date;
}

function windowId(key: ServiceWindowKey): string {
  return `${key.tenantId}/${key.phoneNumberId}/${key.customer}`;
}

function toRecord(doc: InboundMessageDocument): InboundMessageRecord {
  return {
    tenantId: doc.tenantId,
    phoneNumberId: doc.phoneNumberId,
    customer: doc.customer,
    waMessageId: doc.waMessageId,
    occurredAt: doc.occurredAt,
    type: doc.type,
    content: JSON.parse(doc.contentJson) as InboundContent,
    ...(doc.contextWaMessageId ? { contextWaMessageId: doc.contextWaMessageId } : {}),
    ...(doc.profileName ? { profileName: doc.profileName } : {}),
    ...(doc.media
      ? { media: { mediaId: doc.media.mediaId, mimeType: doc.media.mimeType, sha256: doc.media.sha256, sizeBytes: doc.media.sizeBytes } }
      : {}),
    ...(doc.mediaUnavailable ? { mediaUnavailable: doc.mediaUnavailable } : {}),
    receivedAt: doc.receivedAt,
  };
}

/**
 * Versioned data migrations of this store's MongoDB collections (version = position, recorded in `schema_migrations`
 * as `receipt-inbound`); only appended. Indexes are ensured at every open.
 */
const MONGO_MIGRATIONS: readonly MongoMigration[] = [];

/** The production InboundStore. */
export class MongoInboundStore implements InboundStore {
  private readonly messages: Collection<InboundMessageDocument>;
  private readonly windows: Collection<ServiceWindowDocument>;

  private constructor(mongo: MongoDatabase) {
    this.messages = mongo.db.collection<InboundMessageDocument>('inbound_messages');
    this.windows = mongo.db.collection<ServiceWindowDocument>('service_windows');
  }

  static async open(mongo: MongoDatabase): Promise<MongoInboundStore> {
    const store = new MongoInboundStore(mongo);
    // A tenant's conversation with one customer on one number, in time order (for listing it later).
    await store.messages.createIndex({ tenantId: 1, phoneNumberId: 1, customer: 1, occurredAt: 1 }, { name: 'by_customer' });
    await applyMongoMigrations(mongo.db, 'receipt-inbound', MONGO_MIGRATIONS);
    return store;
  }

  async recordInboundMessage(record: InboundMessageRecord): Promise<InboundMessageRecord> {
    try {
      await this.messages.insertOne({
        _id: `${record.tenantId}/${record.waMessageId}`,
        tenantId: record.tenantId,
        phoneNumberId: record.phoneNumberId,
        customer: record.customer,
        waMessageId: record.waMessageId,
        occurredAt: record.occurredAt,
        type: record.type,
        contentJson: JSON.stringify(record.content),
        ...(record.contextWaMessageId ? { contextWaMessageId: record.contextWaMessageId } : {}),
        ...(record.profileName ? { profileName: record.profileName } : {}),
        ...(record.media ? { media: { ...record.media } } : {}),
        ...(record.mediaUnavailable ? { mediaUnavailable: record.mediaUnavailable } : {}),
        receivedAt: record.receivedAt,
      });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    return (await this.findInboundMessage(record.tenantId, record.waMessageId)) as InboundMessageRecord;
  }

  async findInboundMessage(tenantId: string, waMessageId: string): Promise<InboundMessageRecord | undefined> {
    const doc = await this.messages.findOne({ _id: `${tenantId}/${waMessageId}`, tenantId });
    return doc ? toRecord(doc) : undefined;
  }

  async extendServiceWindow(key: ServiceWindowKey, inboundAt: Date): Promise<ServiceWindowState> {
    const update = async () =>
      this.windows.findOneAndUpdate(
        { _id: windowId(key) },
        // $max keeps the later time, so an out-of-order older message never shortens the window.
        {
          $max: { lastInboundAt: inboundAt },
          $setOnInsert: { tenantId: key.tenantId, phoneNumberId: key.phoneNumberId, customer: key.customer },
        },
        { upsert: true, returnDocument: 'after' },
      );
    let doc: ServiceWindowDocument | null;
    try {
      doc = await update();
    } catch (error) {
      // Two concurrent upserts of a new window: one inserts, the other fails on _id and now finds it.
      if (!isDuplicateKeyError(error)) throw error;
      doc = await update();
    }
    if (!doc) throw new Error('service window upsert returned no document');
    return { lastInboundAt: doc.lastInboundAt };
  }

  async findServiceWindow(key: ServiceWindowKey): Promise<ServiceWindowState | undefined> {
    const doc = await this.windows.findOne({ _id: windowId(key), tenantId: key.tenantId });
    return doc ? { lastInboundAt: doc.lastInboundAt } : undefined;
  }

  async customerMessages(
    tenantId: string,
    customer: string,
    page: { readonly after?: { readonly occurredAt: Date; readonly waMessageId: string }; readonly limit: number },
  ): Promise<InboundMessageRecord[]> {
    const after = page.after
      ? {
          $or: [
            { occurredAt: { $gt: page.after.occurredAt } },
            { occurredAt: page.after.occurredAt, waMessageId: { $gt: page.after.waMessageId } },
          ],
        }
      : {};
    const docs = await this.messages
      .find({ tenantId, customer, ...after })
      .sort({ occurredAt: 1, waMessageId: 1 })
      .limit(page.limit)
      .toArray();
    return docs.map(toRecord);
  }

  async eraseCustomer(tenantId: string, customer: string, customerRef: string): Promise<{ messages: number; windows: number }> {
    const messages = await this.messages.updateMany(
      { tenantId, customer },
      { $set: { customer: customerRef, contentJson: JSON.stringify(ERASED_CONTENT) }, $unset: { profileName: '', media: '' } },
    );
    const windows = await this.windows.deleteMany({ tenantId, customer });
    return { messages: messages.modifiedCount, windows: windows.deletedCount };
  }

  async close(): Promise<void> {
    // The connection belongs to whoever opened it.
  }
}
