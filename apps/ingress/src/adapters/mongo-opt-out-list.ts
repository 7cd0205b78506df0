import type { Collection } from 'mongodb';
import { applyMongoMigrations, isDuplicateKeyError, type MongoDatabase, type MongoMigration } from '@waygate/storage';
import type { OptOut, OptOutCursor, OptOutList, OptOutPage, OptOutSource } from '../domain/opt-out-list';

interface OptOutDocument {
  _id: string; // `${tenantId}/${customer}`
  tenantId: string;
  customer: string;
  source: string;
  createdAt: Date;
}

function toOptOut(doc: OptOutDocument): OptOut {
  return { tenantId: doc.tenantId, customer: doc.customer, source: doc.source as OptOutSource, createdAt: doc.createdAt };
}

/**
 * Versioned data migrations of this store's MongoDB collections (version = position, recorded in `schema_migrations`
 * as `ingress-opt-outs`); only appended. Indexes are ensured at every open.
 */
const MONGO_MIGRATIONS: readonly MongoMigration[] = [];

/** The production OptOutList: one document per tenant and customer. */
export class MongoOptOutList implements OptOutList {
  private readonly optOuts: Collection<OptOutDocument>;

  private constructor(mongo: MongoDatabase) {
    this.optOuts = mongo.db.collection<OptOutDocument>('opt_outs');
  }

  static async open(mongo: MongoDatabase): Promise<MongoOptOutList> {
    const list = new MongoOptOutList(mongo);
    // list: newest first, paged by (createdAt, customer). add/remove/findAny use _id.
    await list.optOuts.createIndexes([{ key: { tenantId: 1, createdAt: -1, customer: -1 }, name: 'newest_first' }]);
    await applyMongoMigrations(mongo.db, 'ingress-opt-outs', MONGO_MIGRATIONS);
    return list;
  }

  async add(optOut: OptOut): Promise<{ added: boolean; optOut: OptOut }> {
    const doc: OptOutDocument = {
      _id: `${optOut.tenantId}/${optOut.customer}`,
      tenantId: optOut.tenantId,
      customer: optOut.customer,
      source: optOut.source,
      createdAt: optOut.createdAt,
    };
    try {
      await this.optOuts.insertOne(doc);
      return { added: true, optOut: toOptOut(doc) };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await this.optOuts.findOne({ _id: doc._id });
      // Removed between the insert and the read: the customer is not opted out now; report this one as stored.
      return { added: false, optOut: existing ? toOptOut(existing) : optOut };
    }
  }

  async remove(tenantId: string, customer: string): Promise<boolean> {
    return (await this.optOuts.deleteOne({ _id: `${tenantId}/${customer}` })).deletedCount === 1;
  }

  async findAny(tenantId: string, customers: readonly string[]): Promise<OptOut | undefined> {
    const doc = await this.optOuts.findOne(
      { _id: { $in: customers.map((customer) => `${tenantId}/${customer}`) } },
      { sort: { createdAt: 1 } },
    );
    return doc ? toOptOut(doc) : undefined;
  }

  async list(tenantId: string, options: { limit: number; after?: OptOutCursor }): Promise<OptOutPage> {
    const after = options.after;
    const docs = await this.optOuts
      .find(
        after
          ? { tenantId, $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, customer: { $lt: after.customer } }] }
          : { tenantId },
      )
      .sort({ createdAt: -1, customer: -1 })
      .limit(options.limit + 1)
      .toArray();
    const optOuts = docs.slice(0, options.limit).map(toOptOut);
    const last = optOuts.at(-1);
    return docs.length > options.limit && last ? { optOuts, next: { createdAt: last.createdAt, customer: last.customer } } : { optOuts };
  }

  async close(): Promise<void> {}
}
