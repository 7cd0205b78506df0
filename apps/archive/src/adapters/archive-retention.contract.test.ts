import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import type { ArchiveStore } from '../domain/archive-store';
import type { AcceptedArchivedEvent, InboundArchivedEvent } from '../domain/archived-event';
import { conversationIdOf } from '../domain/transcript';
import type { ArchiveRetentionStore } from '../governance/domain/archive-retention';
import { MongoArchiveStore } from './mongo-archive-store';
import { SqliteArchiveStore } from './sqlite-archive-store';

// The retention part of the archive store (ArchiveRetentionStore), on both adapters.
type Store = ArchiveStore & ArchiveRetentionStore;
const backends = contractBackends<Store>({
  sqlite: (file) => new SqliteArchiveStore(file),
  mongodb: (mongo) => MongoArchiveStore.open(mongo),
  close: (store) => store.close(),
});

const T0 = 1_750_000_000_000;
const HOUR = 3_600_000;
const ALICE = '+4915112345678';
const BOB = '+4915187654321';

function customerSays(tenantId: string, id: string, from: string, at: number): InboundArchivedEvent {
  return {
    eventId: `wa:in:${id}`,
    tenantId,
    messageId: id,
    kind: 'inbound',
    occurredAt: new Date(at),
    recordedAt: new Date(at + 1),
    phoneNumberId: '200',
    from,
    messageType: 'text',
    text: `text of ${id}`,
  };
}

function businessSays(tenantId: string, id: string, to: string, at: number): AcceptedArchivedEvent {
  return {
    eventId: `accepted:${id}`,
    tenantId,
    messageId: id,
    kind: 'accepted',
    status: 'ACCEPTED',
    occurredAt: new Date(at),
    recordedAt: new Date(at + 1),
    recipient: to,
    phoneNumberId: '200',
    textBody: `reply ${id}`,
    contentType: 'text',
    contentSummary: 'text',
  };
}

for (const backend of backends) {
  describeContract(backend, 'ArchiveRetentionStore contract', (test) => {
    let store: Store;
    let close: () => Promise<void>;
    before(async () => {
      if (backend.skip) return;
      ({ store, close } = await backend.open());
    });
    after(async () => {
      if (!backend.skip) await close();
    });

    test('expiredRecords: the oldest first, before the cutoff, without held customers, bounded', async () => {
      const tenant = 'expired';
      await store.record(customerSays(tenant, 'a1', ALICE, T0));
      await store.record(businessSays(tenant, 'b1', BOB, T0 + HOUR));
      await store.record(customerSays(tenant, 'a2', ALICE, T0 + 2 * HOUR));
      await store.record(customerSays(tenant, 'a3', ALICE, T0 + 10 * HOUR));
      await store.record(customerSays('other', 'o1', ALICE, T0));
      const all = await store.expiredRecords(tenant, new Date(T0 + 5 * HOUR), { exceptCustomers: [], limit: 10 });
      assert.deepEqual(
        all.map((record) => record.recordId),
        ['wa:in:a1', 'accepted:b1', 'wa:in:a2'],
      );
      assert.deepEqual(all[1], {
        recordId: 'accepted:b1',
        messageId: 'b1',
        conversationId: conversationIdOf({ tenantId: tenant, phoneNumberId: '200', customer: BOB }),
        customer: BOB,
      });
      assert.deepEqual(
        (await store.expiredRecords(tenant, new Date(T0 + 5 * HOUR), { exceptCustomers: [ALICE], limit: 10 })).map((r) => r.recordId),
        ['accepted:b1'],
      );
      assert.equal((await store.expiredRecords(tenant, new Date(T0 + 5 * HOUR), { exceptCustomers: [], limit: 2 })).length, 2);
      assert.deepEqual(await store.expiredRecords(tenant, new Date(T0), { exceptCustomers: [], limit: 10 }), [], 'strictly before');
    });

    test('disposeRecords: events, statuses and message rows go; the summary is rebuilt or removed; idempotent', async () => {
      const tenant = 'dispose';
      await store.record(customerSays(tenant, 'a1', ALICE, T0));
      await store.record(businessSays(tenant, 'r1', ALICE, T0 + HOUR));
      await store.record({
        eventId: 'evt_r1_sent',
        tenantId: tenant,
        messageId: 'r1',
        kind: 'status',
        status: 'SENT',
        occurredAt: new Date(T0 + HOUR + 1000),
        recordedAt: new Date(T0 + HOUR + 1001),
        source: 'delivery',
        waMessageId: 'wamid.r1',
      });
      // Two days later the customer writes again: a second session.
      await store.record(customerSays(tenant, 'a2', ALICE, T0 + 48 * HOUR));
      await store.record(businessSays(tenant, 'b1', BOB, T0));
      const conversation = conversationIdOf({ tenantId: tenant, phoneNumberId: '200', customer: ALICE });
      assert.equal((await store.getConversation(tenant, conversation))?.sessionCount, 2);

      const expired = await store.expiredRecords(tenant, new Date(T0 + 24 * HOUR), { exceptCustomers: [], limit: 10 });
      assert.equal(expired.length, 3);
      const result = await store.disposeRecords(tenant, expired);
      assert.equal(result.disposed, 3);
      assert.deepEqual([...result.eventIds].sort(), ['accepted:b1', 'accepted:r1', 'evt_r1_sent', 'wa:in:a1']);
      assert.deepEqual(await store.listByMessage(tenant, 'a1'), []);
      assert.deepEqual(await store.listByMessage(tenant, 'r1'), [], 'the status event went with its message');
      assert.equal((await store.listByMessage(tenant, 'a2')).length, 1);
      const rebuilt = await store.getConversation(tenant, conversation);
      assert.equal(rebuilt?.inboundCount, 1);
      assert.equal(rebuilt?.outboundCount, 0);
      assert.equal(rebuilt?.sessionCount, 1);
      assert.equal(rebuilt?.firstMessageAt.getTime(), T0 + 48 * HOUR);
      assert.equal(rebuilt?.hasUnanswered, true);
      const page = await store.transcriptPage(tenant, conversation, {}, { size: 10 });
      assert.deepEqual(
        page.items.map((entry) => [entry.recordId, entry.sessionIndex]),
        [['wa:in:a2', 0]],
      );
      assert.equal(
        await store.getConversation(tenant, conversationIdOf({ tenantId: tenant, phoneNumberId: '200', customer: BOB })),
        undefined,
        'an emptied conversation is removed',
      );
      const again = await store.disposeRecords(tenant, expired);
      assert.equal(again.disposed, 0, 'disposing again changes nothing');
      assert.deepEqual([...again.eventIds].sort(), ['accepted:b1', 'accepted:r1', 'wa:in:a1']);
    });
  });
}
