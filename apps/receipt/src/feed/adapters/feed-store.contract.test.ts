import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import { applyStatusReport, type StatusReport } from '../domain/feed-rules';
import type { CallbackDeliveryDraft, TenantFeedStore } from '../domain/feed-store';
import { statusEventId, type NewTenantEvent } from '../domain/tenant-event';
import { MongoFeedStore } from './mongo-feed-store';
import { SqliteFeedStore } from './sqlite-feed-store';

const backends = contractBackends<TenantFeedStore>({
  sqlite: (file) => new SqliteFeedStore(file),
  mongodb: (mongo) => MongoFeedStore.open(mongo),
  close: (store) => store.close(),
});

const T0 = Date.UTC(2025, 0, 1);
const at = (seconds: number) => new Date(T0 + seconds * 1000);

function statusEvent(tenantId: string, messageId: string, status: 'SENT' | 'DELIVERED' | 'READ', seconds = 0): NewTenantEvent {
  return {
    type: 'status',
    tenantId,
    eventId: statusEventId(messageId, status),
    occurredAt: at(seconds),
    recordedAt: at(seconds + 1),
    status: { messageId, waMessageId: `wamid.${messageId}`, recipient: '+4915112345678', status, messageStatus: status },
  };
}

function inboundEvent(tenantId: string, waMessageId: string, from = '+4915199999999', seconds = 0): NewTenantEvent {
  return {
    type: 'inbound',
    tenantId,
    eventId: `inbound.${waMessageId}`,
    occurredAt: at(seconds),
    recordedAt: at(seconds + 1),
    inbound: {
      waMessageId,
      phoneNumberId: '200',
      from,
      type: 'text',
      text: 'hello',
      contentJson: '{"body":"hello"}',
      serviceWindowClosesAt: at(seconds + 86_400),
    },
  };
}

function draft(eventId: string, sequence: number, messageKey: string, queuedSeconds = 0): CallbackDeliveryDraft {
  return { eventId, sequence, messageKey, body: `{"eventId":"${eventId}"}`, queuedAt: at(queuedSeconds) };
}

const lease = (token: string, nowSeconds: number, limit = 10) => ({
  now: at(nowSeconds),
  limit,
  leaseToken: token,
  leaseUntil: at(nowSeconds + 30),
});

for (const backend of backends) {
  describeContract(backend, 'TenantFeedStore contract', (test) => {
    async function withStore(run: (store: TenantFeedStore) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    test('appends take per-tenant sequences 1, 2, 3 …; a known event id appends nothing', () =>
      withStore(async (store) => {
        assert.equal(await store.lastSequence('acme'), 0);
        assert.equal(await store.firstSequence('acme'), undefined);
        assert.equal((await store.appendEvent(statusEvent('acme', 'm1', 'SENT')))?.sequence, 1);
        assert.equal((await store.appendEvent(statusEvent('globex', 'm1', 'SENT')))?.sequence, 1, 'sequences are per tenant');
        assert.equal((await store.appendEvent(inboundEvent('acme', 'wamid.in1')))?.sequence, 2);
        assert.equal(await store.appendEvent(statusEvent('acme', 'm1', 'SENT')), undefined, 'duplicate event id');
        assert.equal(await store.appendEvent(inboundEvent('acme', 'wamid.in1')), undefined, 'duplicate event id');
        assert.equal((await store.appendEvent(statusEvent('acme', 'm1', 'DELIVERED')))?.sequence, 3);
        assert.equal(await store.lastSequence('acme'), 3);
        assert.equal(await store.firstSequence('acme'), 1);
        assert.deepEqual(
          (await store.readEvents('acme', { after: 0, limit: 10 })).map((e) => [e.sequence, e.eventId]),
          [
            [1, 'status.m1.sent'],
            [2, 'inbound.wamid.in1'],
            [3, 'status.m1.delivered'],
          ],
        );
      }));

    test('concurrent appends (with duplicates) leave one entry per event id and sequences without gaps', () =>
      withStore(async (store) => {
        const events = Array.from({ length: 40 }, (_, i) => inboundEvent('acme', `wamid.c${i}`));
        const results = await Promise.all([...events, ...events.slice(0, 15)].map((event) => store.appendEvent(event)));
        assert.equal(results.filter(Boolean).length, 40);
        const log = await store.readEvents('acme', { after: 0, limit: 100 });
        assert.deepEqual(
          log.map((e) => e.sequence),
          Array.from({ length: 40 }, (_, i) => i + 1),
        );
        assert.equal(new Set(log.map((e) => e.eventId)).size, 40);
      }));

    test('events read back whole; after, upTo and limit bound the read', () =>
      withStore(async (store) => {
        const status = statusEvent('acme', 'm1', 'READ', 5);
        const inbound = inboundEvent('acme', 'wamid.in1', '+4915199999999', 7);
        await store.appendEvent(status);
        await store.appendEvent(inbound);
        await store.appendEvent(statusEvent('acme', 'm2', 'SENT'));
        const [first, second] = await store.readEvents('acme', { after: 0, limit: 2 });
        assert.deepEqual(first, { ...status, sequence: 1 });
        assert.deepEqual(second, { ...inbound, sequence: 2 });
        assert.deepEqual(
          (await store.readEvents('acme', { after: 1, upTo: 2, limit: 10 })).map((e) => e.sequence),
          [2],
        );
        assert.deepEqual(await store.readEvents('acme', { after: 3, limit: 10 }), []);
        assert.deepEqual(await store.readEvents('globex', { after: 0, limit: 10 }), [], 'other tenants see nothing');
      }));

    test('filters: message ids, customers (recipient or sender) and types combine with AND', () =>
      withStore(async (store) => {
        await store.appendEvent(statusEvent('acme', 'm1', 'SENT')); // 1, to +4915112345678
        await store.appendEvent(statusEvent('acme', 'm2', 'SENT')); // 2, to +4915112345678
        await store.appendEvent(inboundEvent('acme', 'wamid.a', '+4915112345678')); // 3
        await store.appendEvent(inboundEvent('acme', 'wamid.b', '+4915100000000')); // 4
        const read = async (filter: Parameters<TenantFeedStore['readEvents']>[1]['filter']) =>
          (await store.readEvents('acme', { after: 0, limit: 10, filter })).map((e) => e.sequence);
        assert.deepEqual(await read({ messageIds: ['m2', 'unknown'] }), [2]);
        assert.deepEqual(await read({ customers: ['+4915112345678'] }), [1, 2, 3]);
        assert.deepEqual(await read({ types: ['inbound'] }), [3, 4]);
        assert.deepEqual(await read({ customers: ['+4915112345678'], types: ['inbound'] }), [3]);
        assert.deepEqual(await read({ messageIds: ['m1'], types: ['inbound'] }), []);
      }));

    test('applyToMessage: decides on the stored state, stores the new one and appends the decided events in order', () =>
      withStore(async (store) => {
        const seen: unknown[] = [];
        const report = (status: StatusReport['status'], extra: Partial<StatusReport> = {}): StatusReport => ({
          tenantId: 'acme',
          messageId: 'm1',
          status,
          source: 'webhook',
          occurredAt: at(1),
          ...extra,
        });
        const apply = (r: StatusReport) =>
          store.applyToMessage('acme', 'm1', at(2), (state) => {
            seen.push(state);
            const applied = applyStatusReport(state, r);
            return (
              applied && {
                state: applied.state,
                events: applied.changes.map((change): NewTenantEvent => ({
                  type: 'status',
                  tenantId: 'acme',
                  eventId: statusEventId('m1', change.status),
                  occurredAt: r.occurredAt,
                  recordedAt: at(2),
                  status: { messageId: 'm1', ...change },
                })),
              }
            );
          });
        assert.deepEqual(
          (await apply(report('SENT', { waMessageId: 'wamid.1', recipient: '+4915112345678' }))).map((e) => e.eventId),
          ['status.m1.sent'],
        );
        assert.equal(seen[0], undefined, 'a new message has no state');
        assert.deepEqual(
          (await apply(report('READ'))).map((e) => [e.sequence, e.eventId]),
          [
            [2, 'status.m1.delivered'],
            [3, 'status.m1.read'],
          ],
        );
        assert.deepEqual(seen[1], { status: 'SENT', waMessageId: 'wamid.1', recipient: '+4915112345678', failureSurfaced: false });
        assert.deepEqual(await apply(report('DELIVERED')), [], 'a late delivered is no news');
        assert.deepEqual(seen[2], { status: 'READ', waMessageId: 'wamid.1', recipient: '+4915112345678', failureSurfaced: false });
        assert.equal(await store.lastSequence('acme'), 3);
      }));

    test('applyToMessage: the same decision applied again, even concurrently, appends its events once', () =>
      withStore(async (store) => {
        // A decision that ignores the state, as a redelivered report after a crash between the state and the append.
        const decide = () => ({
          state: { status: 'DELIVERED' as const, failureSurfaced: false },
          events: [statusEvent('acme', 'm1', 'SENT'), statusEvent('acme', 'm1', 'DELIVERED')],
        });
        const results = await Promise.all(Array.from({ length: 5 }, () => store.applyToMessage('acme', 'm1', at(0), decide)));
        assert.equal(results.flat().length, 2);
        await store.applyToMessage('acme', 'm1', at(0), decide);
        assert.deepEqual(
          (await store.readEvents('acme', { after: 0, limit: 10 })).map((e) => [e.sequence, e.eventId]),
          [
            [1, 'status.m1.sent'],
            [2, 'status.m1.delivered'],
          ],
        );
      }));

    test('prune drops old events but keeps each tenant’s newest, so sequences continue; ended deliveries go too', () =>
      withStore(async (store) => {
        for (let i = 0; i < 3; i++) await store.appendEvent(inboundEvent('acme', `wamid.old${i}`, undefined, i));
        await store.appendEvent(inboundEvent('globex', 'wamid.g', undefined, 0));
        await store.initEndpoint('acme', 'hook');
        await store.enqueueDeliveries('acme', 'hook', [draft('d1', 1, 'k1'), draft('d2', 2, 'k2'), draft('d3', 3, 'k3')], 3);
        const [d1, d2] = await store.claimDeliveries('acme', 'hook', lease('L', 0));
        await store.completeDelivery('acme', 'hook', d1.eventId, 'L', { kind: 'delivered', at: at(1) });
        await store.completeDelivery('acme', 'hook', d2.eventId, 'L', { kind: 'dead', at: at(1), error: 'HTTP 500' });

        assert.equal(await store.prune(at(1_000)), 2);
        assert.equal(await store.firstSequence('acme'), 3);
        assert.equal(await store.lastSequence('globex'), 1, 'a tenant’s only event is its newest');
        assert.equal((await store.appendEvent(inboundEvent('acme', 'wamid.new', undefined, 2_000)))?.sequence, 4);
        assert.equal(await store.getDelivery('acme', 'hook', 'd1'), undefined);
        assert.equal(await store.getDelivery('acme', 'hook', 'd2'), undefined);
        assert.equal((await store.getDelivery('acme', 'hook', 'd3'))?.state, 'pending', 'pending deliveries are kept');
      }));

    test('an endpoint starts at the end of the log; queuing is idempotent and the cursor never moves back', () =>
      withStore(async (store) => {
        await store.appendEvent(statusEvent('acme', 'm1', 'SENT'));
        await store.appendEvent(statusEvent('acme', 'm2', 'SENT'));
        assert.deepEqual(await store.initEndpoint('acme', 'hook'), { cursor: 2, consecutiveFailures: 0 });
        await store.appendEvent(statusEvent('acme', 'm3', 'SENT'));
        assert.equal((await store.initEndpoint('acme', 'hook')).cursor, 2, 'init again changes nothing');
        assert.equal(await store.getEndpoint('acme', 'other'), undefined);

        await store.enqueueDeliveries('acme', 'hook', [draft('e3', 3, 'message:m3', 10)], 3);
        await store.enqueueDeliveries('acme', 'hook', [draft('e3', 3, 'message:m3', 99)], 2);
        assert.equal((await store.getEndpoint('acme', 'hook'))?.cursor, 3);
        const queued = await store.getDelivery('acme', 'hook', 'e3');
        assert.deepEqual(queued, {
          tenantId: 'acme',
          endpointId: 'hook',
          eventId: 'e3',
          sequence: 3,
          messageKey: 'message:m3',
          body: '{"eventId":"e3"}',
          state: 'pending',
          attempts: 0,
          queuedAt: at(10),
          nextAttemptAt: at(10),
        });
      }));

    test('claims: due deliveries, oldest first, only the earliest pending one of each message, leased to one claimer', () =>
      withStore(async (store) => {
        await store.initEndpoint('acme', 'hook');
        await store.initEndpoint('acme', 'other');
        await store.enqueueDeliveries(
          'acme',
          'hook',
          [draft('a1', 1, 'message:a'), draft('b1', 2, 'message:b'), draft('a2', 3, 'message:a'), draft('c1', 4, 'message:c', 50)],
          4,
        );
        await store.enqueueDeliveries('acme', 'other', [draft('a1', 1, 'message:a')], 1);

        const first = await store.claimDeliveries('acme', 'hook', lease('L1', 10));
        assert.deepEqual(
          first.map((d) => d.eventId),
          ['a1', 'b1'],
          'a2 waits for a1; c1 is not due',
        );
        assert.deepEqual(await store.claimDeliveries('acme', 'hook', lease('L2', 11)), [], 'leased ones are not handed out twice');
        assert.equal((await store.claimDeliveries('acme', 'other', lease('L3', 11))).length, 1, 'endpoints are independent');

        // a1 fails and is retried later: a2 still waits, because a1 is still pending.
        assert.ok(
          await store.completeDelivery('acme', 'hook', 'a1', 'L1', {
            kind: 'retry',
            at: at(12),
            error: 'HTTP 503',
            nextAttemptAt: at(100),
          }),
        );
        assert.deepEqual(await store.claimDeliveries('acme', 'hook', lease('L4', 13)), []);
        assert.ok(await store.completeDelivery('acme', 'hook', 'b1', 'L1', { kind: 'delivered', at: at(13) }));
        assert.deepEqual(await store.nextAttemptAt('acme', 'hook'), at(50), 'c1 is next: a2 waits behind a1 (due at 100)');

        // Once a1 is delivered, a2 goes.
        const retried = await store.claimDeliveries('acme', 'hook', lease('L5', 100));
        assert.deepEqual(
          retried.map((d) => [d.eventId, d.attempts, d.lastError]),
          [
            ['a1', 1, 'HTTP 503'],
            ['c1', 0, undefined],
          ],
        );
        assert.ok(await store.completeDelivery('acme', 'hook', 'a1', 'L5', { kind: 'delivered', at: at(101) }));
        assert.deepEqual(
          (await store.claimDeliveries('acme', 'hook', lease('L6', 101))).map((d) => d.eventId),
          ['a2'],
        );
        const delivered = await store.getDelivery('acme', 'hook', 'a1');
        assert.equal(delivered?.state, 'delivered');
        assert.equal(delivered?.attempts, 2);
        assert.deepEqual(delivered?.deliveredAt, at(101));
        assert.equal(delivered?.lastError, undefined);
      }));

    test('a lease that ran out can be taken over; the old holder can then no longer complete', () =>
      withStore(async (store) => {
        await store.initEndpoint('acme', 'hook');
        await store.enqueueDeliveries('acme', 'hook', [draft('a1', 1, 'message:a')], 1);
        assert.equal((await store.claimDeliveries('acme', 'hook', lease('OLD', 0))).length, 1);
        assert.equal((await store.claimDeliveries('acme', 'hook', lease('NEW', 29))).length, 0, 'still leased');
        assert.equal((await store.claimDeliveries('acme', 'hook', lease('NEW', 30))).length, 1, 'lease ran out');
        assert.equal(await store.completeDelivery('acme', 'hook', 'a1', 'OLD', { kind: 'delivered', at: at(31) }), false);
        assert.equal((await store.getDelivery('acme', 'hook', 'a1'))?.state, 'pending');
        assert.equal(await store.completeDelivery('acme', 'hook', 'a1', 'NEW', { kind: 'delivered', at: at(31) }), true);
      }));

    test('parkExpired parks unleased pending deliveries queued before the cut-off, keeping the last error', () =>
      withStore(async (store) => {
        await store.initEndpoint('acme', 'hook');
        await store.enqueueDeliveries(
          'acme',
          'hook',
          [draft('old', 1, 'k1', 0), draft('leased', 2, 'k2', 0), draft('new', 3, 'k3', 500)],
          3,
        );
        const claimed = await store.claimDeliveries('acme', 'hook', { ...lease('L', 0), limit: 1 });
        assert.ok(
          await store.completeDelivery('acme', 'hook', claimed[0].eventId, 'L', {
            kind: 'retry',
            at: at(1),
            error: 'HTTP 500',
            nextAttemptAt: at(2),
          }),
        );
        await store.claimDeliveries('acme', 'hook', { now: at(100), limit: 10, leaseToken: 'M', leaseUntil: at(10_000) });
        // 'old' and 'leased' were claimed by M; release 'old' by failing it again so only 'leased' stays leased.
        assert.ok(
          await store.completeDelivery('acme', 'hook', 'old', 'M', {
            kind: 'retry',
            at: at(101),
            error: 'timeout',
            nextAttemptAt: at(102),
          }),
        );
        const parked = await store.parkExpired('acme', 'hook', { queuedBefore: at(400), at: at(200), error: 'circuit open' });
        assert.equal(parked, 1);
        const old = await store.getDelivery('acme', 'hook', 'old');
        assert.deepEqual([old?.state, old?.lastError, old?.deadAt], ['dead', 'timeout', at(200)]);
        assert.equal((await store.getDelivery('acme', 'hook', 'leased'))?.state, 'pending');
        assert.equal((await store.getDelivery('acme', 'hook', 'new'))?.state, 'pending');
      }));

    test('every transition but a claim ends the lease: a claim sets it, an outcome, a park or a replay clears it', () =>
      withStore(async (store) => {
        await store.initEndpoint('acme', 'hook');
        const keys = ['k1', 'k2', 'k3', 'k4'];
        await store.enqueueDeliveries(
          'acme',
          'hook',
          keys.map((key, i) => draft(`e${i + 1}`, i + 1, key)),
          4,
        );
        const claimed = await store.claimDeliveries('acme', 'hook', lease('L', 0));
        assert.deepEqual(
          claimed.map((d) => d.leaseUntil),
          keys.map(() => at(30)),
        );
        assert.deepEqual((await store.getDelivery('acme', 'hook', 'e1'))?.leaseUntil, at(30));
        await store.completeDelivery('acme', 'hook', 'e1', 'L', { kind: 'delivered', at: at(1) });
        await store.completeDelivery('acme', 'hook', 'e2', 'L', { kind: 'retry', at: at(1), error: 'HTTP 500', nextAttemptAt: at(2) });
        await store.completeDelivery('acme', 'hook', 'e3', 'L', { kind: 'dead', at: at(1), error: 'HTTP 410' });
        // e4's claimer died: once its lease ran out it is parked, and the stale lease goes with it.
        assert.equal(await store.parkExpired('acme', 'hook', { queuedBefore: at(1), at: at(31), error: 'retry period over' }), 2);
        const parked = await store.getDelivery('acme', 'hook', 'e4');
        assert.deepEqual([parked?.state, parked?.lastError, parked?.attempts], ['dead', 'retry period over', 0]);
        for (const eventId of ['e1', 'e2', 'e3', 'e4']) {
          assert.equal((await store.getDelivery('acme', 'hook', eventId))?.leaseUntil, undefined, `${eventId} holds no lease`);
        }
        assert.equal(await store.completeDelivery('acme', 'hook', 'e4', 'L', { kind: 'delivered', at: at(32) }), false, 'parked: done');
        assert.equal(await store.replayDeadLetters('acme', 'hook', 'all', at(40)), 3);
        const replayed = await store.getDelivery('acme', 'hook', 'e4');
        assert.deepEqual([replayed?.state, replayed?.leaseUntil, replayed?.lastError], ['pending', undefined, 'retry period over']);
        assert.equal(
          await store.completeDelivery('acme', 'hook', 'e4', 'L', { kind: 'delivered', at: at(41) }),
          false,
          'the old claimer cannot complete a replayed delivery',
        );
      }));

    test("a message whose earliest delivery is not due hides no other message's deliveries, however many wait behind it", () =>
      withStore(async (store) => {
        await store.initEndpoint('acme', 'hook');
        const blocked = Array.from({ length: 30 }, (_, i) => draft(`a${i + 1}`, i + 1, 'message:a'));
        await store.enqueueDeliveries('acme', 'hook', [...blocked, draft('b1', 31, 'message:b')], 31);
        // a1 is claimed and fails: due again only at 100. a2…a30 are due, but wait for it.
        await store.claimDeliveries('acme', 'hook', { ...lease('L', 0), limit: 1 });
        await store.completeDelivery('acme', 'hook', 'a1', 'L', { kind: 'retry', at: at(1), error: 'HTTP 503', nextAttemptAt: at(100) });
        assert.deepEqual(
          (await store.claimDeliveries('acme', 'hook', { ...lease('M', 2), limit: 1 })).map((d) => d.eventId),
          ['b1'],
        );
      }));

    test('applyToMessage stores exactly the decided state: what it leaves out is cleared, an empty value kept', () =>
      withStore(async (store) => {
        const states: unknown[] = [];
        const storeState = (state: {
          status: 'SENT';
          failureSurfaced: boolean;
          waMessageId?: string;
          recipient?: string;
          contentType?: 'image';
          contentSummary?: string;
        }) =>
          store.applyToMessage('acme', 'm1', at(1), (current) => {
            states.push(current);
            return { state, events: [] };
          });
        await storeState({
          status: 'SENT',
          failureSurfaced: false,
          waMessageId: 'wamid.1',
          recipient: '+4915112345678',
          contentType: 'image',
          contentSummary: 'image cat.png',
        });
        await storeState({ status: 'SENT', failureSurfaced: true });
        await storeState({ status: 'SENT', failureSurfaced: false, waMessageId: '' });
        await store.applyToMessage('acme', 'm1', at(1), (current) => {
          states.push(current);
          return undefined;
        });
        assert.deepEqual(states, [
          undefined,
          {
            status: 'SENT',
            failureSurfaced: false,
            waMessageId: 'wamid.1',
            recipient: '+4915112345678',
            contentType: 'image',
            contentSummary: 'image cat.png',
          },
          { status: 'SENT', failureSurfaced: true },
          { status: 'SENT', failureSurfaced: false, waMessageId: '' },
        ]);
      }));

    test('breaker: failures count up and open it at the threshold, one probe after the cooldown, success closes it', () =>
      withStore(async (store) => {
        await store.initEndpoint('acme', 'hook');
        const fail = (seconds: number) => store.recordEndpointFailure('acme', 'hook', { threshold: 3, openUntil: at(seconds + 60) });
        assert.deepEqual(await fail(1), { cursor: 0, consecutiveFailures: 1 });
        await store.recordEndpointSuccess('acme', 'hook');
        await fail(2);
        await fail(3);
        assert.deepEqual(await fail(4), { cursor: 0, consecutiveFailures: 3, openUntil: at(64) });
        assert.equal(await store.tryTakeProbe('acme', 'hook', { now: at(63), until: at(200) }), false, 'cooldown not over');
        assert.equal(await store.tryTakeProbe('acme', 'hook', { now: at(64), until: at(124) }), true);
        assert.equal(await store.tryTakeProbe('acme', 'hook', { now: at(64), until: at(124) }), false, 'one probe');
        // The probe failed: open again.
        assert.deepEqual((await fail(70)).openUntil, at(130));
        assert.equal(await store.tryTakeProbe('acme', 'hook', { now: at(130), until: at(190) }), true);
        await store.recordEndpointSuccess('acme', 'hook');
        assert.deepEqual(await store.getEndpoint('acme', 'hook'), { cursor: 0, consecutiveFailures: 0 });
        assert.equal(await store.tryTakeProbe('acme', 'hook', { now: at(500), until: at(560) }), false, 'a closed breaker has no probe');
      }));

    test('dead letters: listed by endpoint then sequence, paged, per tenant; replay by ids or all makes them due again', () =>
      withStore(async (store) => {
        for (const [tenant, endpoint] of [
          ['acme', 'b-hook'],
          ['acme', 'a-hook'],
          ['globex', 'a-hook'],
        ]) {
          await store.initEndpoint(tenant, endpoint);
          await store.enqueueDeliveries(tenant, endpoint, [draft('e1', 1, 'k1'), draft('e2', 2, 'k2'), draft('e3', 3, 'k3')], 3);
          for (const d of await store.claimDeliveries(tenant, endpoint, lease('L', 0))) {
            await store.completeDelivery(tenant, endpoint, d.eventId, 'L', { kind: 'dead', at: at(5), error: 'HTTP 410' });
          }
        }
        const ids = (list: { endpointId: string; eventId: string }[]) => list.map((d) => `${d.endpointId}/${d.eventId}`);
        const page1 = await store.listDeadLetters('acme', { limit: 4 });
        assert.deepEqual(ids(page1), ['a-hook/e1', 'a-hook/e2', 'a-hook/e3', 'b-hook/e1']);
        const last = page1[3];
        assert.deepEqual(
          ids(await store.listDeadLetters('acme', { after: { endpointId: last.endpointId, sequence: last.sequence }, limit: 4 })),
          ['b-hook/e2', 'b-hook/e3'],
        );
        assert.deepEqual(ids(await store.listDeadLetters('acme', { endpointId: 'b-hook', limit: 10 })), [
          'b-hook/e1',
          'b-hook/e2',
          'b-hook/e3',
        ]);
        assert.equal(page1[0].lastError, 'HTTP 410');
        assert.deepEqual(page1[0].deadAt, at(5));
        assert.equal(page1[0].attempts, 1);

        assert.equal(await store.replayDeadLetters('acme', 'a-hook', ['e2', 'nope'], at(1_000)), 1);
        const replayed = await store.getDelivery('acme', 'a-hook', 'e2');
        assert.deepEqual(
          [replayed?.state, replayed?.attempts, replayed?.queuedAt, replayed?.nextAttemptAt, replayed?.deadAt],
          ['pending', 0, at(1_000), at(1_000), undefined],
        );
        assert.deepEqual(
          (await store.claimDeliveries('acme', 'a-hook', lease('R', 1_000))).map((d) => d.eventId),
          ['e2'],
        );
        assert.equal(await store.replayDeadLetters('acme', 'b-hook', 'all', at(1_000)), 3);
        assert.deepEqual(ids(await store.listDeadLetters('acme', { limit: 10 })), ['a-hook/e1', 'a-hook/e3']);
        assert.equal((await store.listDeadLetters('globex', { limit: 10 })).length, 3, 'other tenants untouched');
      }));

    test('erases a customer: events rewritten without content under the pseudonym, sequences kept, their deliveries deleted, idempotent', () =>
      withStore(async (store) => {
        const ALICE = '+4915199999999';
        const REF = '0123456789abcdef0123456789abcdef';
        await store.appendEvent(inboundEvent('acme', 'wamid.a1', ALICE));
        await store.appendEvent({
          ...statusEvent('acme', 'msg_a2', 'SENT'),
          status: {
            messageId: 'msg_a2',
            recipient: ALICE,
            status: 'SENT',
            messageStatus: 'SENT',
            contentType: 'text',
            contentSummary: 'text "hi"',
          },
        } as NewTenantEvent);
        await store.appendEvent(inboundEvent('acme', 'wamid.b1', '+15550107788'));
        await store.appendEvent(inboundEvent('globex', 'wamid.g1', ALICE));
        await store.initEndpoint('acme', 'hook');
        await store.enqueueDeliveries(
          'acme',
          'hook',
          [draft('inbound.wamid.a1', 1, 'inbound:wamid.a1'), draft('inbound.wamid.b1', 3, 'inbound:wamid.b1')],
          3,
        );

        assert.deepEqual(await store.eraseCustomer('acme', ALICE, REF), { events: 2, deliveries: 1 });
        const events = await store.readEvents('acme', { after: 0, limit: 10 });
        assert.deepEqual(
          events.map((event) =>
            event.type === 'inbound'
              ? [event.sequence, event.eventId, event.inbound.from, event.inbound.text, event.inbound.contentJson]
              : [event.sequence, event.eventId, event.status.recipient, event.status.contentSummary, event.status.status],
          ),
          [
            [1, 'inbound.wamid.a1', REF, undefined, undefined],
            [2, statusEventId('msg_a2', 'SENT'), REF, undefined, 'SENT'],
            [3, 'inbound.wamid.b1', '+15550107788', 'hello', '{"body":"hello"}'],
          ],
        );
        assert.deepEqual(await store.readEvents('acme', { after: 0, limit: 10, filter: { customers: [ALICE] } }), []);
        assert.equal((await store.readEvents('acme', { after: 0, limit: 10, filter: { customers: [REF] } })).length, 2);
        assert.equal(await store.getDelivery('acme', 'hook', 'inbound.wamid.a1'), undefined);
        assert.ok(await store.getDelivery('acme', 'hook', 'inbound.wamid.b1'));
        const globex = await store.readEvents('globex', { after: 0, limit: 10 });
        assert.equal(
          globex[0]?.type === 'inbound' && globex[0].inbound.text,
          'hello',
          "another tenant's customer of the same number is untouched",
        );
        assert.deepEqual(await store.eraseCustomer('acme', ALICE, REF), { events: 0, deliveries: 0 });
        assert.equal(await store.lastSequence('acme'), 3);
      }));
  });
}
