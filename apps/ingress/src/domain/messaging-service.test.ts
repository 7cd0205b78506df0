import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  AbortedError,
  FailedPreconditionError,
  IdempotencyConflictError,
  InvalidArgumentError,
  NotFoundError,
  type Clock,
  type MessageStatus,
} from '@waygate/domain';
import { parseTenants, type Tenant } from '@waygate/tenancy';
import { createTempDir, tenantsYaml, waitFor } from '@waygate/testing';
import { SqliteMessageStore } from '../adapters/sqlite-message-store';
import type { DeliveryCanceller } from './delivery-canceller';
import type { MessagePublisher } from './message-publisher';
import { createMessagingService, type MessagingService, type StatusReport } from './messaging-service';
import type { OutboundMessage } from './outbound-message';
import type { SendRequest } from './send-request';
import { createCustomerSealer, createInMemoryKeyring } from '@waygate/keyring';

/** Content is sealed at rest under customer keys: one in-memory keyring for the whole file. */
const sealer = createCustomerSealer(createInMemoryKeyring());

const tenants = parseTenants(
  tenantsYaml([
    { id: 'acme', homeRegion: 'eu', apiKey: 'k', phoneNumberIds: ['200', '201'] },
    { id: 'globex', homeRegion: 'eu', apiKey: 'g', phoneNumberIds: ['300'] },
  ]),
);
const acme = tenants.get('acme') as Tenant;
const globex = tenants.get('globex') as Tenant;
const T0 = 1_700_000_000_000;
/** Now, as the service sees it; tests move it to show that arrival time is not what the timeline records. */
let nowMs = T0;
const clock: Clock = { now: () => new Date(nowMs) };
const request: SendRequest = {
  to: '+4915112345678',
  content: { kind: 'text', body: 'hi', previewUrl: false },
  idempotencyKey: 'k1',
  validity: undefined,
  phoneNumberId: '',
  replyTo: '',
};

/** A publisher that records hand-offs and can be told to fail, as JetStream does when NATS is down. */
function recordingPublisher() {
  const published: string[] = [];
  let failing = false;
  const publisher: MessagePublisher = {
    async publishAccepted(message: OutboundMessage) {
      if (failing) throw new Error('nats down');
      published.push(message.messageId);
    },
  };
  return { publisher, published, setFailing: (value: boolean) => (failing = value) };
}

/** Delivery's side of CancelMessage (our own port): records calls, and answers with `failWith` when set. */
function recordingCanceller() {
  const calls: { tenantId: string; messageId: string }[] = [];
  let failWith: Error | undefined;
  const canceller: DeliveryCanceller = {
    async cancel(tenantId, messageId) {
      calls.push({ tenantId, messageId });
      if (failWith) throw failWith;
    },
  };
  return { canceller, calls, setFailure: (error: Error | undefined) => (failWith = error) };
}

let dir: ReturnType<typeof createTempDir>;
let store: SqliteMessageStore;
let publisher: ReturnType<typeof recordingPublisher>;
let canceller: ReturnType<typeof recordingCanceller>;
let service: MessagingService;
const deferred: string[] = [];

beforeEach(() => {
  nowMs = T0;
  dir = createTempDir();
  store = new SqliteMessageStore(path.join(dir.path, 'ingress.sqlite'), sealer);
  publisher = recordingPublisher();
  canceller = recordingCanceller();
  service = createMessagingService({
    store,
    publisher: publisher.publisher,
    canceller: canceller.canceller,
    clock,
    events: { publishDeferred: (m) => deferred.push(m.messageId) },
  });
});
afterEach(async () => {
  await store.close();
  dir.remove();
});

test('accepts a message with defaults: first phone number, 30-day validity', async () => {
  const message = await service.send(acme, request);
  assert.equal(message.status, 'ACCEPTED');
  assert.equal(message.phoneNumberId, '200');
  assert.equal(message.expiresAt.getTime() - message.acceptedAt.getTime(), 30 * 86_400_000);
  assert.deepEqual(publisher.published, [message.messageId]);
  // The published mark rides along with the store's next write (or commits within ms alone), after the answer.
  assert.equal(
    await waitFor(async () => (await store.get('acme', message.messageId))?.published, { until: (published) => published === true }),
    true,
  );
});

test('the same idempotency key returns the same message; a different request with it is refused', async () => {
  const first = await service.send(acme, request);
  const again = await service.send(acme, request);
  assert.equal(again.messageId, first.messageId);
  assert.deepEqual(publisher.published, [first.messageId], 'published once');
  await assert.rejects(
    service.send(acme, { ...request, content: { kind: 'text', body: 'other', previewUrl: false } }),
    IdempotencyConflictError,
  );
});

test('lists every invalid field at once', async () => {
  await assert.rejects(
    service.send(acme, {
      to: '015112345678',
      content: { kind: 'text', body: 'x'.repeat(4097), previewUrl: false },
      idempotencyKey: '',
      validity: { seconds: 31 * 86_400, nanos: 0 },
      phoneNumberId: '999',
      replyTo: '',
    }),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.deepEqual(error.violations.map((v) => v.field).sort(), ['idempotency_key', 'phone_number_id', 'text.body', 'to', 'validity']);
      return true;
    },
  );
  await assert.rejects(
    service.send(acme, { ...request, content: undefined }),
    (error: unknown) => error instanceof InvalidArgumentError && error.violations[0].field === 'content',
  );
});

test('a failed hand-off is still accepted and the outbox relay publishes it later', async () => {
  publisher.setFailing(true);
  const message = await service.send(acme, request);
  assert.equal(message.status, 'ACCEPTED');
  assert.deepEqual(deferred.slice(-1), [message.messageId]);
  publisher.setFailing(false);
  assert.equal(await service.publishPending(-1), 1);
  assert.deepEqual(publisher.published, [message.messageId]);
  assert.equal(await service.publishPending(-1), 0);
});

test('status reports move forward only, are idempotent, and keep the timeline', async () => {
  const { messageId } = await service.send(acme, request);
  const report = (eventId: string, status: 'SENT' | 'DELIVERED' | 'READ', seconds: number) => ({
    eventId,
    tenantId: 'acme',
    messageId,
    status,
    occurredAt: new Date(1_700_000_000_000 + seconds * 1000),
    source: 'webhook' as const,
    waMessageId: 'wamid.1',
  });
  assert.equal(await service.applyStatusReport(report('e1', 'SENT', 1)), 'applied');
  assert.equal(await service.applyStatusReport(report('e3', 'READ', 3)), 'applied');
  assert.equal(await service.applyStatusReport(report('e2', 'DELIVERED', 2)), 'applied');
  assert.equal(await service.applyStatusReport(report('e2', 'DELIVERED', 2)), 'duplicate');
  assert.equal(await service.applyStatusReport({ ...report('e4', 'READ', 4), tenantId: 'globex' }), 'unknown-message');
  const message = await service.get(acme, messageId);
  assert.equal(message.status, 'READ');
  assert.equal(message.waMessageId, 'wamid.1');
  assert.deepEqual(
    message.timeline.map((e) => e.status),
    ['ACCEPTED', 'SENT', 'DELIVERED', 'READ'],
  );
  await assert.rejects(service.get(acme, 'msg_unknown'), NotFoundError);
});

test("timelines order WhatsApp's whole-second timestamps after Waygate's own within the same second", async () => {
  const { messageId } = await service.send(acme, request); // accepted at 1_700_000_000_000
  const at = (ms: number) => new Date(1_700_000_000_000 + ms);
  const report = (eventId: string, status: 'SENT' | 'DELIVERED' | 'READ', occurredAt: Date, source: 'delivery' | 'webhook') => ({
    eventId,
    tenantId: 'acme',
    messageId,
    status,
    occurredAt,
    source,
  });
  await service.applyStatusReport(report('w-read', 'READ', at(0), 'webhook'));
  await service.applyStatusReport(report('w-sent', 'SENT', at(0), 'webhook'));
  await service.applyStatusReport(report('d-sent', 'SENT', at(40), 'delivery'));
  await service.applyStatusReport(report('w-delivered-late', 'DELIVERED', at(1000), 'webhook'));
  const message = await service.get(acme, messageId);
  assert.deepEqual(
    message.timeline.map((e) => e.eventId),
    [`${messageId}:accepted`, 'w-sent', 'd-sent', 'w-read', 'w-delivered-late'],
  );
  assert.equal(message.status, 'READ', 'the late delivered is recorded but does not move the status back');
});

/** A status report for `messageId` at T0 + `seconds`. */
function report(
  messageId: string,
  eventId: string,
  status: MessageStatus,
  seconds: number,
  extra: Partial<StatusReport> = {},
): StatusReport {
  return { eventId, tenantId: 'acme', messageId, status, occurredAt: new Date(T0 + seconds * 1000), source: 'webhook', ...extra };
}

async function sendOne(idempotencyKey = 'k1'): Promise<string> {
  return (await service.send(acme, { ...request, idempotencyKey })).messageId;
}

async function statusAndTimeline(messageId: string): Promise<{ status: MessageStatus; timeline: string[] }> {
  const message = await service.get(acme, messageId);
  return { status: message.status, timeline: message.timeline.map((entry) => `${entry.status}:${entry.eventId}`) };
}

test('an explicit validity is used as given, even beyond the category default; the text default is 30 days', async () => {
  const hour = await service.send(acme, { ...request, idempotencyKey: 'v1', validity: { seconds: 3600, nanos: 0 } });
  assert.equal(hour.expiresAt.getTime() - hour.acceptedAt.getTime(), 3_600_000);
  const max = await service.send(acme, { ...request, idempotencyKey: 'v2', validity: { seconds: 30 * 86_400, nanos: 0 } });
  assert.equal(max.expiresAt.getTime() - max.acceptedAt.getTime(), 30 * 86_400_000);
  await assert.rejects(
    service.send(acme, { ...request, idempotencyKey: 'v3', validity: { seconds: 30 * 86_400, nanos: 1 } }),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.deepEqual(
        error.violations.map((v) => [v.field, v.reason]),
        [['validity', 'OUT_OF_RANGE']],
      );
      return true;
    },
  );
});

// --- The state machine as GetMessage shows it (docs/message-status.md), one test per rule. ---

test('rule: statuses only move forward, ACCEPTED < SENT < DELIVERED < READ; an older report is recorded but changes nothing', async () => {
  const id = await sendOne();
  await service.applyStatusReport(report(id, 'd', 'DELIVERED', 2));
  await service.applyStatusReport(report(id, 's', 'SENT', 1));
  assert.deepEqual(await statusAndTimeline(id), {
    status: 'DELIVERED',
    timeline: [`ACCEPTED:${id}:accepted`, 'SENT:s', 'DELIVERED:d'],
  });
});

test('rule: a late delivered after read is recorded in the timeline and the status stays READ', async () => {
  const id = await sendOne();
  await service.applyStatusReport(report(id, 's', 'SENT', 1));
  await service.applyStatusReport(report(id, 'r', 'READ', 3));
  assert.equal(await service.applyStatusReport(report(id, 'd', 'DELIVERED', 2)), 'applied');
  assert.deepEqual(await statusAndTimeline(id), {
    status: 'READ',
    timeline: [`ACCEPTED:${id}:accepted`, 'SENT:s', 'DELIVERED:d', 'READ:r'],
  });
});

test('rule: read without delivered implies delivered (status READ, no delivered entry is invented)', async () => {
  const id = await sendOne();
  await service.applyStatusReport(report(id, 's', 'SENT', 1));
  await service.applyStatusReport(report(id, 'r', 'READ', 2));
  assert.deepEqual(await statusAndTimeline(id), { status: 'READ', timeline: [`ACCEPTED:${id}:accepted`, 'SENT:s', 'READ:r'] });
});

for (const reached of ['DELIVERED', 'READ'] as const) {
  test(`rule: a failed after ${reached} (another device) keeps ${reached}; the timeline entry carries the error`, async () => {
    const id = await sendOne();
    await service.applyStatusReport(report(id, 's', 'SENT', 1));
    await service.applyStatusReport(report(id, 'x', reached, 2));
    await service.applyStatusReport(report(id, 'f', 'FAILED', 3, { errorCode: 131026, errorTitle: 'Message undeliverable' }));
    const message = await service.get(acme, id);
    assert.equal(message.status, reached);
    assert.deepEqual(message.content, request.content, 'a delivered message is not a failed one: its content stays');
    const failure = message.timeline.find((entry) => entry.eventId === 'f');
    assert.deepEqual([failure?.status, failure?.errorCode, failure?.errorTitle], ['FAILED', 131026, 'Message undeliverable']);
  });
}

test('rule: a failure before delivery is FAILED, with its error in the timeline and the content deleted', async () => {
  const id = await sendOne();
  await service.applyStatusReport(report(id, 's', 'SENT', 1));
  await service.applyStatusReport(report(id, 'f', 'FAILED', 2, { errorCode: 131047, errorTitle: 'Re-engagement message' }));
  const message = await service.get(acme, id);
  assert.equal(message.status, 'FAILED');
  assert.equal(message.content, undefined);
  assert.equal(message.timeline.at(-1)?.errorCode, 131047);
});

test('rule: a failure delivery-retry retries (131049) is recorded but not terminal; the new send records its new wamid', async () => {
  const id = await sendOne();
  await service.applyStatusReport(report(id, `${id}:delivery:sent:1`, 'SENT', 1, { source: 'delivery', waMessageId: 'wamid.first' }));
  await service.applyStatusReport(report(id, 'wa:wamid.first:failed', 'FAILED', 2, { errorCode: 131049, waMessageId: 'wamid.first' }));
  let message = await service.get(acme, id);
  assert.deepEqual([message.status, message.timeline.at(-1)?.errorCode, message.content !== undefined], ['SENT', 131049, true]);
  await service.applyStatusReport(report(id, `${id}:delivery:sent:2`, 'SENT', 90_000, { source: 'delivery', waMessageId: 'wamid.second' }));
  await service.applyStatusReport(report(id, 'wa:wamid.second:delivered', 'DELIVERED', 90_001, { waMessageId: 'wamid.second' }));
  message = await service.get(acme, id);
  assert.deepEqual([message.status, message.waMessageId], ['DELIVERED', 'wamid.second']);
});

test('rule: a FAILED from delivery-retry is final whatever its code (delivery-retry decided not to send it again)', async () => {
  const id = await sendOne();
  await service.applyStatusReport(report(id, `${id}:delivery:sent:1`, 'SENT', 1, { source: 'delivery', waMessageId: 'wamid.first' }));
  await service.applyStatusReport(report(id, `${id}:delivery:failed`, 'FAILED', 2, { source: 'delivery', errorCode: 131049 }));
  const message = await service.get(acme, id);
  assert.deepEqual([message.status, message.content], ['FAILED', undefined]);
});

for (const terminal of ['FAILED', 'EXPIRED', 'CANCELED'] as const) {
  test(`rule: ${terminal} is terminal: later reports are recorded and the status stays`, async () => {
    const id = await sendOne();
    await service.applyStatusReport(report(id, 't', terminal, 1, { source: 'delivery' }));
    for (const [index, later] of (['SENT', 'DELIVERED', 'READ', 'FAILED', 'EXPIRED', 'CANCELED'] as const).entries()) {
      await service.applyStatusReport(report(id, `later-${later}`, later, 2 + index));
    }
    const message = await service.get(acme, id);
    assert.equal(message.status, terminal);
    assert.equal(message.timeline.length, 8, 'every report is in the timeline');
    assert.equal(message.content, undefined, 'content deleted');
  });
}

test("rule: timeline entries carry the reported time (Meta's timestamp), not the arrival time", async () => {
  const id = await sendOne();
  nowMs = T0 + 3_600_000; // the webhook arrives an hour late
  await service.applyStatusReport(report(id, 'd', 'DELIVERED', 5));
  const entry = (await service.get(acme, id)).timeline.find((e) => e.eventId === 'd');
  assert.equal(entry?.occurredAt.getTime(), T0 + 5000);
});

test('rule: a duplicate event id has one effect, even if its content differs', async () => {
  const id = await sendOne();
  assert.equal(await service.applyStatusReport(report(id, 'e1', 'SENT', 1)), 'applied');
  assert.equal(await service.applyStatusReport(report(id, 'e1', 'SENT', 1)), 'duplicate');
  assert.equal(await service.applyStatusReport(report(id, 'e1', 'FAILED', 9)), 'duplicate');
  assert.deepEqual(await statusAndTimeline(id), { status: 'SENT', timeline: [`ACCEPTED:${id}:accepted`, 'SENT:e1'] });
});

test('rule: an attempt that will be retried (reported ACCEPTED) is recorded with its attempt and next attempt; the status stays', async () => {
  const id = await sendOne();
  const retry = report(id, `${id}:delivery:attempt:1`, 'ACCEPTED', 1, {
    source: 'delivery',
    attempt: 1,
    nextAttemptAt: new Date(T0 + 31_000),
    errorCode: 131000,
    errorTitle: 'Something went wrong',
  });
  assert.equal(await service.applyStatusReport(retry), 'applied');
  await service.applyStatusReport(report(id, `${id}:delivery:sent`, 'SENT', 31, { source: 'delivery', attempt: 2 }));
  const message = await service.get(acme, id);
  assert.equal(message.status, 'SENT');
  assert.deepEqual(
    message.timeline.map((e) => [e.status, e.attempt, e.nextAttemptAt?.getTime(), e.errorCode]),
    [
      ['ACCEPTED', undefined, undefined, undefined],
      ['ACCEPTED', 1, T0 + 31_000, 131000],
      ['SENT', 2, undefined, undefined],
    ],
  );
  const onlyRetry = await sendOne('k2');
  await service.applyStatusReport({ ...retry, messageId: onlyRetry, eventId: 'retry-only' });
  assert.equal((await service.get(acme, onlyRetry)).status, 'ACCEPTED');
});

// --- Content deletion and idempotency ---

test('after the content is deleted, SendMessage replayed with the key returns the original message; a different request is still refused', async () => {
  const first = await service.send(acme, request);
  await service.applyStatusReport(report(first.messageId, 'x', 'EXPIRED', 1, { source: 'delivery' }));
  const replay = await service.send(acme, request);
  assert.equal(replay.messageId, first.messageId);
  assert.equal(replay.status, 'EXPIRED');
  assert.equal(replay.content, undefined);
  assert.deepEqual(publisher.published, [first.messageId], 'nothing handed off again');
  await assert.rejects(
    service.send(acme, { ...request, content: { kind: 'text', body: 'other', previewUrl: false } }),
    IdempotencyConflictError,
  );
});

// --- CancelMessage ---

test("cancel: an ACCEPTED message is cancelled by delivery for the caller's tenant, then CANCELED with its content deleted", async () => {
  const id = await sendOne();
  nowMs = T0 + 7000;
  const canceled = await service.cancel(acme, id);
  assert.deepEqual(canceller.calls, [{ tenantId: 'acme', messageId: id }]);
  assert.equal(canceled.status, 'CANCELED');
  assert.equal(canceled.content, undefined);
  assert.deepEqual(
    canceled.timeline.map((e) => [e.eventId, e.status, e.source, e.occurredAt.getTime()]),
    [
      [`${id}:accepted`, 'ACCEPTED', 'ingress', T0],
      [`${id}:delivery:canceled`, 'CANCELED', 'delivery', T0 + 7000],
    ],
  );
  // delivery-retry's own CANCELED event, arriving later over NATS, is the same event: no second effect.
  assert.equal(await service.applyStatusReport(report(id, `${id}:delivery:canceled`, 'CANCELED', 8, { source: 'delivery' })), 'duplicate');
  assert.equal((await service.get(acme, id)).timeline.length, 2);
});

test('cancel: cancelling a CANCELED message again succeeds without asking delivery', async () => {
  const id = await sendOne();
  await service.cancel(acme, id);
  const again = await service.cancel(acme, id);
  assert.equal(again.status, 'CANCELED');
  assert.equal(canceller.calls.length, 1);
});

test('cancel: a message delivery already cancelled (its event arrived first) is CANCELED without asking delivery', async () => {
  const id = await sendOne();
  await service.applyStatusReport(report(id, `${id}:delivery:canceled`, 'CANCELED', 1, { source: 'delivery' }));
  assert.equal((await service.cancel(acme, id)).status, 'CANCELED');
  assert.equal(canceller.calls.length, 0);
});

for (const status of ['SENT', 'DELIVERED', 'READ', 'FAILED', 'EXPIRED'] as const) {
  test(`cancel: FAILED_PRECONDITION naming the status when the message is ${status}, and delivery is not asked`, async () => {
    const id = await sendOne();
    await service.applyStatusReport(report(id, 'x', status, 1));
    await assert.rejects(service.cancel(acme, id), (error: unknown) => {
      assert.ok(error instanceof FailedPreconditionError);
      assert.match(error.message, new RegExp(`is ${status} and can no longer be canceled`));
      assert.deepEqual(error.violations, [
        { type: 'MESSAGE_STATUS', subject: `messages/${id}`, description: `status is ${status}; only an ACCEPTED message can be canceled` },
      ]);
      return true;
    });
    assert.equal(canceller.calls.length, 0);
    assert.equal((await service.get(acme, id)).status, status);
  });
}

test("cancel: another tenant's message and an unknown id are both NOT_FOUND, a malformed id INVALID_ARGUMENT; delivery is not asked", async () => {
  const id = await sendOne();
  await assert.rejects(service.cancel(globex, id), NotFoundError);
  await assert.rejects(service.cancel(acme, 'msg_unknown'), NotFoundError);
  for (const bad of ['', 'm'.repeat(10_000), 'msg 1']) {
    await assert.rejects(
      service.cancel(acme, bad),
      (error: unknown) => error instanceof InvalidArgumentError && error.violations[0]?.field === 'message_id',
    );
  }
  assert.equal(canceller.calls.length, 0);
  assert.equal((await service.get(acme, id)).status, 'ACCEPTED');
});

test('cancel: when delivery refuses (send in flight), nothing is recorded and the content stays', async () => {
  const id = await sendOne();
  canceller.setFailure(new AbortedError('a send is in flight'));
  await assert.rejects(service.cancel(acme, id), AbortedError);
  const message = await service.get(acme, id);
  assert.equal(message.status, 'ACCEPTED');
  assert.deepEqual(message.content, request.content);
  assert.equal(message.timeline.length, 1);
});

test('cancel before the hand-off: the outbox relay never publishes it, and a replayed send does not either', async () => {
  publisher.setFailing(true);
  const id = await sendOne();
  publisher.setFailing(false);
  await service.cancel(acme, id);
  assert.equal(await service.publishPending(-1), 0);
  assert.equal((await service.send(acme, request)).messageId, id);
  assert.deepEqual(publisher.published, [], 'no MessageAccepted for a cancelled message');
  assert.equal((await store.get('acme', id))?.published, false);
});

test('send policies run in order, see earlier facts, and shape the expiry; a refusal stores nothing', async () => {
  const seen: string[] = [];
  let refuse = false;
  const withPolicies = createMessagingService({
    store,
    publisher: publisher.publisher,
    canceller: canceller.canceller,
    clock,
    events: { publishDeferred: () => undefined },
    policies: [
      { name: 'first', check: () => (seen.push('first'), { defaultValiditySeconds: 600 }) },
      {
        name: 'second',
        check: ({ facts }) => {
          seen.push(`second saw ${facts.defaultValiditySeconds}`);
          if (refuse) throw new FailedPreconditionError('closed', [{ type: 'SERVICE_WINDOW_CLOSED', subject: 'x', description: 'y' }]);
          return { notAfter: new Date(T0 + 300_000) };
        },
      },
    ],
  });
  const message = await withPolicies.send(acme, request);
  assert.deepEqual(seen, ['first', 'second saw 600']);
  assert.equal(message.expiresAt.getTime(), T0 + 300_000, 'notAfter caps the policy default');
  const explicit = await withPolicies.send(acme, { ...request, idempotencyKey: 'k2', validity: { seconds: 120, nanos: 0 } });
  assert.equal(explicit.expiresAt.getTime(), T0 + 120_000, 'an explicit validity is kept (within notAfter)');

  refuse = true;
  seen.length = 0;
  const replay = await withPolicies.send(acme, request);
  assert.equal(replay.messageId, message.messageId, 'a retry is answered from the store');
  assert.deepEqual(seen, [], 'without running the policies again');
  await assert.rejects(withPolicies.send(acme, { ...request, idempotencyKey: 'k3' }), FailedPreconditionError);
  assert.equal(await store.findByIdempotencyKey('acme', 'k3'), undefined, 'nothing stored for a refused send');
});

test('metrics: a new message is counted once per tenant (not its replays), and every status a message goes through once', async () => {
  const counted: string[] = [];
  const counting = createMessagingService({
    store,
    publisher: publisher.publisher,
    canceller: canceller.canceller,
    clock,
    events: { publishDeferred: () => undefined },
    metrics: {
      accepted: (tenantId) => counted.push(`accepted ${tenantId}`),
      statusChanged: (tenantId, status) => counted.push(`${status} ${tenantId}`),
    },
  });
  const first = (await counting.send(acme, { ...request, idempotencyKey: 'm1' })).messageId;
  await counting.send(acme, { ...request, idempotencyKey: 'm1' });
  const second = (await counting.send(globex, { ...request, idempotencyKey: 'm2' })).messageId;
  assert.deepEqual(
    counted.splice(0),
    ['accepted acme', 'ACCEPTED acme', 'accepted globex', 'ACCEPTED globex'],
    'the replay is not counted',
  );

  const delivery = { source: 'delivery' as const, waMessageId: 'wamid.m1' };
  await counting.applyStatusReport(report(first, 'retry', 'ACCEPTED', 1, { source: 'delivery', attempt: 1 }));
  await counting.applyStatusReport(report(first, 'd:sent', 'SENT', 2, delivery));
  await counting.applyStatusReport(report(first, 'wa:sent', 'SENT', 2));
  await counting.applyStatusReport(report(first, 'd:sent', 'SENT', 2, delivery));
  await counting.applyStatusReport(report(first, 'wa:read', 'READ', 4));
  await counting.applyStatusReport(report(first, 'wa:delivered', 'DELIVERED', 3));
  await counting.applyStatusReport(report(first, 'wa:failed', 'FAILED', 5, { errorCode: 131026 }));
  assert.deepEqual(
    counted.splice(0),
    ['SENT acme', 'DELIVERED acme', 'READ acme'],
    'a retried attempt, the second SENT, a duplicate, a late DELIVERED and a failure after READ change no status',
  );

  await counting.applyStatusReport({ ...report(second, 'g:failed', 'FAILED', 1, { errorCode: 131049 }), tenantId: 'globex' });
  await counting.applyStatusReport({
    ...report(second, 'g:failed:d', 'FAILED', 2, { source: 'delivery', errorCode: 131026 }),
    tenantId: 'globex',
  });
  await counting.applyStatusReport({ ...report(second, 'g:expired', 'EXPIRED', 3, { source: 'delivery' }), tenantId: 'globex' });
  assert.deepEqual(
    counted.splice(0),
    ['FAILED globex'],
    'a webhook failure delivery-retry retries is not the end; its own FAILED is, once',
  );

  const third = (await counting.send(acme, { ...request, idempotencyKey: 'm3' })).messageId;
  await counting.cancel(acme, third);
  await counting.applyStatusReport(report(third, `${third}:delivery:canceled`, 'CANCELED', 1, { source: 'delivery' }));
  assert.deepEqual(
    counted.splice(0),
    ['accepted acme', 'ACCEPTED acme', 'CANCELED acme'],
    "delivery's CANCELED event after the cancel is a duplicate",
  );
});
