import { randomBytes } from 'node:crypto';
import { openSqliteDatabase, type SqliteDatabase } from '@waygate/storage';
import { SyncMerkleLog, type NodeKey, type SyncTreeNodeStore, type TreeNode } from '@waygate/tlog';
import type { AccessLogEntry, RecordedAccessLogEntry } from '../domain/access-log-entry';
import type { AccessLogQuery, AccessLogStore } from '../domain/access-log-store';

/**
 * The access log's own SQLite file (`<data dir>/<region>/access-log.sqlite`), apart from the archive's: its commits
 * are on the path of every archive call, and its migrations stay its own. Each entry in its own migration-numbered
 * array entry, so later changes append.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE access_log (
     tenant_id TEXT NOT NULL,
     idx INTEGER NOT NULL,
     at TEXT NOT NULL,
     key_id TEXT NOT NULL,
     action TEXT NOT NULL,
     filters_json TEXT NOT NULL,
     result_count INTEGER NOT NULL,
     status_code INTEGER NOT NULL,
     leaf_hash BLOB NOT NULL,
     -- append (the next index), list (by index), leafHashes: one tenant's log in order.
     PRIMARY KEY (tenant_id, idx)
   ) WITHOUT ROWID;
   -- list with a time range.
   CREATE INDEX access_log_by_time ON access_log (tenant_id, at, idx);
   -- list with an action.
   CREATE INDEX access_log_by_action ON access_log (tenant_id, action, idx);
   -- The tenant's Merkle tree: every complete aligned subtree's hash (libs/tlog), written with the entry that
   -- completes it, so a root or a proof reads O(log n) nodes.
   CREATE TABLE access_log_nodes (
     tenant_id TEXT NOT NULL,
     level INTEGER NOT NULL,
     idx INTEGER NOT NULL,
     hash BLOB NOT NULL,
     PRIMARY KEY (tenant_id, level, idx)
   ) WITHOUT ROWID;
   CREATE TABLE access_log_pseudonym_keys (tenant_id TEXT PRIMARY KEY, key BLOB NOT NULL);`,
];

interface AccessLogRow {
  tenant_id: string;
  idx: number;
  at: string;
  key_id: string;
  action: string;
  filters_json: string;
  result_count: number;
  status_code: number;
  leaf_hash: Buffer;
}

function toEntry(row: AccessLogRow): RecordedAccessLogEntry {
  return {
    tenantId: row.tenant_id,
    index: row.idx,
    at: new Date(row.at),
    keyId: row.key_id,
    action: row.action,
    filtersJson: row.filters_json,
    resultCount: row.result_count,
    statusCode: row.status_code,
    leafHash: row.leaf_hash,
  };
}

/** {@link AccessLogStore} on SQLite: one row per entry, each append its own `synchronous = FULL` commit. */
export class SqliteAccessLogStore implements AccessLogStore {
  private readonly db: SqliteDatabase;
  private readonly appendEntry: (entry: AccessLogEntry, leafHash: Buffer) => number;
  private readonly readTreeHead: (tenantId: string) => { size: number; rootHash: Buffer };

  constructor(file: string) {
    this.db = openSqliteDatabase(file, MIGRATIONS);
    const next = this.db.prepare<[string], number>('SELECT COALESCE(MAX(idx) + 1, 0) FROM access_log WHERE tenant_id = ?').pluck();
    const insert = this.db.prepare(
      `INSERT INTO access_log (tenant_id, idx, at, key_id, action, filters_json, result_count, status_code, leaf_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // IMMEDIATE: the next index is read under the write lock, so no two appends take the same one.
    const transaction = this.db.transaction((entry: AccessLogEntry, leafHash: Buffer): number => {
      const index = next.get(entry.tenantId) as number;
      insert.run(
        entry.tenantId,
        index,
        entry.at.toISOString(),
        entry.keyId,
        entry.action,
        entry.filtersJson,
        entry.resultCount,
        entry.statusCode,
        leafHash,
      );
      new SyncMerkleLog(this.nodeStore(entry.tenantId)).append(index, [leafHash]);
      return index;
    });
    this.appendEntry = (entry, leafHash) => transaction.immediate(entry, leafHash);
    // One read transaction: the size and the nodes of the same moment.
    const head = this.db.transaction((tenantId: string) => {
      const size = next.get(tenantId) as number;
      return { size, rootHash: new SyncMerkleLog(this.nodeStore(tenantId)).root(size) };
    });
    this.readTreeHead = (tenantId) => head.deferred(tenantId);
  }

  /** The tenant's subtree hashes, for libs/tlog's log (called inside this store's transactions). */
  private nodeStore(tenantId: string): SyncTreeNodeStore {
    const get = this.db
      .prepare<[string, number, number], Buffer>('SELECT hash FROM access_log_nodes WHERE tenant_id = ? AND level = ? AND idx = ?')
      .pluck();
    const put = this.db.prepare('INSERT OR IGNORE INTO access_log_nodes (tenant_id, level, idx, hash) VALUES (?, ?, ?, ?)');
    return {
      getNodes: (keys: readonly NodeKey[]) => keys.map((key) => get.get(tenantId, key.level, key.index)),
      putNodes: (nodes: readonly TreeNode[]) => nodes.forEach((node) => put.run(tenantId, node.level, node.index, Buffer.from(node.hash))),
    };
  }

  async treeHead(tenantId: string): Promise<{ size: number; rootHash: Buffer }> {
    return this.readTreeHead(tenantId);
  }

  async append(entry: AccessLogEntry, leafHash: Buffer): Promise<RecordedAccessLogEntry> {
    return { ...entry, index: this.appendEntry(entry, leafHash), leafHash };
  }

  async list(query: AccessLogQuery): Promise<RecordedAccessLogEntry[]> {
    const conditions: [string, string | number | undefined][] = [
      ['tenant_id = ?', query.tenantId],
      ['at >= ?', query.from?.toISOString()],
      ['at < ?', query.to?.toISOString()],
      ['action = ?', query.action],
      ['idx > ?', query.afterIndex],
      ['idx < ?', query.beforeIndex],
    ];
    const used = conditions.filter(([, value]) => value !== undefined);
    const where = used.map(([condition]) => condition);
    const params = used.map(([, value]) => value as string | number);
    const rows = this.db
      .prepare<(string | number)[], AccessLogRow>(`SELECT * FROM access_log WHERE ${where.join(' AND ')} ORDER BY idx LIMIT ?`)
      .all(...params, query.limit);
    return rows.map(toEntry);
  }

  async leafHashes(tenantId: string, from: number, to: number): Promise<Buffer[]> {
    return this.db
      .prepare<[string, number, number], Buffer>(
        'SELECT leaf_hash FROM access_log WHERE tenant_id = ? AND idx >= ? AND idx < ? ORDER BY idx',
      )
      .pluck()
      .all(tenantId, from, to);
  }

  async size(tenantId: string): Promise<number> {
    return this.db
      .prepare<[string], number>('SELECT COALESCE(MAX(idx) + 1, 0) FROM access_log WHERE tenant_id = ?')
      .pluck()
      .get(tenantId) as number;
  }

  async pseudonymKey(tenantId: string): Promise<Buffer> {
    this.db.prepare('INSERT OR IGNORE INTO access_log_pseudonym_keys (tenant_id, key) VALUES (?, ?)').run(tenantId, randomBytes(32));
    return this.db
      .prepare<[string], Buffer>('SELECT key FROM access_log_pseudonym_keys WHERE tenant_id = ?')
      .pluck()
      .get(tenantId) as Buffer;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
