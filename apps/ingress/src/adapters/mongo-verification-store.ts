import type { Collection } from 'mongodb';
import { applyMongoMigrations, type MongoDatabase, type MongoMigration } from '@waygate/storage';
import type { Verification, VerificationStatus } from '../domain/verification';
import type { ReserveOutcome, ReserveRules, VerificationStore } from '../domain/verification-store';

interface VerificationDocument {
  _id: string; // `${tenantId}/${verificationId}`
  tenantId: string;
  verificationId: string;
  to: string;
  phoneNumberId: string;
  templateName: string;
  templateLanguage: string;
  codeHash: string;
  status: string;
  checks: number;
  createdAt: Date;
  expiresAt: Date;
  approvedAt?: Date;
  errorCode?: number;
  errorTitle?: string;
  version: number;
}

function toVerification(doc: VerificationDocument): Verification {
  const { _id, status, ...rest } = doc;
  void _id;
  return { ...rest, status: status as VerificationStatus };
}

function toDocument(v: Verification): VerificationDocument {
  // Absent optional fields stay absent (the driver would store an undefined as null).
  const defined = Object.fromEntries(Object.entries(v).filter(([, value]) => value !== undefined)) as unknown as Verification;
  return { _id: `${v.tenantId}/${v.verificationId}`, ...defined };
}

/** Versioned data migrations (`ingress-verifications` in `schema_migrations`); only appended. Indexes at every open. */
const MONGO_MIGRATIONS: readonly MongoMigration[] = [];

/** The production VerificationStore: one document per verification. */
export class MongoVerificationStore implements VerificationStore {
  private readonly verifications: Collection<VerificationDocument>;

  private constructor(mongo: MongoDatabase) {
    this.verifications = mongo.db.collection<VerificationDocument>('verifications');
  }

  static async open(mongo: MongoDatabase): Promise<MongoVerificationStore> {
    const store = new MongoVerificationStore(mongo);
    await store.verifications.createIndexes([
      // latestFor, the resend guard and the per-number limit.
      { key: { tenantId: 1, to: 1, createdAt: -1 }, name: 'by_recipient' },
      // the per-tenant limit.
      { key: { tenantId: 1, createdAt: 1 }, name: 'by_time' },
      // purgeCreatedBefore.
      { key: { createdAt: 1 }, name: 'created' },
    ]);
    await applyMongoMigrations(mongo.db, 'ingress-verifications', MONGO_MIGRATIONS);
    return store;
  }

  async reserve(candidate: Verification, rules: ReserveRules): Promise<ReserveOutcome> {
    const now = candidate.createdAt;
    const recent = await this.verifications.findOne(
      {
        tenantId: candidate.tenantId,
        to: candidate.to,
        status: 'PENDING',
        createdAt: { $gte: rules.resendWindowStart },
        expiresAt: { $gt: now },
      },
      { sort: { createdAt: -1 } },
    );
    if (recent) return { kind: 'pending', verification: toVerification(recent) };
    const window = { tenantId: candidate.tenantId, createdAt: { $gte: rules.limitWindowStart } };
    const limited = async (filter: object, limit: number): Promise<Date | undefined> => {
      const count = await this.verifications.countDocuments(filter, { limit });
      if (count < limit) return undefined;
      const oldest = await this.verifications.findOne(filter, { sort: { createdAt: 1 }, projection: { createdAt: 1 } });
      return oldest?.createdAt ?? now;
    };
    const numberOldest = await limited({ ...window, to: candidate.to }, rules.sendsPerNumber);
    if (numberOldest) return { kind: 'limited', scope: 'number', oldestInWindow: numberOldest };
    const tenantOldest = await limited(window, rules.sendsPerTenant);
    if (tenantOldest) return { kind: 'limited', scope: 'tenant', oldestInWindow: tenantOldest };
    await this.verifications.insertOne(toDocument(candidate));
    return { kind: 'reserved' };
  }

  async get(tenantId: string, verificationId: string): Promise<Verification | undefined> {
    const doc = await this.verifications.findOne({ _id: `${tenantId}/${verificationId}` });
    return doc ? toVerification(doc) : undefined;
  }

  async latestFor(tenantId: string, to: string): Promise<Verification | undefined> {
    const doc = await this.verifications.findOne({ tenantId, to }, { sort: { createdAt: -1, verificationId: -1 } });
    return doc ? toVerification(doc) : undefined;
  }

  async update(next: Verification): Promise<boolean> {
    const { _id, ...fields } = toDocument(next);
    const result = await this.verifications.replaceOne({ _id, version: next.version - 1 }, fields);
    return result.modifiedCount === 1;
  }

  async remove(tenantId: string, verificationId: string): Promise<void> {
    await this.verifications.deleteOne({ _id: `${tenantId}/${verificationId}` });
  }

  async eraseCustomer(tenantId: string, to: string): Promise<number> {
    return (await this.verifications.deleteMany({ tenantId, to })).deletedCount;
  }

  async listFor(
    tenantId: string,
    to: string,
    page: { readonly afterVerificationId?: string; readonly limit: number },
  ): Promise<Verification[]> {
    const docs = await this.verifications
      .find({ tenantId, to, verificationId: { $gt: page.afterVerificationId ?? '' } })
      .sort({ verificationId: 1 })
      .limit(page.limit)
      .toArray();
    return docs.map(toVerification);
  }

  async flushDeleted(): Promise<void> {
    // MongoDB deletes in place; nothing to flush.
  }

  async purgeCreatedBefore(before: Date): Promise<number> {
    return (await this.verifications.deleteMany({ createdAt: { $lt: before } })).deletedCount;
  }

  async close(): Promise<void> {}
}
