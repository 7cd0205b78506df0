import { leafHash, SyncMerkleLog, type NodeKey, type SyncTreeNodeStore, type TreeNode } from '@waygate/tlog';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from '@waygate/storage';
import { archiveLogEntry, newRecordSalt, saltedRecordHash, type ArchiveLogLeaf, type ArchiveLogStore } from '../domain/archive-log';

/**
 * The archive log's tables (issue 14), one migration entry of the archive store: per tenant its size, one leaf per
 * record (index and entry), one salt per record (its own table, so that shredding deletes one row and nothing else),
 * and the hash of every complete aligned subtree (libs/tlog's TreeNodeStore).
 */
export const ARCHIVE_LOG_MIGRATION = `CREATE TABLE archive_log_heads (
     tenant_id TEXT NOT NULL PRIMARY KEY,
     tree_size INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE archive_log_leaves (
     tenant_id TEXT NOT NULL,
     record_id TEXT NOT NULL,
     leaf_index INTEGER NOT NULL,
     entry BLOB NOT NULL,
     PRIMARY KEY (tenant_id, record_id)
   ) WITHOUT ROWID;
   CREATE UNIQUE INDEX archive_log_leaves_by_index ON archive_log_leaves (tenant_id, leaf_index);
   CREATE TABLE archive_log_salts (
     tenant_id TEXT NOT NULL,
     record_id TEXT NOT NULL,
     salt BLOB NOT NULL,
     PRIMARY KEY (tenant_id, record_id)
   ) WITHOUT ROWID;
   CREATE TABLE archive_log_nodes (
     tenant_id TEXT NOT NULL,
     level INTEGER NOT NULL,
     idx INTEGER NOT NULL,
     hash BLOB NOT NULL,
     PRIMARY KEY (tenant_id, level, idx)
   ) WITHOUT ROWID;`;

/** Most record ids one shredRecordSalts statement names (SQLite's parameter limit is far above). */
const SHRED_BATCH = 500;

/**
 * The archive log on the archive's SQLite connection. `appendRecord` runs inside the store's record transaction, so a
 * record and its entry commit together; a duplicate record never reaches it.
 */
export class SqliteArchiveLog implements ArchiveLogStore {
  private readonly statements = new Map<string, Statement<unknown[]>>();

  constructor(private readonly db: SqliteDatabase) {}

  private statement(sql: string): Statement<unknown[]> {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare<unknown[]>(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private nodeStore(tenantId: string): SyncTreeNodeStore {
    const get = this.statement('SELECT hash FROM archive_log_nodes WHERE tenant_id = ? AND level = ? AND idx = ?');
    const put = this.statement('INSERT OR IGNORE INTO archive_log_nodes (tenant_id, level, idx, hash) VALUES (?, ?, ?, ?)');
    return {
      getNodes: (keys: readonly NodeKey[]) =>
        keys.map((key) => (get.get(tenantId, key.level, key.index) as { hash: Buffer } | undefined)?.hash),
      putNodes: (nodes: readonly TreeNode[]) => {
        for (const node of nodes) put.run(tenantId, node.level, node.index, Buffer.from(node.hash));
      },
    };
  }

  private sizeOf(tenantId: string): number {
    const row = this.statement('SELECT tree_size FROM archive_log_heads WHERE tenant_id = ?').get(tenantId) as
      { tree_size: number } | undefined;
    return row?.tree_size ?? 0;
  }

  /**
   * Appends the record's entry with a fresh salt; must run inside the caller's write transaction. `canonicalRecord` is
   * canonicalRecordBytes of the record as the store reads it back.
   */
  appendRecord(tenantId: string, recordId: string, canonicalRecord: Buffer): number {
    const salt = newRecordSalt();
    const entry = archiveLogEntry(recordId, saltedRecordHash(salt, canonicalRecord));
    const size = this.sizeOf(tenantId);
    new SyncMerkleLog(this.nodeStore(tenantId)).append(size, [leafHash(entry)]);
    this.statement('INSERT INTO archive_log_leaves (tenant_id, record_id, leaf_index, entry) VALUES (?, ?, ?, ?)').run(
      tenantId,
      recordId,
      size,
      entry,
    );
    this.statement('INSERT INTO archive_log_salts (tenant_id, record_id, salt) VALUES (?, ?, ?)').run(tenantId, recordId, salt);
    this.statement(
      `INSERT INTO archive_log_heads (tenant_id, tree_size) VALUES (?, ?)
           ON CONFLICT (tenant_id) DO UPDATE SET tree_size = excluded.tree_size`,
    ).run(tenantId, size + 1);
    return size;
  }

  /** Whether any record has an entry yet (the one-time backfill of an archive written before the log runs if not). */
  hasLeaves(): boolean {
    return this.statement('SELECT 1 FROM archive_log_leaves LIMIT 1').get() !== undefined;
  }

  async logSize(tenantId: string): Promise<number> {
    return this.sizeOf(tenantId);
  }

  async logRoot(tenantId: string, treeSize: number): Promise<Buffer> {
    return this.db.transaction(() => new SyncMerkleLog(this.nodeStore(tenantId)).root(treeSize))();
  }

  async logLeaf(tenantId: string, recordId: string): Promise<ArchiveLogLeaf | undefined> {
    const row = this.statement(
      `SELECT l.record_id, l.leaf_index, l.entry, s.salt FROM archive_log_leaves l
           LEFT JOIN archive_log_salts s ON s.tenant_id = l.tenant_id AND s.record_id = l.record_id
           WHERE l.tenant_id = ? AND l.record_id = ?`,
    ).get(tenantId, recordId) as { record_id: string; leaf_index: number; entry: Buffer; salt: Buffer | null } | undefined;
    if (!row) return undefined;
    return { recordId: row.record_id, leafIndex: row.leaf_index, entry: row.entry, ...(row.salt ? { salt: row.salt } : {}) };
  }

  async logInclusionProof(tenantId: string, leafIndex: number, treeSize: number): Promise<Buffer[]> {
    return this.db.transaction(() => new SyncMerkleLog(this.nodeStore(tenantId)).inclusionProof(leafIndex, treeSize))();
  }

  async logConsistencyProof(tenantId: string, firstSize: number, secondSize: number): Promise<Buffer[]> {
    return this.db.transaction(() => new SyncMerkleLog(this.nodeStore(tenantId)).consistencyProof(firstSize, secondSize))();
  }

  async shredRecordSalts(tenantId: string, recordIds: readonly string[]): Promise<number> {
    let shredded = 0;
    this.db.transaction(() => {
      for (let i = 0; i < recordIds.length; i += SHRED_BATCH) {
        const batch = recordIds.slice(i, i + SHRED_BATCH);
        shredded += this.db
          .prepare(`DELETE FROM archive_log_salts WHERE tenant_id = ? AND record_id IN (${batch.map(() => '?').join(', ')})`)
          .run(tenantId, ...batch).changes;
      }
    })();
    return shredded;
  }
}
