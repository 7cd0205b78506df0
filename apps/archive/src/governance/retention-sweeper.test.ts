import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { createLogger } from '@waygate/telemetry-sdk';
import { createTempDir } from '@waygate/testing';
import { SqliteArchiveStore } from '../adapters/sqlite-archive-store';
import { SqliteLegalHoldStore } from '../adapters/sqlite-legal-hold-store';
import type { Tenant } from '@waygate/tenancy';
import { createLegalHolds } from './legal-holds';
import { createRetentionSweeper } from './retention-sweeper';

// The sweeper's bounds, on real SQLite stores: batches of `batchSize`, at most `maxBatchesPerPass` a pass (the rest in
// the next pass), across tenants.
const DAY_MS = 24 * 3_600_000;
const NOW = Date.UTC(2026, 0, 31);
const dir = createTempDir('waygate-sweeper-');
const store = new SqliteArchiveStore(path.join(dir.path, 'archive.sqlite'));
const holdStore = new SqliteLegalHoldStore(path.join(dir.path, 'archive-governance.sqlite'));
const clock = { now: () => new Date(NOW) };
const holds = createLegalHolds({ store: holdStore, clock });

after(async () => {
  await store.close();
  await holdStore.close();
  dir.remove();
});

const tenant = (id: string, archiveRetentionDays?: number) =>
  ({ id, governance: { mode: 'operational', ...(archiveRetentionDays ? { archiveRetentionDays } : {}) } }) as unknown as Tenant;

test('a pass disposes of at most batchSize × maxBatchesPerPass records; the next pass continues', async () => {
  for (let n = 0; n < 5; n += 1) {
    for (const tenantId of ['acme', 'umbrella']) {
      await store.record({
        eventId: `wa:in:${tenantId}-${n}`,
        tenantId,
        messageId: `${tenantId}-${n}`,
        kind: 'inbound',
        occurredAt: new Date(NOW - (40 - n) * DAY_MS),
        recordedAt: new Date(NOW - (40 - n) * DAY_MS),
        phoneNumberId: '200',
        from: `+49151000000${n}`,
        messageType: 'text',
        text: `text ${n}`,
      });
    }
  }
  const removed: string[] = [];
  const shredded: string[] = [];
  const sweeper = createRetentionSweeper({
    store,
    removeFromSearch: async (_tenantId, recordId) => removed.push(recordId),
    shredRecordSalts: async (_tenantId, recordIds) => shredded.push(...recordIds),
    activeHolds: () => holds.allActive(),
    tenants: () => [tenant('acme', 30), tenant('umbrella', 30), tenant('initech')],
    clock,
    logger: createLogger({ service: 'test', level: 'silent' }),
    batchSize: 2,
    maxBatchesPerPass: 2,
  });
  assert.deepEqual(await sweeper.sweep(), { disposed: 4, heldTenants: 0, heldCustomers: 0, truncated: true });
  assert.deepEqual(removed, ['wa:in:acme-0', 'wa:in:acme-1', 'wa:in:acme-2', 'wa:in:acme-3']);
  assert.ok(
    removed.every((recordId) => shredded.includes(recordId)),
    'every disposed record’s salt is shredded',
  );
  // acme's last record (a short batch ends the tenant), then umbrella's first batch: the pass's second.
  assert.deepEqual(await sweeper.sweep(), { disposed: 3, heldTenants: 0, heldCustomers: 0, truncated: true });
  assert.deepEqual(await sweeper.sweep(), { disposed: 3, heldTenants: 0, heldCustomers: 0, truncated: false });
  assert.deepEqual(await sweeper.sweep(), { disposed: 0, heldTenants: 0, heldCustomers: 0, truncated: false });
  assert.equal(removed.length, 10);
});
