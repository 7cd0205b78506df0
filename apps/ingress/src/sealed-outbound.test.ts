/**
 * Crypto-shredding of what ingress publishes and consumes (issue 14): MessageAccepted is sealed under the recipient's
 * data key; an inbound event sealed under an erased customer's key is acknowledged unread; an unsealed one (from a
 * receipt that does not seal yet) is still applied. Real nats-server; the JetStream store directory is searched.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { systemClock } from '@waygate/domain';
import { customerKeyScope, isSealedPayload, openPayload, openRegionKeyring, type Keyring } from '@waygate/keyring';
import { createDeadLetterStore, publishSealedEvent, regionStreams, regionSubjects } from '@waygate/nats';
import { InboundMessageReceived, MessageAccepted, SendMessageRequest, type SendMessageResponse } from '@waygate/proto';
import { waitFor, type TestTenant } from '@waygate/testing';
import { startIngressHarness, type IngressHarness } from './testing/ingress-harness';

const TENANTS: TestTenant[] = [{ id: 'acme', homeRegion: 'eu', apiKey: 'key-acme', phoneNumberIds: ['200'] }];
const streams = regionStreams('eu');
let harness: IngressHarness;
let keyring: Keyring;

before(async () => {
  harness = await startIngressHarness({ tenants: TENANTS });
  // The same bucket and KEK as ingress (its local development key file under the data dir).
  keyring = (await openRegionKeyring({ js: harness.events.js, region: 'eu', kek: harness.config.kek, clock: systemClock })).keyring;
});
after(() => harness?.stop());

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

test('a message is published sealed under its recipient’s key: opened by consumers, unreadable in the JetStream store', async () => {
  // An inbound message from a receipt that does not seal yet opens the service window (rolling upgrade).
  await harness.customerWrites({ tenantId: 'acme', phoneNumberId: '200', from: '+4915112345001' });
  await harness.waitForCustomerWindows(1);
  const text = `marker-outbound-${randomBytes(6).toString('hex')}`;
  const { messageId } = await harness.unary<SendMessageResponse>(
    'sendMessage',
    SendMessageRequest.fromPartial({
      to: '+4915112345001',
      content: { $case: 'text', value: { body: text, previewUrl: false } },
      idempotencyKey: 'sealed-1',
    }),
  );
  const stored = await waitFor(
    async () => {
      const info = await harness.events.jsm.streams.info(streams.outbound.name);
      return info.state.messages > 0
        ? harness.events.jsm.streams.getMessage(streams.outbound.name, { seq: info.state.last_seq })
        : undefined;
    },
    { what: 'MessageAccepted stored' },
  );
  assert.ok(isSealedPayload(stored.data));
  const event = MessageAccepted.decode(await openPayload(keyring, stored.data, { tenantId: 'acme' }));
  assert.equal(event.messageId, messageId);
  assert.deepEqual(event.content, { $case: 'text', value: { body: text, previewUrl: false } });
  const holders = filesUnder(harness.natsStoreDir).filter((file) => readFileSync(file).includes(text));
  assert.deepEqual(holders, [], 'no file of the JetStream store holds the message text');
});

test('an inbound event sealed under an erased customer’s key is acknowledged unread by ingress-status, never dead-lettered', async () => {
  const scope = await customerKeyScope(keyring, 'acme', '+4915112345002');
  const event = InboundMessageReceived.fromPartial({
    eventId: 'wa:in:wamid.erased-1',
    tenantId: 'acme',
    phoneNumberId: '200',
    from: '+4915112345002',
    waMessageId: 'wamid.erased-1',
    occurredAt: new Date(),
    type: 'text',
    text: 'marker-erased-inbound',
    serviceWindowClosesAt: new Date(Date.now() + 86_400_000),
  });
  await harness.stopIngress();
  await publishSealedEvent(
    harness.events.js,
    regionSubjects('eu').inboundEvents,
    InboundMessageReceived.encode(event).finish(),
    event.eventId,
    {
      keyring,
      scope,
    },
  );
  assert.equal(await keyring.destroyKey(scope), true);
  const logsBefore = harness.logLines.length;
  await harness.startIngress();
  await waitFor(
    async () => {
      const info = await harness.events.jsm.consumers.info(streams.events.name, 'ingress-status');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    { what: 'ingress-status acknowledged everything' },
  );
  const skipped = harness.logLines.slice(logsBefore).filter((line) => line.includes('erased content'));
  assert.equal(skipped.length, 1);
  assert.ok(!skipped[0]?.includes('4915112345002') && !skipped[0]?.includes(scope.customerRef ?? '?'));
  const page = await createDeadLetterStore(harness.events, 'eu').list({ consumers: ['ingress-status'], pageSize: 10 });
  assert.deepEqual(page.deadLetters, []);
  // The erased customer opened no service window: only the first test's customer has one.
  await harness.waitForCustomerWindows(1);
});
