import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import type { Delivery, DeliveryEvent } from '../domain/delivery';
import type { DeliveryStore } from '../domain/delivery-store';
import { MongoDeliveryStore } from './mongo-delivery-store';
import { SqliteDeliveryStore } from './sqlite-delivery-store';
import { createCustomerSealer, createInMemoryKeyring } from '@waygate/keyring';

/** Content is sealed at rest under customer keys (a process's own keyring is not this one: there content reads as erased). */
const sharedKeyring = createInMemoryKeyring();
const sealer = createCustomerSealer(sharedKeyring);

const backends = contractBackends<DeliveryStore>({
  sqlite: (file) => new SqliteDeliveryStore(file, sealer),
  mongodb: (mongo) => MongoDeliveryStore.open(mongo, sealer),
  close: (store) => store.close(),
});

const T0 = 1_700_000_000_000;
const at = (ms: number) => new Date(T0 + ms);

function pending(overrides: Partial<Delivery> = {}): Delivery {
  return {
    tenantId: 'acme',
    messageId: 'msg_1',
    phoneNumberId: '200',
    to: '+4915112345678',
    laneSeq: 1,
    content: { kind: 'text', body: 'hello', previewUrl: true },
    state: 'PENDING',
    attempts: 0,
    nextAttemptAt: at(0),
    acceptedAt: at(0),
    expiresAt: at(86_400_000),
    updatedAt: at(0),
    traceContext: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    ...overrides,
  };
}

function event(id: string, overrides: Partial<DeliveryEvent> = {}): DeliveryEvent {
  return {
    eventId: id,
    tenantId: 'acme',
    messageId: 'msg_1',
    status: 'SENT',
    recipient: '+4915112345678',
    attempt: 1,
    occurredAt: at(5),
    ...overrides,
  };
}

const claimOptions = { now: at(10), limit: 10, owner: 'replica-a', leaseMs: 30_000, excludePhoneNumberIds: [] as string[] };

for (const backend of backends) {
  describeContract(backend, 'DeliveryStore contract', (test) => {
    async function withStore(run: (store: DeliveryStore) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    test("erasure: the customer's rows lose content and number (outbox and pair pacing too); others stay; idempotent", () =>
      withStore(async (store) => {
        const customer = '+4915112345678';
        const customerRef = await sealer.customerRef('acme', customer);
        const subject = { tenantId: 'acme', customer, customerRef };
        await store.insertIfAbsent(
          pending({ messageId: 'msg_a' }),
          event('msg_a:sent', { messageId: 'msg_a', recipientWaId: '4915112345678' }),
        );
        await store.insertIfAbsent(pending({ messageId: 'msg_b', laneSeq: 2 }));
        await store.insertIfAbsent(pending({ messageId: 'msg_c', to: '+4915187654321', laneSeq: 3 }));
        await store.insertIfAbsent(pending({ messageId: 'msg_g', tenantId: 'globex', laneSeq: 4 }));
        const keep = () => ({ next: { tatMs: 1 }, result: undefined });
        await store.changeLimiters([
          { key: `pair:200:${customer}`, change: keep },
          { key: 'pair:200:+4915187654321', change: keep },
        ]);
        assert.deepEqual(
          (await store.listForCustomer('acme', customer, { limit: 10 })).map((s) => s.delivery.messageId),
          ['msg_a', 'msg_b'],
        );
        assert.deepEqual(
          (await store.listForCustomer('acme', customer, { limit: 1, afterMessageId: 'msg_a' })).map((s) => s.delivery.messageId),
          ['msg_b'],
        );

        assert.equal(await store.eraseCustomer(subject), 3, 'two deliveries and one pair state');
        for (const id of ['msg_a', 'msg_b']) {
          const stored = await store.get('acme', id);
          assert.equal(stored?.delivery.to, customerRef);
          assert.equal(stored?.delivery.content, undefined);
          assert.equal(stored?.delivery.state, 'PENDING', "the state is the engine's (the participant cancels first)");
          assert.equal(stored?.version, 1, 'the version is not bumped: an outcome in flight still lands');
        }
        const outbox = (await store.claimAnnouncements({ now: at(0), limit: 10, leaseMs: 1000 })).find((a) => a.messageId === 'msg_a');
        assert.deepEqual(
          outbox?.events.map((e) => [e.recipient, e.recipientWaId]),
          [[customerRef, undefined]],
        );
        assert.deepEqual(await store.listForCustomer('acme', customer, { limit: 10 }), []);
        assert.equal((await store.listForCustomer('acme', customerRef, { limit: 10 })).length, 2);
        assert.deepEqual(
          (await store.listLimiters('pair:')).map((l) => l.key),
          ['pair:200:+4915187654321'],
        );
        assert.deepEqual((await store.get('acme', 'msg_c'))?.delivery.content, pending().content, 'another customer is intact');
        assert.deepEqual((await store.get('globex', 'msg_g'))?.delivery.content, pending().content, 'another tenant is intact');
        assert.equal(await store.eraseCustomer(subject), 0, 'idempotent');
        await store.flushDeleted();
      }));

    test('content whose customer key was destroyed reads as absent (never sent: content missing)', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(pending({ messageId: 'msg_k', to: '+4915100000009' }));
        await sharedKeyring.destroyKey({ tenantId: 'acme', customerRef: await sealer.customerRef('acme', '+4915100000009') });
        assert.equal((await store.get('acme', 'msg_k'))?.delivery.content, undefined);
        const [claimed] = await store.claimDue(claimOptions);
        assert.equal(claimed?.delivery.content, undefined);
      }));

    test('inserts once and returns the stored delivery on later calls', () =>
      withStore(async (store) => {
        const first = await store.insertIfAbsent(pending());
        assert.equal(first.inserted, true);
        assert.deepEqual(first.stored.delivery, pending());
        const again = await store.insertIfAbsent(pending({ content: { kind: 'text', body: 'other', previewUrl: false } }));
        assert.equal(again.inserted, false);
        assert.deepEqual(again.stored.delivery, pending());
        assert.deepEqual((await store.get('acme', 'msg_1'))?.delivery, pending());
        assert.equal(await store.get('other-tenant', 'msg_1'), undefined, 'scoped by tenant');
      }));

    test('a CANCELED tombstone stores no content and makes a later insert a no-op', () =>
      withStore(async (store) => {
        const tombstone = pending({ state: 'CANCELED', content: undefined, nextAttemptAt: undefined });
        await store.insertIfAbsent(tombstone, event('msg_1:delivery:canceled', { status: 'CANCELED' }));
        const later = await store.insertIfAbsent(pending());
        assert.equal(later.inserted, false);
        assert.equal(later.stored.delivery.state, 'CANCELED');
        assert.equal(later.stored.delivery.content, undefined);
        const [announcement] = await store.claimAnnouncements({ now: at(0), limit: 10, leaseMs: 1000 });
        assert.deepEqual(
          announcement.events.map((e) => e.eventId),
          ['msg_1:delivery:canceled'],
        );
      }));

    test('claims due lane heads once, most overdue first, with a lease and a new version', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(pending({ messageId: 'late', to: '+491', laneSeq: 1, nextAttemptAt: at(5) }));
        await store.insertIfAbsent(pending({ messageId: 'early', to: '+492', laneSeq: 2, nextAttemptAt: at(1) }));
        await store.insertIfAbsent(pending({ messageId: 'future', to: '+493', laneSeq: 3, nextAttemptAt: at(60_000) }));
        const claimed = await store.claimDue(claimOptions);
        assert.deepEqual(
          claimed.map((c) => c.delivery.messageId),
          ['early', 'late'],
        );
        assert.equal(claimed[0].leaseOwner, 'replica-a');
        assert.equal(claimed[0].leaseUntil?.getTime(), at(30_010).getTime());
        assert.equal(claimed[0].version, (await store.get('acme', 'early'))?.version);
        assert.deepEqual(await store.claimDue({ ...claimOptions, owner: 'replica-b' }), [], 'leased deliveries are not claimed again');
        const afterLease = await store.claimDue({ ...claimOptions, owner: 'replica-b', now: at(30_011) });
        assert.deepEqual(afterLease.map((c) => c.delivery.messageId).sort(), ['early', 'late'], 'an expired lease is taken over');
      }));

    test('only the first PENDING delivery of a lane (number + recipient) is due; other lanes are not blocked', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(pending({ messageId: 'a1', laneSeq: 1, nextAttemptAt: at(60_000) })); // waiting to retry
        await store.insertIfAbsent(pending({ messageId: 'a2', laneSeq: 2 }));
        await store.insertIfAbsent(pending({ messageId: 'b1', laneSeq: 3, to: '+4915199999999' }));
        await store.insertIfAbsent(pending({ messageId: 'c1', laneSeq: 4, phoneNumberId: '201' }));
        const claimed = await store.claimDue(claimOptions);
        assert.deepEqual(claimed.map((c) => c.delivery.messageId).sort(), ['b1', 'c1']);
        const head = (await store.get('acme', 'a1'))!;
        assert.equal(
          await store.update('acme', 'a1', head.version, { state: 'SENT', attempts: 1, waMessageId: 'wamid.1', updatedAt: at(20) }),
          true,
        );
        assert.deepEqual(
          (await store.claimDue({ ...claimOptions, now: at(21) })).map((c) => c.delivery.messageId),
          ['a2'],
          'the next in the lane is due once the head is no longer PENDING',
        );
      }));

    test('a lane whose first delivery waits hides no other lane, however many deliveries wait behind it', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(pending({ messageId: 'a1', laneSeq: 1, nextAttemptAt: at(86_400_000) })); // 131049: a day
        for (let i = 2; i <= 12; i++) await store.insertIfAbsent(pending({ messageId: `a${i}`, laneSeq: i, nextAttemptAt: at(0) }));
        await store.insertIfAbsent(pending({ messageId: 'b1', laneSeq: 13, to: '+4915199999999', nextAttemptAt: at(5) }));
        assert.deepEqual(
          (await store.claimDue({ ...claimOptions, limit: 1 })).map((c) => c.delivery.messageId),
          ['b1'],
        );
      }));

    test("a lane's first delivery is claimed even when a later one of its lane is more overdue", () =>
      withStore(async (store) => {
        await store.insertIfAbsent(pending({ messageId: 'a1', laneSeq: 1, nextAttemptAt: at(5) }));
        await store.insertIfAbsent(pending({ messageId: 'a2', laneSeq: 2, nextAttemptAt: at(0) }));
        assert.deepEqual(
          (await store.claimDue({ ...claimOptions, limit: 1 })).map((c) => c.delivery.messageId),
          ['a1'],
        );
        assert.deepEqual(await store.claimDue(claimOptions), [], 'a2 waits while a1 is PENDING, leased or not');
      }));

    test('the outbox holds an event id once: the first recording stays', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(pending());
        const first = (await store.get('acme', 'msg_1'))!;
        const update = { state: 'PENDING' as const, attempts: 1, nextAttemptAt: at(100), updatedAt: at(10) };
        assert.equal(await store.update('acme', 'msg_1', first.version, update, event('msg_1:delivery:attempt:1', { attempt: 1 })), true);
        const second = (await store.get('acme', 'msg_1'))!;
        assert.equal(
          await store.update('acme', 'msg_1', second.version, update, event('msg_1:delivery:attempt:1', { attempt: 1, errorCode: 2 })),
          true,
          'the state is written',
        );
        assert.equal((await store.get('acme', 'msg_1'))?.version, second.version + 1);
        assert.equal(await store.update('acme', 'msg_1', second.version, update, event('msg_1:delivery:attempt:1')), false, 'stale');
        const [announcement] = await store.claimAnnouncements({ now: at(0), limit: 10, leaseMs: 1000 });
        assert.deepEqual(
          announcement.events.map((e) => [e.eventId, e.errorCode]),
          [['msg_1:delivery:attempt:1', undefined]],
        );
      }));

    test('claims skip excluded phone numbers (open circuits)', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(pending({ messageId: 'x', phoneNumberId: '200' }));
        await store.insertIfAbsent(pending({ messageId: 'y', phoneNumberId: '201', to: '+492', laneSeq: 2 }));
        const claimed = await store.claimDue({ ...claimOptions, excludePhoneNumberIds: ['200'] });
        assert.deepEqual(
          claimed.map((c) => c.delivery.messageId),
          ['y'],
        );
      }));

    test('update is conditional on the version, clears the lease, records the outbox event, and deletes content when settled', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(pending());
        const [claimed] = await store.claimDue(claimOptions);
        const stale = claimed.version - 1;
        assert.equal(await store.update('acme', 'msg_1', stale, { state: 'SENT', attempts: 1, updatedAt: at(11) }), false);
        const retry = {
          state: 'PENDING' as const,
          attempts: 1,
          lastErrorCode: 131000,
          lastErrorTitle: 'Something went wrong',
          nextAttemptAt: at(2000),
          updatedAt: at(11),
        };
        assert.equal(
          await store.update(
            'acme',
            'msg_1',
            claimed.version,
            retry,
            event('msg_1:delivery:attempt:1', { status: 'ACCEPTED', nextAttemptAt: at(2000) }),
          ),
          true,
        );
        const afterRetry = (await store.get('acme', 'msg_1'))!;
        assert.deepEqual(
          [
            afterRetry.delivery.state,
            afterRetry.delivery.attempts,
            afterRetry.delivery.lastErrorCode,
            afterRetry.delivery.nextAttemptAt?.getTime(),
            afterRetry.leaseOwner,
          ],
          ['PENDING', 1, 131000, at(2000).getTime(), undefined],
        );
        assert.ok(afterRetry.delivery.content, 'content kept while pending');
        assert.equal(
          await store.update(
            'acme',
            'msg_1',
            afterRetry.version,
            { state: 'FAILED', attempts: 2, lastErrorCode: 131026, updatedAt: at(3000) },
            event('msg_1:delivery:failed', { status: 'FAILED' }),
          ),
          true,
        );
        const failed = (await store.get('acme', 'msg_1'))!.delivery;
        assert.deepEqual(
          [failed.state, failed.content, failed.nextAttemptAt, failed.lastErrorTitle],
          ['FAILED', undefined, undefined, undefined],
        );
        assert.equal(failed.traceContext, pending().traceContext, 'metadata is kept');
        const [announcement] = await store.claimAnnouncements({ now: at(3000), limit: 10, leaseMs: 1000 });
        assert.deepEqual(
          announcement.events.map((e) => [e.eventId, e.nextAttemptAt?.getTime()]),
          [
            ['msg_1:delivery:attempt:1', at(2000).getTime()],
            ['msg_1:delivery:failed', undefined],
          ],
        );
      }));

    test('SENT keeps content and the wamid is kept by later updates; EXPIRED, CANCELED and DELIVERED delete content', () =>
      withStore(async (store) => {
        for (const [id, final] of [
          ['e', 'EXPIRED'],
          ['c', 'CANCELED'],
          ['d', 'DELIVERED'],
        ] as const) {
          await store.insertIfAbsent(pending({ messageId: id, to: `+49${id.charCodeAt(0)}` }));
          let stored = (await store.get('acme', id))!;
          await store.update('acme', id, stored.version, { state: 'SENT', attempts: 1, waMessageId: `wamid.${id}`, updatedAt: at(1) });
          stored = (await store.get('acme', id))!;
          assert.ok(stored.delivery.content);
          await store.update('acme', id, stored.version, { state: final, attempts: 1, updatedAt: at(2) });
          const settled = (await store.get('acme', id))!.delivery;
          assert.deepEqual([settled.state, settled.content, settled.waMessageId], [final, undefined, `wamid.${id}`]);
        }
      }));

    test('a started call is marked on the current version only, and cleared by the update recording its outcome', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(pending());
        const [claimed] = await store.claimDue(claimOptions);
        assert.equal(await store.markCallStarted('acme', 'msg_1', claimed.version - 1, at(11)), false);
        assert.equal(await store.markCallStarted('acme', 'msg_1', claimed.version, at(11)), true);
        const marked = (await store.get('acme', 'msg_1'))!;
        assert.deepEqual(
          [marked.callStartedAt?.getTime(), marked.version],
          [at(11).getTime(), claimed.version],
          'marking does not bump the version',
        );
        await store.update('acme', 'msg_1', marked.version, { state: 'SENT', attempts: 1, waMessageId: 'wamid.1', updatedAt: at(12) });
        assert.equal((await store.get('acme', 'msg_1'))?.callStartedAt, undefined);
      }));

    test('lists PENDING and SENT deliveries past their deadline that nobody holds', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(pending({ messageId: 'p', to: '+491', expiresAt: at(100) }));
        await store.insertIfAbsent(pending({ messageId: 's', to: '+492', laneSeq: 2, expiresAt: at(50) }));
        await store.insertIfAbsent(pending({ messageId: 'ok', to: '+493', laneSeq: 3, expiresAt: at(10_000) }));
        await store.insertIfAbsent(pending({ messageId: 'done', to: '+494', laneSeq: 4, expiresAt: at(10) }));
        const s = (await store.get('acme', 's'))!;
        await store.update('acme', 's', s.version, { state: 'SENT', attempts: 1, waMessageId: 'wamid.s', updatedAt: at(1) });
        const done = (await store.get('acme', 'done'))!;
        await store.update('acme', 'done', done.version, { state: 'FAILED', attempts: 1, updatedAt: at(1) });
        assert.deepEqual(
          (await store.listExpired(at(200), 10)).map((d) => d.delivery.messageId),
          ['s', 'p'],
        );
        await store.claimDue({ ...claimOptions, now: at(200) });
        assert.deepEqual(
          (await store.listExpired(at(200), 10)).map((d) => d.delivery.messageId),
          ['s'],
          'a leased delivery is left to its holder',
        );
      }));

    test('announcements are leased, and removed once published', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(
          pending({ state: 'CANCELED', content: undefined }),
          event('msg_1:delivery:canceled', { status: 'CANCELED' }),
        );
        const first = await store.claimAnnouncements({ now: at(0), limit: 10, leaseMs: 1000 });
        assert.equal(first.length, 1);
        assert.deepEqual(await store.claimAnnouncements({ now: at(500), limit: 10, leaseMs: 1000 }), [], 'leased');
        assert.equal((await store.claimAnnouncements({ now: at(1001), limit: 10, leaseMs: 1000 })).length, 1, 'lease ran out');
        assert.equal((await store.backlog()).unannounced, 1);
        await store.markAnnounced('acme', 'msg_1', ['msg_1:delivery:canceled']);
        assert.deepEqual(await store.claimAnnouncements({ now: at(5000), limit: 10, leaseMs: 1000 }), []);
        assert.equal((await store.backlog()).unannounced, 0);
      }));

    test('limiter changes are read-modify-write per key; listing by prefix; pruning idle pair states', () =>
      withStore(async (store) => {
        const bump = (by: number) => (state: { tatMs: number } | undefined) => ({
          next: { tatMs: (state?.tatMs ?? 0) + by },
          result: (state?.tatMs ?? 0) + by,
        });
        assert.deepEqual(
          await store.changeLimiters([
            { key: 'number:200', change: bump(5) },
            { key: 'pair:200:+491', change: bump(7) },
          ]),
          [5, 7],
        );
        assert.deepEqual(await store.changeLimiters([{ key: 'number:200', change: bump(5) }]), [10]);
        await Promise.all(Array.from({ length: 20 }, () => store.changeLimiters([{ key: 'number:201', change: bump(1) }])));
        const numbers = await store.listLimiters('number:');
        assert.deepEqual(
          numbers.map((n) => [n.key, n.state.tatMs]).sort(),
          [
            ['number:200', 10],
            ['number:201', 20],
          ],
          'concurrent changes are not lost',
        );
        await store.changeLimiters([{ key: 'pair:200:+492', change: () => ({ next: { tatMs: 1, pairBackoffExponent: 2 }, result: 0 }) }]);
        assert.equal(await store.pruneLimiters('pair:', new Date(100)), 1, 'idle pair state pruned, backing-off one kept');
        assert.deepEqual(
          (await store.listLimiters('pair:')).map((p) => p.key),
          ['pair:200:+492'],
        );
      }));

    test('backlog counts PENDING deliveries and the oldest acceptance', () =>
      withStore(async (store) => {
        assert.deepEqual(await store.backlog(), { pending: 0, unannounced: 0 });
        await store.insertIfAbsent(pending({ messageId: 'a', acceptedAt: at(100) }));
        await store.insertIfAbsent(pending({ messageId: 'b', to: '+492', acceptedAt: at(50) }));
        const backlog = await store.backlog();
        assert.deepEqual([backlog.pending, backlog.oldestPendingAcceptedAt?.getTime()], [2, at(50).getTime()]);
      }));
  });
}
