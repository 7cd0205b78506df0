import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_ROOT, leafHash, merkleTreeHash, nodeHash } from './merkle-hash';
import { InMemoryTreeNodeStore, MerkleLog, MissingTreeNodeError, SyncMerkleLog } from './merkle-log';
import { ProofVerificationError, verifyConsistency, verifyInclusion } from './proof-verify';

// Known answers from github.com/transparency-dev/merkle (testonly/constants.go, proof/verify_test.go,
// testonly/reference_test.go, compact/range_test.go), the same corpus as certificate-transparency-go's RFC 6962 tests.
const h = (hex: string): Buffer => Buffer.from(hex, 'hex');
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(h);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
].map(h);
const INCLUSION: Array<{ index: number; size: number; proof: string[] }> = [
  { index: 0, size: 1, proof: [] },
  { index: 0, size: 2, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7'] },
  { index: 1, size: 2, proof: ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'] },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];
const CONSISTENCY: Array<{ first: number; second: number; proof: string[] }> = [
  { first: 1, second: 1, proof: [] },
  {
    first: 1,
    second: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    first: 6,
    second: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    first: 2,
    second: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];
// compact/range_test.go TestGetRootHashGolden: leaf i's data is i as two little-endian bytes.
const GOLDEN_ROOTS: Array<[number, string]> = [
  [10, 'VjWMPSYNtCuCNlF/RLnQy6HcwSk6CIipfxm+hettA+4='],
  [15, 'j4SulYmocFuxdeyp12xXCIgK6PekBcxzAIj4zbQzNEI='],
  [16, 'c+4Uc6BCMOZf/v3NZK1kqTUJe+bBoFtOhP+P3SayKRE='],
  [100, 'dUh9hYH88p0CMoHkdr1wC2szbhcLAXOejWpINIooKUY='],
  [255, 'SmdsuKUqiod3RX2jyF2M6JnbdE4QuTwwipfAowI4/i0='],
];

function hexes(hashes: readonly Uint8Array[]): string[] {
  return hashes.map((x) => Buffer.from(x).toString('hex'));
}

function syncLog(leaves: readonly Uint8Array[]): { log: SyncMerkleLog; store: InMemoryTreeNodeStore } {
  const store = new InMemoryTreeNodeStore();
  const log = new SyncMerkleLog(store);
  leaves.forEach((leaf, i) => log.append(i, [leafHash(leaf)]));
  return { log, store };
}

test('the RFC 6962 hasher vectors: empty root, leaf and node hashes', () => {
  assert.equal(EMPTY_ROOT.toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(leafHash(Buffer.alloc(0)).toString('hex'), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  assert.equal(leafHash(Buffer.from('L123456')).toString('hex'), '395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56');
  assert.equal(
    nodeHash(Buffer.from('N123'), Buffer.from('N456')).toString('hex'),
    'aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb',
  );
});

test('the stored log gives the published roots for every size, as does the direct MTH', () => {
  const { log } = syncLog(LEAVES);
  ROOTS.forEach((root, size) => {
    assert.equal(log.root(size).toString('hex'), root.toString('hex'), `root of size ${size}`);
    assert.equal(merkleTreeHash(LEAVES.slice(0, size).map((l) => leafHash(l))).toString('hex'), root.toString('hex'));
  });
});

test('inclusion proofs equal the published ones and verify; every corruption is rejected', () => {
  const { log } = syncLog(LEAVES);
  for (const vector of INCLUSION) {
    const proof = log.inclusionProof(vector.index, vector.size);
    assert.deepEqual(hexes(proof), vector.proof, `proof of ${vector.index} in ${vector.size}`);
    const leaf = leafHash(LEAVES[vector.index]!);
    const root = ROOTS[vector.size]!;
    verifyInclusion(vector.index, vector.size, leaf, proof, root);
    const wrong: Array<[string, () => void]> = [
      ['index + 1', () => verifyInclusion(vector.index + 1, vector.size, leaf, proof, root)],
      ['size * 2', () => verifyInclusion(vector.index, vector.size * 2, leaf, proof, root)],
      ['wrong leaf', () => verifyInclusion(vector.index, vector.size, leafHash(Buffer.from('x')), proof, root)],
      ['empty root', () => verifyInclusion(vector.index, vector.size, leaf, proof, EMPTY_ROOT)],
      ['trailing root', () => verifyInclusion(vector.index, vector.size, leaf, [...proof, root], root)],
      ['preceding root', () => verifyInclusion(vector.index, vector.size, leaf, [root, ...proof], root)],
    ];
    if (vector.index > 0) wrong.push(['index - 1', () => verifyInclusion(vector.index - 1, vector.size, leaf, proof, root)]);
    if (vector.size > 1) wrong.push(['size / 2', () => verifyInclusion(vector.index, Math.floor(vector.size / 2), leaf, proof, root)]);
    proof.forEach((_, i) => {
      const flipped = proof.map((p) => Buffer.from(p));
      flipped[i]![0]! ^= 8;
      wrong.push([`bit flip in proof[${i}]`, () => verifyInclusion(vector.index, vector.size, leaf, flipped, root)]);
    });
    if (proof.length > 0)
      wrong.push(['removed component', () => verifyInclusion(vector.index, vector.size, leaf, proof.slice(0, -1), root)]);
    for (const [what, attempt] of wrong) assert.throws(attempt, ProofVerificationError, `${what} must fail`);
  }
});

test('consistency proofs equal the published ones and verify; corruptions are rejected', () => {
  const { log } = syncLog(LEAVES);
  for (const vector of CONSISTENCY) {
    const proof = log.consistencyProof(vector.first, vector.second);
    assert.deepEqual(hexes(proof), vector.proof, `consistency ${vector.first} -> ${vector.second}`);
    verifyConsistency(vector.first, vector.second, ROOTS[vector.first]!, ROOTS[vector.second]!, proof);
    if (vector.first !== vector.second) {
      assert.throws(() => verifyConsistency(vector.first, vector.second, ROOTS[vector.first - 1]!, ROOTS[vector.second]!, proof));
      assert.throws(() => verifyConsistency(vector.first, vector.second, ROOTS[vector.first]!, ROOTS[vector.second - 1]!, proof));
      assert.throws(() => verifyConsistency(vector.first, vector.second, ROOTS[vector.first]!, ROOTS[vector.second]!, proof.slice(1)));
      const flipped = proof.map((p) => Buffer.from(p));
      flipped[0]![0]! ^= 1;
      assert.throws(() => verifyConsistency(vector.first, vector.second, ROOTS[vector.first]!, ROOTS[vector.second]!, flipped));
    }
  }
  assert.throws(() => verifyConsistency(2, 2, ROOTS[2]!, ROOTS[3]!, []), ProofVerificationError);
  assert.throws(() => verifyConsistency(3, 2, ROOTS[3]!, ROOTS[2]!, []), ProofVerificationError);
});

test('the golden roots of larger trees (compact/range_test.go)', async () => {
  const store = new InMemoryTreeNodeStore();
  const log = new MerkleLog(store);
  let size = 0;
  for (const [target, root] of GOLDEN_ROOTS) {
    const batch: Buffer[] = [];
    for (let i = size; i < target; i += 1) batch.push(leafHash(Buffer.from([i & 0xff, (i >> 8) & 0xff])));
    size = await log.append(size, batch);
    assert.equal((await log.root(target)).toString('base64'), root, `root of ${target}`);
  }
});

test('every proof between every pair of sizes up to 70 verifies against the direct MTH', () => {
  const leaves = Array.from({ length: 70 }, (_, i) => Buffer.from(`entry ${i}`));
  const hashes = leaves.map((l) => leafHash(l));
  const { log } = syncLog(leaves);
  const roots = Array.from({ length: 71 }, (_, n) => merkleTreeHash(hashes.slice(0, n)));
  for (let n = 0; n <= 70; n += 1) {
    assert.deepEqual(log.root(n), roots[n]);
    for (let m = 0; m < n; m += 1) {
      verifyInclusion(m, n, hashes[m]!, log.inclusionProof(m, n), roots[n]!);
      verifyConsistency(m, n, roots[m]!, roots[n]!, log.consistencyProof(m, n));
    }
  }
});

test('appending writes O(log n) nodes and a proof at any size reads O(log n) nodes in one call', () => {
  const store = new InMemoryTreeNodeStore();
  const log = new SyncMerkleLog(store);
  const n = 5000;
  for (let i = 0; i < n; i += 1) log.append(i, [leafHash(Buffer.from(String(i)))]);
  assert.equal(store.size, 2 * n - popcount(n), 'one node per complete subtree, nothing more');
  assert.ok(Math.max(...store.reads) <= 13, 'an append reads at most the frontier (log2 n nodes)');
  store.reads.length = 0;
  for (const size of [1, 2, 1000, 4097, 4999, 5000]) {
    log.root(size);
    log.inclusionProof(size - 1, size);
    log.inclusionProof(0, size);
    log.consistencyProof(Math.ceil(size / 3), size);
  }
  assert.ok(store.reads.length <= 24, 'at most one read per operation');
  assert.ok(Math.max(...store.reads) <= 2 * 13 + 2, `at most ~2 log2 n nodes per read, got ${Math.max(...store.reads)}`);
});

test('a size beyond the stored log is a MissingTreeNodeError, a bad index a RangeError', () => {
  const { log } = syncLog(LEAVES.slice(0, 5));
  assert.throws(() => log.root(6), MissingTreeNodeError);
  assert.throws(() => log.inclusionProof(5, 5), RangeError);
  assert.throws(() => log.consistencyProof(4, 3), RangeError);
  assert.throws(() => log.root(-1), RangeError);
  assert.deepEqual(log.consistencyProof(0, 5), []);
});

function popcount(n: number): number {
  let count = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) count += x % 2;
  return count;
}
