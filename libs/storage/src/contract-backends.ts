import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectMongo, type MongoDatabase } from './mongo';

/** One storage technology a contract suite runs against. */
export interface ContractBackend<Store> {
  readonly name: 'sqlite' | 'mongodb';
  /** A fresh, empty store; `close` releases and deletes it. */
  open(): Promise<{ store: Store; close: () => Promise<void> }>;
}

/**
 * The backends a storage port's contract suite runs against: SQLite always, MongoDB when MONGODB_URI is set (each
 * open() gets its own database, dropped on close).
 */
export function contractBackends<Store>(factories: {
  sqlite: (file: string) => Store | Promise<Store>;
  mongodb: (mongo: MongoDatabase) => Store | Promise<Store>;
  close: (store: Store) => void | Promise<void>;
}): ContractBackend<Store>[] {
  const backends: ContractBackend<Store>[] = [
    {
      name: 'sqlite',
      async open() {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'waygate-contract-'));
        const store = await factories.sqlite(path.join(dir, 'store.sqlite'));
        return {
          store,
          close: async () => {
            await factories.close(store);
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
    },
  ];
  const mongoUri = process.env.MONGODB_URI;
  if (mongoUri) {
    backends.push({
      name: 'mongodb',
      async open() {
        const mongo = await connectMongo(mongoUri, `waygate_contract_${randomBytes(6).toString('hex')}`);
        const store = await factories.mongodb(mongo);
        return {
          store,
          close: async () => {
            await factories.close(store);
            await mongo.db.dropDatabase();
            await mongo.client.close();
          },
        };
      },
    });
  }
  return backends;
}
