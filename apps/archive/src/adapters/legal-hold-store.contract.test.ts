import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import type { LegalHold, LegalHoldStore } from '../governance/domain/legal-hold';
import { newLegalHoldId } from '../governance/legal-holds';
import { MongoLegalHoldStore } from './mongo-legal-hold-store';
import { SqliteLegalHoldStore } from './sqlite-legal-hold-store';

const backends = contractBackends<LegalHoldStore>({
  sqlite: (file) => new SqliteLegalHoldStore(file),
  mongodb: (mongo) => MongoLegalHoldStore.open(mongo),
  close: (store) => store.close(),
});

const T0 = 1_800_000_000_000;
const ALICE = '+4915112345678';
const BOB = '+4915187654321';

function hold(at: number, fields: Partial<LegalHold> = {}): LegalHold {
  return {
    holdId: newLegalHoldId(new Date(at)),
    tenantId: 'acme',
    matter: 'Smith v. Acme',
    customer: ALICE,
    placedAt: new Date(at),
    placedBy: 'key_a',
    ...fields,
  };
}

for (const backend of backends) {
  describeContract(backend, 'LegalHoldStore contract', (test) => {
    let store: LegalHoldStore;
    let close: () => Promise<void>;
    before(async () => {
      if (backend.skip) return;
      ({ store, close } = await backend.open());
    });
    after(async () => {
      if (!backend.skip) await close();
    });

    test('places a hold once per tenant, matter and scope while it is active', async () => {
      const first = hold(T0, { matter: 'once' });
      const placed = await store.place(first);
      assert.equal(placed.created, true);
      assert.deepEqual(placed.hold, first);
      const again = await store.place(hold(T0 + 1, { matter: 'once', placedBy: 'key_b' }));
      assert.equal(again.created, false);
      assert.deepEqual(again.hold, first, 'the existing hold, unchanged');
      // Another scope, tenant or matter is a hold of its own.
      assert.equal((await store.place(hold(T0 + 2, { matter: 'once', customer: '' }))).created, true);
      assert.equal((await store.place(hold(T0 + 3, { matter: 'once', tenantId: 'globex' }))).created, true);
      assert.equal((await store.place(hold(T0 + 4, { matter: 'once', customer: BOB }))).created, true);
    });

    test("erasure pseudonymises the released holds placed on the customer, never an active one or another tenant's", async () => {
      const carol = '+4915100000001';
      const released = await store.place(hold(T0 + 100, { matter: 'erase-me', customer: carol }));
      await store.release('acme', released.hold.holdId, new Date(T0 + 101), 'key_b');
      const active = await store.place(hold(T0 + 102, { matter: 'still-active', customer: carol }));
      const otherTenant = await store.place(hold(T0 + 103, { matter: 'erase-me', customer: carol, tenantId: 'globex' }));
      await store.release('globex', otherTenant.hold.holdId, new Date(T0 + 104), 'key_b');

      assert.equal(await store.pseudonymiseCustomer('acme', carol, 'ref-carol'), 1);
      const after = await store.get('acme', released.hold.holdId);
      assert.equal(after?.customer, 'ref-carol');
      assert.equal(after?.matter, 'erase-me', 'the hold record stays, under the pseudonym');
      assert.equal((await store.get('acme', active.hold.holdId))?.customer, carol, 'an active hold is left alone');
      assert.equal((await store.get('globex', otherTenant.hold.holdId))?.customer, carol, 'another tenant is untouched');
      assert.equal(await store.pseudonymiseCustomer('acme', carol, 'ref-carol'), 0, 'a second call changes nothing');
    });

    test('concurrent placements of one scope make one hold', async () => {
      const results = await Promise.all([1, 2, 3, 4].map((n) => store.place(hold(T0 + 10 + n, { matter: 'race' }))));
      assert.equal(results.filter((result) => result.created).length, 1);
      assert.equal(new Set(results.map((result) => result.hold.holdId)).size, 1);
    });

    test('release is first-wins and idempotent; a released scope can be held again', async () => {
      const placed = (await store.place(hold(T0 + 20, { matter: 'release' }))).hold;
      const released = await store.release('acme', placed.holdId, new Date(T0 + 30), 'key_r');
      assert.deepEqual(released, { ...placed, releasedAt: new Date(T0 + 30), releasedBy: 'key_r' });
      assert.deepEqual(await store.release('acme', placed.holdId, new Date(T0 + 40), 'key_s'), released, 'the first release stays');
      assert.equal(await store.release('globex', placed.holdId, new Date(T0 + 40), 'key_s'), undefined, "another tenant's hold is unknown");
      assert.equal(await store.release('acme', newLegalHoldId(new Date(T0)), new Date(T0 + 40), 'key_s'), undefined);
      const renewed = await store.place(hold(T0 + 50, { matter: 'release' }));
      assert.equal(renewed.created, true);
      assert.notEqual(renewed.hold.holdId, placed.holdId);
      assert.deepEqual(await store.get('acme', placed.holdId), released);
      assert.equal(await store.get('globex', placed.holdId), undefined);
    });

    test('activeCovering: the customer’s own active holds and the tenant-wide ones, newest first', async () => {
      const tenant = 'covering';
      const wide = (await store.place(hold(T0 + 1, { tenantId: tenant, customer: '', matter: 'wide' }))).hold;
      const alice = (await store.place(hold(T0 + 2, { tenantId: tenant, customer: ALICE, matter: 'alice' }))).hold;
      const bob = (await store.place(hold(T0 + 3, { tenantId: tenant, customer: BOB, matter: 'bob' }))).hold;
      const old = (await store.place(hold(T0 + 4, { tenantId: tenant, customer: ALICE, matter: 'old' }))).hold;
      await store.release(tenant, old.holdId, new Date(T0 + 5), 'key_r');
      assert.deepEqual(await store.activeCovering(tenant, ALICE), [alice, wide]);
      assert.deepEqual(await store.activeCovering(tenant, BOB), [bob, wide]);
      assert.deepEqual(await store.activeCovering(tenant, '+4915100000001'), [wide]);
      assert.deepEqual(await store.activeCovering(tenant, ''), [wide]);
      assert.deepEqual(await store.activeCovering('nobody', ALICE), []);
      await store.release(tenant, wide.holdId, new Date(T0 + 6), 'key_r');
      assert.deepEqual(await store.activeCovering(tenant, '+4915100000001'), []);
      const active = (await store.allActive()).filter((candidate) => candidate.tenantId === tenant);
      assert.deepEqual(active.map((candidate) => candidate.holdId).sort(), [alice.holdId, bob.holdId].sort());
    });

    test('list: active first, newest first, filtered, in keyset pages', async () => {
      const tenant = 'listing';
      const placed: LegalHold[] = [];
      for (let n = 0; n < 7; n += 1) {
        placed.push(
          (await store.place(hold(T0 + n * 1000, { tenantId: tenant, matter: `m${n}`, customer: n % 3 === 0 ? '' : n % 2 ? ALICE : BOB })))
            .hold,
        );
      }
      // Release m1 (ALICE) and m4 (BOB).
      const releasedOne = await store.release(tenant, placed[1]!.holdId, new Date(T0 + 10_000), 'key_r');
      const releasedFour = await store.release(tenant, placed[4]!.holdId, new Date(T0 + 10_000), 'key_r');
      const activeIds = [6, 5, 3, 2, 0].map((n) => placed[n]!.holdId);
      const all = await store.list(tenant, { includeReleased: true, limit: 100 });
      assert.deepEqual(
        all.map((candidate) => candidate.holdId),
        [...activeIds, releasedFour!.holdId, releasedOne!.holdId],
      );
      assert.deepEqual(
        (await store.list(tenant, { includeReleased: false, limit: 100 })).map((candidate) => candidate.holdId),
        activeIds,
      );
      // ALICE: m6 (wide), m5, m3 (wide), m0 (wide), then released m1; never BOB's.
      assert.deepEqual(
        (await store.list(tenant, { customer: ALICE, includeReleased: true, limit: 100 })).map((candidate) => candidate.matter),
        ['m6', 'm5', 'm3', 'm0', 'm1'],
      );
      // Pages of 2 over everything walk the same order, crossing from active to released.
      const walked: string[] = [];
      let cursor: { released: boolean; holdId: string } | undefined;
      for (;;) {
        const page = await store.list(tenant, { includeReleased: true, limit: 2, ...(cursor ? { after: cursor } : {}) });
        walked.push(...page.map((candidate) => candidate.holdId));
        const last = page.at(-1);
        if (page.length < 2 || !last) break;
        cursor = { released: last.releasedAt !== undefined, holdId: last.holdId };
      }
      assert.deepEqual(
        walked,
        all.map((candidate) => candidate.holdId),
      );
    });
  });
}
