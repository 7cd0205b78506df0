/**
 * Crypto-shredding of what receipt publishes (issue 14): inbound messages sealed under the customer's data key,
 * webhook bodies under their epoch's short-lived key. Real nats-server, media-store and receipt; the JetStream store
 * directory is searched byte for byte.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { customerKeyScope, isDataKeyUnavailableError, isSealedPayload, JetStreamWrappedKeyStore, openPayload } from '@waygate/keyring';
import { OUTBOUND_CONSUMERS, publishEvent, publishSealedEvent, regionStreams, regionSubjects } from '@waygate/nats';
import { ContentType, InboundMessageReceived, MessageAccepted, TemplateCategory } from '@waygate/proto';
import { waitFor } from '@waygate/testing';
import { FEED_CONSUMER } from './feed/start-tenant-feed';
import { ACME, startReceiptHarness, type ReceiptHarness } from './testing/receipt-harness';

let harness: ReceiptHarness;
before(async () => {
  harness = await startReceiptHarness();
});
after(async () => {
  await harness?.stop();
});

const streams = regionStreams('eu');
const subjects = regionSubjects('eu');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

/** The files of the JetStream store directory holding `marker`. */
function storeFilesHolding(marker: string): string[] {
  return filesUnder(harness.natsStoreDir).filter((file) => readFileSync(file).includes(marker));
}

async function caughtUp(stream: string, durable: string): Promise<void> {
  await waitFor(
    async () => {
      const info = await harness.connection.jsm.consumers.info(stream, durable);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    { what: `${durable} acknowledged everything`, timeoutMs: 20_000 },
  );
}

const marker = (label: string) => `marker-${label}-${randomBytes(6).toString('hex')}`;

test('an inbound message goes through sealed: its event opens for consumers, and neither it nor its webhook body is readable in the JetStream store', async () => {
  const text = marker('inbound');
  const { messageId } = harness.sim.sendInbound({ type: 'text', from: '4915112340901', text }, ACME.number);
  const logged = await waitFor(() => harness.inboundEvents.events.find((entry) => entry.event.waMessageId === messageId), {
    what: 'the InboundMessageReceived event',
  });
  assert.equal(logged.event.text, text, 'a consumer with the keyring reads it');
  const stored = await harness.connection.jsm.streams.getMessage(streams.events.name, { seq: logged.seq });
  assert.ok(isSealedPayload(stored.data));
  assert.equal(stored.header.get('Waygate-Sealed'), 'v1');
  await caughtUp(streams.webhooks.name, 'receipt-webhooks');
  const webhook = await harness.connection.jsm.streams.getMessage(streams.webhooks.name, {
    seq: (await harness.connection.jsm.streams.info(streams.webhooks.name)).state.last_seq,
  });
  assert.ok(isSealedPayload(webhook.data), 'the queued webhook body is sealed');
  assert.deepEqual(storeFilesHolding(text), [], 'no file of the JetStream store holds the message text');
  assert.deepEqual(storeFilesHolding('4915112340901'), [], 'nor the customer number');
});

test('an erased customer: receipt consumers acknowledge the sealed events unread, log no content and dead-letter nothing; unsealed events (an older publisher) are still applied', async () => {
  await harness.stopReceipt();
  const erased = '+4915112340902';
  const kept = '+4915112340903';
  const scope = await customerKeyScope(harness.keyring, ACME.id, erased);
  const accepted = (to: string, body: string) =>
    MessageAccepted.encode({
      tenantId: ACME.id,
      messageId: `msg_${randomBytes(8).toString('hex')}`,
      to,
      phoneNumberId: ACME.number,
      content: { $case: 'text', value: { body, previewUrl: false } },
      acceptedAt: new Date(),
      expiresAt: new Date(Date.now() + 86_400_000),
      replyToWaMessageId: '',
      contentType: ContentType.CONTENT_TYPE_TEXT,
      contentSummary: body,
      templateCategory: TemplateCategory.TEMPLATE_CATEGORY_UNSPECIFIED,
    }).finish();
  const inbound = (from: string, text: string) => {
    const wamid = `wamid.${randomBytes(12).toString('hex')}`;
    return InboundMessageReceived.encode({
      eventId: `wa:in:${wamid}`,
      tenantId: ACME.id,
      phoneNumberId: ACME.number,
      from,
      waMessageId: wamid,
      occurredAt: new Date(),
      type: 'text',
      text,
      replyId: '',
      mediaId: '',
      mimeType: '',
      contextWaMessageId: '',
      contentJson: JSON.stringify({ kind: 'text', body: text }),
      serviceWindowClosesAt: new Date(Date.now() + 86_400_000),
    }).finish();
  };
  const seal = { keyring: harness.keyring, scope };
  await publishSealedEvent(harness.connection.js, subjects.outboundAccepted, accepted(erased, marker('out')), 'erase-out-1', seal);
  await publishSealedEvent(harness.connection.js, subjects.inboundEvents, inbound(erased, marker('in')), 'erase-in-1', seal);
  // From a receipt or ingress that does not seal yet (rolling upgrade).
  await publishEvent(harness.connection.js, subjects.outboundAccepted, accepted(kept, 'plain out'), 'plain-out-1');
  await publishEvent(harness.connection.js, subjects.inboundEvents, inbound(kept, 'plain in'), 'plain-in-1');
  assert.equal(await harness.keyring.destroyKey(scope), true);
  const logsBefore = harness.logs.length;

  await harness.startReceiptAgain();
  await caughtUp(streams.outbound.name, OUTBOUND_CONSUMERS.feed);
  await caughtUp(streams.events.name, FEED_CONSUMER);
  const lines = harness.logs.slice(logsBefore).map((line) => JSON.parse(line) as Record<string, unknown>);
  const skipped = lines.filter((line) => String(line.msg).includes('erased content'));
  assert.deepEqual(skipped.map((line) => line.durable).sort(), [FEED_CONSUMER, OUTBOUND_CONSUMERS.feed].sort());
  assert.ok(skipped.every((line) => line.tenant === ACME.id && !JSON.stringify(line).includes(scope.customerRef ?? '?')));
  for (const consumer of [FEED_CONSUMER, OUTBOUND_CONSUMERS.feed]) {
    assert.deepEqual((await harness.deadLetters({ consumer })).deadLetters, [], `${consumer} dead-lettered nothing`);
  }
  assert.equal(lines.filter((line) => line.level === 'error' || line.level === 50).length, 0, 'no errors');
});

test('webhook body keys: destroyed once their epoch ended and the bodies were processed, so queued bodies can no longer be opened', async () => {
  const text = marker('epoch');
  const queuedAt = new Date(harness.sim.now());
  const { messageId } = harness.sim.sendInbound({ type: 'text', from: '4915112340904', text }, ACME.number);
  await waitFor(() => harness.inboundEvents.events.find((entry) => entry.event.waMessageId === messageId), { what: 'processed' });
  await caughtUp(streams.webhooks.name, 'receipt-webhooks');
  const lastSeq = (await harness.connection.jsm.streams.info(streams.webhooks.name)).state.last_seq;
  const body = (await harness.connection.jsm.streams.getMessage(streams.webhooks.name, { seq: lastSeq })).data;
  assert.ok((await openPayload(await harness.freshKeyring(), body)).includes(text), 'readable while its epoch lasts');
  const store = await JetStreamWrappedKeyStore.open(harness.connection.js, 'eu');
  assert.notDeepEqual(await store.names('tenant._region.webhooks.*'), []);

  // The epoch (15 minutes by default) ends; receipt's shredder destroys its key.
  await harness.sim.advanceTime(16 * 60_000);
  await harness.waitUntilWebhookBodiesShredded(queuedAt);
  await assert.rejects(openPayload(await harness.freshKeyring(), body), (error) => isDataKeyUnavailableError(error));
  assert.deepEqual(await store.names('tenant._region.webhooks.*'), []);
  assert.deepEqual(storeFilesHolding(text), []);
});
