import assert from 'node:assert/strict';
import type { MessageStatus } from '@waygate/domain';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import type { MessageQuery, MessageStore } from '../domain/message-store';
import type { MessageContent, OutboundMessage } from '../domain/outbound-message';
import { MongoMessageStore } from './mongo-message-store';
import { SqliteMessageStore } from './sqlite-message-store';
import { createCustomerSealer, createInMemoryKeyring } from '@waygate/keyring';

/** Content is sealed at rest under customer keys: one in-memory keyring for the whole file. */
const sealer = createCustomerSealer(createInMemoryKeyring());

// MessageStore.listMessages (ListMessages), against every adapter.

const backends = contractBackends<MessageStore>({
  sqlite: (file) => new SqliteMessageStore(file, sealer),
  mongodb: (mongo) => MongoMessageStore.open(mongo, sealer),
  close: (store) => store.close(),
});

const T0 = 1_700_000_000_000;
const ALICE = '+4915112345678';
const BOB = '+4915187654321';
const IMAGE: MessageContent = { kind: 'image', source: { link: 'https://example.com/a.jpg' }, caption: '', filename: '', voice: false };

function message(n: number, overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  const messageId = `msg_${String(n).padStart(3, '0')}`;
  const content = overrides.content ?? { kind: 'text', body: `hello ${n}`, previewUrl: false };
  return {
    tenantId: 'acme',
    messageId,
    idempotencyKey: `key-${n}`,
    requestHash: `hash-${n}`,
    to: ALICE,
    phoneNumberId: '200',
    content,
    contentType: content.kind,
    contentSummary: content.kind,
    status: 'ACCEPTED',
    acceptedAt: new Date(T0 + n * 1000),
    expiresAt: new Date(T0 + 86_400_000),
    published: false,
    version: 1,
    timeline: [{ eventId: `${messageId}:accepted`, status: 'ACCEPTED', occurredAt: new Date(T0 + n * 1000), source: 'ingress' }],
    ...overrides,
  };
}

const ids = (messages: readonly OutboundMessage[]) => messages.map((m) => m.messageId);
const query = (overrides: Partial<MessageQuery> = {}): MessageQuery => ({ tenantId: 'acme', limit: 100, ...overrides });

for (const backend of backends) {
  describeContract(backend, 'MessageStore listMessages contract', (test) => {
    async function withStore(run: (store: MessageStore) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    async function setStatus(store: MessageStore, m: OutboundMessage, status: MessageStatus) {
      const changed = await store.recordStatusChange({
        tenantId: m.tenantId,
        messageId: m.messageId,
        expectedVersion: m.version,
        status,
        entry: { eventId: `${m.messageId}:${status}`, status, occurredAt: new Date(T0 + 99_000), source: 'delivery' },
      });
      assert.ok(changed);
    }

    test("lists the tenant's messages newest first, whole, and never another tenant's", () =>
      withStore(async (store) => {
        for (const n of [1, 3, 2]) await store.insertIfAbsent(message(n));
        await store.insertIfAbsent(message(4, { tenantId: 'globex' }));
        const listed = await store.listMessages(query());
        assert.deepEqual(ids(listed), ['msg_003', 'msg_002', 'msg_001']);
        assert.deepEqual(listed[2], message(1));
        assert.deepEqual(ids(await store.listMessages(query({ tenantId: 'globex' }))), ['msg_004']);
        assert.deepEqual(await store.listMessages(query({ tenantId: 'initech' })), []);
      }));

    test('filters by recipient, statuses, accepted range and content kind, all together', () =>
      withStore(async (store) => {
        const messages = [
          message(1),
          message(2, { to: BOB }),
          message(3, { content: IMAGE }),
          message(4, { to: BOB, content: IMAGE }),
          message(5),
        ];
        for (const m of messages) await store.insertIfAbsent(m);
        await setStatus(store, messages[4]!, 'SENT');
        await setStatus(store, messages[0]!, 'DELIVERED');

        assert.deepEqual(ids(await store.listMessages(query({ to: BOB }))), ['msg_004', 'msg_002']);
        assert.deepEqual(ids(await store.listMessages(query({ statuses: ['SENT', 'DELIVERED'] }))), ['msg_005', 'msg_001']);
        assert.deepEqual(ids(await store.listMessages(query({ statuses: [] }))).length, 5, 'an empty list matches all');
        assert.deepEqual(
          ids(await store.listMessages(query({ acceptedFrom: new Date(T0 + 2000), acceptedBefore: new Date(T0 + 4000) }))),
          ['msg_003', 'msg_002'],
          'from is inclusive, before exclusive',
        );
        assert.deepEqual(ids(await store.listMessages(query({ contentKinds: ['image'] }))), ['msg_004', 'msg_003']);
        await setStatus(store, messages[3]!, 'FAILED');
        assert.deepEqual(
          ids(await store.listMessages(query({ contentKinds: ['image'] }))),
          ['msg_004', 'msg_003'],
          'the stored content type stays after the content is deleted',
        );
        assert.deepEqual(ids(await store.listMessages(query({ contentKinds: ['image', 'text'], to: ALICE, statuses: ['ACCEPTED'] }))), [
          'msg_003',
        ]);
      }));

    test('pages by a cursor on (accepted time, message id) without skipping or repeating messages accepted in the same millisecond', () =>
      withStore(async (store) => {
        // Seven messages, three of them in one millisecond.
        const messages = [1, 2, 3, 4, 5, 6, 7].map((n) => message(n, { acceptedAt: new Date(T0 + (n >= 3 && n <= 5 ? 3000 : n * 1000)) }));
        for (const m of messages) await store.insertIfAbsent(m);
        const seen: string[] = [];
        let after: MessageQuery['after'];
        for (let page = 0; page < 10; page += 1) {
          const listed = await store.listMessages(query({ limit: 2, ...(after ? { after } : {}) }));
          seen.push(...ids(listed));
          const last = listed.at(-1);
          if (listed.length < 2 || !last) break;
          after = { acceptedAt: last.acceptedAt, messageId: last.messageId };
        }
        assert.deepEqual(seen, ['msg_007', 'msg_006', 'msg_005', 'msg_004', 'msg_003', 'msg_002', 'msg_001']);
      }));
  });
}
