import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations } from '@waygate/grpc';
import { publishEvent, regionSubjects } from '@waygate/nats';
import {
  ContentType,
  ListMessagesRequest,
  MessageStatus,
  MessageStatusChanged,
  SendMessageRequest,
  StatusSource,
  type ListMessagesResponse,
  type Message,
  type SendMessageResponse,
} from '@waygate/proto';
import { waitFor } from '@waygate/testing';
import { startIngressHarness, type IngressHarness } from './testing/ingress-harness';

// ListMessages through real gRPC: a real ingress (SQLite, nats-server), statuses applied from real status events.

const KEYS = { acme: 'key-acme', globex: 'key-globex' };
const ALICE = '+4915112345678';
const BOB = '+4915187654321';
const subjects = regionSubjects('eu');

let harness: IngressHarness;

before(async () => {
  harness = await startIngressHarness({
    tenants: [
      { id: 'acme', homeRegion: 'eu', apiKey: KEYS.acme, phoneNumberIds: ['200'] },
      { id: 'globex', homeRegion: 'eu', apiKey: KEYS.globex, phoneNumberIds: ['300'] },
    ],
  });
  // Free-form text needs an open customer-service window: the customers write to both tenants' numbers first, waited
  // for in ingress's view (a probe send would be listed).
  for (const [tenantId, phoneNumberId] of [
    ['acme', '200'],
    ['globex', '300'],
  ]) {
    for (const from of [ALICE, BOB]) {
      await harness.customerWrites({ tenantId, phoneNumberId, from, waMessageId: `wamid.hello-${tenantId}-${from.slice(1)}` });
    }
  }
  await harness.waitForCustomerWindows(4);
});

after(() => harness?.stop());

let keys = 0;
async function send(to: string, apiKey = KEYS.acme): Promise<string> {
  const response = await harness.unary<SendMessageResponse>(
    'sendMessage',
    SendMessageRequest.fromPartial({
      to,
      content: { $case: 'text', value: { body: 'hello', previewUrl: false } },
      idempotencyKey: `k-${++keys}`,
    }),
    apiKey,
  );
  return response.messageId;
}

const list = (request: Partial<ListMessagesRequest>, apiKey = KEYS.acme) =>
  harness.unary<ListMessagesResponse>('listMessages', ListMessagesRequest.fromPartial(request), apiKey);
const idsOf = (response: ListMessagesResponse) => response.messages.map((message) => message.messageId);

async function markSent(messageId: string): Promise<void> {
  const data = MessageStatusChanged.encode(
    MessageStatusChanged.fromPartial({
      eventId: `${messageId}:sent`,
      tenantId: 'acme',
      messageId,
      status: MessageStatus.MESSAGE_STATUS_SENT,
      occurredAt: new Date(),
      source: StatusSource.STATUS_SOURCE_DELIVERY,
      waMessageId: `wamid.${messageId}`,
    }),
  ).finish();
  await publishEvent(harness.events.js, subjects.deliveryEvents, data, `${messageId}:sent`);
  await waitFor(async () => (await harness.unary<Message>('getMessage', { messageId })).status === MessageStatus.MESSAGE_STATUS_SENT, {
    what: `the SENT status of ${messageId}`,
  });
}

function refusedWith(fields: string[]) {
  return (error: unknown) => {
    assert.equal((error as ServiceError).code, grpcStatus.INVALID_ARGUMENT, String(error));
    assert.deepEqual(
      badRequestViolations(error as ServiceError).map((violation) => violation.field),
      fields,
    );
    return true;
  };
}

test('ListMessages: newest first, filtered by recipient, status, accepted range and content type, paged with an opaque token', async () => {
  const sent: string[] = [];
  for (const to of [ALICE, BOB, ALICE, BOB, ALICE]) {
    sent.push(await send(to));
    // Distinct accepted times, so the range filter below has an exact boundary.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await send(ALICE, KEYS.globex);
  const newestFirst = [...sent].reverse();

  const all = await list({});
  assert.deepEqual(idsOf(all), newestFirst, "only the caller's messages, newest first");
  assert.equal(all.nextPageToken, '');
  assert.equal(all.messages[0]?.to, ALICE);
  assert.equal(all.messages[0]?.status, MessageStatus.MESSAGE_STATUS_ACCEPTED);

  assert.deepEqual(idsOf(await list({ to: BOB })), [sent[3], sent[1]]);

  await markSent(sent[0]!);
  await markSent(sent[3]!);
  assert.deepEqual(idsOf(await list({ statuses: [MessageStatus.MESSAGE_STATUS_SENT] })), [sent[3], sent[0]]);
  assert.deepEqual(idsOf(await list({ statuses: [MessageStatus.MESSAGE_STATUS_SENT], to: ALICE })), [sent[0]]);

  const third = all.messages.find((message) => message.messageId === sent[2]);
  const fifth = all.messages.find((message) => message.messageId === sent[4]);
  assert.deepEqual(idsOf(await list({ acceptedAfter: third?.acceptedAt, acceptedBefore: fifth?.acceptedAt })), [sent[3], sent[2]]);

  assert.deepEqual(idsOf(await list({ contentTypes: [ContentType.CONTENT_TYPE_TEXT] })), newestFirst);
  assert.deepEqual(idsOf(await list({ contentTypes: [ContentType.CONTENT_TYPE_IMAGE] })), []);

  // Pages of two: 2 + 2 + 1, each token leading on from the last, the last page without one.
  const pages: string[][] = [];
  let pageToken = '';
  do {
    const page = await list({ pageSize: 2, pageToken });
    pages.push(idsOf(page));
    pageToken = page.nextPageToken;
  } while (pageToken !== '' && pages.length < 10);
  assert.deepEqual(pages, [newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)]);

  // A token is tied to its filters and its tenant's view: other filters, or another tenant, cannot use it to go on.
  const first = await list({ pageSize: 1, to: ALICE });
  assert.notEqual(first.nextPageToken, '');
  assert.deepEqual(idsOf(await list({ pageSize: 1, to: ALICE, pageToken: first.nextPageToken })), [sent[2]]);
  await assert.rejects(list({ pageSize: 1, to: BOB, pageToken: first.nextPageToken }), refusedWith(['page_token']));
  assert.deepEqual(idsOf(await list({ pageSize: 1, to: ALICE, pageToken: first.nextPageToken }, KEYS.globex)), []);
});

test('ListMessages: a bad page size, token, status, content type, recipient or range is INVALID_ARGUMENT naming each field', async () => {
  await assert.rejects(list({ pageSize: 501 }), refusedWith(['page_size']));
  await assert.rejects(list({ pageSize: -1 }), refusedWith(['page_size']));
  await assert.rejects(list({ pageToken: 'not a token' }), refusedWith(['page_token']));
  await assert.rejects(list({ pageToken: Buffer.from('{"a":"x"}').toString('base64url') }), refusedWith(['page_token']));
  await assert.rejects(
    list({
      to: '0049 151',
      statuses: [MessageStatus.MESSAGE_STATUS_SENT, MessageStatus.MESSAGE_STATUS_UNSPECIFIED],
      contentTypes: [ContentType.CONTENT_TYPE_UNSPECIFIED],
      acceptedAfter: new Date(2000),
      acceptedBefore: new Date(1000),
      pageSize: 1000,
    }),
    refusedWith(['to', 'statuses[1]', 'content_types[0]', 'accepted_before', 'page_size']),
  );
  const defaults = await list({ pageSize: 0 });
  assert.ok(defaults.messages.length <= 50);
});
