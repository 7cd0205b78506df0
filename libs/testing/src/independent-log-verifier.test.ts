import { test } from 'node:test';
import assert from 'node:assert/strict';
import { independentLeafHash, independentRootFromInclusion, independentVerifyConsistency } from './independent-log-verifier';

// The published RFC 6962 vectors (transparency-dev/merkle testonly): the independent verifier must accept them.
const h = (hex: string) => Buffer.from(hex, 'hex');
const ROOT5 = h('4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4');
const ROOT6 = h('76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef');
const ROOT8 = h('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
const ROOT2 = h('fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125');

test('the independent verifier accepts the published inclusion and consistency vectors and rejects changes', () => {
  const path = [
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  ].map(h);
  const leaf = independentLeafHash(h('40414243'));
  assert.deepEqual(independentRootFromInclusion(5, 8, leaf, path), ROOT8);
  assert.notDeepEqual(independentRootFromInclusion(4, 8, leaf, path), ROOT8);
  assert.throws(() => independentRootFromInclusion(5, 8, leaf, path.slice(1)));
  const consistency68 = [
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  ].map(h);
  independentVerifyConsistency(6, 8, ROOT6, ROOT8, consistency68);
  assert.throws(() => independentVerifyConsistency(6, 8, ROOT5, ROOT8, consistency68));
  const consistency25 = [
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  ].map(h);
  independentVerifyConsistency(2, 5, ROOT2, ROOT5, consistency25);
  assert.throws(() => independentVerifyConsistency(2, 5, ROOT2, ROOT5, consistency25.slice(1)));
});
