import { MongoClient, type Db } from 'mongodb';

/** A connected MongoDB database with the client that owns it. */
export interface MongoDatabase {
  readonly client: MongoClient;
  readonly db: Db;
}

/**
 * Connects with majority write concern and journaling: a write that returns is durable, so consumers may
 * acknowledge NATS messages after it.
 */
export async function connectMongo(uri: string, database: string): Promise<MongoDatabase> {
  const client = new MongoClient(uri, {
    writeConcern: { w: 'majority', journal: true },
    readConcern: { level: 'majority' },
    appName: database,
  });
  await client.connect();
  return { client, db: client.db(database) };
}

/** Whether a MongoDB error is a unique-index violation. */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}
