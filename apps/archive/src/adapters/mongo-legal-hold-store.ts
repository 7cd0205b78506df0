import { applyMongoMigrations, isDuplicateKeyError, type MongoDatabase } from '@waygate/storage';
import type { Collection, Filter } from 'mongodb';
import type { LegalHold, LegalHoldQuery, LegalHoldStore } from '../governance/domain/legal-hold';

interface HoldDocument {
  /** `${tenantId}/${holdId}`. */
  _id: string;
  tenantId: string;
  holdId: string;
  matter: string;
  customer: string;
  placedAt: Date;
  placedBy: string;
  /** 0 while active, 1 once released: the listing's first sort key (active first). */
  released: 0 | 1;
  /** Present (true) only while active: the partial unique index on the scope covers active holds only. */
  active?: true;
  releasedAt?: Date;
  releasedBy?: string;
}

function holdOf(document: HoldDocument): LegalHold {
  return {
    holdId: document.holdId,
    tenantId: document.tenantId,
    matter: document.matter,
    customer: document.customer,
    placedAt: document.placedAt,
    placedBy: document.placedBy,
    ...(document.releasedAt ? { releasedAt: document.releasedAt, releasedBy: document.releasedBy ?? '' } : {}),
  };
}

/** LegalHoldStore on MongoDB: collection `legal_holds` of the archive's database. */
export class MongoLegalHoldStore implements LegalHoldStore {
  private constructor(private readonly holds: Collection<HoldDocument>) {}

  static async open(mongo: MongoDatabase): Promise<MongoLegalHoldStore> {
    const holds = mongo.db.collection<HoldDocument>('legal_holds');
    await holds.createIndexes([
      // place: one active hold per tenant, matter and scope.
      { key: { tenantId: 1, matter: 1, customer: 1 }, name: 'active_scope', unique: true, partialFilterExpression: { active: true } },
      // list: active first, newest first; activeCovering.
      { key: { tenantId: 1, released: 1, holdId: -1 }, name: 'by_tenant' },
      { key: { tenantId: 1, customer: 1, released: 1 }, name: 'by_customer' },
    ]);
    await applyMongoMigrations(mongo.db, 'archive-legal-holds', []);
    return new MongoLegalHoldStore(holds);
  }

  async place(hold: LegalHold): Promise<{ hold: LegalHold; created: boolean }> {
    const scope = { tenantId: hold.tenantId, matter: hold.matter, customer: hold.customer, active: true as const };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const existing = await this.holds.findOne(scope);
      if (existing) return { hold: holdOf(existing), created: false };
      try {
        await this.holds.insertOne({
          _id: `${hold.tenantId}/${hold.holdId}`,
          tenantId: hold.tenantId,
          holdId: hold.holdId,
          matter: hold.matter,
          customer: hold.customer,
          placedAt: hold.placedAt,
          placedBy: hold.placedBy,
          released: 0,
          active: true,
        });
        const { holdId, tenantId, matter, customer, placedAt, placedBy } = hold;
        return { hold: { holdId, tenantId, matter, customer, placedAt, placedBy }, created: true };
      } catch (error) {
        // A concurrent place of the same scope won: read it on the next round.
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    throw new Error('legal hold placement kept colliding');
  }

  async release(tenantId: string, holdId: string, releasedAt: Date, releasedBy: string): Promise<LegalHold | undefined> {
    await this.holds.updateOne(
      { _id: `${tenantId}/${holdId}`, released: 0 },
      { $set: { released: 1, releasedAt, releasedBy }, $unset: { active: '' } },
    );
    return this.get(tenantId, holdId);
  }

  async get(tenantId: string, holdId: string): Promise<LegalHold | undefined> {
    const document = await this.holds.findOne({ _id: `${tenantId}/${holdId}` });
    return document ? holdOf(document) : undefined;
  }

  async list(tenantId: string, query: LegalHoldQuery): Promise<LegalHold[]> {
    const and: Filter<HoldDocument>[] = [{ tenantId }];
    if (query.customer !== undefined) and.push({ customer: { $in: [query.customer, ''] } });
    if (!query.includeReleased) and.push({ released: 0 });
    if (query.after) {
      const afterReleased = query.after.released ? 1 : 0;
      and.push({ $or: [{ released: { $gt: afterReleased } }, { released: afterReleased, holdId: { $lt: query.after.holdId } }] });
    }
    const documents = await this.holds.find({ $and: and }).sort({ released: 1, holdId: -1 }).limit(query.limit).toArray();
    return documents.map(holdOf);
  }

  async activeCovering(tenantId: string, customer: string): Promise<LegalHold[]> {
    const documents = await this.holds
      .find({ tenantId, released: 0, customer: { $in: [customer, ''] } })
      .sort({ holdId: -1 })
      .toArray();
    return documents.map(holdOf);
  }

  async allActive(): Promise<LegalHold[]> {
    return (await this.holds.find({ released: 0 }).sort({ tenantId: 1, holdId: 1 }).toArray()).map(holdOf);
  }

  async pseudonymiseCustomer(tenantId: string, customer: string, customerRef: string): Promise<number> {
    const { modifiedCount } = await this.holds.updateMany({ tenantId, customer, released: 1 }, { $set: { customer: customerRef } });
    return modifiedCount;
  }

  close(): Promise<void> {
    // The connection belongs to the archive (shared with its other stores) and is closed there.
    return Promise.resolve();
  }
}
