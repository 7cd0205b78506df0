import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations } from '@waygate/grpc';
import {
  Direction,
  MessageStatus,
  SentimentLabel,
  TemplateCategory,
  type InboundMessageReceived,
  type MessageAccepted,
  type MessageStatusChanged,
  type GetTranscriptRequest,
  type GetTranscriptResponse,
  type ListConversationsRequest,
  type ListConversationsResponse,
} from '@waygate/proto';
import { waitFor } from '@waygate/testing';
import { conversationIdOf } from './domain/transcript';
import { startArchiveHarness, type ArchiveHarness } from './testing/archive-harness';

// ListConversations and GetTranscript end to end: events published on real JetStream, archived by the real
// consumers into a real SQLite file, read over real gRPC.

const KEYS = { acme: 'key-acme', umbrella: 'key-umbrella' };
const T0 = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;
const OTP = '493817';

let harness: ArchiveHarness;

before(async () => {
  harness = await startArchiveHarness({
    tenants: [
      { id: 'acme', homeRegion: 'eu', apiKey: KEYS.acme, phoneNumberIds: ['200'] },
      { id: 'umbrella', homeRegion: 'eu', apiKey: KEYS.umbrella, phoneNumberIds: ['202'] },
    ],
  });
});

after(() => harness?.stop());

function listConversations(apiKey: string, request: Partial<ListConversationsRequest>): Promise<ListConversationsResponse> {
  return harness.unary(
    'listConversations',
    {
      customer: '',
      phoneNumberId: '',
      from: undefined,
      to: undefined,
      hasUnanswered: false,
      sentiment: 0,
      pageSize: 0,
      pageToken: '',
      ...request,
    },
    apiKey,
  );
}

function getTranscript(apiKey: string, request: Partial<GetTranscriptRequest>): Promise<GetTranscriptResponse> {
  return harness.unary(
    'getTranscript',
    { conversationId: '', from: undefined, to: undefined, pageSize: 0, pageToken: '', ...request },
    apiKey,
  );
}

/** Every message of a transcript, page by page. */
async function wholeTranscript(apiKey: string, conversationId: string, pageSize: number): Promise<GetTranscriptResponse['messages'][]> {
  const pages: GetTranscriptResponse['messages'][] = [];
  let pageToken = '';
  do {
    const page = await getTranscript(apiKey, { conversationId, pageSize, pageToken });
    pages.push(page.messages);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return pages;
}

async function publishAccepted(
  messageId: string,
  customer: string,
  at: number,
  content: NonNullable<MessageAccepted['content']>,
  extra: Partial<MessageAccepted> = {},
): Promise<void> {
  await harness.publishAccepted({ tenantId: 'acme', messageId, to: customer, content, acceptedAt: new Date(at), ...extra });
}

function text(body: string): NonNullable<MessageAccepted['content']> {
  return { $case: 'text', value: { body, previewUrl: false } };
}

function template(name: string, parameters: string[]): NonNullable<MessageAccepted['content']> {
  return {
    $case: 'template',
    value: {
      name,
      language: 'en',
      components: [
        {
          type: 2, // BODY
          subType: '',
          index: 0,
          parameters: parameters.map((value) => ({ parameterName: '', value: { $case: 'text' as const, value } })),
        },
      ],
    },
  } as NonNullable<MessageAccepted['content']>;
}

async function publishInbound(
  waMessageId: string,
  customer: string,
  at: number,
  body: string,
  tenantId = 'acme',
  phoneNumberId = '200',
): Promise<void> {
  await publishInboundEvent({
    tenantId,
    phoneNumberId,
    waMessageId,
    from: customer,
    occurredAt: new Date(at),
    type: 'text',
    text: body,
    contentJson: JSON.stringify({ kind: 'text', body }),
  });
}

/** An inbound message as receipt announces it, with its content JSON (receipt's InboundContent). */
async function publishInboundEvent(
  fields: Partial<InboundMessageReceived> & { waMessageId: string; from: string; occurredAt: Date },
): Promise<void> {
  await harness.publishInbound({ tenantId: 'acme', ...fields });
}

async function publishStatus(
  messageId: string,
  status: MessageStatus,
  at: number,
  pricing?: MessageStatusChanged['pricing'],
): Promise<void> {
  await harness.publishStatus({
    eventId: `wa:wamid.${messageId}:${status}`,
    tenantId: 'acme',
    messageId,
    status,
    occurredAt: new Date(at),
    ...(pricing ? { pricing } : {}),
  });
}

function conversationOf(customer: string, tenantId = 'acme', phoneNumberId = '200'): string {
  return conversationIdOf({ tenantId, phoneNumberId, customer });
}

/** Waits until acme's conversation with `customer` holds `count` messages. */
async function waitForMessages(customer: string, count: number): Promise<void> {
  await waitFor(
    async () => {
      try {
        return (await getTranscript(KEYS.acme, { conversationId: conversationOf(customer), pageSize: 1000 })).messages.length === count;
      } catch (error) {
        if ((error as ServiceError).code === grpcStatus.NOT_FOUND) return false;
        throw error;
      }
    },
    { what: `${count} messages archived` },
  );
}

async function rejection(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  assert.fail('expected the call to fail');
}

test('a transcript shows both directions in order, with statuses and pricing, whichever arrived first', async () => {
  const customer = '+4915100000101';
  await publishInbound('wamid.q1', customer, T0, 'Where is my parcel?');
  // The statuses of msg_a arrive before its accepted event (receipt's stream is not ingress's).
  const pricing = { billable: false, pricingModel: 'PMP', type: 'free_customer_service', category: 'service' };
  await publishStatus('msg_a', MessageStatus.MESSAGE_STATUS_SENT, T0 + 61_000, pricing);
  await publishStatus('msg_a', MessageStatus.MESSAGE_STATUS_DELIVERED, T0 + 62_000, pricing);
  await publishAccepted('msg_a', customer, T0 + 60_000, text('It ships today.'), { replyToWaMessageId: 'wamid.q1' });
  await publishAccepted('msg_b', customer, T0 + 120_000, text('Tracking follows.'));
  await publishStatus('msg_b', MessageStatus.MESSAGE_STATUS_SENT, T0 + 121_000);
  await waitForMessages(customer, 3);
  await waitFor(
    async () =>
      (await getTranscript(KEYS.acme, { conversationId: conversationOf(customer) })).messages[2]?.status ===
      MessageStatus.MESSAGE_STATUS_SENT,
    { what: "msg_b's status" },
  );

  const { conversation, messages, nextPageToken } = await getTranscript(KEYS.acme, { conversationId: conversationOf(customer) });
  assert.equal(nextPageToken, '');
  assert.deepEqual(
    messages.map((m) => [m.messageId, m.direction, m.type, m.text, m.sessionIndex]),
    [
      ['wamid.q1', Direction.DIRECTION_INBOUND, 'text', 'Where is my parcel?', 0],
      ['msg_a', Direction.DIRECTION_OUTBOUND, 'text', 'It ships today.', 0],
      ['msg_b', Direction.DIRECTION_OUTBOUND, 'text', 'Tracking follows.', 0],
    ],
  );
  const answer = messages[1]!;
  assert.equal(answer.waMessageId, 'wamid.msg_a');
  assert.equal(answer.contextWaMessageId, 'wamid.q1');
  assert.equal(answer.status, MessageStatus.MESSAGE_STATUS_DELIVERED);
  assert.deepEqual(JSON.parse(answer.contentJson), { kind: 'text', body: 'It ships today.', previewUrl: false });
  assert.deepEqual(
    answer.statuses.map((s) => [s.status, s.occurredAt?.getTime(), s.pricing]),
    [
      [MessageStatus.MESSAGE_STATUS_SENT, T0 + 61_000, pricing],
      [MessageStatus.MESSAGE_STATUS_DELIVERED, T0 + 62_000, pricing],
    ],
  );
  assert.equal(messages[0]!.waMessageId, 'wamid.q1');
  assert.deepEqual(messages[0]!.statuses, []);
  assert.equal(conversation?.conversationId, conversationOf(customer));
  assert.equal(conversation?.customer, customer);
  assert.deepEqual(
    [conversation?.inboundCount, conversation?.outboundCount, conversation?.hasUnanswered, conversation?.sessionCount],
    [1, 2, false, 1],
  );
  assert.equal(conversation?.firstMessageAt?.getTime(), T0);
  assert.equal(conversation?.lastMessageAt?.getTime(), T0 + 120_000);
});

test('a conversation splits into sessions by the 24-hour window and by a business-initiated template', async () => {
  const customer = '+4915100000102';
  await publishInbound('wamid.s1', customer, T0, 'Hi');
  await publishAccepted('msg_s2', customer, T0 + HOUR, text('Hello!'));
  await publishAccepted('msg_s3', customer, T0 + 30 * HOUR, template('order_update', ['A-17']), {
    templateCategory: TemplateCategory.TEMPLATE_CATEGORY_UTILITY,
  });
  await publishInbound('wamid.s4', customer, T0 + 31 * HOUR, 'Thanks');
  await publishInbound('wamid.s5', customer, T0 + 80 * HOUR, 'Me again');
  await waitForMessages(customer, 5);
  const pages = await wholeTranscript(KEYS.acme, conversationOf(customer), 2);
  assert.deepEqual(
    pages.map((page) => page.map((m) => [m.messageId, m.sessionIndex])),
    [
      [
        ['wamid.s1', 0],
        ['msg_s2', 0],
      ],
      [
        ['msg_s3', 1],
        ['wamid.s4', 2],
      ],
      [['wamid.s5', 3]],
    ],
  );
  const template17 = pages[1]![0]!;
  assert.deepEqual(
    [template17.type, template17.templateName, template17.templateCategory, template17.text],
    ['template', 'order_update', TemplateCategory.TEMPLATE_CATEGORY_UTILITY, 'A-17'],
  );
  const { conversation } = await getTranscript(KEYS.acme, { conversationId: conversationOf(customer), pageSize: 1 });
  assert.equal(conversation?.sessionCount, 4);
  assert.equal(conversation?.hasUnanswered, true);
});

test('reactions, edits, revokes and Flows replies are archived as their own messages, each naming the one it refers to', async () => {
  const customer = '+4915100000104';
  const at = (seconds: number) => new Date(T0 + 900 * HOUR + seconds * 1000);
  await publishInbound('wamid.orig', customer, at(0).getTime(), 'Deliver on Monday');
  await publishAccepted('msg_flow', customer, at(1).getTime(), text('Pick a slot'));
  // As receipt announces them (apps/receipt: a reaction names its wamid; edits, revokes and Flows replies are kept
  // whole as unknown content, the edit and revoke naming the original).
  await publishInboundEvent({
    waMessageId: 'wamid.react',
    from: customer,
    occurredAt: at(2),
    type: 'reaction',
    contextWaMessageId: 'wamid.msg_flow',
    contentJson: JSON.stringify({ kind: 'reaction', messageId: 'wamid.msg_flow', emoji: '👍' }),
  });
  await publishInboundEvent({
    waMessageId: 'wamid.edit',
    from: customer,
    occurredAt: at(3),
    type: 'edit',
    contextWaMessageId: 'wamid.orig',
    contentJson: JSON.stringify({
      kind: 'unknown',
      rawType: 'edit',
      raw: { type: 'edit', edit: { original_message_id: 'wamid.orig', message: { type: 'text', text: { body: 'Deliver on Tuesday' } } } },
    }),
  });
  await publishInboundEvent({
    waMessageId: 'wamid.flow',
    from: customer,
    occurredAt: at(4),
    type: 'interactive',
    contextWaMessageId: 'wamid.msg_flow',
    contentJson: JSON.stringify({
      kind: 'unknown',
      rawType: 'interactive',
      raw: {
        type: 'interactive',
        interactive: { type: 'nfm_reply', nfm_reply: { name: 'flow', body: 'Sent', response_json: '{"slot":"tue"}' } },
      },
    }),
  });
  // An older receipt did not name the revoked message: the archive finds it in the content.
  await publishInboundEvent({
    waMessageId: 'wamid.revoke',
    from: customer,
    occurredAt: at(5),
    type: 'revoke',
    contentJson: JSON.stringify({
      kind: 'unknown',
      rawType: 'revoke',
      raw: { type: 'revoke', revoke: { original_message_id: 'wamid.orig' } },
    }),
  });
  await waitForMessages(customer, 6);
  const { messages } = await getTranscript(KEYS.acme, { conversationId: conversationOf(customer) });
  assert.deepEqual(
    messages.map((m) => [m.messageId, m.type, m.text, m.contextWaMessageId]),
    [
      ['wamid.orig', 'text', 'Deliver on Monday', ''],
      ['msg_flow', 'text', 'Pick a slot', ''],
      // A customer's reaction reads as a business reaction does: its emoji.
      ['wamid.react', 'reaction', '👍', 'wamid.msg_flow'],
      ['wamid.edit', 'edit', 'Deliver on Tuesday', 'wamid.orig'],
      ['wamid.flow', 'nfm_reply', 'Sent', 'wamid.msg_flow'],
      ['wamid.revoke', 'revoke', '', 'wamid.orig'],
    ],
  );
  assert.match(messages[4]!.contentJson, /response_json/, "the Flow's response is kept whole");
});

test("an authentication template's code never reaches the archive; its name does", async () => {
  const customer = '+4915100000103';
  await publishAccepted('msg_otp', customer, T0, template('login_code', [OTP]), {
    templateCategory: TemplateCategory.TEMPLATE_CATEGORY_AUTHENTICATION,
  });
  await waitForMessages(customer, 1);
  const [message] = (await getTranscript(KEYS.acme, { conversationId: conversationOf(customer) })).messages;
  assert.equal(message?.templateName, 'login_code');
  assert.equal(message?.templateCategory, TemplateCategory.TEMPLATE_CATEGORY_AUTHENTICATION);
  assert.ok(!JSON.stringify(message).includes(OTP), JSON.stringify(message));
  assert.ok(!harness.logLines.join('').includes(OTP));
});

test('ListConversations filters and pages the calling tenant only; another tenant gets NOT_FOUND for its conversations', async () => {
  const customers = ['+4915100000201', '+4915100000202', '+4915100000203'];
  for (const [index, customer] of customers.entries())
    await publishInbound(`wamid.l${index}`, customer, T0 + 500 * HOUR + index * HOUR, 'hello');
  await publishInbound('wamid.u1', customers[0]!, T0 + 600 * HOUR, 'hello', 'umbrella', '202');
  for (const customer of customers) await waitForMessages(customer, 1);
  await waitFor(async () => (await listConversations(KEYS.umbrella, {})).conversations.length === 1, { what: "umbrella's conversation" });

  const range = { from: new Date(T0 + 500 * HOUR), to: new Date(T0 + 503 * HOUR) };
  const first = await listConversations(KEYS.acme, { ...range, pageSize: 2 });
  assert.ok(first.nextPageToken);
  const second = await listConversations(KEYS.acme, { ...range, pageSize: 2, pageToken: first.nextPageToken });
  assert.equal(second.nextPageToken, '');
  assert.deepEqual(
    [...first.conversations, ...second.conversations].map((c) => c.customer),
    [...customers].reverse(),
    'most recently active first, across pages',
  );
  assert.deepEqual(
    (await listConversations(KEYS.acme, { customer: customers[1] })).conversations.map((c) => c.conversationId),
    [conversationOf(customers[1]!)],
  );
  assert.ok((await listConversations(KEYS.acme, { hasUnanswered: true })).conversations.every((c) => c.hasUnanswered));
  assert.deepEqual((await listConversations(KEYS.acme, { sentiment: SentimentLabel.SENTIMENT_LABEL_NEGATIVE })).conversations, []);

  const umbrella = await listConversations(KEYS.umbrella, {});
  assert.deepEqual(
    umbrella.conversations.map((c) => c.conversationId),
    [conversationOf(customers[0]!, 'umbrella', '202')],
  );
  const notFound = await rejection(getTranscript(KEYS.umbrella, { conversationId: conversationOf(customers[0]!) }));
  assert.equal(notFound.code, grpcStatus.NOT_FOUND);
  assert.ok(!notFound.details.includes(customers[0]!));
  const unknown = await rejection(getTranscript(KEYS.acme, { conversationId: `cv_${'A'.repeat(26)}` }));
  assert.equal(unknown.code, grpcStatus.NOT_FOUND);
});

test('bad requests are INVALID_ARGUMENT naming each field, never quoting it', async () => {
  const cases: [Promise<unknown>, string[]][] = [
    [listConversations(KEYS.acme, { pageSize: 201 }), ['page_size']],
    [listConversations(KEYS.acme, { customer: '0151-NOT-E164' }), ['customer']],
    [listConversations(KEYS.acme, { from: new Date(T0 + HOUR), to: new Date(T0) }), ['to']],
    [listConversations(KEYS.acme, { pageToken: 'garbage!' }), ['page_token']],
    [listConversations(KEYS.acme, { sentiment: 42 as SentimentLabel }), ['sentiment']],
    [getTranscript(KEYS.acme, { conversationId: '' }), ['conversation_id']],
    [getTranscript(KEYS.acme, { conversationId: 'cv_../etc/passwd' }), ['conversation_id']],
    [getTranscript(KEYS.acme, { conversationId: conversationOf('+4915100000101'), pageSize: 1001 }), ['page_size']],
    [getTranscript(KEYS.acme, { conversationId: conversationOf('+4915100000101'), pageToken: 'eyJrIjoieCJ9' }), ['page_token']],
  ];
  for (const [call, fields] of cases) {
    const error = await rejection(call);
    assert.equal(error.code, grpcStatus.INVALID_ARGUMENT, error.details);
    assert.deepEqual(
      badRequestViolations(error).map((v) => v.field),
      fields,
    );
    assert.ok(!error.details.includes('0151-NOT-E164') && !error.details.includes('etc/passwd'), error.details);
  }
  const unauthenticated = await rejection(listConversations('wrong-key', {}));
  assert.equal(unauthenticated.code, grpcStatus.UNAUTHENTICATED);
});
