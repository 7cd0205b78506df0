import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectMongo, type MongoDatabase } from './mongo';

/** One storage technology a contract suite runs against. */
export interface ContractBackend<Store> {
  readonly name: 'sqlite' | 'mongodb';
  /** Why the suite cannot run against this backend here ('MONGODB_URI not set'); undefined when it runs. */
  readonly skip?: string;
  /** A fresh, empty store; `close` releases and deletes it. */
  open(): Promise<{ store: Store; close: () => Promise<void> }>;
}

/**
 * The backends a storage port's contract suite runs against: SQLite always, MongoDB when MONGODB_URI is set (each
 * open() gets its own database, dropped on close). Without MONGODB_URI the MongoDB backend is still returned, with
 * `skip` set, so that its suite is reported as skipped with the reason rather than left out unseen.
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
  } else {
    const skip = 'MONGODB_URI not set';
    backends.push({ name: 'mongodb', skip, open: () => Promise.reject(new Error(`the MongoDB contract suite cannot run: ${skip}`)) });
  }
  return backends;
}
