/**
 * An RFC 9162 / C2SP verifier written for the tests only, deliberately independent of libs/tlog (which it must not
 * import): it follows the RFC's recursive definitions of PATH and SUBPROOF (section 2.1.3.1 and 2.1.4.1) instead of
 * the iterative verification algorithms libs/tlog implements, and parses notes and verifier keys on its own. Tests
 * check what the archive serves with it, so a bug shared by the prover and libs/tlog's verifier cannot hide.
 */
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/** SHA-256(0x00 || entry). */
export function independentLeafHash(entry: Uint8Array): Buffer {
  return sha256(Buffer.from([0]), entry);
}

function node(left: Uint8Array, right: Uint8Array): Buffer {
  return sha256(Buffer.from([1]), left, right);
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The root that an audit path (leaf to root) leads to, by the recursive definition of PATH(m, D[n]): the last element
 * is the sibling subtree at the top; throws when the path has the wrong length.
 */
export function independentRootFromInclusion(index: number, size: number, leaf: Uint8Array, path: readonly Uint8Array[]): Buffer {
  if (!(index >= 0 && index < size)) throw new Error('index outside the tree');
  const walk = (m: number, n: number, remaining: readonly Uint8Array[]): Buffer => {
    if (n === 1) {
      if (remaining.length !== 0) throw new Error('audit path too long');
      return Buffer.from(leaf);
    }
    if (remaining.length === 0) throw new Error('audit path too short');
    const top = remaining[remaining.length - 1]!;
    const below = remaining.slice(0, -1);
    const k = largestPowerOfTwoBelow(n);
    return m < k ? node(walk(m, k, below), top) : node(top, walk(m - k, n - k, below));
  };
  return walk(index, size, path);
}

/**
 * Checks a consistency proof by the recursive definition of SUBPROOF(m, D[n], b): rebuilds both roots from the proof
 * (consumed from its end, the top of the tree) and compares them with the given ones. Throws when anything differs.
 */
export function independentVerifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  const equal = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
  if (first === second) {
    if (proof.length !== 0 || !equal(firstRoot, secondRoot)) throw new Error('equal sizes need an empty proof and equal roots');
    return;
  }
  if (!(first > 0 && first < second)) throw new Error('sizes out of order');
  let end = proof.length;
  const pop = (): Uint8Array => {
    if (end === 0) throw new Error('consistency proof too short');
    end -= 1;
    return proof[end]!;
  };
  // Returns [hash of the old tree's part in this subtree, hash of this subtree in the new tree].
  const sub = (m: number, n: number, complete: boolean): [Uint8Array, Uint8Array] => {
    if (m === n) {
      if (complete) return [firstRoot, firstRoot];
      const hash = pop();
      return [hash, hash];
    }
    const k = largestPowerOfTwoBelow(n);
    const sibling = pop();
    if (m <= k) {
      const [old, updated] = sub(m, k, complete);
      return [old, node(updated, sibling)];
    }
    const [old, updated] = sub(m - k, n - k, false);
    return [node(sibling, old), node(sibling, updated)];
  };
  const [old, updated] = sub(first, second, true);
  if (end !== 0) throw new Error('consistency proof too long');
  if (!equal(old, firstRoot)) throw new Error('consistency proof does not give the first root');
  if (!equal(updated, secondRoot)) throw new Error('consistency proof does not give the second root');
}

/** A checkpoint, verified. */
export interface IndependentCheckpoint {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: Buffer;
}

/**
 * Verifies a C2SP signed checkpoint with a verifier key `<name>+<hex id>+<base64(0x01 || key)>`: the key id is the
 * first 4 bytes of SHA-256(name || 0x0A || 0x01 || key), the signature line `— <name> base64(id || Ed25519 sig)` over
 * the text up to and including the newline before the blank line. Returns the checkpoint; throws on any mismatch.
 */
export function independentVerifyCheckpoint(note: string, verifierKey: string): IndependentCheckpoint {
  // The base64 key may itself contain '+': only the first two separate fields.
  const first = verifierKey.indexOf('+');
  const second = verifierKey.indexOf('+', first + 1);
  const [name, idHex, keyBase64] = [verifierKey.slice(0, first), verifierKey.slice(first + 1, second), verifierKey.slice(second + 1)];
  if (first <= 0 || second < 0 || !idHex || !keyBase64) throw new Error('malformed verifier key');
  const keyBytes = Buffer.from(keyBase64, 'base64');
  if (keyBytes.length !== 33 || keyBytes[0] !== 1) throw new Error('not an Ed25519 verifier key');
  const publicKey = keyBytes.subarray(1);
  const id = sha256(Buffer.from(`${name}\n`, 'utf8'), Buffer.from([1]), publicKey).subarray(0, 4);
  if (id.toString('hex') !== idHex) throw new Error('verifier key id mismatch');
  const separator = note.lastIndexOf('\n\n');
  if (separator < 0) throw new Error('no signature block');
  const text = note.slice(0, separator + 1);
  const signatures = note
    .slice(separator + 2)
    .split('\n')
    .filter((line) => line.length > 0);
  const prefix = `\u2014 ${name} `;
  const mine = signatures.filter((line) => line.startsWith(prefix)).map((line) => Buffer.from(line.slice(prefix.length), 'base64'));
  const key = createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]),
    format: 'der',
    type: 'spki',
  });
  const valid = mine.filter(
    (sig) => sig.subarray(0, 4).equals(id) && verifySignature(null, Buffer.from(text, 'utf8'), key, sig.subarray(4)),
  );
  if (valid.length === 0) throw new Error('no valid signature by the key');
  const lines = text.split('\n');
  const [origin, size, root] = lines;
  if (!origin || !size || !root || !/^\d+$/.test(size)) throw new Error('malformed checkpoint body');
  const rootHash = Buffer.from(root, 'base64');
  if (rootHash.length !== 32) throw new Error('root hash is not 32 bytes');
  return { origin, treeSize: Number(size), rootHash };
}
