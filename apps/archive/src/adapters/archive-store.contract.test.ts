import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import type { ArchiveStore } from '../domain/archive-store';
import type { AcceptedArchivedEvent, InboundArchivedEvent, StatusArchivedEvent } from '../domain/archived-event';
import { MongoArchiveStore } from './mongo-archive-store';
import { SqliteArchiveStore } from './sqlite-archive-store';

const backends = contractBackends<ArchiveStore>({
  sqlite: (file) => new SqliteArchiveStore(file),
  mongodb: (mongo) => MongoArchiveStore.open(mongo),
  close: (store) => store.close(),
});

const T0 = 1_700_000_000_000;

function accepted(overrides: Partial<AcceptedArchivedEvent> = {}): AcceptedArchivedEvent {
  return {
    eventId: 'accepted:msg_1',
    tenantId: 'acme',
    messageId: 'msg_1',
    kind: 'accepted',
    status: 'ACCEPTED',
    occurredAt: new Date(T0),
    recordedAt: new Date(T0 + 5),
    recipient: '+4915112345678',
    phoneNumberId: '200',
    textBody: 'hello',
    contentType: 'text',
    contentSummary: 'text "hello"',
    ...overrides,
  };
}

function status(overrides: Partial<StatusArchivedEvent> = {}): StatusArchivedEvent {
  return {
    eventId: 'evt_sent',
    tenantId: 'acme',
    messageId: 'msg_1',
    kind: 'status',
    status: 'SENT',
    occurredAt: new Date(T0 + 1000),
    recordedAt: new Date(T0 + 1005),
    source: 'delivery',
    waMessageId: 'wamid.1',
    ...overrides,
  };
}

function inbound(overrides: Partial<InboundArchivedEvent> = {}): InboundArchivedEvent {
  return {
    eventId: 'wa:in:wamid.in1',
    tenantId: 'acme',
    messageId: 'wamid.in1',
    kind: 'inbound',
    occurredAt: new Date(T0 + 500),
    recordedAt: new Date(T0 + 505),
    phoneNumberId: '200',
    from: '+4915112345678',
    messageType: 'image',
    text: 'a caption',
    mediaId: 'med_1',
    mimeType: 'image/jpeg',
    contextWaMessageId: 'wamid.1',
    contentJson: '{"caption":"a caption"}',
    ...overrides,
  };
}

/** Stores return absent optional fields as missing keys, not as `undefined` values. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

for (const backend of backends) {
  describeContract(backend, 'ArchiveStore contract', (test) => {
    async function withStore(run: (store: ArchiveStore) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    test('stores both kinds of event and reads them back whole', () =>
      withStore(async (store) => {
        const failed = status({
          eventId: 'evt_failed',
          status: 'FAILED',
          occurredAt: new Date(T0 + 2000),
          recordedAt: new Date(T0 + 2005),
          source: 'webhook',
          waMessageId: undefined,
          errorCode: 131026,
          errorTitle: 'Message undeliverable',
        });
        const noBody = accepted({
          eventId: 'accepted:msg_2',
          messageId: 'msg_2',
          textBody: undefined,
          contentType: 'document',
          contentSummary: 'document invoice.pdf',
        });
        assert.equal(await store.record(accepted()), 'recorded');
        assert.equal(await store.record(status()), 'recorded');
        assert.equal(await store.record(failed), 'recorded');
        assert.equal(await store.record(noBody), 'recorded');
        assert.deepEqual(await store.listByMessage('acme', 'msg_1'), [accepted(), status(), withoutUndefined(failed)]);
        assert.deepEqual(await store.listByMessage('acme', 'msg_2'), [withoutUndefined(noBody)]);
      }));

    test('stores inbound messages whole, without a status, listed under their wamid', () =>
      withStore(async (store) => {
        const bare = inbound({
          eventId: 'wa:in:wamid.in2',
          messageId: 'wamid.in2',
          messageType: 'location',
          text: undefined,
          mediaId: undefined,
          mimeType: undefined,
          contextWaMessageId: undefined,
          replyId: undefined,
          contentJson: '{"latitude":52.5}',
        });
        assert.equal(await store.record(inbound()), 'recorded');
        assert.equal(await store.record(inbound({ text: 'changed' })), 'duplicate');
        assert.equal(await store.record(bare), 'recorded');
        assert.deepEqual(await store.listByMessage('acme', 'wamid.in1'), [inbound()]);
        assert.deepEqual(await store.listByMessage('acme', 'wamid.in2'), [withoutUndefined(bare)]);
        assert.deepEqual(await store.listByMessage('globex', 'wamid.in1'), []);
      }));

    test('one event per tenant and event id: the first write wins', () =>
      withStore(async (store) => {
        assert.equal(await store.record(status()), 'recorded');
        assert.equal(await store.record(status({ status: 'DELIVERED', recordedAt: new Date(T0 + 9000) })), 'duplicate');
        const results = await Promise.all([store.record(status({ eventId: 'evt_race' })), store.record(status({ eventId: 'evt_race' }))]);
        assert.deepEqual([...results].sort(), ['duplicate', 'recorded'], 'concurrent writes store one event');
        assert.equal(await store.record(status({ tenantId: 'globex' })), 'recorded', 'another tenant may use the same event id');
        const events = await store.listByMessage('acme', 'msg_1');
        assert.deepEqual(
          events.map((e) => [e.eventId, e.kind === 'inbound' ? undefined : e.status]),
          [
            ['evt_race', 'SENT'],
            ['evt_sent', 'SENT'],
          ],
        );
        assert.equal(events[1].recordedAt.getTime(), T0 + 1005, 'a duplicate keeps the first recordedAt');
      }));

    test("lists oldest first by occurredAt, then recordedAt, and only the tenant's own message", () =>
      withStore(async (store) => {
        await store.record(
          status({ eventId: 'evt_read', status: 'READ', occurredAt: new Date(T0 + 3000), recordedAt: new Date(T0 + 3001) }),
        );
        await store.record(
          status({ eventId: 'evt_delivered_late', status: 'DELIVERED', occurredAt: new Date(T0 + 2000), recordedAt: new Date(T0 + 9000) }),
        );
        await store.record(
          status({ eventId: 'evt_delivered', status: 'DELIVERED', occurredAt: new Date(T0 + 2000), recordedAt: new Date(T0 + 2001) }),
        );
        await store.record(accepted());
        await store.record(status({ eventId: 'evt_other_message', messageId: 'msg_2' }));
        await store.record(status({ eventId: 'evt_other_tenant', tenantId: 'globex' }));
        assert.deepEqual(
          (await store.listByMessage('acme', 'msg_1')).map((e) => e.eventId),
          ['accepted:msg_1', 'evt_delivered', 'evt_delivered_late', 'evt_read'],
        );
        assert.deepEqual(
          (await store.listByMessage('globex', 'msg_1')).map((e) => e.eventId),
          ['evt_other_tenant'],
        );
        assert.deepEqual(await store.listByMessage('initech', 'msg_1'), []);
        assert.deepEqual(await store.listByMessage('acme', 'msg_unknown'), []);
      }));
  });
}
