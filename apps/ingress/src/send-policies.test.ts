/**
 * The send policies through the real wiring: ingress on SQLite with JetStream, a gRPC client, and receipt's and
 * delivery-retry's events published on NATS as they publish them. Customer-service windows, the to -> wa_id mapping,
 * the opt-out list and its sources, the tenant's send rate and daily quota; nothing is stored for a refusal.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata, credentials, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations, preconditionViolations, retryDelayMs } from '@waygate/grpc';
import { publishEvent, regionSubjects } from '@waygate/nats';
import {
  CustomerPreference,
  CustomerPreferenceChanged,
  MessageStatus,
  MessageStatusChanged,
  MessagingServiceClient,
  OptOutSource,
  SendMessageRequest,
  StatusSource,
  type AddOptOutResponse,
  type ListOptOutsResponse,
  type Message,
  type RemoveOptOutResponse,
  type SendMessageResponse,
} from '@waygate/proto';
import { waitFor } from '@waygate/testing';
import { startIngress } from './server';
import { startIngressHarness, type IngressHarness } from './testing/ingress-harness';

const KEYS = { acme: 'key-acme', globex: 'key-globex', limited: 'key-limited', quota: 'key-quota' };
const NUMBER = { acme: '200', globex: '250', limited: '300', quota: '400' };
const subjects = regionSubjects('eu');
const HOUR_MS = 3_600_000;
/** The promise: once the customer writes, a send is accepted within seconds. */
const WINDOW_LAG_BUDGET_MS = 5_000;

let harness: IngressHarness;

before(async () => {
  harness = await startIngressHarness({
    tenants: [
      { id: 'acme', homeRegion: 'eu', apiKey: KEYS.acme, phoneNumberIds: [NUMBER.acme] },
      { id: 'globex', homeRegion: 'eu', apiKey: KEYS.globex, phoneNumberIds: [NUMBER.globex] },
      {
        id: 'limited',
        homeRegion: 'eu',
        apiKey: KEYS.limited,
        phoneNumberIds: [NUMBER.limited],
        sendLimits: { sendsPerSecond: 1, burst: 2 },
      },
      { id: 'quota', homeRegion: 'eu', apiKey: KEYS.quota, phoneNumberIds: [NUMBER.quota], sendLimits: { dailyQuota: 2 } },
    ],
  });
});

after(() => harness?.stop());

let keys = 0;
const sendText = (to: string, options: { apiKey?: string; key?: string; body?: string } = {}) =>
  harness.unary<SendMessageResponse>(
    'sendMessage',
    SendMessageRequest.fromPartial({
      to,
      content: { $case: 'text', value: { body: options.body ?? 'hello', previewUrl: false } },
      idempotencyKey: options.key ?? `k-${++keys}`,
    }),
    options.apiKey ?? KEYS.acme,
  );

/** receipt's InboundMessageReceived for `from` writing to the tenant's number at `at`; returns when the window closes. */
const customerWrites = (from: string, options: { tenantId?: string; phoneNumberId?: string; at?: Date } = {}): Promise<Date> =>
  harness.customerWrites({ tenantId: 'acme', phoneNumberId: NUMBER.acme, from, ...options });

/** Sends until the window shows in ingress's view (FAILED_PRECONDITION until then); fails after the lag budget. */
async function sendOnceOpen(to: string, options: { apiKey?: string; key?: string; body?: string } = {}): Promise<SendMessageResponse> {
  const key = options.key ?? `k-${++keys}`;
  return waitFor(() => sendText(to, { ...options, key }).catch(() => undefined), {
    timeoutMs: WINDOW_LAG_BUDGET_MS,
    what: `SendMessage to a customer who wrote (${to})`,
  });
}

function expectRefusal(code: grpcStatus, check?: (error: ServiceError) => void) {
  return (error: unknown) => {
    assert.equal((error as ServiceError).code, code, (error as ServiceError).details);
    check?.(error as ServiceError);
    return true;
  };
}

test('free-form text to a customer who never wrote is FAILED_PRECONDITION SERVICE_WINDOW_CLOSED, and nothing is stored', async () => {
  const to = '+4915100000001';
  await assert.rejects(
    sendText(to, { key: 'never-wrote' }),
    expectRefusal(grpcStatus.FAILED_PRECONDITION, (error) => {
      const [violation, ...rest] = preconditionViolations(error);
      assert.equal(rest.length, 0);
      assert.equal(violation.type, 'SERVICE_WINDOW_CLOSED');
      assert.match(violation.description, /has not written/);
      assert.ok(!violation.subject.includes('100000001'), 'the number is masked');
    }),
  );
  await customerWrites(to);
  // A different request under the refused key is no conflict: the refusal left nothing behind.
  const accepted = await sendOnceOpen(to, { key: 'never-wrote', body: 'another text' });
  assert.equal(accepted.status, MessageStatus.MESSAGE_STATUS_ACCEPTED);
});

test('a closed window says when it closed; the customer writes, a send is accepted within seconds and expires when the window closes', async () => {
  const to = '+4915100000002';
  const wroteAt = new Date(Date.now() - 25 * HOUR_MS);
  const closedAt = await customerWrites(to, { at: wroteAt });
  await waitFor(
    () =>
      sendText(to).then(
        () => assert.fail('accepted although the window is closed'),
        (error: ServiceError) => preconditionViolations(error)[0]?.description.includes(closedAt.toISOString()),
      ),
    { what: 'the refusal naming when the window closed' },
  );

  const startedAt = Date.now();
  const closesAt = await customerWrites(to);
  const { messageId } = await sendOnceOpen(to);
  assert.ok(Date.now() - startedAt < WINDOW_LAG_BUDGET_MS);
  const message = await harness.unary<Message>('getMessage', { messageId });
  assert.deepEqual(message.expiresAt, closesAt, 'validity capped at the window close (30 days were the default)');
});

test('windows are per business number: the customer wrote to another tenant, not to this one', async () => {
  const to = '+4915100000003';
  await customerWrites(to, { tenantId: 'globex', phoneNumberId: NUMBER.globex });
  await sendOnceOpen(to, { apiKey: KEYS.globex });
  await assert.rejects(sendText(to), expectRefusal(grpcStatus.FAILED_PRECONDITION));
});

test("the wa_id Meta answered for a number (delivery-retry's SENT) finds the customer's window", async () => {
  const to = '+4915100000077';
  const waId = '4915100000088';
  const sent = MessageStatusChanged.fromPartial({
    eventId: 'learn-wa-id:sent:1',
    tenantId: 'acme',
    messageId: 'msg_from_before',
    status: MessageStatus.MESSAGE_STATUS_SENT,
    source: StatusSource.STATUS_SOURCE_DELIVERY,
    occurredAt: new Date(),
    waMessageId: 'wamid.out-1',
    recipient: to,
    recipientWaId: waId,
    attempt: 1,
  });
  await publishEvent(harness.events.js, subjects.deliveryEvents, MessageStatusChanged.encode(sent).finish(), sent.eventId);
  await customerWrites(`+${waId}`);
  await sendOnceOpen(to);
});

test("Brazil's ninth digit: a customer whose wa_id lacks it is found for a send with it, before any send taught it", async () => {
  await customerWrites('+551187654321');
  await sendOnceOpen('+5511987654321');
});

const listOptOuts = (request: { pageSize?: number; pageToken?: string } = {}, apiKey = KEYS.acme) =>
  harness.unary<ListOptOutsResponse>('listOptOuts', { pageSize: 0, pageToken: '', ...request }, apiKey);
const optedOut = async (phoneNumber: string) => (await listOptOuts({ pageSize: 500 })).optOuts.find((o) => o.phoneNumber === phoneNumber);

test('AddOptOut, ListOptOuts (newest first, paged) and RemoveOptOut; bad input is INVALID_ARGUMENT naming the field', async () => {
  const first = await harness.unary<AddOptOutResponse>('addOptOut', { phoneNumber: '+4915100000010' });
  assert.equal(first.optOut?.source, OptOutSource.OPT_OUT_SOURCE_API);
  const again = await harness.unary<AddOptOutResponse>('addOptOut', { phoneNumber: '+4915100000010' });
  assert.deepEqual(again.optOut, first.optOut, 'adding again changes nothing');
  await harness.unary<AddOptOutResponse>('addOptOut', { phoneNumber: '+4915100000011' });
  const page = await listOptOuts({ pageSize: 1 });
  assert.equal(page.optOuts[0]?.phoneNumber, '+4915100000011');
  assert.notEqual(page.nextPageToken, '');
  const next = await listOptOuts({ pageSize: 1, pageToken: page.nextPageToken });
  assert.equal(next.optOuts[0]?.phoneNumber, '+4915100000010');
  assert.deepEqual((await listOptOuts({}, KEYS.globex)).optOuts, [], "another tenant's list is its own");

  assert.equal((await harness.unary<RemoveOptOutResponse>('removeOptOut', { phoneNumber: '+4915100000010' })).removed, true);
  assert.equal((await harness.unary<RemoveOptOutResponse>('removeOptOut', { phoneNumber: '+4915100000010' })).removed, false);

  const invalid = (field: string) =>
    expectRefusal(grpcStatus.INVALID_ARGUMENT, (error) =>
      assert.deepEqual(
        badRequestViolations(error).map((v) => v.field),
        [field],
      ),
    );
  await assert.rejects(harness.unary('addOptOut', { phoneNumber: '015112345678' }), invalid('phone_number'));
  await assert.rejects(harness.unary('removeOptOut', { phoneNumber: '' }), invalid('phone_number'));
  await assert.rejects(listOptOuts({ pageSize: 501 }), invalid('page_size'));
  await assert.rejects(listOptOuts({ pageToken: 'not-a-token' }), invalid('page_token'));
});

test('opt-out sources: a 131050 failure, a stop keyword and a quick reply add the customer; a resume removes them', async () => {
  const failed = MessageStatusChanged.fromPartial({
    eventId: 'wa:wamid.out-131050:failed',
    tenantId: 'acme',
    messageId: 'msg_marketing',
    status: MessageStatus.MESSAGE_STATUS_FAILED,
    source: StatusSource.STATUS_SOURCE_WEBHOOK,
    occurredAt: new Date(),
    recipient: '+4915100000020',
    errorCode: 131050,
    errorTitle:
      'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.',
  });
  await publishEvent(harness.events.js, subjects.receiptEvents, MessageStatusChanged.encode(failed).finish(), failed.eventId);
  const preference = (customer: string, preference: CustomerPreference, source: OptOutSource, eventId: string) => {
    const event = CustomerPreferenceChanged.fromPartial({
      eventId,
      tenantId: 'acme',
      phoneNumberId: NUMBER.acme,
      customer,
      waId: customer.slice(1),
      preference,
      source,
      occurredAt: new Date(),
    });
    return publishEvent(harness.events.js, subjects.preferenceEvents, CustomerPreferenceChanged.encode(event).finish(), eventId);
  };
  await preference(
    '+4915100000021',
    CustomerPreference.CUSTOMER_PREFERENCE_MARKETING_STOPPED,
    OptOutSource.OPT_OUT_SOURCE_STOP_KEYWORD,
    'p-1',
  );
  await preference(
    '+4915100000022',
    CustomerPreference.CUSTOMER_PREFERENCE_MARKETING_STOPPED,
    OptOutSource.OPT_OUT_SOURCE_QUICK_REPLY,
    'p-2',
  );
  await preference(
    '+4915100000023',
    CustomerPreference.CUSTOMER_PREFERENCE_MARKETING_STOPPED,
    OptOutSource.OPT_OUT_SOURCE_USER_PREFERENCES,
    'p-3',
  );
  const sources = await waitFor(
    async () => {
      const found = await Promise.all(['+4915100000020', '+4915100000021', '+4915100000022', '+4915100000023'].map(optedOut));
      return found.every(Boolean) ? found.map((o) => o?.source) : undefined;
    },
    { what: 'every source in the opt-out list' },
  );
  assert.deepEqual(sources, [
    OptOutSource.OPT_OUT_SOURCE_META_131050,
    OptOutSource.OPT_OUT_SOURCE_STOP_KEYWORD,
    OptOutSource.OPT_OUT_SOURCE_QUICK_REPLY,
    OptOutSource.OPT_OUT_SOURCE_USER_PREFERENCES,
  ]);

  await preference(
    '+4915100000023',
    CustomerPreference.CUSTOMER_PREFERENCE_MARKETING_RESUMED,
    OptOutSource.OPT_OUT_SOURCE_USER_PREFERENCES,
    'p-4',
  );
  await waitFor(async () => (await optedOut('+4915100000023')) === undefined, { what: 'the resumed customer off the list' });
  assert.equal(harness.logLines.filter((line) => line.includes('dead-letter stream')).length, 0, 'no event was rejected');
});

test('over the send rate: RESOURCE_EXHAUSTED with RetryInfo; nothing stored, and the same request is accepted after the delay', async () => {
  const to = '+4915100000030';
  await customerWrites(to, { tenantId: 'limited', phoneNumberId: NUMBER.limited });
  // The burst of 2: the first (which may take a few tries while the window reaches the view) and one more.
  await sendOnceOpen(to, { apiKey: KEYS.limited });
  await sendText(to, { apiKey: KEYS.limited });
  let delayMs = 0;
  await assert.rejects(
    sendText(to, { apiKey: KEYS.limited, key: 'over-rate' }),
    expectRefusal(grpcStatus.RESOURCE_EXHAUSTED, (error) => {
      delayMs = retryDelayMs(error) ?? 0;
      assert.ok(delayMs > 0 && delayMs <= 1000, `retry in ${delayMs} ms`);
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  const accepted = await sendText(to, { apiKey: KEYS.limited, key: 'over-rate', body: 'a different request under the refused key' });
  assert.equal(accepted.status, MessageStatus.MESSAGE_STATUS_ACCEPTED);
});

test("two ingress replicas on one store share the send rate: scaling out does not raise a tenant's rate", async () => {
  const to = '+4915100000031';
  await customerWrites(to, { tenantId: 'limited', phoneNumberId: NUMBER.limited });
  await sendOnceOpen(to, { apiKey: KEYS.limited });
  const firstAcceptedAt = Date.now();
  // A second replica: same configuration, same data dir (the store), its own gRPC port.
  const second = await startIngress(harness.config, harness.logger);
  const secondClient = new MessagingServiceClient(`127.0.0.1:${second.grpcPort}`, credentials.createInsecure());
  try {
    const outcomes: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const viaSecond = i % 2 === 0;
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${KEYS.limited}`);
      const request = SendMessageRequest.fromPartial({
        to,
        content: { $case: 'text', value: { body: `shared ${i}`, previewUrl: false } },
        idempotencyKey: `shared-rate-${i}`,
      });
      const target = viaSecond ? secondClient : harness.client;
      outcomes.push(
        await new Promise<boolean>((resolve, reject) =>
          target.sendMessage(request, metadata, (error) =>
            !error ? resolve(true) : error.code === grpcStatus.RESOURCE_EXHAUSTED ? resolve(false) : reject(error),
          ),
        ),
      );
    }
    const elapsedS = (Date.now() - firstAcceptedAt) / 1000;
    const accepted = 1 + outcomes.filter(Boolean).length;
    // 1 per second with a burst of 2, across both replicas: per-replica buckets would accept 2 more on the second.
    assert.ok(accepted <= 2 + Math.floor(elapsedS), `${accepted} accepted in ${elapsedS.toFixed(2)} s (${outcomes.join(' ')})`);
    assert.ok(outcomes.includes(false), 'the shared rate refused some of them');
  } finally {
    secondClient.close();
    await second.stop();
  }
});

test('the daily quota: RESOURCE_EXHAUSTED until midnight UTC, still after a restart; refusals of other policies do not count', async () => {
  const to = '+4915100000040';
  await assert.rejects(sendText('+4915100000041', { apiKey: KEYS.quota }), expectRefusal(grpcStatus.FAILED_PRECONDITION));
  await customerWrites(to, { tenantId: 'quota', phoneNumberId: NUMBER.quota });
  await sendOnceOpen(to, { apiKey: KEYS.quota });
  await sendText(to, { apiKey: KEYS.quota });
  const overQuota = expectRefusal(grpcStatus.RESOURCE_EXHAUSTED, (error) => {
    const untilMidnightMs = 86_400_000 - (Date.now() % 86_400_000);
    const delayMs = retryDelayMs(error) ?? 0;
    assert.ok(Math.abs(delayMs - untilMidnightMs) < 60_000, `retry in ${delayMs} ms, midnight UTC in ${untilMidnightMs} ms`);
    assert.match(error.details, /daily send quota of 2/);
  });
  await assert.rejects(sendText(to, { apiKey: KEYS.quota, key: 'over-quota' }), overQuota);

  await harness.restart();
  // Still used up; and the refused request left nothing under its key (another request with it is no conflict).
  await assert.rejects(sendText(to, { apiKey: KEYS.quota, key: 'over-quota', body: 'another request' }), overQuota);
  assert.equal((await sendText('+4915100000001')).status, MessageStatus.MESSAGE_STATUS_ACCEPTED, 'other tenants are not limited');
});
