import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import type { Verification } from '../domain/verification';
import type { ReserveRules, VerificationStore } from '../domain/verification-store';
import { MongoVerificationStore } from './mongo-verification-store';
import { SqliteVerificationStore } from './sqlite-verification-store';

const backends = contractBackends<VerificationStore>({
  sqlite: (file) => new SqliteVerificationStore(file),
  mongodb: (mongo) => MongoVerificationStore.open(mongo),
  close: (store) => store.close(),
});

const T0 = Date.UTC(2026, 0, 1, 12);
const HOUR = 3_600_000;
let serial = 0;

function verification(atMs: number, overrides: Partial<Verification> = {}): Verification {
  return {
    tenantId: 'acme',
    verificationId: `ver_${String(++serial).padStart(4, '0')}`,
    to: '+4915112345678',
    phoneNumberId: '106540352242922',
    templateName: 'login_code',
    templateLanguage: 'en_US',
    codeHash: 'ab'.repeat(32),
    status: 'PENDING',
    checks: 0,
    createdAt: new Date(atMs),
    expiresAt: new Date(atMs + 300_000),
    version: 1,
    ...overrides,
  };
}

function rules(atMs: number, overrides: Partial<ReserveRules> = {}): ReserveRules {
  return {
    resendWindowStart: new Date(atMs - 30_000),
    limitWindowStart: new Date(atMs - HOUR),
    sendsPerNumber: 3,
    sendsPerTenant: 100,
    ...overrides,
  };
}

for (const backend of backends) {
  describeContract(backend, 'VerificationStore contract', (test) => {
    async function withStore(run: (store: VerificationStore) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    test('reserve stores a verification; a PENDING one to the same number within the resend window is returned instead', () =>
      withStore(async (store) => {
        const first = verification(T0);
        assert.deepEqual(await store.reserve(first, rules(T0)), { kind: 'reserved' });
        assert.deepEqual(await store.get('acme', first.verificationId), first);
        assert.equal(await store.get('globex', first.verificationId), undefined, 'scoped by tenant');
        const again = await store.reserve(verification(T0 + 29_000), rules(T0 + 29_000));
        assert.deepEqual(again, { kind: 'pending', verification: first });
        assert.deepEqual(await store.reserve(verification(T0 + 29_000, { to: '+4915100000000' }), rules(T0 + 29_000)), {
          kind: 'reserved',
        });
        assert.deepEqual(await store.reserve(verification(T0 + 29_000, { tenantId: 'globex' }), rules(T0 + 29_000)), { kind: 'reserved' });
        // After 30 s, or once it is no longer PENDING, a new one is reserved.
        assert.deepEqual(await store.reserve(verification(T0 + 31_000), rules(T0 + 31_000)), { kind: 'reserved' });
      }));

    test('hourly limits per number and per tenant name the oldest counted send; removed reservations do not count', () =>
      withStore(async (store) => {
        const times = [T0, T0 + 60_000, T0 + 120_000];
        for (const at of times)
          assert.deepEqual((await store.reserve(verification(at), rules(at, { resendWindowStart: new Date(at) }))).kind, 'reserved');
        const at = T0 + 180_000;
        assert.deepEqual(await store.reserve(verification(at), rules(at, { resendWindowStart: new Date(at) })), {
          kind: 'limited',
          scope: 'number',
          oldestInWindow: new Date(T0),
        });
        // An hour after the first, it no longer counts.
        const later = T0 + HOUR + 1;
        assert.equal((await store.reserve(verification(later), rules(later, { resendWindowStart: new Date(later) }))).kind, 'reserved');
        const other = verification(later, { to: '+4915100000001' });
        assert.deepEqual(await store.reserve(other, rules(later, { sendsPerTenant: 3, resendWindowStart: new Date(later) })), {
          kind: 'limited',
          scope: 'tenant',
          oldestInWindow: new Date(T0 + 60_000),
        });
        const removable = verification(later, { to: '+4915100000002' });
        assert.equal(
          (await store.reserve(removable, rules(later, { sendsPerTenant: 4, resendWindowStart: new Date(later) }))).kind,
          'reserved',
        );
        await store.remove('acme', removable.verificationId);
        assert.equal(await store.get('acme', removable.verificationId), undefined);
        assert.equal(
          (await store.reserve(other, rules(later, { sendsPerTenant: 4, resendWindowStart: new Date(later) }))).kind,
          'reserved',
        );
      }));

    test('update is compare-and-set on the version; latestFor is the newest to a number; purge by creation time', () =>
      withStore(async (store) => {
        const older = verification(T0);
        const newer = verification(T0 + 60_000);
        await store.reserve(older, rules(T0));
        await store.reserve(newer, rules(T0 + 60_000));
        assert.equal((await store.latestFor('acme', older.to))?.verificationId, newer.verificationId);
        assert.equal(await store.latestFor('acme', '+4915199999999'), undefined);
        const approved: Verification = {
          ...newer,
          status: 'APPROVED',
          checks: 1,
          approvedAt: new Date(T0 + 70_000),
          version: 2,
        };
        assert.equal(await store.update(approved), true);
        assert.equal(await store.update({ ...newer, status: 'FAILED', version: 2 }), false, 'stale version');
        assert.deepEqual(await store.get('acme', newer.verificationId), approved);
        const undeliverable: Verification = {
          ...older,
          status: 'UNDELIVERABLE',
          errorCode: 131026,
          errorTitle: 'Message undeliverable',
          version: 2,
        };
        assert.equal(await store.update(undeliverable), true);
        assert.deepEqual(await store.get('acme', older.verificationId), undeliverable);
        assert.equal(await store.purgeCreatedBefore(new Date(T0 + 1)), 1);
        assert.equal(await store.get('acme', older.verificationId), undefined);
        assert.ok(await store.get('acme', newer.verificationId));
      }));
  });
}
