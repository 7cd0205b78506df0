import { timingSafeEqual } from 'node:crypto';
import { HASH_BYTES, nodeHash } from './merkle-hash';

/** Why a proof did not verify; `reason` says which check failed (never contains entry content). */
export class ProofVerificationError extends Error {
  override readonly name = 'ProofVerificationError';
  constructor(readonly reason: string) {
    super(`proof verification failed: ${reason}`);
  }
}

/** True when `error` is a ProofVerificationError. */
export function isProofVerificationError(error: unknown): error is ProofVerificationError {
  return error instanceof ProofVerificationError;
}

function checkSize(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new ProofVerificationError(`${what} must be a non-negative integer`);
}

function checkHash(hash: Uint8Array, what: string): void {
  if (hash.length !== HASH_BYTES) throw new ProofVerificationError(`${what} must be ${HASH_BYTES} bytes, got ${hash.length}`);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** LSB(x): whether the lowest bit is set (numbers stay below 2^53, so no 32-bit bitwise operators). */
function lsb(x: number): boolean {
  return x % 2 === 1;
}

/**
 * The root an inclusion proof leads to: RFC 9162 section 2.1.3.2, steps 1 to 4 (throws ProofVerificationError when
 * the proof has the wrong length for the index and size).
 */
export function rootFromInclusionProof(leafIndex: number, treeSize: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Buffer {
  checkSize(leafIndex, 'leaf index');
  checkSize(treeSize, 'tree size');
  checkHash(leaf, 'leaf hash');
  if (leafIndex >= treeSize) throw new ProofVerificationError(`leaf index ${leafIndex} is not below tree size ${treeSize}`);
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const [i, p] of proof.entries()) {
    checkHash(p, `inclusion proof hash ${i}`);
    if (sn === 0) throw new ProofVerificationError('inclusion proof is longer than the tree is deep');
    if (lsb(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new ProofVerificationError('inclusion proof is shorter than the tree is deep');
  return r;
}

/**
 * RFC 9162 section 2.1.3.2: verifies that the leaf with hash `leaf` is at `leafIndex` in the tree of `treeSize`
 * leaves whose root is `root`. Throws ProofVerificationError naming the failed check.
 */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  checkHash(root, 'root hash');
  const computed = rootFromInclusionProof(leafIndex, treeSize, leaf, proof);
  if (!equal(computed, root)) throw new ProofVerificationError('inclusion proof does not lead to the root hash');
}

/**
 * RFC 9162 section 2.1.4.2: verifies that the tree of `firstSize` leaves with root `firstRoot` is a prefix of the
 * tree of `secondSize` leaves with root `secondRoot`. Equal sizes need an empty proof and equal roots; a first size
 * of 0 needs an empty proof (the empty tree is a prefix of every tree). Throws ProofVerificationError.
 */
export function verifyConsistency(
  firstSize: number,
  secondSize: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  checkSize(firstSize, 'first tree size');
  checkSize(secondSize, 'second tree size');
  checkHash(firstRoot, 'first root hash');
  checkHash(secondRoot, 'second root hash');
  proof.forEach((p, i) => checkHash(p, `consistency proof hash ${i}`));
  if (firstSize > secondSize)
    throw new ProofVerificationError(`first tree size ${firstSize} is larger than second tree size ${secondSize}`);
  if (firstSize === secondSize) {
    if (proof.length > 0) throw new ProofVerificationError('a consistency proof between equal sizes must be empty');
    if (!equal(firstRoot, secondRoot)) throw new ProofVerificationError('equal tree sizes with different root hashes');
    return;
  }
  if (firstSize === 0) {
    if (proof.length > 0) throw new ProofVerificationError('a consistency proof from the empty tree must be empty');
    return;
  }
  if (proof.length === 0) throw new ProofVerificationError('consistency proof is empty');
  // Step 1: when the first tree is a complete subtree, its root is the first node of the path.
  const path = isPowerOfTwo(firstSize) ? [firstRoot, ...proof] : [...proof];
  // Steps 2 and 3.
  let fn = firstSize - 1;
  let sn = secondSize - 1;
  while (lsb(fn)) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // Step 4.
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  // Step 5.
  for (const c of path.slice(1)) {
    if (sn === 0) throw new ProofVerificationError('consistency proof is longer than expected');
    if (lsb(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  // Step 6.
  if (sn !== 0) throw new ProofVerificationError('consistency proof is shorter than expected');
  if (!equal(fr, firstRoot)) throw new ProofVerificationError('consistency proof does not lead to the first root hash');
  if (!equal(sr, secondRoot)) throw new ProofVerificationError('consistency proof does not lead to the second root hash');
}

function isPowerOfTwo(n: number): boolean {
  let x = n;
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}
