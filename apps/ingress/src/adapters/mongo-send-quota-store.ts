import type { Collection } from 'mongodb';
import { applyMongoMigrations, isDuplicateKeyError, type MongoDatabase, type MongoMigration } from '@waygate/storage';
import { rateToleranceMs, rateWaitMs, type SendQuotaStore, type SendRate } from '../domain/send-quota';

interface DailySendsDocument {
  _id: string; // `${tenantId}/${day}`
  tenantId: string;
  day: string;
  used: number;
  /** For the TTL index: counters go a week after their day. */
  expiresAt: Date;
}

/** The send rate's state: GCRA's theoretical arrival time, one document per tenant. */
interface SendRateDocument {
  _id: string; // tenant id
  tatMs: number;
}

const KEEP_MS = 8 * 86_400_000;

/**
 * Versioned data migrations of this store's MongoDB collections (version = position, recorded in `schema_migrations`
 * as `ingress-quotas`); only appended. Indexes are ensured at every open.
 */
const MONGO_MIGRATIONS: readonly MongoMigration[] = [];

/**
 * The production SendQuotaStore: one counter document per tenant and UTC day, incremented atomically below the limit,
 * and one rate document per tenant, moved on atomically within the burst tolerance.
 */
export class MongoSendQuotaStore implements SendQuotaStore {
  private readonly counters: Collection<DailySendsDocument>;
  private readonly rates: Collection<SendRateDocument>;

  private constructor(mongo: MongoDatabase) {
    this.counters = mongo.db.collection<DailySendsDocument>('daily_sends');
    this.rates = mongo.db.collection<SendRateDocument>('send_rates');
  }

  static async open(mongo: MongoDatabase): Promise<MongoSendQuotaStore> {
    const store = new MongoSendQuotaStore(mongo);
    // Old counters are removed by MongoDB; consume and used go by _id.
    await store.counters.createIndexes([{ key: { expiresAt: 1 }, name: 'ttl', expireAfterSeconds: 0 }]);
    await applyMongoMigrations(mongo.db, 'ingress-quotas', MONGO_MIGRATIONS);
    return store;
  }

  async consume(tenantId: string, day: string, limit: number): Promise<boolean> {
    const _id = `${tenantId}/${day}`;
    try {
      // Matches only below the limit; at the limit the upsert collides with the existing counter.
      const result = await this.counters.updateOne(
        { _id, used: { $lt: limit } },
        { $inc: { used: 1 }, $setOnInsert: { tenantId, day, expiresAt: new Date(Date.parse(`${day}T00:00:00Z`) + KEEP_MS) } },
        { upsert: true },
      );
      return result.modifiedCount === 1 || result.upsertedCount === 1;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  async takeRate(tenantId: string, nowMs: number, rate: SendRate): Promise<number> {
    try {
      // Matches only within the burst tolerance; otherwise the upsert collides with the tenant's document. The
      // pipeline moves the arrival time on from the later of itself and now (a new document starts from now).
      const result = await this.rates.updateOne(
        { _id: tenantId, tatMs: { $lte: nowMs + rateToleranceMs(rate) } },
        [{ $set: { tatMs: { $add: [{ $max: ['$tatMs', nowMs] }, rate.intervalMs] } } }],
        { upsert: true },
      );
      if (result.modifiedCount === 1 || result.upsertedCount === 1) return 0;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    const stored = await this.rates.findOne({ _id: tenantId });
    return rateWaitMs(stored?.tatMs ?? nowMs, nowMs, rate);
  }

  async returnRate(tenantId: string, rate: SendRate): Promise<void> {
    await this.rates.updateOne({ _id: tenantId }, { $inc: { tatMs: -rate.intervalMs } });
  }

  async used(tenantId: string, day: string): Promise<number> {
    return (await this.counters.findOne({ _id: `${tenantId}/${day}` }))?.used ?? 0;
  }

  async close(): Promise<void> {}
}
