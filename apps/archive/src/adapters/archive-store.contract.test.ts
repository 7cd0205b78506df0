import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import type { ArchiveStore } from '../domain/archive-store';
import type { AcceptedArchivedEvent, ArchivedEvent, InboundArchivedEvent, StatusArchivedEvent } from '../domain/archived-event';
import type { ConversationSummary, TranscriptMessageEntry } from '../domain/conversation';
import { conversationIdOf } from '../domain/transcript';
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

const HOUR = 3_600_000;
const CUSTOMER = '+4915112345678';
const CONVERSATION = conversationIdOf({ tenantId: 'acme', phoneNumberId: '200', customer: CUSTOMER });

/** A customer's text at `at`. */
function customerSays(id: string, at: number, extra: Partial<InboundArchivedEvent> = {}): InboundArchivedEvent {
  return inbound({
    eventId: `wa:in:${id}`,
    messageId: id,
    occurredAt: new Date(at),
    recordedAt: new Date(at + 1),
    messageType: 'text',
    text: `text of ${id}`,
    mediaId: undefined,
    mimeType: undefined,
    contextWaMessageId: undefined,
    contentJson: undefined,
    ...extra,
  });
}

/** A business message at `at` (a text, or a template). */
function businessSays(
  id: string,
  at: number,
  type: 'text' | 'template' = 'text',
  extra: Partial<AcceptedArchivedEvent> = {},
): AcceptedArchivedEvent {
  return accepted({
    eventId: `accepted:${id}`,
    messageId: id,
    occurredAt: new Date(at),
    recordedAt: new Date(at + 1),
    contentType: type,
    textBody: type === 'text' ? `text of ${id}` : undefined,
    contentSummary: undefined,
    ...(type === 'template' ? { templateName: 'order_update', templateCategory: 'UTILITY' as const } : {}),
    ...extra,
  });
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** A conversation's transcript as [message id, session index]. */
async function sessionsOf(store: ArchiveStore, conversationId = CONVERSATION): Promise<[string, number][]> {
  return (await collect(store.transcript('acme', conversationId))).map((entry) => [entry.messageId, entry.sessionIndex]);
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

    test('keeps an accepted message whole, a status with its pricing and an inbound message with its sentiment', () =>
      withStore(async (store) => {
        const full = accepted({
          contentType: 'document',
          textBody: undefined,
          contentJson: '{"kind":"document","caption":"your invoice"}',
          text: 'your invoice\ninvoice.pdf',
          mediaIds: ['med_doc'],
          contextWaMessageId: 'wamid.quoted',
        });
        const priced = status({ pricing: { billable: true, pricingModel: 'PMP', type: 'regular', category: 'utility' } });
        const scored = inbound({ searchText: 'a caption\\nscan.jpg', sentiment: { language: 'en', score: -0.5, label: 'negative' } });
        for (const event of [full, priced, scored]) assert.equal(await store.record(event), 'recorded');
        assert.deepEqual(await store.listByMessage('acme', 'msg_1'), [withoutUndefined(full), priced]);
        assert.deepEqual(await store.listByMessage('acme', 'wamid.in1'), [scored]);
      }));

    for (const order of ['accepted first', 'statuses first'] as const) {
      test(`a transcript entry carries its content, statuses, latest status and wamid (${order})`, () =>
        withStore(async (store) => {
          const message = businessSays('msg_1', T0, 'text', { mediaIds: [], contextWaMessageId: 'wamid.q' });
          const statuses: ArchivedEvent[] = [
            status({ eventId: 'evt_read', status: 'READ', occurredAt: new Date(T0 + 3000), source: 'webhook', waMessageId: 'wamid.1' }),
            status({
              eventId: 'evt_sent',
              status: 'SENT',
              occurredAt: new Date(T0 + 1000),
              waMessageId: 'wamid.1',
              pricing: { billable: false, pricingModel: 'PMP', type: 'free_customer_service', category: 'service' },
            }),
          ];
          const events = order === 'accepted first' ? [message, ...statuses] : [...statuses, message];
          for (const event of events) assert.equal(await store.record(event), 'recorded');
          const [entry, ...rest] = await collect(store.transcript('acme', CONVERSATION));
          assert.equal(rest.length, 0);
          assert.deepEqual(entry, {
            recordId: 'accepted:msg_1',
            tenantId: 'acme',
            conversationId: CONVERSATION,
            messageId: 'msg_1',
            waMessageId: 'wamid.1',
            direction: 'outbound',
            type: 'text',
            occurredAt: new Date(T0),
            text: 'text of msg_1',
            mediaIds: [],
            contextWaMessageId: 'wamid.q',
            statuses: [
              {
                status: 'SENT',
                occurredAt: new Date(T0 + 1000),
                pricing: { billable: false, pricingModel: 'PMP', type: 'free_customer_service', category: 'service' },
              },
              { status: 'READ', occurredAt: new Date(T0 + 3000) },
            ],
            status: 'READ',
            sessionIndex: 0,
          } satisfies TranscriptMessageEntry);
        }));
    }

    test('summarizes a conversation: bounds, counts by direction, unanswered, sessions; a redelivery changes nothing', () =>
      withStore(async (store) => {
        const events = [
          customerSays('wamid.a', T0),
          businessSays('msg_b', T0 + 60_000),
          customerSays('wamid.c', T0 + 120_000, { sentiment: { language: 'en', score: 0.2, label: 'positive' } }),
        ];
        for (const event of events) assert.equal(await store.record(event), 'recorded');
        const expected: ConversationSummary = {
          tenantId: 'acme',
          conversationId: CONVERSATION,
          phoneNumberId: '200',
          customer: CUSTOMER,
          firstMessageAt: new Date(T0),
          lastMessageAt: new Date(T0 + 120_000),
          inboundCount: 2,
          outboundCount: 1,
          lastInboundAt: new Date(T0 + 120_000),
          lastOutboundAt: new Date(T0 + 60_000),
          hasUnanswered: true,
          sessionCount: 1,
          sentiment: {
            start: { language: 'en', score: 0.2, label: 'positive' },
            end: { language: 'en', score: 0.2, label: 'positive' },
            scoredMessages: 1,
          },
        };
        assert.deepEqual(await store.getConversation('acme', CONVERSATION), expected);
        for (const event of events) assert.equal(await store.record(event), 'duplicate');
        assert.deepEqual(await store.getConversation('acme', CONVERSATION), expected, 'a redelivery changes nothing');
        assert.equal(await store.getConversation('globex', CONVERSATION), undefined, "another tenant's id names nothing");
        assert.equal((await collect(store.transcript('globex', CONVERSATION))).length, 0);

        await store.record(businessSays('msg_d', T0 + 180_000));
        const answered = await store.getConversation('acme', CONVERSATION);
        assert.equal(answered?.hasUnanswered, false);
        assert.equal(answered?.outboundCount, 2);
      }));

    test('splits sessions at a closed window and at a business-initiated template, whatever the arrival order', async () => {
      const timeline = [
        customerSays('wamid.1', T0), // session 0
        businessSays('msg_2', T0 + HOUR),
        customerSays('wamid.3', T0 + 2 * HOUR),
        businessSays('msg_4', T0 + 25 * HOUR), // window closed, but not a template: still session 0
        businessSays('msg_5', T0 + 27 * HOUR, 'template'), // window closed: business-initiated session 1
        customerSays('wamid.6', T0 + 28 * HOUR), // window closed (opened by nobody since): session 2
        businessSays('msg_7', T0 + 29 * HOUR, 'template'), // window open: stays in session 2
        customerSays('wamid.8', T0 + 60 * HOUR), // window closed: session 3
      ];
      const expected: [string, number][] = [
        ['wamid.1', 0],
        ['msg_2', 0],
        ['wamid.3', 0],
        ['msg_4', 0],
        ['msg_5', 1],
        ['wamid.6', 2],
        ['msg_7', 2],
        ['wamid.8', 3],
      ];
      const orders = {
        'in order': timeline,
        reversed: [...timeline].reverse(),
        shuffled: [3, 7, 0, 5, 1, 6, 2, 4].map((index) => timeline[index]!),
      };
      for (const [name, events] of Object.entries(orders)) {
        await withStore(async (store) => {
          for (const event of events) await store.record(event);
          assert.deepEqual(await sessionsOf(store), expected, name);
          assert.equal((await store.getConversation('acme', CONVERSATION))?.sessionCount, 4, name);
        });
      }
    });

    test('reads a transcript in pages, with session indexes across page boundaries and a time range', () =>
      withStore(async (store) => {
        for (let index = 0; index < 7; index += 1) {
          // Two days apart: every customer message opens a session.
          await store.record(customerSays(`wamid.${index}`, T0 + index * 48 * HOUR));
          await store.record(businessSays(`msg_${index}`, T0 + index * 48 * HOUR + 1000));
        }
        const pages: [string, number][][] = [];
        let after: Parameters<ArchiveStore['transcriptPage']>[3]['after'];
        do {
          const page = await store.transcriptPage('acme', CONVERSATION, {}, { size: 3, ...(after ? { after } : {}) });
          pages.push(page.items.map((entry) => [entry.messageId, entry.sessionIndex]));
          after = page.next;
        } while (after);
        assert.deepEqual(
          pages.map((page) => page.length),
          [3, 3, 3, 3, 2],
        );
        assert.deepEqual(pages.flat(), await sessionsOf(store));
        assert.deepEqual(pages.flat().slice(0, 4), [
          ['wamid.0', 0],
          ['msg_0', 0],
          ['wamid.1', 1],
          ['msg_1', 1],
        ]);
        const ranged = await collect(
          store.transcript('acme', CONVERSATION, { from: new Date(T0 + 96 * HOUR + 1000), to: new Date(T0 + 144 * HOUR + 1000) }),
        );
        assert.deepEqual(
          ranged.map((entry) => [entry.messageId, entry.sessionIndex]),
          [
            ['msg_2', 2],
            ['wamid.3', 3],
          ],
        );
      }));

    test('lists conversations most recently active first, filtered and paged, only the tenant own', () =>
      withStore(async (store) => {
        const customers = ['+4915100000001', '+4915100000002', '+4915100000003', '+4915100000004'];
        for (const [index, customer] of customers.entries()) {
          await store.record(
            customerSays(`wamid.${index}`, T0 + index * HOUR, {
              from: customer,
              sentiment: index % 2 === 0 ? { label: 'negative', score: -1, language: 'en' } : undefined,
            }),
          );
          // Customers 0 and 1 get an answer.
          if (index < 2) await store.record(businessSays(`msg_${index}`, T0 + index * HOUR + 1000, 'text', { recipient: customer }));
        }
        await store.record(customerSays('wamid.other-number', T0 + 10 * HOUR, { phoneNumberId: '201', from: customers[0]! }));
        await store.record(customerSays('wamid.globex', T0 + 11 * HOUR, { tenantId: 'globex', from: customers[0]! }));

        const idOf = (customer: string, phoneNumberId = '200') => conversationIdOf({ tenantId: 'acme', phoneNumberId, customer });
        const all = await collect(store.conversations('acme'));
        assert.deepEqual(
          all.map((conversation) => conversation.conversationId),
          [idOf(customers[0]!, '201'), idOf(customers[3]!), idOf(customers[2]!), idOf(customers[1]!), idOf(customers[0]!)],
        );
        const list = async (filter: Parameters<ArchiveStore['listConversations']>[1]) =>
          (await store.listConversations('acme', filter, { size: 50 })).items.map((conversation) => conversation.conversationId);
        assert.deepEqual(await list({ customer: customers[0] }), [idOf(customers[0]!, '201'), idOf(customers[0]!)]);
        assert.deepEqual(await list({ phoneNumberId: '201' }), [idOf(customers[0]!, '201')]);
        assert.deepEqual(await list({ hasUnanswered: true, phoneNumberId: '200' }), [idOf(customers[3]!), idOf(customers[2]!)]);
        assert.deepEqual(await list({ sentiment: 'negative' }), [idOf(customers[2]!), idOf(customers[0]!)]);
        assert.deepEqual(await list({ from: new Date(T0 + HOUR), to: new Date(T0 + 3 * HOUR) }), [
          idOf(customers[2]!),
          idOf(customers[1]!),
        ]);

        const first = await store.listConversations('acme', {}, { size: 2 });
        assert.equal(first.items.length, 2);
        assert.ok(first.next);
        const second = await store.listConversations('acme', {}, { size: 2, after: first.next });
        const third = await store.listConversations('acme', {}, { size: 2, after: second.next! });
        assert.equal(third.next, undefined);
        assert.deepEqual([...first.items, ...second.items, ...third.items], all);
        assert.deepEqual(
          (await collect(store.conversations('globex'))).map((conversation) => conversation.customer),
          [customers[0]],
        );
      }));

    test('reactions, edits and revokes are messages of their own; the original is never overwritten; a system notice needs no answer', () =>
      withStore(async (store) => {
        await store.record(customerSays('wamid.orig', T0));
        await store.record(businessSays('msg_reply', T0 + 1000));
        await store.record(
          customerSays('wamid.edit', T0 + 2000, { messageType: 'edit', text: 'new words', contextWaMessageId: 'wamid.orig' }),
        );
        await store.record(
          customerSays('wamid.react', T0 + 3000, { messageType: 'reaction', text: undefined, contextWaMessageId: 'wamid.out' }),
        );
        await store.record(
          customerSays('wamid.revoke', T0 + 4000, { messageType: 'revoke', text: undefined, contextWaMessageId: 'wamid.orig' }),
        );
        await store.record(businessSays('msg_after', T0 + 5000));
        await store.record(customerSays('wamid.system', T0 + 6000, { messageType: 'system', text: 'number changed' }));
        const transcript = await collect(store.transcript('acme', CONVERSATION));
        assert.deepEqual(
          transcript.map((entry) => [entry.messageId, entry.type, entry.text, entry.contextWaMessageId]),
          [
            ['wamid.orig', 'text', 'text of wamid.orig', undefined],
            ['msg_reply', 'text', 'text of msg_reply', undefined],
            ['wamid.edit', 'edit', 'new words', 'wamid.orig'],
            ['wamid.react', 'reaction', undefined, 'wamid.out'],
            ['wamid.revoke', 'revoke', undefined, 'wamid.orig'],
            ['msg_after', 'text', 'text of msg_after', undefined],
            ['wamid.system', 'system', 'number changed', undefined],
          ],
        );
        const summary = await store.getConversation('acme', CONVERSATION);
        assert.deepEqual([summary?.inboundCount, summary?.outboundCount, summary?.hasUnanswered], [5, 2, false]);
        assert.equal(summary?.lastInboundAt?.getTime(), T0 + 4000, "the system notice is not the customer's last message");
      }));

    test("keeps the customer's sentiment: first and last scored message, however late one arrives, and the trend", () =>
      withStore(async (store) => {
        const positive = { language: 'en', score: 0.6, label: 'positive' as const };
        const neutral = { language: 'en', score: 0, label: 'neutral' as const };
        const negative = { language: 'de', score: -0.7, label: 'negative' as const };
        await store.record(customerSays('wamid.1', T0, { sentiment: positive }));
        await store.record(customerSays('wamid.3', T0 + 2 * HOUR, { sentiment: negative }));
        await store.record(customerSays('wamid.unscored', T0 + 3 * HOUR, { sentiment: { language: 'th' } }));
        await store.record(customerSays('wamid.2', T0 + HOUR, { sentiment: neutral })); // late
        const summary = await store.getConversation('acme', CONVERSATION);
        assert.deepEqual(summary?.sentiment, { start: positive, end: negative, trend: 'worsening', scoredMessages: 3 });
        assert.deepEqual(
          (await store.listConversations('acme', { sentiment: 'negative' }, { size: 10 })).items.map((c) => c.conversationId),
          [CONVERSATION],
        );
        assert.deepEqual((await store.listConversations('acme', { sentiment: 'positive' }, { size: 10 })).items, []);
        const entries = await collect(store.transcript('acme', CONVERSATION));
        assert.deepEqual(
          entries.map((entry) => entry.sentiment),
          [positive, neutral, negative, { language: 'th' }],
        );
      }));

    test("erases a customer's content and pseudonymises their conversation; idempotent; other customers untouched", () =>
      withStore(async (store) => {
        const OTHER = '+4915100000002';
        const REF = '0123456789abcdef0123456789abcdef';
        await store.record(customerSays('wamid.1', T0, { contentJson: '{"body":"text of wamid.1"}' }));
        await store.record(
          businessSays('msg_b', T0 + 1000, 'text', { contentJson: '{"body":"text of msg_b"}', contentSummary: 'summary' }),
        );
        await store.record(status({ eventId: 'evt_b_sent', messageId: 'msg_b', occurredAt: new Date(T0 + 2000) }));
        await store.record(customerSays('wamid.other', T0, { from: OTHER }));
        const erased = await store.eraseCustomer('acme', CUSTOMER, REF);
        assert.deepEqual([erased.messages, erased.records, erased.conversations], [2, 2, 1]);
        assert.deepEqual([...erased.recordIds].sort(), ['accepted:msg_b', 'wa:in:wamid.1']);
        // The old id (a hash of the number) is gone; the conversation lives on under the pseudonym's id.
        assert.equal(await store.getConversation('acme', CONVERSATION), undefined);
        assert.deepEqual((await store.listConversations('acme', { customer: CUSTOMER }, { size: 10 })).items, []);
        const renamed = conversationIdOf({ tenantId: 'acme', phoneNumberId: '200', customer: REF });
        const summary = await store.getConversation('acme', renamed);
        assert.deepEqual([summary?.customer, summary?.inboundCount, summary?.outboundCount], [REF, 1, 1]);
        const entries = await collect(store.transcript('acme', renamed));
        assert.deepEqual(
          entries.map((entry) => [entry.messageId, entry.text, entry.contentJson, entry.status]),
          [
            ['wamid.1', undefined, undefined, undefined],
            ['msg_b', undefined, undefined, 'SENT'],
          ],
        );
        const [record] = await store.listByMessage('acme', 'msg_b');
        assert.ok(record?.kind === 'accepted');
        assert.deepEqual(
          [record.recipient, record.textBody, record.text, record.contentJson, record.contentSummary],
          [REF, undefined, undefined, undefined, undefined],
        );
        const [received] = await store.listByMessage('acme', 'wamid.1');
        assert.ok(received?.kind === 'inbound');
        assert.deepEqual([received.from, received.text, received.searchText, received.contentJson], [REF, undefined, undefined, undefined]);
        // Idempotent: nothing more to erase, the same records named again (their log salts are shredded again).
        const again = await store.eraseCustomer('acme', CUSTOMER, REF);
        assert.deepEqual([again.messages, again.records, again.conversations, again.recordIds.length], [0, 0, 0, 2]);
        const other = await collect(
          store.transcript('acme', conversationIdOf({ tenantId: 'acme', phoneNumberId: '200', customer: OTHER })),
        );
        assert.deepEqual(
          other.map((entry) => entry.text),
          ['text of wamid.other'],
        );
      }));
  });
}
