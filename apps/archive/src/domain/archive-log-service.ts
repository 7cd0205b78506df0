import { idViolations, InvalidArgumentError, NotFoundError } from '@waygate/domain';
import { leafHash, signCheckpoint, type NoteSigner } from '@waygate/tlog';
import { archiveLogOrigin, canonicalRecordBytes, type ArchiveLogStore } from './archive-log';
import type { ArchivedEvent } from './archived-event';

/** A tenant's newest signed checkpoint. */
export interface SignedArchiveCheckpoint {
  /** The C2SP signed note (tlog-checkpoint body, signed by the region key). */
  readonly note: string;
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: Buffer;
}

/** A record's inclusion proof against a tree size. */
export interface ArchiveInclusionProof {
  readonly recordId: string;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly entry: Buffer;
  readonly leafHash: Buffer;
  readonly auditPath: Buffer[];
  /** The record's salt; undefined once shredded. */
  readonly salt?: Buffer;
}

/** One record of a message as an export carries it: its canonical bytes, salt and inclusion proof. */
export interface LoggedRecord {
  readonly recordId: string;
  readonly leafIndex: number;
  readonly treeSize: number;
  /** canonicalRecordBytes of the record as stored now (UTF-8 JSON). */
  readonly record: string;
  readonly entry: Buffer;
  readonly auditPath: Buffer[];
  /** Undefined once shredded. */
  readonly salt?: Buffer;
}

/** The tamper-evident archive log as ArchiveLogService and the export serve it, per tenant. */
export interface ArchiveLogService {
  /** The tenant's newest checkpoint, signed now (the root of a size never changes, so any two agree). */
  checkpoint(tenantId: string): Promise<SignedArchiveCheckpoint>;
  /** The region's verifier key and the tenant's log origin. */
  publicKey(tenantId: string): { verifierKey: string; publicKey: Buffer; origin: string };
  /** Proof that `recordId`'s entry is in the tree of `treeSize` (0: the newest). */
  inclusionProof(tenantId: string, recordId: string, treeSize: number): Promise<ArchiveInclusionProof>;
  /** Proof that the tree of `firstSize` is a prefix of the tree of `secondSize` (0: the newest). */
  consistencyProof(
    tenantId: string,
    firstSize: number,
    secondSize: number,
  ): Promise<{ firstSize: number; secondSize: number; proof: Buffer[] }>;
  /** Every record of a message (its own and its statuses) that is in the tree of `treeSize`, with its proof. */
  messageRecords(tenantId: string, messageId: string, treeSize: number): Promise<LoggedRecord[]>;
}

export interface ArchiveLogServiceDeps {
  readonly store: ArchiveLogStore & { listByMessage(tenantId: string, messageId: string): Promise<ArchivedEvent[]> };
  /** The region's log signing key (libs/tlog loadOrCreateLogSigningKey). */
  readonly signer: NoteSigner;
  readonly region: string;
}

function sizeViolation(field: string, description: string): InvalidArgumentError {
  return new InvalidArgumentError([{ field, reason: 'OUT_OF_RANGE', description }]);
}

export function createArchiveLogService({ store, signer, region }: ArchiveLogServiceDeps): ArchiveLogService {
  return {
    async checkpoint(tenantId) {
      const origin = archiveLogOrigin(region, tenantId);
      const treeSize = await store.logSize(tenantId);
      const rootHash = await store.logRoot(tenantId, treeSize);
      return { note: signCheckpoint({ origin, treeSize, rootHash }, signer), origin, treeSize, rootHash };
    },

    publicKey(tenantId) {
      return { verifierKey: signer.verifierKey, publicKey: signer.publicKey, origin: archiveLogOrigin(region, tenantId) };
    },

    async inclusionProof(tenantId, recordId, requestedSize) {
      const violations = idViolations('record_id', recordId);
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      const size = await store.logSize(tenantId);
      if (requestedSize > size) throw sizeViolation('tree_size', `must be at most the log's size, ${size}`);
      const leaf = await store.logLeaf(tenantId, recordId);
      if (!leaf) throw new NotFoundError('record', recordId);
      const treeSize = requestedSize === 0 ? size : requestedSize;
      if (leaf.leafIndex >= treeSize)
        throw sizeViolation('tree_size', `the record's entry is at index ${leaf.leafIndex}: the tree must be larger`);
      return {
        recordId,
        leafIndex: leaf.leafIndex,
        treeSize,
        entry: leaf.entry,
        leafHash: leafHash(leaf.entry),
        auditPath: await store.logInclusionProof(tenantId, leaf.leafIndex, treeSize),
        ...(leaf.salt ? { salt: leaf.salt } : {}),
      };
    },

    async consistencyProof(tenantId, firstSize, requestedSecond) {
      const size = await store.logSize(tenantId);
      if (requestedSecond > size) throw sizeViolation('second_size', `must be at most the log's size, ${size}`);
      const secondSize = requestedSecond === 0 ? size : requestedSecond;
      if (firstSize > secondSize) throw sizeViolation('first_size', 'must be at most second_size');
      return { firstSize, secondSize, proof: await store.logConsistencyProof(tenantId, firstSize, secondSize) };
    },

    async messageRecords(tenantId, messageId, treeSize) {
      const records: LoggedRecord[] = [];
      for (const event of await store.listByMessage(tenantId, messageId)) {
        const leaf = await store.logLeaf(tenantId, event.eventId);
        if (!leaf || leaf.leafIndex >= treeSize) continue;
        records.push({
          recordId: event.eventId,
          leafIndex: leaf.leafIndex,
          treeSize,
          record: canonicalRecordBytes(event).toString('utf8'),
          entry: leaf.entry,
          auditPath: await store.logInclusionProof(tenantId, leaf.leafIndex, treeSize),
          ...(leaf.salt ? { salt: leaf.salt } : {}),
        });
      }
      return records;
    },
  };
}
