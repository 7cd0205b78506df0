export { checkpointWalTruncate, openSqliteDatabase, WAL_CHECKPOINT_TIMEOUT_MS, WalCheckpointBusyError } from './sqlite';
export type { SqliteDatabase } from './sqlite';
export { connectMongo, isDuplicateKeyError } from './mongo';
export type { MongoDatabase } from './mongo';
export { applyMongoMigrations, MONGO_SCHEMA_COLLECTION } from './mongo-migrations';
export type { MongoMigration } from './mongo-migrations';
export { contractBackends } from './contract-backends';
export type { ContractBackend } from './contract-backends';
