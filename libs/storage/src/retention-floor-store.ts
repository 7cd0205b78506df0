import type { KEPT_FOREVER, RetentionFloor, RetentionFloorStore, RetentionSetting } from '@waygate/tenancy';
import type { Collection } from 'mongodb';
import type { MongoDatabase } from './mongo';
import { openSqliteDatabase, type SqliteDatabase } from './sqlite';

/** KEPT_FOREVER's value (0), restated so that this module imports no runtime code from the domain. */
const FOREVER: typeof KEPT_FOREVER = 0;

/**
 * The table, created if missing (no versioned migration: the table is put into a service's existing file without
 * touching that file's own schema versions). Kept identical to any migration that creates it.
 */
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS retention_floors (
  tenant_id TEXT NOT NULL,
  setting TEXT NOT NULL,
  days INTEGER NOT NULL,
  compliance INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, setting)
)`;

/**
 * Retention floors in table `retention_floors` of a service's SQLite file, on a connection of its own. A floor only
 * rises: the upsert keeps the longer retention (0, forever, is longest) and keeps compliance once set.
 */
export class SqliteRetentionFloorStore implements RetentionFloorStore {
  private readonly db: SqliteDatabase;

  constructor(file: string) {
    this.db = openSqliteDatabase(file, []);
    this.db.exec(CREATE_TABLE);
  }

  load(setting: RetentionSetting): Promise<RetentionFloor[]> {
    const rows = this.db
      .prepare<[string], { tenant_id: string; days: number; compliance: number }>(
        'SELECT tenant_id, days, compliance FROM retention_floors WHERE setting = ?',
      )
      .all(setting);
    return Promise.resolve(rows.map((row) => ({ tenantId: row.tenant_id, setting, days: row.days, compliance: row.compliance === 1 })));
  }

  raise(floor: RetentionFloor): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO retention_floors (tenant_id, setting, days, compliance, updated_at_ms) VALUES (@tenantId, @setting, @days, @compliance, @now)
         ON CONFLICT (tenant_id, setting) DO UPDATE SET
           days = CASE WHEN days = ${FOREVER} OR excluded.days = ${FOREVER} THEN ${FOREVER} ELSE MAX(days, excluded.days) END,
           compliance = MAX(compliance, excluded.compliance),
           updated_at_ms = excluded.updated_at_ms`,
      )
      .run({ tenantId: floor.tenantId, setting: floor.setting, days: floor.days, compliance: floor.compliance ? 1 : 0, now: Date.now() });
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }
}

interface FloorDocument {
  /** `${setting}/${tenantId}`. */
  _id: string;
  tenantId: string;
  setting: RetentionSetting;
  days: number;
  compliance: boolean;
  updatedAt: Date;
}

/** Retention floors in collection `retention_floors` of a service's MongoDB database (one document per tenant and setting). */
export class MongoRetentionFloorStore implements RetentionFloorStore {
  private readonly floors: Collection<FloorDocument>;

  constructor(mongo: MongoDatabase) {
    this.floors = mongo.db.collection<FloorDocument>('retention_floors');
  }

  async load(setting: RetentionSetting): Promise<RetentionFloor[]> {
    const documents = await this.floors.find({ setting }).toArray();
    return documents.map((d) => ({ tenantId: d.tenantId, setting, days: d.days, compliance: d.compliance }));
  }

  async raise(floor: RetentionFloor): Promise<void> {
    // An update pipeline keeps the longer retention and compliance once set, atomically per document.
    const days = { $ifNull: ['$days', floor.days] };
    await this.floors.updateOne(
      { _id: `${floor.setting}/${floor.tenantId}` },
      [
        {
          $set: {
            tenantId: floor.tenantId,
            setting: floor.setting,
            days: {
              $cond: [{ $or: [{ $eq: [days, FOREVER] }, { $eq: [floor.days, FOREVER] }] }, FOREVER, { $max: [days, floor.days] }],
            },
            compliance: { $or: [{ $ifNull: ['$compliance', false] }, floor.compliance] },
            updatedAt: '$$NOW',
          },
        },
      ],
      { upsert: true },
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
