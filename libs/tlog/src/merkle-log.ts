import { EMPTY_ROOT, HASH_BYTES, nodeHash, splitPoint } from './merkle-hash';

/**
 * A complete, aligned subtree of the log: the 2^level leaves from index * 2^level on. Level 0 is a leaf hash. Every
 * such subtree is final once its last leaf is appended, so its hash is written once and never changes.
 */
export interface NodeKey {
  readonly level: number;
  readonly index: number;
}

/** A stored subtree hash. */
export interface TreeNode extends NodeKey {
  readonly hash: Uint8Array;
}

/**
 * Where a log keeps its subtree hashes (one store per log, e.g. per tenant). `getNodes` answers in the order asked,
 * undefined for a node it does not hold; `putNodes` writes nodes that do not exist yet (rewriting one with the same
 * hash is harmless). Either method may answer synchronously or with a promise: MerkleLog awaits both, SyncMerkleLog
 * needs a SyncTreeNodeStore.
 */
export interface TreeNodeStore {
  getNodes(keys: readonly NodeKey[]): Promise<ReadonlyArray<Uint8Array | undefined>> | ReadonlyArray<Uint8Array | undefined>;
  putNodes(nodes: readonly TreeNode[]): Promise<void> | void;
}

/** A TreeNodeStore that answers synchronously (e.g. better-sqlite3 inside a transaction). */
export interface SyncTreeNodeStore extends TreeNodeStore {
  getNodes(keys: readonly NodeKey[]): ReadonlyArray<Uint8Array | undefined>;
  putNodes(nodes: readonly TreeNode[]): void;
}

/** The store lacks a node the log needs: the tree size asked for is larger than the log, or the store lost data. */
export class MissingTreeNodeError extends Error {
  override readonly name = 'MissingTreeNodeError';
  constructor(readonly key: NodeKey) {
    super(`the tree node store has no node at level ${key.level}, index ${key.index}`);
  }
}

/** A half-open leaf range [start, end). */
interface LeafRange {
  readonly start: number;
  readonly end: number;
}

function checkIndex(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative integer, got ${value}`);
}

/**
 * The aligned complete subtrees that make up the leaves [start, end), largest first. Every range a proof or a root
 * needs starts at a multiple of a power of two at least as large as the range, so the subtrees come out in strictly
 * decreasing sizes and the range's MTH is their hashes folded from the right (see rangeHash).
 */
export function subtreeKeys(start: number, end: number): NodeKey[] {
  checkIndex(start, 'range start');
  checkIndex(end, 'range end');
  const keys: NodeKey[] = [];
  let at = start;
  while (at < end) {
    let size = 1;
    let level = 0;
    while (at % (size * 2) === 0 && at + size * 2 <= end) {
      size *= 2;
      level += 1;
    }
    keys.push({ level, index: at / size });
    at += size;
  }
  return keys;
}

function keyId(key: NodeKey): string {
  return `${key.level}/${key.index}`;
}

/** Root of the tree of `size` leaves: MTH(D[0:size]). */
function rootRanges(size: number): LeafRange[] {
  return size === 0 ? [] : [{ start: 0, end: size }];
}

/** RFC 9162 section 2.1.3.1, PATH(m, D[start:end]) as the ranges whose MTH make up the path, leaf to root. */
function inclusionRanges(m: number, start: number, end: number): LeafRange[] {
  const n = end - start;
  if (n <= 1) return [];
  const k = splitPoint(n);
  if (m < k) return [...inclusionRanges(m, start, start + k), { start: start + k, end }];
  return [...inclusionRanges(m - k, start + k, end), { start, end: start + k }];
}

/** RFC 9162 section 2.1.4.1, SUBPROOF(m, D[start:end], b) as ranges. */
function consistencyRanges(m: number, start: number, end: number, complete: boolean): LeafRange[] {
  const n = end - start;
  if (m === n) return complete ? [] : [{ start, end }];
  const k = splitPoint(n);
  if (m <= k) return [...consistencyRanges(m, start, start + k, complete), { start: start + k, end }];
  return [...consistencyRanges(m - k, start + k, end, false), { start, end: start + k }];
}

function keysOf(ranges: readonly LeafRange[]): NodeKey[] {
  const seen = new Map<string, NodeKey>();
  for (const range of ranges) for (const key of subtreeKeys(range.start, range.end)) seen.set(keyId(key), key);
  return [...seen.values()];
}

function lookup(keys: readonly NodeKey[], hashes: ReadonlyArray<Uint8Array | undefined>): Map<string, Uint8Array> {
  const found = new Map<string, Uint8Array>();
  keys.forEach((key, i) => {
    const hash = hashes[i];
    if (!hash || hash.length !== HASH_BYTES) throw new MissingTreeNodeError(key);
    found.set(keyId(key), hash);
  });
  return found;
}

function rangeHash(range: LeafRange, nodes: Map<string, Uint8Array>): Buffer {
  const hashes = subtreeKeys(range.start, range.end).map((key) => {
    const hash = nodes.get(keyId(key));
    if (!hash) throw new MissingTreeNodeError(key);
    return hash;
  });
  let acc: Buffer = Buffer.from(hashes[hashes.length - 1]!);
  for (let i = hashes.length - 2; i >= 0; i -= 1) acc = nodeHash(hashes[i]!, acc);
  return acc;
}

/** One read (of `keys`) followed by a computation over what was read: every log operation has this shape. */
interface Plan<T> {
  readonly keys: readonly NodeKey[];
  compute(nodes: Map<string, Uint8Array>): T;
}

function rootPlan(size: number): Plan<Buffer> {
  checkIndex(size, 'tree size');
  const ranges = rootRanges(size);
  return {
    keys: keysOf(ranges),
    compute: (nodes) => (ranges.length === 0 ? Buffer.from(EMPTY_ROOT) : rangeHash(ranges[0]!, nodes)),
  };
}

function inclusionPlan(leafIndex: number, treeSize: number): Plan<Buffer[]> {
  checkIndex(leafIndex, 'leaf index');
  checkIndex(treeSize, 'tree size');
  if (leafIndex >= treeSize) throw new RangeError(`leaf index ${leafIndex} is not below tree size ${treeSize}`);
  const ranges = inclusionRanges(leafIndex, 0, treeSize);
  return { keys: keysOf(ranges), compute: (nodes) => ranges.map((range) => rangeHash(range, nodes)) };
}

function consistencyPlan(firstSize: number, secondSize: number): Plan<Buffer[]> {
  checkIndex(firstSize, 'first tree size');
  checkIndex(secondSize, 'second tree size');
  if (firstSize > secondSize) throw new RangeError(`first tree size ${firstSize} is larger than second tree size ${secondSize}`);
  const ranges = firstSize === 0 || firstSize === secondSize ? [] : consistencyRanges(firstSize, 0, secondSize, true);
  return { keys: keysOf(ranges), compute: (nodes) => ranges.map((range) => rangeHash(range, nodes)) };
}

/** Appending: reads the frontier of the current tree (its O(log n) maximal subtrees), returns the nodes to write. */
function appendPlan(size: number, leafHashes: readonly Uint8Array[]): Plan<TreeNode[]> {
  checkIndex(size, 'tree size');
  leafHashes.forEach((hash, i) => {
    if (hash.length !== HASH_BYTES) throw new RangeError(`leaf hash ${i} must be ${HASH_BYTES} bytes`);
  });
  const frontierKeys = subtreeKeys(0, size);
  return {
    keys: frontierKeys,
    compute: (nodes) => {
      const stack: TreeNode[] = frontierKeys.map((key) => ({ ...key, hash: nodes.get(keyId(key))! }));
      const written: TreeNode[] = [];
      leafHashes.forEach((hash, i) => {
        let node: TreeNode = { level: 0, index: size + i, hash: Buffer.from(hash) };
        written.push(node);
        // Merge while the new subtree completes its left neighbour's parent.
        while (stack.length > 0 && stack[stack.length - 1]!.level === node.level) {
          const left = stack.pop()!;
          node = { level: node.level + 1, index: left.index / 2, hash: nodeHash(left.hash, node.hash) };
          written.push(node);
        }
        stack.push(node);
      });
      return written;
    },
  };
}

/**
 * An RFC 9162 Merkle log over a TreeNodeStore. It keeps no state of its own: the caller knows the log's size (e.g. a
 * row next to the nodes, updated in the same transaction) and passes it in. Appending a leaf writes O(log n) nodes;
 * the root and the proofs for any size up to the log's need O(log n) reads, in one getNodes call.
 */
export class MerkleLog {
  constructor(private readonly store: TreeNodeStore) {}

  private async run<T>(plan: Plan<T>): Promise<T> {
    const hashes = plan.keys.length === 0 ? [] : await this.store.getNodes(plan.keys);
    return plan.compute(lookup(plan.keys, hashes));
  }

  /** Appends leaves (their leaf hashes, see leafHash) to a log of `size` leaves; resolves to the new size. */
  async append(size: number, leafHashes: readonly Uint8Array[]): Promise<number> {
    const nodes = await this.run(appendPlan(size, leafHashes));
    if (nodes.length > 0) await this.store.putNodes(nodes);
    return size + leafHashes.length;
  }

  /** MTH of the first `size` leaves. */
  root(size: number): Promise<Buffer> {
    return this.run(rootPlan(size));
  }

  /** RFC 9162 inclusion proof of leaf `leafIndex` in the tree of the first `treeSize` leaves. */
  inclusionProof(leafIndex: number, treeSize: number): Promise<Buffer[]> {
    return this.run(inclusionPlan(leafIndex, treeSize));
  }

  /** RFC 9162 consistency proof between the trees of the first `firstSize` and `secondSize` leaves. */
  consistencyProof(firstSize: number, secondSize: number): Promise<Buffer[]> {
    return this.run(consistencyPlan(firstSize, secondSize));
  }
}

/** MerkleLog over a synchronous store, for use inside a synchronous transaction (better-sqlite3). */
export class SyncMerkleLog {
  constructor(private readonly store: SyncTreeNodeStore) {}

  private run<T>(plan: Plan<T>): T {
    const hashes = plan.keys.length === 0 ? [] : this.store.getNodes(plan.keys);
    return plan.compute(lookup(plan.keys, hashes));
  }

  /** See MerkleLog.append. */
  append(size: number, leafHashes: readonly Uint8Array[]): number {
    const nodes = this.run(appendPlan(size, leafHashes));
    if (nodes.length > 0) this.store.putNodes(nodes);
    return size + leafHashes.length;
  }

  /** See MerkleLog.root. */
  root(size: number): Buffer {
    return this.run(rootPlan(size));
  }

  /** See MerkleLog.inclusionProof. */
  inclusionProof(leafIndex: number, treeSize: number): Buffer[] {
    return this.run(inclusionPlan(leafIndex, treeSize));
  }

  /** See MerkleLog.consistencyProof. */
  consistencyProof(firstSize: number, secondSize: number): Buffer[] {
    return this.run(consistencyPlan(firstSize, secondSize));
  }
}

/** A TreeNodeStore in memory, for tests and small tools. */
export class InMemoryTreeNodeStore implements SyncTreeNodeStore {
  private readonly nodes = new Map<string, Buffer>();
  /** How many nodes each getNodes call asked for, most recent last (tests check the O(log n) bound with it). */
  readonly reads: number[] = [];

  getNodes(keys: readonly NodeKey[]): Array<Uint8Array | undefined> {
    this.reads.push(keys.length);
    return keys.map((key) => this.nodes.get(keyId(key)));
  }

  putNodes(nodes: readonly TreeNode[]): void {
    for (const node of nodes) this.nodes.set(keyId(node), Buffer.from(node.hash));
  }

  /** How many nodes are stored. */
  get size(): number {
    return this.nodes.size;
  }
}
