import { applyMongoMigrations, isDuplicateKeyError, type MongoDatabase } from '@waygate/storage';
import type { Collection } from 'mongodb';
import { ERASURE_PARTS, type ErasurePartName, type ErasureRecord, type ErasureStore } from '../governance/domain/erasure';

interface PartDocument {
  completedAt?: Date;
  counts: Record<string, number>;
}

interface ErasureDocument {
  /** `${tenantId}/${erasureId}`. */
  _id: string;
  tenantId: string;
  erasureId: string;
  customerHash: string;
  customerRef: string;
  customerSealed: string;
  keyEpoch: number;
  requestedBy: string;
  reason: string;
  requestedAt: Date;
  publishedAt?: Date;
  completedAt?: Date;
  receipt?: string;
  /** Present (true) only while in progress: the partial index of `inProgress`. */
  open?: true;
  parts: Record<string, PartDocument>;
}

function recordOf(document: ErasureDocument): ErasureRecord {
  return {
    erasureId: document.erasureId,
    tenantId: document.tenantId,
    customerHash: document.customerHash,
    customerRef: document.customerRef,
    customerSealed: document.customerSealed,
    keyEpoch: document.keyEpoch,
    requestedBy: document.requestedBy,
    reason: document.reason,
    requestedAt: document.requestedAt,
    ...(document.publishedAt ? { publishedAt: document.publishedAt } : {}),
    ...(document.completedAt ? { completedAt: document.completedAt } : {}),
    ...(document.receipt !== undefined ? { receipt: document.receipt } : {}),
    parts: ERASURE_PARTS.map((service) => {
      const part = document.parts[service];
      return { service, ...(part?.completedAt ? { completedAt: part.completedAt } : {}), counts: part?.counts ?? {} };
    }),
  };
}

/** ErasureStore on MongoDB: collection `erasures` of the archive's database. */
export class MongoErasureStore implements ErasureStore {
  private constructor(private readonly erasures: Collection<ErasureDocument>) {}

  /** Opens the store on `mongo` (whose connection the caller closes). */
  static async open(mongo: MongoDatabase): Promise<MongoErasureStore> {
    const erasures = mongo.db.collection<ErasureDocument>('erasures');
    // Before the indexes: version 1 drops one_per_customer, whose key the partial one_open_per_customer reuses.
    await applyMongoMigrations(mongo.db, 'archive-erasures', [
      async (db) => {
        // A completed erasure no longer blocks a new one for the same customer (a customer who came back).
        const indexes = await db
          .collection('erasures')
          .listIndexes()
          .toArray()
          .catch(() => []);
        if (indexes.some((index) => index.name === 'one_per_customer')) await db.collection('erasures').dropIndex('one_per_customer');
      },
    ]);
    await erasures.createIndexes([
      // One erasure per customer while it runs; once complete, a new request is a new erasure.
      { key: { tenantId: 1, customerHash: 1 }, name: 'one_open_per_customer', unique: true, partialFilterExpression: { open: true } },
      { key: { tenantId: 1, customerHash: 1, requestedAt: -1 }, name: 'by_customer' },
      { key: { requestedAt: 1 }, name: 'in_progress', partialFilterExpression: { open: true } },
    ]);
    return new MongoErasureStore(erasures);
  }

  async create(record: ErasureRecord): Promise<{ record: ErasureRecord; created: boolean }> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const existing = await this.erasures.findOne({ tenantId: record.tenantId, customerHash: record.customerHash, open: true });
      if (existing) return { record: recordOf(existing), created: false };
      const document: ErasureDocument = {
        _id: `${record.tenantId}/${record.erasureId}`,
        tenantId: record.tenantId,
        erasureId: record.erasureId,
        customerHash: record.customerHash,
        customerRef: record.customerRef,
        customerSealed: record.customerSealed,
        keyEpoch: record.keyEpoch,
        requestedBy: record.requestedBy,
        reason: record.reason,
        requestedAt: record.requestedAt,
        open: true,
        parts: Object.fromEntries(ERASURE_PARTS.map((service) => [service, { counts: {} }])),
      };
      try {
        await this.erasures.insertOne(document);
        return { record: recordOf(document), created: true };
      } catch (error) {
        // A concurrent request for the same customer won: read it on the next round.
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    throw new Error('erasure creation kept colliding');
  }

  async byId(tenantId: string, erasureId: string): Promise<ErasureRecord | undefined> {
    const document = await this.erasures.findOne({ _id: `${tenantId}/${erasureId}` });
    return document ? recordOf(document) : undefined;
  }

  async byCustomer(tenantId: string, customerHash: string): Promise<ErasureRecord | undefined> {
    const document = await this.erasures.findOne({ tenantId, customerHash }, { sort: { requestedAt: -1, erasureId: -1 } });
    return document ? recordOf(document) : undefined;
  }

  async markPublished(tenantId: string, erasureId: string, at: Date): Promise<void> {
    await this.erasures.updateOne({ _id: `${tenantId}/${erasureId}`, publishedAt: { $exists: false } }, { $set: { publishedAt: at } });
  }

  async completePart(
    tenantId: string,
    erasureId: string,
    service: ErasurePartName,
    completedAt: Date,
    counts: Readonly<Record<string, number>>,
  ): Promise<ErasureRecord | undefined> {
    await this.erasures.updateOne(
      { _id: `${tenantId}/${erasureId}`, [`parts.${service}.completedAt`]: { $exists: false } },
      { $set: { [`parts.${service}`]: { completedAt, counts: { ...counts } } } },
    );
    return this.byId(tenantId, erasureId);
  }

  async complete(tenantId: string, erasureId: string, completedAt: Date, receipt: string): Promise<ErasureRecord | undefined> {
    await this.erasures.updateOne(
      { _id: `${tenantId}/${erasureId}`, completedAt: { $exists: false } },
      { $set: { completedAt, receipt }, $unset: { open: '' } },
    );
    return this.byId(tenantId, erasureId);
  }

  async inProgress(limit: number): Promise<ErasureRecord[]> {
    const documents = await this.erasures.find({ open: true }).sort({ requestedAt: 1 }).limit(limit).toArray();
    return documents.map(recordOf);
  }

  /** The connection is the caller's. */
  async close(): Promise<void> {}
}
