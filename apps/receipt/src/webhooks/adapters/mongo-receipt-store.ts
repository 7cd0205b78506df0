import type { Collection } from 'mongodb';
import { applyMongoMigrations, isDuplicateKeyError, type MongoDatabase, type MongoMigration } from '@waygate/storage';
import type { ReceiptStore, SentMessageRecord } from '../domain/receipt-store';
import type { WebhookStatus } from '../domain/webhook-payload';

interface SentMessageDocument {
  _id: string; // `${tenantId}/${waMessageId}`: findSentMessage's only lookup.
  tenantId: string;
  waMessageId: string;
  messageId: string;
  recipient?: string;
  traceContext?: string;
}

interface HeldStatusDocument {
  _id: string; // `${tenantId}/${waMessageId}/${status}`: one per status, so holding is idempotent.
  tenantId: string;
  waMessageId: string;
  status: WebhookStatus;
}

/**
 * Versioned data migrations of this store's MongoDB collections (version = position, recorded in `schema_migrations`
 * as `receipt-wamids`); only appended. Indexes are ensured at every open.
 */
const MONGO_MIGRATIONS: readonly MongoMigration[] = [];

/** The production ReceiptStore. */
export class MongoReceiptStore implements ReceiptStore {
  private readonly sent: Collection<SentMessageDocument>;
  private readonly held: Collection<HeldStatusDocument>;

  private constructor(mongo: MongoDatabase) {
    this.sent = mongo.db.collection<SentMessageDocument>('sent_messages');
    this.held = mongo.db.collection<HeldStatusDocument>('held_statuses');
  }

  static async open(mongo: MongoDatabase): Promise<MongoReceiptStore> {
    const store = new MongoReceiptStore(mongo);
    // listHeldStatuses / releaseHeldStatuses select by tenant and wamid.
    await store.held.createIndex({ tenantId: 1, waMessageId: 1 }, { name: 'by_wamid' });
    await applyMongoMigrations(mongo.db, 'receipt-wamids', MONGO_MIGRATIONS);
    return store;
  }

  async recordSentMessage(record: SentMessageRecord): Promise<void> {
    try {
      await this.sent.insertOne({
        _id: `${record.tenantId}/${record.waMessageId}`,
        tenantId: record.tenantId,
        waMessageId: record.waMessageId,
        messageId: record.messageId,
        ...(record.recipient ? { recipient: record.recipient } : {}),
        ...(record.traceContext ? { traceContext: record.traceContext } : {}),
      });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  async findSentMessage(tenantId: string, waMessageId: string): Promise<SentMessageRecord | undefined> {
    const doc = await this.sent.findOne({ _id: `${tenantId}/${waMessageId}`, tenantId });
    if (!doc) return undefined;
    return {
      tenantId: doc.tenantId,
      waMessageId: doc.waMessageId,
      messageId: doc.messageId,
      ...(doc.recipient ? { recipient: doc.recipient } : {}),
      ...(doc.traceContext ? { traceContext: doc.traceContext } : {}),
    };
  }

  async holdStatus(tenantId: string, status: WebhookStatus): Promise<void> {
    try {
      await this.held.insertOne({
        _id: `${tenantId}/${status.waMessageId}/${status.status}`,
        tenantId,
        waMessageId: status.waMessageId,
        status,
      });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  async listHeldStatuses(tenantId: string, waMessageId: string): Promise<WebhookStatus[]> {
    const docs = await this.held.find({ tenantId, waMessageId }).toArray();
    return docs.map((doc) => doc.status);
  }

  async releaseHeldStatuses(tenantId: string, waMessageId: string): Promise<void> {
    await this.held.deleteMany({ tenantId, waMessageId });
  }

  async eraseCustomer(tenantId: string, customer: string, customerRef: string): Promise<{ sentMessages: number; heldStatuses: number }> {
    const forms = [customer, customer.replace(/^\+/, '')];
    const sent = await this.sent.updateMany({ tenantId, recipient: { $in: forms } }, { $set: { recipient: customerRef } });
    const held = await this.held.deleteMany({ tenantId, 'status.recipientId': { $in: forms } });
    return { sentMessages: sent.modifiedCount, heldStatuses: held.deletedCount };
  }

  async close(): Promise<void> {
    // The connection belongs to whoever opened it.
  }
}
