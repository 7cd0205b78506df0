import type { Collection } from 'mongodb';
import type { MongoDatabase } from '@waygate/storage';
import type { AttemptRecord, Delivery, DeliveryContent, DeliveryState } from '../domain/delivery';
import type { DeliveryStore } from '../domain/delivery-store';

interface DeliveryDocument {
  _id: string; // `${tenantId}/${messageId}`: the only lookup, so no secondary index is needed yet.
  tenantId: string;
  messageId: string;
  to: string;
  phoneNumberId: string;
  content: DeliveryContent;
  state: string;
  attempts: number;
  waMessageId?: string;
  lastErrorCode?: number;
  lastErrorTitle?: string;
  nextAttemptAt?: Date;
  expiresAt: Date;
  updatedAt: Date;
}

function toDelivery(doc: DeliveryDocument): Delivery {
  return {
    tenantId: doc.tenantId,
    messageId: doc.messageId,
    to: doc.to,
    phoneNumberId: doc.phoneNumberId,
    content: doc.content,
    state: doc.state as DeliveryState,
    attempts: doc.attempts,
    ...(doc.waMessageId !== undefined ? { waMessageId: doc.waMessageId } : {}),
    ...(doc.lastErrorCode !== undefined ? { lastErrorCode: doc.lastErrorCode } : {}),
    ...(doc.lastErrorTitle !== undefined ? { lastErrorTitle: doc.lastErrorTitle } : {}),
    ...(doc.nextAttemptAt !== undefined ? { nextAttemptAt: doc.nextAttemptAt } : {}),
    expiresAt: doc.expiresAt,
    updatedAt: doc.updatedAt,
  };
}

/** The production DeliveryStore: one document per message. */
export class MongoDeliveryStore implements DeliveryStore {
  private readonly deliveries: Collection<DeliveryDocument>;

  constructor(mongo: MongoDatabase) {
    this.deliveries = mongo.db.collection<DeliveryDocument>('deliveries');
  }

  async insertIfAbsent(delivery: Delivery): Promise<Delivery> {
    const { tenantId, messageId } = delivery;
    // $setOnInsert under upsert is atomic: concurrent redeliveries create one document. `_id` comes from the
    // filter (an upsert copies its equality fields), so the update does not set it again.
    const doc = await this.deliveries.findOneAndUpdate(
      { _id: `${tenantId}/${messageId}`, tenantId },
      { $setOnInsert: stripUndefined({ ...delivery }) as Omit<DeliveryDocument, '_id'> },
      { upsert: true, returnDocument: 'after' },
    );
    return toDelivery(doc as DeliveryDocument);
  }

  async get(tenantId: string, messageId: string): Promise<Delivery | undefined> {
    const doc = await this.deliveries.findOne({ _id: `${tenantId}/${messageId}`, tenantId });
    return doc ? toDelivery(doc) : undefined;
  }

  async recordAttempt(tenantId: string, messageId: string, attempt: AttemptRecord): Promise<void> {
    const { waMessageId, lastErrorCode, lastErrorTitle, nextAttemptAt, ...always } = attempt;
    const unset: Record<string, ''> = {};
    if (lastErrorCode === undefined) unset.lastErrorCode = '';
    if (lastErrorTitle === undefined) unset.lastErrorTitle = '';
    if (nextAttemptAt === undefined) unset.nextAttemptAt = '';
    await this.deliveries.updateOne(
      { _id: `${tenantId}/${messageId}`, tenantId },
      {
        $set: stripUndefined({ ...always, waMessageId, lastErrorCode, lastErrorTitle, nextAttemptAt }),
        ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}),
      },
    );
  }

  async close(): Promise<void> {
    // The connection belongs to whoever opened it.
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
