import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oldestLiveSealingEpoch, SEALING_EPOCH_MS, sealingEpoch } from './keyring-parameter-sealer';

test('a sealing key lives its 15-minute epoch plus 20 minutes (the longest authentication validity and a margin)', () => {
  const epochStart = 1_000 * SEALING_EPOCH_MS;
  assert.equal(sealingEpoch(new Date(epochStart)), 1_000);
  assert.equal(sealingEpoch(new Date(epochStart + SEALING_EPOCH_MS - 1)), 1_000);
  // A message sealed at the last moment of epoch 1000 is valid until epoch end + 15 min; the key outlives it by 5 min.
  const epochEnd = epochStart + SEALING_EPOCH_MS;
  assert.ok(oldestLiveSealingEpoch(new Date(epochEnd + 20 * 60_000 - 1)) <= 1_000, 'kept until 20 minutes after its epoch');
  assert.equal(oldestLiveSealingEpoch(new Date(epochEnd + 20 * 60_000)), 1_001, 'then destroyed');
});
