/**
 * Mixed versions during a rolling upgrade, through the real processes:
 * - events the previous release published (tools/e2e/fixtures/release-1/events.jsonl, the exact bytes) are read by
 *   this release's consumers;
 * - an event from a newer release, with a field this release does not know, is processed as before (protobuf skips
 *   unknown fields);
 * - an event whose content is a type this release does not know (a oneof case from the future) is dead-lettered by
 *   delivery-retry (explicitly, with a reason), archived without a body, and breaks nothing: every service keeps
 *   serving and the next message goes through.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@grpc/grpc-js';
import { checkGrpcHealth } from '@waygate/grpc';
import { connectJetStream, publishEvent, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import { MessageAccepted } from '@waygate/proto';
import { createTempDir, waitFor } from '@waygate/testing';
import { SERVICES, startLocalStack, type LocalStack, freeStackPorts } from '@waygate/local-run';
import { callUnary, loadPublicClients } from './proto-clients';

const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'release-1');
const expected = JSON.parse(readFileSync(path.join(FIXTURE, 'expected.json'), 'utf8')) as {
  sentMessageId: string;
  inboundWamid: string;
  customer: string;
};
const releaseEvents = readFileSync(path.join(FIXTURE, 'events.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as { subject: string; msgId: string; data: string });

/** A length-delimited protobuf field `field` holding `bytes`: what a newer release's encoder would append. */
function unknownField(field: number, bytes: Buffer): Buffer {
  const varint = (value: number) => {
    const out: number[] = [];
    let rest = value;
    while (rest > 0x7f) {
      out.push((rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    out.push(rest);
    return Buffer.from(out);
  };
  return Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes]);
}

/** Field numbers no release uses yet (MessageAccepted's content oneof ends well below). */
const FUTURE_FIELD = 190;
const FUTURE_CONTENT_CASE = 199;

let dir: ReturnType<typeof createTempDir>;
let stack: LocalStack;
let nats: JetStreamConnection;
let clients: ReturnType<typeof loadPublicClients>;
let archive: Client;
const lines: { process: string; line: string }[] = [];

/** The release's MessageAccepted, re-encoded under a new id (so this run's consumers see a message of their own). */
function acceptedLikeRelease1(messageId: string, change: (event: MessageAccepted) => MessageAccepted = (event) => event): Buffer {
  const original = releaseEvents.find((event) => event.subject.endsWith('.outbound.accepted'));
  assert.ok(original, 'the fixture has a MessageAccepted');
  const event = MessageAccepted.decode(Buffer.from(original.data, 'base64'));
  return Buffer.from(MessageAccepted.encode(change({ ...event, messageId, expiresAt: new Date(Date.now() + 3_600_000) })).finish());
}

async function archivedEvents(messageId: string): Promise<{ kind: string; status: string; text_body: string }[]> {
  const listed = await callUnary<{ events: { kind: string; status: string; text_body: string }[] }>(
    archive,
    'ListMessageEvents',
    { message_id: messageId },
    stack.credentials.apiKey,
  );
  return listed.events;
}

/** Whether delivery-retry took the message: it sent it, so the archive has a status of it (SENT, then FAILED or more). */
async function deliveryTook(messageId: string): Promise<boolean> {
  return (await archivedEvents(messageId)).some((event) => event.kind === 'status');
}

before(async () => {
  dir = createTempDir('waygate-mixed-');
  // The release's tenant and number, so its events name a tenant and number this region knows.
  copyFileSync(path.join(FIXTURE, 'dev-credentials.json'), path.join(dir.path, 'dev-credentials.json'));
  stack = await startLocalStack({
    dataDir: dir.path,
    ports: await freeStackPorts(),
    onLine: (process, line) => lines.push({ process, line }),
  });
  nats = await connectJetStream(`nats://127.0.0.1:${stack.ports.nats}`, 'e2e-mixed-version');
  clients = loadPublicClients();
  archive = clients.archive(`127.0.0.1:${stack.ports.grpc.archive}`);
});

after(async () => {
  archive?.close();
  await nats?.nc.close();
  await stack?.stop();
  if (process.exitCode)
    process.stderr.write(
      `${lines
        .slice(-60)
        .map((l) => `${l.process}: ${l.line}`)
        .join('\n')}\n`,
    );
  dir?.remove();
});

describe('old and new releases side by side', () => {
  test("the previous release's events, as it encoded them, are read: the archive has the message, its statuses and the inbound image", async () => {
    for (const event of releaseEvents.filter((e) => /\.(outbound\.accepted|events\.(delivery|receipt|inbound))$/.test(e.subject))) {
      await publishEvent(nats.js, event.subject, Buffer.from(event.data, 'base64'), event.msgId);
    }
    const events = await waitFor(
      async () => {
        const listed = await archivedEvents(expected.sentMessageId);
        // The accepted event and the statuses come from two streams, each with its own consumer: either may be
        // recorded first, so the test waits for all of them.
        return listed.some((e) => e.kind === 'accepted') &&
          ['MESSAGE_STATUS_SENT', 'MESSAGE_STATUS_DELIVERED', 'MESSAGE_STATUS_READ'].every((s) => listed.some((e) => e.status === s))
          ? listed
          : undefined;
      },
      { timeoutMs: 15_000, what: "the release's message and statuses archived" },
    );
    const accepted = events.find((event) => event.kind === 'accepted');
    assert.equal(accepted?.text_body, 'release-1 message');
    await waitFor(async () => (await archivedEvents(expected.inboundWamid)).some((event) => event.kind === 'inbound'), {
      what: "the release's inbound image archived",
    });
  });

  test('a newer event with a field this release does not know is processed as before', async () => {
    const messageId = 'msg_01a2ffffffffffffffffffffffff0001';
    const data = Buffer.concat([acceptedLikeRelease1(messageId), unknownField(FUTURE_FIELD, Buffer.from('from the future'))]);
    await publishEvent(nats.js, regionSubjects('eu').outboundAccepted, data, `accepted:${messageId}`);
    const events = await waitFor(
      async () => {
        const listed = await archivedEvents(messageId);
        return listed.length > 0 ? listed : undefined;
      },
      { what: 'the event with an unknown field archived' },
    );
    assert.equal(events[0]?.kind, 'accepted');
    assert.equal(events[0]?.text_body, 'release-1 message');
    await waitFor(() => deliveryTook(messageId), { what: 'delivery-retry to take it like any message' });
  });

  test('a content type this release does not know: dead-lettered by delivery-retry with a reason, archived without a body, nothing breaks', async () => {
    const messageId = 'msg_01a2ffffffffffffffffffffffff0002';
    const withoutKnownContent = acceptedLikeRelease1(messageId, (event) => ({ ...event, content: undefined }));
    const data = Buffer.concat([withoutKnownContent, unknownField(FUTURE_CONTENT_CASE, Buffer.from([0x0a, 0x03, 0x66, 0x6f, 0x6f]))]);
    await publishEvent(nats.js, regionSubjects('eu').outboundAccepted, data, `accepted:${messageId}`);

    const admin = clients.deadLetterAdmin(`127.0.0.1:${stack.ports.grpc['delivery-retry']}`);
    try {
      const deadLetters = await waitFor(
        async () => {
          const listed = await callUnary<{ dead_letters: { reason: string }[] }>(
            admin,
            'ListConsumerDeadLetters',
            {},
            stack.credentials.internalServiceToken,
          );
          return listed.dead_letters.length > 0 ? listed.dead_letters : undefined;
        },
        { what: "delivery-retry's dead letter" },
      );
      assert.equal(deadLetters.length, 1);
      assert.match(JSON.stringify(deadLetters[0]), /not a valid MessageAccepted/);
    } finally {
      admin.close();
    }
    const events = await waitFor(
      async () => {
        const listed = await archivedEvents(messageId);
        return listed.length > 0 ? listed : undefined;
      },
      { what: 'the archive to record it' },
    );
    assert.equal(events[0]?.kind, 'accepted');
    assert.equal(events[0]?.text_body ?? '', '', 'archived without a body it cannot read');

    for (const service of SERVICES) assert.equal(await checkGrpcHealth(`127.0.0.1:${stack.ports.grpc[service]}`), 'SERVING', service);
    for (const service of SERVICES) assert.equal(stack.processes.get(service)?.exitCode, null, `${service} still runs`);
    const next = 'msg_01a2ffffffffffffffffffffffff0003';
    await publishEvent(nats.js, regionSubjects('eu').outboundAccepted, acceptedLikeRelease1(next), `accepted:${next}`);
    await waitFor(async () => (await archivedEvents(next)).length > 0, { what: 'the next message, behind it, to go through' });
    await waitFor(() => deliveryTook(next), { what: 'delivery-retry to take the next one' });
  });
});
