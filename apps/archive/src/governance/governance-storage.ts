import path from 'node:path';
import type { StorageConfig } from '@waygate/config';
import { connectMongo } from '@waygate/storage';
import { MongoLegalHoldStore } from '../adapters/mongo-legal-hold-store';
import { SqliteLegalHoldStore } from '../adapters/sqlite-legal-hold-store';
import type { LegalHoldStore } from './domain/legal-hold';

/** The archive's governance stores (legal holds), apart from the archive store so that erasure and sweeping never reach them. */
export interface GovernanceStorage {
  readonly holds: LegalHoldStore;
  close(): Promise<void>;
}

/**
 * Opens the governance stores on the archive's storage: SQLite `archive-governance.sqlite` beside the archive's file;
 * MongoDB: the archive's database, on a connection of its own.
 */
export async function openGovernanceStorage(storage: StorageConfig): Promise<GovernanceStorage> {
  if (storage.kind === 'sqlite') {
    const holds = new SqliteLegalHoldStore(path.join(path.dirname(storage.file), 'archive-governance.sqlite'));
    return { holds, close: () => holds.close() };
  }
  const mongo = await connectMongo(storage.uri, storage.database);
  try {
    const holds = await MongoLegalHoldStore.open(mongo);
    return { holds, close: () => mongo.client.close() };
  } catch (error) {
    await mongo.client.close();
    throw error;
  }
}
