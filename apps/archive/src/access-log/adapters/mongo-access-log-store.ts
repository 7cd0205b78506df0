import { randomBytes } from 'node:crypto';
import type { Collection, Filter } from 'mongodb';
import { merkleTreeHash } from '@waygate/tlog';
import { applyMongoMigrations, isDuplicateKeyError, type MongoDatabase, type MongoMigration } from '@waygate/storage';
import type { AccessLogEntry, RecordedAccessLogEntry } from '../domain/access-log-entry';
import type { AccessLogQuery, AccessLogStore } from '../domain/access-log-store';

interface AccessLogDocument {
  /** `${tenantId}/${index}`: the unique key that makes an append claim its index (no gaps, no doubles). */
  _id: string;
  tenantId: string;
  index: number;
  at: Date;
  keyId: string;
  action: string;
  filtersJson: string;
  resultCount: number;
  statusCode: number;
  /** Hex. */
  leafHash: string;
}

interface PseudonymKeyDocument {
  _id: string;
  /** Hex. */
  key: string;
}

/** The access log's data changes on MongoDB, one array entry each (none yet beyond the indexes). */
const MONGO_MIGRATIONS: readonly MongoMigration[] = [];
/** How often an append retries when another replica took the same index at the same moment. */
const MAX_APPEND_ATTEMPTS = 50;

function toEntry(document: AccessLogDocument): RecordedAccessLogEntry {
  return {
    tenantId: document.tenantId,
    index: document.index,
    at: document.at,
    keyId: document.keyId,
    action: document.action,
    filtersJson: document.filtersJson,
    resultCount: document.resultCount,
    statusCode: document.statusCode,
    leafHash: Buffer.from(document.leafHash, 'hex'),
  };
}

/**
 * {@link AccessLogStore} on MongoDB (collection `access_log` of the archive's database). Without multi-document
 * transactions, an append claims the tenant's next index by inserting the document whose `_id` names it; a replica
 * that loses the race reads the new end and tries the next one. The write concern is the client's (majority by
 * default), so an append that resolved is durable.
 */
export class MongoAccessLogStore implements AccessLogStore {
  private readonly entries: Collection<AccessLogDocument>;
  private readonly keys: Collection<PseudonymKeyDocument>;

  private constructor(mongo: MongoDatabase) {
    this.entries = mongo.db.collection<AccessLogDocument>('access_log');
    this.keys = mongo.db.collection<PseudonymKeyDocument>('access_log_pseudonym_keys');
  }

  static async open(mongo: MongoDatabase): Promise<MongoAccessLogStore> {
    const store = new MongoAccessLogStore(mongo);
    await store.entries.createIndexes([
      // append (the end of the log), list by index, leafHashes, size.
      { key: { tenantId: 1, index: 1 }, name: 'by_index', unique: true },
      // list with a time range.
      { key: { tenantId: 1, at: 1, index: 1 }, name: 'by_time' },
      // list with an action.
      { key: { tenantId: 1, action: 1, index: 1 }, name: 'by_action' },
    ]);
    await applyMongoMigrations(mongo.db, 'access-log', MONGO_MIGRATIONS);
    return store;
  }

  async append(entry: AccessLogEntry, leafHash: Buffer): Promise<RecordedAccessLogEntry> {
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt += 1) {
      const index = await this.size(entry.tenantId);
      try {
        await this.entries.insertOne({
          _id: `${entry.tenantId}/${index}`,
          tenantId: entry.tenantId,
          index,
          at: entry.at,
          keyId: entry.keyId,
          action: entry.action,
          filtersJson: entry.filtersJson,
          resultCount: entry.resultCount,
          statusCode: entry.statusCode,
          leafHash: leafHash.toString('hex'),
        });
        return { ...entry, index, leafHash };
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    throw new Error(`access log append for ${entry.tenantId} lost the race ${MAX_APPEND_ATTEMPTS} times`);
  }

  async list(query: AccessLogQuery): Promise<RecordedAccessLogEntry[]> {
    const filter: Filter<AccessLogDocument> = { tenantId: query.tenantId };
    if (query.from || query.to) filter.at = { ...(query.from ? { $gte: query.from } : {}), ...(query.to ? { $lt: query.to } : {}) };
    if (query.action) filter.action = query.action;
    if (query.afterIndex !== undefined || query.beforeIndex !== undefined)
      filter.index = {
        ...(query.afterIndex !== undefined ? { $gt: query.afterIndex } : {}),
        ...(query.beforeIndex !== undefined ? { $lt: query.beforeIndex } : {}),
      };
    const documents = await this.entries.find(filter).sort({ index: 1 }).limit(query.limit).toArray();
    return documents.map(toEntry);
  }

  async leafHashes(tenantId: string, from: number, to: number): Promise<Buffer[]> {
    const documents = await this.entries
      .find({ tenantId, index: { $gte: from, $lt: to } }, { projection: { leafHash: 1 } })
      .sort({ index: 1 })
      .toArray();
    return documents.map((document) => Buffer.from(document.leafHash, 'hex'));
  }

  async size(tenantId: string): Promise<number> {
    const last = await this.entries.findOne({ tenantId }, { sort: { index: -1 }, projection: { index: 1 } });
    return last ? last.index + 1 : 0;
  }

  /**
   * The root over every leaf hash, read in index order: O(n), as MongoDB keeps no tree nodes (appends from several
   * replicas without transactions cannot maintain them in order). An auditor's listing is rare.
   */
  async treeHead(tenantId: string): Promise<{ size: number; rootHash: Buffer }> {
    const leaves = await this.entries
      .find({ tenantId }, { projection: { leafHash: 1 } })
      .sort({ index: 1 })
      .toArray();
    // Only the gap-free prefix: an index claimed but not yet visible ends the tree for now.
    let size = 0;
    while (size < leaves.length && leaves[size]?._id === `${tenantId}/${size}`) size += 1;
    return { size, rootHash: merkleTreeHash(leaves.slice(0, size).map((leaf) => Buffer.from(leaf.leafHash, 'hex'))) };
  }

  async pseudonymKey(tenantId: string): Promise<Buffer> {
    await this.keys
      .updateOne({ _id: tenantId }, { $setOnInsert: { key: randomBytes(32).toString('hex') } }, { upsert: true })
      .catch((error: unknown) => {
        // Two replicas creating it at once: one upsert wins, the other reads the winner's key below.
        if (!isDuplicateKeyError(error)) throw error;
      });
    const document = await this.keys.findOne({ _id: tenantId });
    if (!document) throw new Error(`access log pseudonym key of ${tenantId} missing after creation`);
    return Buffer.from(document.key, 'hex');
  }

  async close(): Promise<void> {
    // The archive's MongoDB client is closed by the archive.
  }
}
