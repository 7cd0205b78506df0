import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations, preconditionViolations, startGrpcServer, type RunningGrpcServer } from '@waygate/grpc';
import { ORDER_KEY_HEADER, publishEvent, regionSubjects } from '@waygate/nats';
import {
  DeliveryAdminServiceService,
  DeliveryState,
  MessageStatus,
  MessageStatusChanged,
  SendMessageRequest,
  SERVICE_NAMES,
  SERVICE_PROTO_FILES,
  StatusSource,
  type CancelMessageResponse,
  type DeliveryAdminServiceServer,
  type Message,
  type SendMessageResponse,
} from '@waygate/proto';
import { parseTenants } from '@waygate/tenancy';
import { tenantsYaml, waitFor, type TestTenant } from '@waygate/testing';
import { startIngressHarness, type IngressHarness } from './testing/ingress-harness';

const KEYS = { acme: 'key-acme', globex: 'key-globex' };
const TENANTS: TestTenant[] = [
  { id: 'acme', homeRegion: 'eu', apiKey: KEYS.acme, phoneNumberIds: ['200'] },
  { id: 'globex', homeRegion: 'eu', apiKey: KEYS.globex, phoneNumberIds: ['300'] },
];
const subjects = regionSubjects('eu');
const T0 = Date.UTC(2025, 0, 1);

const INTERNAL_TOKEN = 'internal-token-0123456789abcdef0123456789';

/**
 * A small DeliveryAdminService of our own standing in for delivery-retry, internal like delivery-retry's (it accepts
 * only the region's service token, with the tenant in `x-waygate-tenant-id`). It cancels unless told otherwise.
 */
const cancelCalls: { messageId: string; authorization: unknown; tenantId: unknown }[] = [];
const refusals = new Map<string, grpcStatus>();
const deliveryAdmin: DeliveryAdminServiceServer = {
  getDelivery: (_call, callback) => callback({ code: grpcStatus.UNIMPLEMENTED, details: 'not in this test' }),
  cancelDelivery: (call, callback) => {
    const { messageId } = call.request;
    cancelCalls.push({
      messageId,
      authorization: call.metadata.get('authorization')[0],
      tenantId: call.metadata.get('x-waygate-tenant-id')[0],
    });
    const refusal = refusals.get(messageId);
    if (refusal !== undefined) return callback({ code: refusal, details: 'refused by the test' });
    callback(null, {
      delivery: {
        messageId,
        state: DeliveryState.DELIVERY_STATE_CANCELED,
        attempts: 0,
        waMessageId: '',
        lastErrorCode: 0,
        lastErrorTitle: '',
        nextAttemptAt: undefined,
        expiresAt: undefined,
      },
    });
  },
};

let harness: IngressHarness;
let delivery: RunningGrpcServer;
let deliveryStopped = false;

before(async () => {
  harness = await startIngressHarness({
    tenants: TENANTS,
    env: { WAYGATE_INTERNAL_SERVICE_TOKEN: INTERNAL_TOKEN },
    startBeside: async () => {
      delivery = await startGrpcServer({
        host: '127.0.0.1',
        port: 0,
        tenants: parseTenants(tenantsYaml(TENANTS)),
        region: 'eu',
        internalServiceToken: INTERNAL_TOKEN,
        services: [
          {
            name: SERVICE_NAMES.deliveryAdmin,
            protoFile: SERVICE_PROTO_FILES.deliveryAdmin,
            definition: DeliveryAdminServiceService,
            access: 'internal',
            implementation: deliveryAdmin,
          },
        ],
      });
      return {
        env: { WAYGATE_DELIVERY_ADDRESS: `127.0.0.1:${delivery.port}` },
        stop: async () => {
          if (!deliveryStopped) await delivery.shutdown(1000);
        },
      };
    },
  });
  // Free-form text needs an open customer-service window: the customer writes to each tenant's number first.
  await customerWrites('acme', '200', 'wamid.hello-acme');
  await customerWrites('globex', '300', 'wamid.hello-globex');
  await waitFor(
    () =>
      sendMessage(KEYS.acme).then(
        () => sendMessage(KEYS.globex).then(() => true),
        () => false,
      ),
    {
      what: "the customers' windows in ingress's view",
    },
  );
});

/** Publishes receipt's InboundMessageReceived for the test customer writing to `phoneNumberId` now. */
const customerWrites = (tenantId: string, phoneNumberId: string, waMessageId: string) =>
  harness.customerWrites({ tenantId, phoneNumberId, from: '+4915112345678', waMessageId });

after(() => harness?.stop());

let keys = 0;
async function sendMessage(apiKey = KEYS.acme): Promise<string> {
  const response = await harness.unary<SendMessageResponse>(
    'sendMessage',
    SendMessageRequest.fromPartial({
      to: '+4915112345678',
      content: { $case: 'text', value: { body: 'your code is 1234', previewUrl: false } },
      idempotencyKey: `k-${++keys}`,
    }),
    apiKey,
  );
  return response.messageId;
}

/** SendMessage with `overrides` on a valid request, expecting it accepted. */
const sendMessageWith = (overrides: Partial<SendMessageRequest>) =>
  harness.unary<SendMessageResponse>(
    'sendMessage',
    SendMessageRequest.fromPartial({
      to: '+4915112345678',
      content: { $case: 'text', value: { body: 'hello', previewUrl: false } },
      idempotencyKey: `k-${++keys}`,
      ...overrides,
    }),
    KEYS.acme,
  );

const getMessage = (messageId: string, apiKey = KEYS.acme) => harness.unary<Message>('getMessage', { messageId }, apiKey);
const cancelMessage = (messageId: string, apiKey = KEYS.acme) =>
  harness.unary<CancelMessageResponse>('cancelMessage', { messageId }, apiKey);

async function publishStatus(event: Partial<MessageStatusChanged> & { eventId: string; messageId: string }): Promise<void> {
  const source = event.source ?? StatusSource.STATUS_SOURCE_DELIVERY;
  const data = MessageStatusChanged.encode(
    MessageStatusChanged.fromPartial({ tenantId: 'acme', occurredAt: new Date(T0), source, ...event }),
  ).finish();
  await publishEvent(
    harness.events.js,
    source === StatusSource.STATUS_SOURCE_DELIVERY ? subjects.deliveryEvents : subjects.receiptEvents,
    data,
    event.eventId,
  );
}

const hasCode = (code: grpcStatus) => (error: unknown) => (error as ServiceError).code === code;

test("CancelMessage asks delivery-retry with the region's service token for the caller's tenant; CANCELED, and delivery's own event is a duplicate", async () => {
  const messageId = await sendMessage();
  const response = await cancelMessage(messageId);
  assert.equal(response.status, MessageStatus.MESSAGE_STATUS_CANCELED);
  assert.deepEqual(cancelCalls.at(-1), { messageId, authorization: `Bearer ${INTERNAL_TOKEN}`, tenantId: 'acme' });

  const canceled = await getMessage(messageId);
  assert.equal(canceled.status, MessageStatus.MESSAGE_STATUS_CANCELED);
  assert.deepEqual(
    canceled.timeline.map((entry) => [entry.status, entry.source]),
    [
      [MessageStatus.MESSAGE_STATUS_ACCEPTED, 'ingress'],
      [MessageStatus.MESSAGE_STATUS_CANCELED, 'delivery'],
    ],
  );

  // delivery-retry's CANCELED event arrives afterwards; the consumer handles events in stream order, so once the
  // marker published after it is recorded, the duplicate has been handled too.
  await publishStatus({ eventId: `${messageId}:delivery:canceled`, messageId, status: MessageStatus.MESSAGE_STATUS_CANCELED });
  await publishStatus({
    eventId: `${messageId}:late-delivered`,
    messageId,
    status: MessageStatus.MESSAGE_STATUS_DELIVERED,
    source: StatusSource.STATUS_SOURCE_WEBHOOK,
    occurredAt: new Date(T0 + 5000),
  });
  const after = await waitFor(
    async () => {
      const message = await getMessage(messageId);
      return message.timeline.length === 3 ? message : undefined;
    },
    { what: 'the marker event recorded' },
  );
  assert.equal(after.status, MessageStatus.MESSAGE_STATUS_CANCELED, 'terminal');
  assert.equal(after.timeline.filter((entry) => entry.status === MessageStatus.MESSAGE_STATUS_CANCELED).length, 1, 'one effect');

  const callsBefore = cancelCalls.length;
  assert.equal((await cancelMessage(messageId)).status, MessageStatus.MESSAGE_STATUS_CANCELED, 'cancelling again succeeds');
  assert.equal(cancelCalls.length, callsBefore, 'without asking delivery-retry again');
});

test("delivery-retry's refusals reach the caller with their code, and the message stays ACCEPTED", async () => {
  for (const code of [grpcStatus.FAILED_PRECONDITION, grpcStatus.ABORTED, grpcStatus.NOT_FOUND, grpcStatus.UNAVAILABLE]) {
    const messageId = await sendMessage();
    refusals.set(messageId, code);
    await assert.rejects(cancelMessage(messageId), (error: unknown) => {
      assert.equal((error as ServiceError).code, code, grpcStatus[code]);
      if (code === grpcStatus.FAILED_PRECONDITION) {
        assert.match((error as ServiceError).details, /can no longer be canceled/);
        assert.deepEqual(
          preconditionViolations(error as ServiceError).map((v) => [v.type, v.subject]),
          [['DELIVERY_STATE', `messages/${messageId}`]],
        );
      }
      return true;
    });
    assert.equal((await getMessage(messageId)).status, MessageStatus.MESSAGE_STATUS_ACCEPTED);
  }
});

test('a message ingress knows was SENT is FAILED_PRECONDITION with a PreconditionFailure, without asking delivery-retry', async () => {
  const messageId = await sendMessage();
  await publishStatus({
    eventId: `${messageId}:delivery:sent`,
    messageId,
    status: MessageStatus.MESSAGE_STATUS_SENT,
    attempt: 1,
    waMessageId: 'wamid.1',
  });
  await waitFor(async () => (await getMessage(messageId)).status === MessageStatus.MESSAGE_STATUS_SENT, { what: 'SENT recorded' });
  const callsBefore = cancelCalls.length;
  await assert.rejects(cancelMessage(messageId), (error: unknown) => {
    assert.equal((error as ServiceError).code, grpcStatus.FAILED_PRECONDITION);
    assert.match((error as ServiceError).details, /is SENT and can no longer be canceled/);
    assert.deepEqual(preconditionViolations(error as ServiceError), [
      { type: 'MESSAGE_STATUS', subject: `messages/${messageId}`, description: 'status is SENT; only an ACCEPTED message can be canceled' },
    ]);
    return true;
  });
  assert.equal(cancelCalls.length, callsBefore);
});

test("another tenant's message is NOT_FOUND, exactly like an unknown id, and delivery-retry is never asked", async () => {
  const messageId = await sendMessage(KEYS.globex);
  const callsBefore = cancelCalls.length;
  await assert.rejects(cancelMessage(messageId, KEYS.acme), hasCode(grpcStatus.NOT_FOUND));
  await assert.rejects(cancelMessage('msg_unknown', KEYS.acme), hasCode(grpcStatus.NOT_FOUND));
  assert.equal(cancelCalls.length, callsBefore);
  assert.equal((await getMessage(messageId, KEYS.globex)).status, MessageStatus.MESSAGE_STATUS_ACCEPTED);
});

test('GetMessage and CancelMessage validate ids alike: empty, over-long or malformed is INVALID_ARGUMENT, never echoed', async () => {
  const callsBefore = cancelCalls.length;
  const huge = `msg_${'5'.repeat(10_000)}`;
  for (const call of [getMessage, cancelMessage]) {
    for (const [id, reason] of [
      ['', 'REQUIRED'],
      [huge, 'TOO_LONG'],
      ['msg 1\u0000', 'INVALID_FORMAT'],
    ] as const) {
      await assert.rejects(call(id), (error: unknown) => {
        assert.equal((error as ServiceError).code, grpcStatus.INVALID_ARGUMENT);
        assert.deepEqual(
          badRequestViolations(error as ServiceError).map((v) => [v.field, v.reason]),
          [['message_id', reason]],
        );
        assert.ok(!(error as ServiceError).details.includes('5555'), 'the id is not echoed');
        return true;
      });
    }
  }
  assert.equal(cancelCalls.length, callsBefore);
});

test('GetMessage shows delivery attempts: a retried attempt keeps the status and says when the next one is due', async () => {
  const messageId = await sendMessage();
  await publishStatus({
    eventId: `${messageId}:delivery:attempt:1`,
    messageId,
    status: MessageStatus.MESSAGE_STATUS_ACCEPTED,
    attempt: 1,
    nextAttemptAt: new Date(T0 + 30_000),
    errorCode: 131000,
    errorTitle: 'Something went wrong',
  });
  const message = await waitFor(
    async () => {
      const got = await getMessage(messageId);
      return got.timeline.length === 2 ? got : undefined;
    },
    { what: 'the attempt recorded' },
  );
  assert.equal(message.status, MessageStatus.MESSAGE_STATUS_ACCEPTED);
  const accepted = message.timeline.find((entry) => entry.source === 'ingress');
  const attempt = message.timeline.find((entry) => entry.source === 'delivery');
  assert.ok(accepted && attempt);
  assert.deepEqual([accepted.attempt, accepted.nextAttemptAt], [0, undefined]);
  assert.deepEqual(
    [attempt.status, attempt.attempt, attempt.nextAttemptAt?.getTime(), attempt.errorCode, attempt.source],
    [MessageStatus.MESSAGE_STATUS_ACCEPTED, 1, T0 + 30_000, 131000, 'delivery'],
  );
});

/** SendMessage with `overrides` on a valid request; resolves with the BadRequest's [field, reason] pairs of its INVALID_ARGUMENT. */
async function sendViolations(overrides: Partial<SendMessageRequest>): Promise<[string, string][]> {
  const request = SendMessageRequest.fromPartial({
    to: '+4915112345678',
    content: { $case: 'text', value: { body: 'hello', previewUrl: false } },
    idempotencyKey: `invalid-${++keys}`,
    ...overrides,
  });
  const error = await harness.unary<SendMessageResponse>('sendMessage', request, KEYS.acme).then(
    () => assert.fail('accepted'),
    (rejected: ServiceError) => rejected,
  );
  assert.equal(error.code, grpcStatus.INVALID_ARGUMENT, error.details);
  return badRequestViolations(error).map((v) => [v.field, v.reason]);
}

test('SendMessage refuses a text body with control characters (NUL, BEL, ESC, DEL) with a BadRequest naming text.body', async () => {
  for (const body of ['\u0000', 'ding \u0007', '\u001b[2J cleared', 'rubout \u007f']) {
    const request = { content: { $case: 'text' as const, value: { body, previewUrl: false } } };
    assert.deepEqual(await sendViolations(request), [['text.body', 'INVALID_CHARACTER']], JSON.stringify(body));
  }
  const multiline = await sendMessageWith({ content: { $case: 'text', value: { body: 'line 1\r\nline 2\tend', previewUrl: false } } });
  assert.equal(multiline.status, MessageStatus.MESSAGE_STATUS_ACCEPTED, 'tab, CR and LF are text');
});

test('SendMessage refuses a validity that is not a Duration, or under 30 seconds, or over 30 days', async () => {
  assert.deepEqual(await sendViolations({ validity: { seconds: '10', nanos: 2_000_000_000 } }), [['validity.nanos', 'INVALID_FORMAT']]);
  assert.deepEqual(await sendViolations({ validity: { seconds: '-1', nanos: 5 } }), [['validity.nanos', 'INVALID_FORMAT']]);
  assert.deepEqual(await sendViolations({ validity: { seconds: '0', nanos: 1 } }), [['validity', 'OUT_OF_RANGE']]);
  assert.deepEqual(await sendViolations({ validity: { seconds: '29', nanos: 0 } }), [['validity', 'OUT_OF_RANGE']]);
  assert.deepEqual(await sendViolations({ validity: { seconds: '2592000', nanos: 1 } }), [['validity', 'OUT_OF_RANGE']]);
  assert.deepEqual(await sendViolations({ validity: { seconds: '9223372036854775807', nanos: 0 } }), [
    ['validity.seconds', 'INVALID_FORMAT'],
  ]);

  const shortest = await sendMessageWith({ validity: { seconds: '30', nanos: 0 } });
  const message = await getMessage(shortest.messageId);
  assert.equal((message.expiresAt?.getTime() ?? 0) - (message.acceptedAt?.getTime() ?? 0), 30_000);
});

test('inbound messages on the events stream are not status events: acknowledged without a rejection', async () => {
  const messageId = await sendMessage();
  await customerWrites('acme', '200', 'wamid.in1');
  await publishStatus({ eventId: `${messageId}:after-inbound`, messageId, status: MessageStatus.MESSAGE_STATUS_SENT });
  await waitFor(async () => (await getMessage(messageId)).status === MessageStatus.MESSAGE_STATUS_SENT, { what: 'the later status' });
  assert.equal(harness.logLines.filter((line) => line.includes('dead-letter stream')).length, 0, harness.logLines.join(''));
});

test('with delivery-retry down, CancelMessage is UNAVAILABLE and the message stays ACCEPTED', async () => {
  const messageId = await sendMessage();
  await delivery.shutdown(1000);
  deliveryStopped = true;
  await assert.rejects(cancelMessage(messageId), hasCode(grpcStatus.UNAVAILABLE));
  assert.equal((await getMessage(messageId)).status, MessageStatus.MESSAGE_STATUS_ACCEPTED);
});

test("a message's status events keyed by its id are applied in stream order while other messages' run in parallel", async () => {
  // Each message is sent again after a failure: delivery's SENT for attempt 2 names the new wamid, and only applying
  // attempt 1's SENT before attempt 2's leaves that one (the status state machine relies on per-message order).
  const messageIds = await Promise.all(Array.from({ length: 12 }, () => sendMessage()));
  // Published back to back on one connection (its order is the stream's order), so the consumer has both at once.
  await Promise.all(
    messageIds.flatMap((messageId) =>
      [1, 2].map((attempt) =>
        publishEvent(
          harness.events.js,
          subjects.deliveryEvents,
          MessageStatusChanged.encode(
            MessageStatusChanged.fromPartial({
              tenantId: 'acme',
              messageId,
              eventId: `${messageId}:delivery:sent:${attempt}`,
              status: MessageStatus.MESSAGE_STATUS_SENT,
              waMessageId: `wamid.${messageId}.${attempt}`,
              // Attempt 1 also teaches the recipient's wa_id: its handling takes one durable write longer, so
              // attempt 2 would overtake it if the two were not kept in order.
              ...(attempt === 1 ? { recipient: '+4915112345678', recipientWaId: '4915112345678' } : {}),
              attempt,
              occurredAt: new Date(T0 + attempt),
              source: StatusSource.STATUS_SOURCE_DELIVERY,
            }),
          ).finish(),
          `${messageId}:delivery:sent:${attempt}`,
          { [ORDER_KEY_HEADER]: messageId },
        ),
      ),
    ),
  );
  const messages = await waitFor(
    async () => {
      const got = await Promise.all(messageIds.map((messageId) => getMessage(messageId)));
      return got.every((message) => message.timeline.length === 3) ? got : undefined;
    },
    { what: 'both SENT events applied to every message' },
  );
  assert.deepEqual(
    messages.map((message) => message.waMessageId),
    messageIds.map((messageId) => `wamid.${messageId}.2`),
  );
});
