import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from '@waygate/storage';
import { leafHash, MerkleLog, type NodeKey, type TreeNode, type TreeNodeStore } from '@waygate/tlog';
import { archiveLogEntry, newRecordSalt, saltedRecordHash, type ArchiveLogLeaf, type ArchiveLogStore } from '../domain/archive-log';

interface LeafDocument {
  /** `${tenantId}/${leafIndex}`: inserting it claims the index, so two writers never take the same one. */
  _id: string;
  tenantId: string;
  leafIndex: number;
  recordId: string;
  entry: Buffer;
}

interface SaltDocument {
  /** `${tenantId}/${recordId}`. */
  _id: string;
  salt: Buffer;
}

interface NodeDocument {
  /** `${tenantId}/${level}/${index}`. */
  _id: string;
  hash: Buffer;
}

interface HeadDocument {
  /** The tenant id. */
  _id: string;
  /** How many leaves have their subtree nodes written: the size the log serves. */
  treeSize: number;
}

/** How many leaves one node catch-up pass reads. */
const SYNC_PAGE = 1000;
/** How often an append retries when another writer took the index it tried. */
const MAX_CLAIM_ATTEMPTS = 50;

/** A MongoDB BSON Binary or a Buffer, as a Buffer. */
function bytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  const binary = value as { buffer?: Uint8Array; value?: () => Uint8Array };
  if (binary.buffer instanceof Uint8Array) return Buffer.from(binary.buffer);
  throw new Error('expected binary data in an archive log document');
}

/**
 * The archive log on MongoDB, without multi-document transactions. The leaves are the source of truth: appending
 * claims the next index by inserting the leaf document (unique `_id` per tenant and index, unique record id per
 * tenant), then brings the subtree nodes up to date from the leaves. Node hashes are a deterministic function of the
 * leaves, so two writers catching up at once write the same values, and a crash between the leaf and its nodes is
 * repaired by the next append (or the event's redelivery). The served size is the number of leaves whose nodes are
 * written. Salts are written before the leaf (kept if a redelivery finds one), so an entry never lacks its salt
 * unless it was shredded.
 */
export class MongoArchiveLog implements ArchiveLogStore {
  private readonly leaves: Collection<LeafDocument>;
  private readonly salts: Collection<SaltDocument>;
  private readonly nodes: Collection<NodeDocument>;
  private readonly heads: Collection<HeadDocument>;

  private constructor(db: Db) {
    this.leaves = db.collection<LeafDocument>('archive_log_leaves');
    this.salts = db.collection<SaltDocument>('archive_log_salts');
    this.nodes = db.collection<NodeDocument>('archive_log_nodes');
    this.heads = db.collection<HeadDocument>('archive_log_heads');
  }

  static async open(db: Db): Promise<MongoArchiveLog> {
    const log = new MongoArchiveLog(db);
    await log.leaves.createIndexes([
      { key: { tenantId: 1, recordId: 1 }, name: 'by_record', unique: true },
      { key: { tenantId: 1, leafIndex: 1 }, name: 'by_index' },
    ]);
    return log;
  }

  private nodeStore(tenantId: string): TreeNodeStore {
    const id = (key: NodeKey) => `${tenantId}/${key.level}/${key.index}`;
    return {
      getNodes: async (keys: readonly NodeKey[]) => {
        const found = await this.nodes.find({ _id: { $in: keys.map(id) } }).toArray();
        const byId = new Map(found.map((doc) => [doc._id, bytes(doc.hash)]));
        return keys.map((key) => byId.get(id(key)));
      },
      putNodes: async (nodes: readonly TreeNode[]) => {
        await this.nodes.bulkWrite(
          nodes.map((node) => ({
            updateOne: { filter: { _id: id(node) }, update: { $setOnInsert: { hash: Buffer.from(node.hash) } }, upsert: true },
          })),
          { ordered: false },
        );
      },
    };
  }

  /** Appends the record's entry unless it has one (idempotent: the record path calls it for duplicates too). */
  async appendRecord(tenantId: string, recordId: string, canonicalRecord: Buffer): Promise<void> {
    if (!(await this.leaves.findOne({ tenantId, recordId }, { projection: { _id: 1 } }))) {
      const saltId = `${tenantId}/${recordId}`;
      await this.salts.updateOne({ _id: saltId }, { $setOnInsert: { salt: newRecordSalt() } }, { upsert: true });
      const saltDoc = await this.salts.findOne({ _id: saltId });
      if (!saltDoc) throw new Error('the record salt disappeared while its entry was appended');
      const entry = archiveLogEntry(recordId, saltedRecordHash(bytes(saltDoc.salt), canonicalRecord));
      await this.claimLeaf(tenantId, recordId, entry);
    }
    await this.syncNodes(tenantId);
  }

  private async claimLeaf(tenantId: string, recordId: string, entry: Buffer): Promise<void> {
    for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt += 1) {
      const last = await this.leaves.find({ tenantId }).sort({ leafIndex: -1 }).limit(1).next();
      const leafIndex = last ? last.leafIndex + 1 : 0;
      try {
        await this.leaves.insertOne({ _id: `${tenantId}/${leafIndex}`, tenantId, leafIndex, recordId, entry });
        return;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        // Another writer appended this very record: done. Else it took the index: try the next one.
        if (await this.leaves.findOne({ tenantId, recordId }, { projection: { _id: 1 } })) return;
      }
    }
    throw new Error('could not claim an archive log index: too many concurrent writers');
  }

  /** Writes the subtree nodes of every leaf beyond the served size, in pages, and raises the served size. */
  private async syncNodes(tenantId: string): Promise<void> {
    const log = new MerkleLog(this.nodeStore(tenantId));
    for (;;) {
      const size = (await this.heads.findOne({ _id: tenantId }))?.treeSize ?? 0;
      const page = await this.leaves
        .find({ tenantId, leafIndex: { $gte: size } })
        .sort({ leafIndex: 1 })
        .limit(SYNC_PAGE)
        .toArray();
      const contiguous: LeafDocument[] = [];
      for (const leaf of page) {
        if (leaf.leafIndex !== size + contiguous.length) break;
        contiguous.push(leaf);
      }
      if (contiguous.length === 0) return;
      const newSize = await log.append(
        size,
        contiguous.map((leaf) => leafHash(bytes(leaf.entry))),
      );
      await this.heads.updateOne({ _id: tenantId }, { $max: { treeSize: newSize } }, { upsert: true });
      if (page.length < SYNC_PAGE) return;
    }
  }

  async logSize(tenantId: string): Promise<number> {
    return (await this.heads.findOne({ _id: tenantId }))?.treeSize ?? 0;
  }

  logRoot(tenantId: string, treeSize: number): Promise<Buffer> {
    return new MerkleLog(this.nodeStore(tenantId)).root(treeSize);
  }

  async logLeaf(tenantId: string, recordId: string): Promise<ArchiveLogLeaf | undefined> {
    const leaf = await this.leaves.findOne({ tenantId, recordId });
    if (!leaf) return undefined;
    const salt = await this.salts.findOne({ _id: `${tenantId}/${recordId}` });
    return { recordId, leafIndex: leaf.leafIndex, entry: bytes(leaf.entry), ...(salt ? { salt: bytes(salt.salt) } : {}) };
  }

  logInclusionProof(tenantId: string, leafIndex: number, treeSize: number): Promise<Buffer[]> {
    return new MerkleLog(this.nodeStore(tenantId)).inclusionProof(leafIndex, treeSize);
  }

  logConsistencyProof(tenantId: string, firstSize: number, secondSize: number): Promise<Buffer[]> {
    return new MerkleLog(this.nodeStore(tenantId)).consistencyProof(firstSize, secondSize);
  }

  async shredRecordSalts(tenantId: string, recordIds: readonly string[]): Promise<number> {
    if (recordIds.length === 0) return 0;
    const result = await this.salts.deleteMany({ _id: { $in: recordIds.map((id) => `${tenantId}/${id}`) } });
    return result.deletedCount;
  }
}
