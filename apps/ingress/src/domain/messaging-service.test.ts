import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { IdempotencyConflictError, InvalidArgumentError, NotFoundError, type Clock } from '@waygate/domain';
import { parseTenants, type Tenant } from '@waygate/tenancy';
import { createTempDir, tenantsYaml } from '@waygate/testing';
import { SqliteMessageStore } from '../adapters/sqlite-message-store';
import type { MessagePublisher } from './message-publisher';
import { createMessagingService, type MessagingService } from './messaging-service';
import type { OutboundMessage } from './outbound-message';
import type { SendRequest } from './send-request';

const tenants = parseTenants(tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'k', phoneNumberIds: ['200', '201'] }]));
const acme = tenants.get('acme') as Tenant;
const clock: Clock = { now: () => new Date(1_700_000_000_000) };
const request: SendRequest = {
  to: '+4915112345678',
  content: { kind: 'text', body: 'hi', previewUrl: false },
  idempotencyKey: 'k1',
  validitySeconds: undefined,
  phoneNumberId: '',
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

let dir: ReturnType<typeof createTempDir>;
let store: SqliteMessageStore;
let publisher: ReturnType<typeof recordingPublisher>;
let service: MessagingService;
const deferred: string[] = [];

beforeEach(() => {
  dir = createTempDir();
  store = new SqliteMessageStore(path.join(dir.path, 'ingress.sqlite'));
  publisher = recordingPublisher();
  service = createMessagingService({
    store,
    publisher: publisher.publisher,
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
  assert.equal((await store.get('acme', message.messageId))?.published, true);
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
      validitySeconds: 31 * 86_400,
      phoneNumberId: '999',
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
