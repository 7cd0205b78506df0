import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connectMongo } from './mongo';
import { applyMongoMigrations, MONGO_SCHEMA_COLLECTION } from './mongo-migrations';

const uri = process.env.MONGODB_URI;

test(
  'MongoDB: each migration runs once, in order, from the recorded version on; a newer database is left alone',
  { skip: uri ? false : 'MONGODB_URI not set' },
  async () => {
    const mongo = await connectMongo(uri as string, `waygate_migrations_${randomBytes(6).toString('hex')}`);
    try {
      const ran: number[] = [];
      const migrations = [1, 2, 3].map((n) => async () => {
        ran.push(n);
      });
      assert.equal(await applyMongoMigrations(mongo.db, 'store-a', migrations.slice(0, 2)), 2);
      assert.equal(await applyMongoMigrations(mongo.db, 'store-a', migrations), 3);
      assert.deepEqual(ran, [1, 2, 3], 'the previous release ran 1 and 2; this one only 3');
      assert.equal(await applyMongoMigrations(mongo.db, 'store-a', migrations.slice(0, 1)), 3, 'a rolled-back release leaves it at 3');
      assert.deepEqual(ran, [1, 2, 3]);
      const doc = await mongo.db.collection(MONGO_SCHEMA_COLLECTION).findOne({ _id: 'store-a' as never });
      assert.equal(doc?.version, 3);
      assert.equal(await applyMongoMigrations(mongo.db, 'store-b', []), 0, 'each store has its own document');
    } finally {
      await mongo.db.dropDatabase();
      await mongo.client.close();
    }
  },
);
