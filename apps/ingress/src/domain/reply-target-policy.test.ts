import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, type Clock } from '@waygate/domain';
import { parseTenants, type Tenant } from '@waygate/tenancy';
import { createTempDir, tenantsYaml } from '@waygate/testing';
import { SqliteMessageStore } from '../adapters/sqlite-message-store';
import type { InboundMessageIndex } from './inbound-message-index';
import { createMessagingService, type MessagingService } from './messaging-service';
import { createReplyTargetPolicy } from './reply-target-policy';
import type { SendRequest } from './send-request';
import { createCustomerSealer, createInMemoryKeyring } from '@waygate/keyring';

/** Content is sealed at rest under customer keys: one in-memory keyring for the whole file. */
const sealer = createCustomerSealer(createInMemoryKeyring());

const tenants = parseTenants(
  tenantsYaml([
    { id: 'acme', homeRegion: 'eu', apiKey: 'k', phoneNumberIds: ['200'] },
    { id: 'globex', homeRegion: 'eu', apiKey: 'g', phoneNumberIds: ['300'] },
  ]),
);
const acme = tenants.get('acme') as Tenant;
const globex = tenants.get('globex') as Tenant;
const clock: Clock = { now: () => new Date(1_700_000_000_000) };
const text: SendRequest = {
  to: '+4915112345678',
  content: { kind: 'text', body: 'hi', previewUrl: false },
  idempotencyKey: 'k1',
  validity: undefined,
  phoneNumberId: '',
  replyTo: '',
};
/** Inbound messages the customer view knows: one to acme's number. */
const inbound: InboundMessageIndex = {
  async findInbound(tenantId, waMessageId) {
    return tenantId === 'acme' && waMessageId === 'wamid.inbound-1'
      ? { tenantId, waMessageId, customer: '+4915112345678', phoneNumberId: '200', occurredAt: new Date(0) }
      : undefined;
  },
};

let dir: ReturnType<typeof createTempDir>;
let store: SqliteMessageStore;
let service: MessagingService;
let published: { messageId: string; replyTo?: string; content: unknown }[];

beforeEach(() => {
  dir = createTempDir();
  store = new SqliteMessageStore(path.join(dir.path, 'ingress.sqlite'), sealer);
  published = [];
  service = createMessagingService({
    store,
    publisher: {
      async publishAccepted(message) {
        published.push({ messageId: message.messageId, replyTo: message.replyToWaMessageId, content: message.content });
      },
    },
    canceller: { async cancel() {} },
    clock,
    events: { publishDeferred: () => undefined },
    policies: [createReplyTargetPolicy({ store, inbound })],
  });
});
afterEach(async () => {
  await store.close();
  dir.remove();
});

/** An outbound message of `tenant` that WhatsApp accepted (SENT with a wamid). */
async function sentMessage(tenant: Tenant, key: string, waMessageId: string): Promise<string> {
  const message = await service.send(tenant, { ...text, idempotencyKey: key });
  await service.applyStatusReport({
    eventId: `${key}-sent`,
    tenantId: tenant.id,
    messageId: message.messageId,
    status: 'SENT',
    waMessageId,
    occurredAt: clock.now(),
    source: 'delivery',
  });
  return message.messageId;
}

test('reply_to naming an outbound message resolves to its wamid, stored and handed to delivery', async () => {
  const quoted = await sentMessage(acme, 'q', 'wamid.out-1');
  const reply = await service.send(acme, { ...text, idempotencyKey: 'r', replyTo: quoted });
  assert.equal(reply.replyToWaMessageId, 'wamid.out-1');
  assert.equal((await service.get(acme, reply.messageId)).replyToWaMessageId, 'wamid.out-1');
  assert.equal(published.at(-1)?.replyTo, 'wamid.out-1');
});

test('reply_to naming an inbound wamid of the tenant resolves to it', async () => {
  const reply = await service.send(acme, { ...text, replyTo: 'wamid.inbound-1' });
  assert.equal(reply.replyToWaMessageId, 'wamid.inbound-1');
});

test("reply_to naming another tenant's message (outbound id or inbound wamid), or an unknown one, is NOT_FOUND; nothing stored", async () => {
  const globexMessage = await sentMessage(globex, 'g', 'wamid.globex-1');
  for (const replyTo of [globexMessage, 'wamid.globex-1', 'wamid.unknown']) {
    await assert.rejects(service.send(acme, { ...text, idempotencyKey: `x-${replyTo}`, replyTo }), NotFoundError, replyTo);
    assert.equal(await store.findByIdempotencyKey('acme', `x-${replyTo}`), undefined);
  }
  await assert.rejects(service.send(globex, { ...text, idempotencyKey: 'y', replyTo: 'wamid.inbound-1' }), NotFoundError);
});

test('reply_to naming an outbound message WhatsApp has not accepted yet is FAILED_PRECONDITION', async () => {
  const pending = await service.send(acme, { ...text, idempotencyKey: 'p' });
  await assert.rejects(service.send(acme, { ...text, idempotencyKey: 'r', replyTo: pending.messageId }), FailedPreconditionError);
});

test('a reaction is stored and delivered naming the wamid it reacts to; reply_to with a reaction is INVALID_ARGUMENT', async () => {
  const quoted = await sentMessage(acme, 'q', 'wamid.out-1');
  const reaction = await service.send(acme, {
    ...text,
    idempotencyKey: 'rx',
    content: { kind: 'reaction', messageId: quoted, emoji: '👍' },
  });
  assert.deepEqual(reaction.content, { kind: 'reaction', messageId: 'wamid.out-1', emoji: '👍' });
  assert.equal(reaction.contentType, 'reaction');
  assert.equal(reaction.contentSummary, 'reaction 👍');
  assert.deepEqual(published.at(-1)?.content, { kind: 'reaction', messageId: 'wamid.out-1', emoji: '👍' });
  await assert.rejects(
    service.send(acme, { ...text, idempotencyKey: 'rx2', content: { kind: 'reaction', messageId: 'wamid.unknown', emoji: '' } }),
    NotFoundError,
  );
  await assert.rejects(
    service.send(acme, { ...text, idempotencyKey: 'rx3', replyTo: quoted, content: { kind: 'reaction', messageId: quoted, emoji: '👍' } }),
    (error: unknown) => error instanceof InvalidArgumentError && error.violations.some((violation) => violation.field === 'reply_to'),
  );
  assert.equal(await store.findByIdempotencyKey('acme', 'rx3'), undefined);
});
