import type { Db } from 'mongodb';

/** One versioned change of a MongoDB store's data (version = its 1-based position in the store's list). */
export type MongoMigration = (db: Db) => Promise<void>;

/** The collection holding one schema version document per store: `{ _id: store, version, appliedAt }`. */
export const MONGO_SCHEMA_COLLECTION = 'schema_migrations';

/**
 * The MongoDB counterpart of openSqliteDatabase's migrations: applies `migrations[i]` (version i + 1) in order, each
 * once, and records the store's version in a schema version document (`schema_migrations`, `_id` = `store`). Run at
 * start, after the store's (idempotent) index creation. Replicas starting together may both run a migration, so each
 * must be idempotent (updates with filters, `$set`, index creation); the version only moves forward
 * (`$max`), and a database already at a newer version than this code knows (a newer release ran, then this one
 * was rolled back) is left as it is: migrations are additive, so the older code still reads it. Returns the version
 * the database is at afterwards.
 */
export async function applyMongoMigrations(db: Db, store: string, migrations: readonly MongoMigration[]): Promise<number> {
  const versions = db.collection<{ _id: string; version: number; appliedAt: Date }>(MONGO_SCHEMA_COLLECTION);
  const current = (await versions.findOne({ _id: store }))?.version ?? 0;
  for (let version = current + 1; version <= migrations.length; version += 1) {
    await (migrations[version - 1] as MongoMigration)(db);
    await versions.updateOne({ _id: store }, { $max: { version }, $set: { appliedAt: new Date() } }, { upsert: true });
  }
  if (current === 0 && migrations.length === 0) {
    await versions.updateOne({ _id: store }, { $max: { version: 0 }, $setOnInsert: { appliedAt: new Date() } }, { upsert: true });
  }
  return Math.max(current, migrations.length);
}
