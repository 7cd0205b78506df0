import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import { CONTENT_KINDS } from '@waygate/domain';
import { SAMPLE_CONTENTS, describeContract } from '@waygate/testing';
import type { MessageStore } from '../domain/message-store';
import type { OutboundMessage } from '../domain/outbound-message';
import { MongoMessageStore } from './mongo-message-store';
import { SqliteMessageStore } from './sqlite-message-store';
import { createCustomerSealer, createInMemoryKeyring } from '@waygate/keyring';

/** Content is sealed at rest under customer keys: one in-memory keyring for the whole file. */
const sharedKeyring = createInMemoryKeyring();
const sealer = createCustomerSealer(sharedKeyring);

const backends = contractBackends<MessageStore>({
  sqlite: (file) => new SqliteMessageStore(file, sealer),
  mongodb: (mongo) => MongoMessageStore.open(mongo, sealer),
  close: (store) => store.close(),
});

function message(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  const messageId = overrides.messageId ?? 'msg_1';
  return {
    tenantId: 'acme',
    messageId,
    idempotencyKey: 'key-1',
    requestHash: 'hash-1',
    to: '+4915112345678',
    phoneNumberId: '200',
    content: { kind: 'text', body: 'hello', previewUrl: false },
    contentType: 'text',
    contentSummary: 'text "hello"',
    status: 'ACCEPTED',
    acceptedAt: new Date(1_700_000_000_000),
    expiresAt: new Date(1_700_000_000_000 + 86_400_000),
    published: false,
    version: 1,
    timeline: [{ eventId: `${messageId}:accepted`, status: 'ACCEPTED', occurredAt: new Date(1_700_000_000_000), source: 'ingress' }],
    ...overrides,
  };
}

for (const backend of backends) {
  describeContract(backend, 'MessageStore contract', (test) => {
    async function withStore(run: (store: MessageStore) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    test("erasure deletes the customer's content, pseudonymises the recipient and keeps other customers; idempotent", () =>
      withStore(async (store) => {
        const customerRef = await sealer.customerRef('acme', '+4915112345678');
        const subject = { tenantId: 'acme', customer: '+4915112345678', customerRef };
        await store.insertIfAbsent(message({ messageId: 'msg_a1', idempotencyKey: 'a1' }));
        await store.insertIfAbsent(
          message({
            messageId: 'msg_a2',
            idempotencyKey: 'a2',
            content: SAMPLE_CONTENTS.template,
            contentType: 'template',
            contentSummary: 'template x',
          }),
        );
        await store.insertIfAbsent(message({ messageId: 'msg_b1', idempotencyKey: 'b1', to: '+4915187654321' }));
        await store.insertIfAbsent(message({ tenantId: 'globex', messageId: 'msg_g1', idempotencyKey: 'g1' }));
        assert.equal(await store.eraseCustomer(subject), 2);
        for (const id of ['msg_a1', 'msg_a2']) {
          const erased = await store.get('acme', id);
          assert.ok(erased);
          assert.equal(erased.content, undefined);
          assert.equal(erased.to, customerRef, 'the number becomes the pseudonym');
          assert.match(erased.contentSummary, /^(text|template) \(erased\)$/);
          assert.equal(erased.requestHash, 'erased');
          assert.equal(erased.status, 'ACCEPTED', 'status and timeline stay for audit');
          assert.equal(erased.timeline.length, 1);
        }
        assert.deepEqual(await store.listMessages({ tenantId: 'acme', to: '+4915112345678', limit: 10 }), []);
        assert.equal((await store.listMessages({ tenantId: 'acme', to: customerRef, limit: 10 })).length, 2);
        assert.deepEqual(await store.listUnpublished(new Date(1_800_000_000_000), 10).then((m) => m.map((x) => x.messageId).sort()), [
          'msg_b1',
          'msg_g1',
        ]);
        assert.deepEqual((await store.get('acme', 'msg_b1'))?.content, message().content, 'another customer is intact');
        assert.deepEqual((await store.get('globex', 'msg_g1'))?.content, message().content, 'another tenant is intact');
        assert.equal(await store.eraseCustomer(subject), 0, 'idempotent');
        await store.flushDeleted();
      }));

    test('content whose customer key was destroyed reads as erased and is never republished', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(message({ messageId: 'msg_k1', idempotencyKey: 'k1', to: '+4915100000001' }));
        const customerRef = await sealer.customerRef('acme', '+4915100000001');
        await sharedKeyring.destroyKey({ tenantId: 'acme', customerRef });
        const read = await store.get('acme', 'msg_k1');
        assert.equal(read?.content, undefined);
        assert.equal(read?.contentSummary, 'text (erased)');
        assert.equal(read?.to, '+4915100000001', 'until the store is erased too, only the key is gone');
        assert.deepEqual(await store.listUnpublished(new Date(1_800_000_000_000), 10), []);
      }));

    test('stores a message and reads it back whole', () =>
      withStore(async (store) => {
        const original = message();
        const { inserted, message: stored } = await store.insertIfAbsent(original);
        assert.equal(inserted, true);
        assert.deepEqual(stored, original);
        assert.deepEqual(await store.get('acme', 'msg_1'), original);
      }));

    test('one message per tenant and idempotency key; other tenants are separate', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(message());
        const again = await store.insertIfAbsent(message({ messageId: 'msg_2', requestHash: 'other' }));
        assert.equal(again.inserted, false);
        assert.equal(again.message.messageId, 'msg_1');
        assert.equal((await store.findByIdempotencyKey('acme', message().idempotencyKey))?.messageId, 'msg_1');
        assert.equal(await store.findByIdempotencyKey('globex', message().idempotencyKey), undefined, 'scoped by tenant');
        assert.equal(await store.findByIdempotencyKey('acme', 'no-such-key'), undefined);
        const [a, b] = await Promise.all([
          store.insertIfAbsent(message({ tenantId: 'globex', messageId: 'msg_3' })),
          store.insertIfAbsent(message({ tenantId: 'globex', messageId: 'msg_4' })),
        ]);
        assert.equal([a.inserted, b.inserted].filter(Boolean).length, 1, 'concurrent inserts store one message');
        assert.equal(await store.get('globex', 'msg_1'), undefined, 'reads are scoped by tenant');
        assert.equal(await store.get('acme', 'msg_3'), undefined, 'reads are scoped by tenant');
      }));

    test('status changes are versioned and append to the timeline in recording order', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(message());
        const delivered = {
          eventId: 'e-delivered',
          status: 'DELIVERED' as const,
          occurredAt: new Date(1_700_000_002_000),
          source: 'webhook' as const,
        };
        assert.equal(
          await store.recordStatusChange({
            tenantId: 'acme',
            messageId: 'msg_1',
            expectedVersion: 1,
            status: 'DELIVERED',
            waMessageId: 'wamid.1',
            entry: delivered,
          }),
          true,
        );
        const stale = { eventId: 'e-stale', status: 'SENT' as const, occurredAt: new Date(1_700_000_001_000), source: 'delivery' as const };
        assert.equal(
          await store.recordStatusChange({ tenantId: 'acme', messageId: 'msg_1', expectedVersion: 1, status: 'SENT', entry: stale }),
          false,
          'stale version is refused',
        );
        assert.equal(
          await store.recordStatusChange({ tenantId: 'globex', messageId: 'msg_1', expectedVersion: 2, status: 'SENT', entry: stale }),
          false,
          'other tenant cannot write',
        );
        const failed = {
          eventId: 'e-sent',
          status: 'FAILED' as const,
          occurredAt: new Date(1_700_000_001_000),
          source: 'delivery' as const,
          errorCode: 131026,
          errorTitle: 'Message undeliverable',
        };
        assert.equal(
          await store.recordStatusChange({ tenantId: 'acme', messageId: 'msg_1', expectedVersion: 2, status: 'DELIVERED', entry: failed }),
          true,
        );
        assert.deepEqual(await store.getStatusState('acme', 'msg_1'), {
          status: 'DELIVERED',
          version: 3,
          waMessageId: 'wamid.1',
          eventIds: new Set(['msg_1:accepted', 'e-delivered', 'e-sent']),
        });
        assert.equal(await store.getStatusState('globex', 'msg_1'), undefined, 'scoped by tenant');
        const stored = await store.get('acme', 'msg_1');
        assert.equal(stored?.status, 'DELIVERED');
        assert.equal(stored?.waMessageId, 'wamid.1');
        assert.equal(stored?.version, 3);
        assert.deepEqual(
          stored?.timeline.map((e) => e.eventId),
          ['msg_1:accepted', 'e-delivered', 'e-sent'],
        );
        assert.equal(stored?.timeline[2].errorCode, 131026);
      }));

    test('an entry whose event id the timeline already has is refused: false, nothing changes', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(message());
        const entry = {
          eventId: 'msg_1:accepted',
          status: 'SENT' as const,
          occurredAt: new Date(1_700_000_001_000),
          source: 'delivery' as const,
        };
        assert.equal(
          await store.recordStatusChange({ tenantId: 'acme', messageId: 'msg_1', expectedVersion: 1, status: 'SENT', entry }),
          false,
        );
        assert.deepEqual(await store.get('acme', 'msg_1'), message());
      }));

    test('timeline entries keep the delivery attempt and when the next one is due', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(message());
        const retrying = {
          eventId: 'msg_1:delivery:attempt:1',
          status: 'ACCEPTED' as const,
          occurredAt: new Date(1_700_000_001_000),
          source: 'delivery' as const,
          errorCode: 131000,
          errorTitle: 'Something went wrong',
          attempt: 1,
          nextAttemptAt: new Date(1_700_000_031_000),
        };
        assert.equal(
          await store.recordStatusChange({ tenantId: 'acme', messageId: 'msg_1', expectedVersion: 1, status: 'ACCEPTED', entry: retrying }),
          true,
        );
        const sent = {
          eventId: 'msg_1:delivery:sent',
          status: 'SENT' as const,
          occurredAt: new Date(1_700_000_031_500),
          source: 'delivery' as const,
          attempt: 2,
        };
        assert.equal(
          await store.recordStatusChange({ tenantId: 'acme', messageId: 'msg_1', expectedVersion: 2, status: 'SENT', entry: sent }),
          true,
        );
        const stored = await store.get('acme', 'msg_1');
        assert.deepEqual(stored?.timeline.slice(1), [retrying, sent]);
        assert.equal(stored?.timeline[0].attempt, undefined, 'entries without an attempt have none');
        assert.equal(stored?.timeline[0].nextAttemptAt, undefined);
      }));

    for (const terminal of ['FAILED', 'EXPIRED', 'CANCELED'] as const) {
      test(`${terminal} deletes the content and keeps the metadata, the timeline and the idempotency record`, () =>
        withStore(async (store) => {
          const original = message({ published: true });
          await store.insertIfAbsent(original);
          const entry = {
            eventId: `e-${terminal}`,
            status: terminal,
            occurredAt: new Date(1_700_000_003_000),
            source: 'delivery' as const,
            ...(terminal === 'FAILED' ? { errorCode: 131026, errorTitle: 'Message undeliverable' } : {}),
          };
          assert.equal(
            await store.recordStatusChange({ tenantId: 'acme', messageId: 'msg_1', expectedVersion: 1, status: terminal, entry }),
            true,
          );
          const expected: OutboundMessage = {
            ...original,
            content: undefined,
            status: terminal,
            version: 2,
            timeline: [...original.timeline, entry],
          };
          assert.deepEqual(await store.get('acme', 'msg_1'), expected);
          const replay = await store.insertIfAbsent(message({ messageId: 'msg_2' }));
          assert.equal(replay.inserted, false, 'the idempotency key still maps to the message');
          assert.deepEqual(replay.message, expected, 'with its request hash, to tell a retry from a different request');
          // A late report on a terminal message keeps it without content.
          const late = {
            eventId: 'e-late',
            status: 'DELIVERED' as const,
            occurredAt: new Date(1_700_000_004_000),
            source: 'webhook' as const,
          };
          await store.recordStatusChange({ tenantId: 'acme', messageId: 'msg_1', expectedVersion: 2, status: terminal, entry: late });
          assert.equal((await store.get('acme', 'msg_1'))?.content, undefined);
        }));
    }

    test('every content kind is stored and read back whole, with its type, summary, quoted wamid and category', () =>
      withStore(async (store) => {
        for (const [index, kind] of CONTENT_KINDS.entries()) {
          const original = message({
            messageId: `msg_${kind}`,
            idempotencyKey: `key-${kind}`,
            content: SAMPLE_CONTENTS[kind],
            contentType: kind,
            contentSummary: `${kind} summary`,
            ...(index % 2 === 0 ? { replyToWaMessageId: `wamid.quoted-${kind}` } : {}),
            ...(kind === 'template' ? { templateCategory: 'UTILITY' as const } : {}),
          });
          assert.deepEqual((await store.insertIfAbsent(original)).message, original, kind);
          assert.deepEqual(await store.get('acme', `msg_${kind}`), original, kind);
        }
      }));

    test('the content type, summary and quoted wamid stay after the content is deleted', () =>
      withStore(async (store) => {
        const original = message({
          content: SAMPLE_CONTENTS.document,
          contentType: 'document',
          contentSummary: 'document invoice-42.pdf',
          replyToWaMessageId: 'wamid.quoted',
        });
        await store.insertIfAbsent(original);
        const entry = {
          eventId: 'e-expired',
          status: 'EXPIRED' as const,
          occurredAt: new Date(1_700_000_003_000),
          source: 'delivery' as const,
        };
        await store.recordStatusChange({ tenantId: 'acme', messageId: 'msg_1', expectedVersion: 1, status: 'EXPIRED', entry });
        const stored = await store.get('acme', 'msg_1');
        assert.equal(stored?.content, undefined);
        assert.equal(stored?.contentType, 'document');
        assert.equal(stored?.contentSummary, 'document invoice-42.pdf');
        assert.equal(stored?.replyToWaMessageId, 'wamid.quoted');
      }));

    test('SENT, DELIVERED and READ keep the content', () =>
      withStore(async (store) => {
        const original = message();
        await store.insertIfAbsent(original);
        const statuses = ['SENT', 'DELIVERED', 'READ'] as const;
        for (const [index, status] of statuses.entries()) {
          const entry = { eventId: `e-${status}`, status, occurredAt: new Date(1_700_000_001_000 + index), source: 'webhook' as const };
          assert.equal(
            await store.recordStatusChange({ tenantId: 'acme', messageId: 'msg_1', expectedVersion: index + 1, status, entry }),
            true,
          );
          assert.deepEqual((await store.get('acme', 'msg_1'))?.content, original.content, `content kept at ${status}`);
        }
      }));

    test('the outbox never lists a message whose content was deleted', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(message());
        await store.insertIfAbsent(message({ messageId: 'msg_2', idempotencyKey: 'key-2' }));
        const canceled = {
          eventId: 'msg_1:delivery:canceled',
          status: 'CANCELED' as const,
          occurredAt: new Date(1_700_000_001_000),
          source: 'delivery' as const,
        };
        await store.recordStatusChange({ tenantId: 'acme', messageId: 'msg_1', expectedVersion: 1, status: 'CANCELED', entry: canceled });
        assert.deepEqual(
          (await store.listUnpublished(new Date(1_700_000_010_000), 10)).map((m) => m.messageId),
          ['msg_2'],
        );
        assert.equal((await store.get('acme', 'msg_1'))?.published, false, 'it never reached JetStream, and is not claimed to have');
      }));

    test('the outbox lists unpublished messages until they are marked published', () =>
      withStore(async (store) => {
        await store.insertIfAbsent(message());
        await store.insertIfAbsent(message({ messageId: 'msg_2', idempotencyKey: 'key-2', acceptedAt: new Date(1_700_000_005_000) }));
        assert.deepEqual(
          (await store.listUnpublished(new Date(1_700_000_010_000), 10)).map((m) => m.messageId),
          ['msg_1', 'msg_2'],
        );
        assert.deepEqual(
          (await store.listUnpublished(new Date(1_700_000_001_000), 10)).map((m) => m.messageId),
          ['msg_1'],
        );
        await store.markPublished('acme', 'msg_1');
        assert.deepEqual(
          (await store.listUnpublished(new Date(1_700_000_010_000), 10)).map((m) => m.messageId),
          ['msg_2'],
        );
        assert.equal((await store.get('acme', 'msg_1'))?.published, true);
      }));
  });
}
