export { openSqliteDatabase } from './sqlite';
export type { SqliteDatabase } from './sqlite';
export { connectMongo, isDuplicateKeyError } from './mongo';
export type { MongoDatabase } from './mongo';
export { contractBackends } from './contract-backends';
export type { ContractBackend } from './contract-backends';
