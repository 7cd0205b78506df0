import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { CustomerDataParticipant, CustomerDataRecord, CustomerDataSubject } from '@waygate/domain';
import { systemClock } from '@waygate/domain';
import { createKeyring, JetStreamWrappedKeyStore, sealText, toKeyEncryptionKey, type Keyring } from '@waygate/keyring';
import {
  connectJetStream,
  ensureRegionStreams,
  erasureRequestedSubject,
  regionStreams,
  regionSubjects,
  type JetStreamConnection,
} from '@waygate/nats';
import { ErasurePartCompleted, ErasureRequested } from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { startNatsServer, waitFor, type NatsServerHandle } from '@waygate/testing';
import { AckPolicy, DeliverPolicy } from 'nats';
import { startCustomerDataParticipant } from './customer-data-participant';
import { CustomerExportUnavailableError, requestCustomerExport } from './customer-export-client';
import { MAX_PAGE_TEXT_BYTES } from './customer-export-protocol';

const logger = createLogger({ service: 'test', level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
const TENANT = 'acme';
const CUSTOMER = '+4915112345678';

let server: NatsServerHandle;
let nats: JetStreamConnection;
before(async () => {
  server = await startNatsServer();
  nats = await connectJetStream(server.url, 'governance-test');
});

/** Each test its own region: its own streams, durables and keyring bucket. */
let regions = 0;
let REGION = '';
let keyring: Keyring;
beforeEach(async () => {
  REGION = `r${++regions}`;
  await ensureRegionStreams(nats.jsm, REGION);
  keyring = createKeyring({
    store: await JetStreamWrappedKeyStore.open(nats.js, REGION),
    keks: { active: toKeyEncryptionKey(randomBytes(32)), retired: [] },
    clock: systemClock,
  });
});
after(async () => {
  await nats.nc.close();
  await server.stop();
});

/** A participant over an in-memory list, recording what it was asked (the port itself; the stores are stores-a/b's). */
function memoryParticipant(service: string, records: CustomerDataRecord[], eraseDelayMs = 0) {
  const erased: { subject: CustomerDataSubject; erasureId: string }[] = [];
  let returned = 0;
  const participant: CustomerDataParticipant = {
    service,
    async erase(subject, erasureId) {
      await new Promise((resolve) => setTimeout(resolve, eraseDelayMs));
      erased.push({ subject, erasureId });
      return { messages: 3, media: 1 };
    },
    exportCustomer(subject) {
      assert.equal(subject.customer, CUSTOMER);
      return {
        [Symbol.asyncIterator]() {
          let index = 0;
          return {
            async next() {
              return index < records.length
                ? { done: false, value: records[index++] as CustomerDataRecord }
                : { done: true, value: undefined };
            },
            async return() {
              returned++;
              return { done: true, value: undefined };
            },
          };
        },
      };
    },
  };
  return { participant, erased, returnedCount: () => returned };
}

let epoch = 0;
async function erasureRequest(erasureId: string, overrides: Partial<ErasureRequested> = {}) {
  const scope = { tenantId: TENANT, ephemeral: { purpose: 'erasure', epoch: ++epoch } };
  const request: ErasureRequested = {
    erasureId,
    tenantId: TENANT,
    customerSealed: await sealText(keyring, scope, CUSTOMER),
    customerRef: await keyring.customerRef(TENANT, CUSTOMER),
    requestedAt: new Date(),
    ...overrides,
  };
  return { request, scope };
}

async function publishRequest(request: ErasureRequested, msgId: string) {
  await nats.js.publish(erasureRequestedSubject(REGION, TENANT), ErasureRequested.encode(request).finish(), { msgID: msgId });
}

/** A consumer of the completions of `service`, from now on. */
async function completions(service: string) {
  const durable = `test-completions-${service}`;
  await nats.jsm.consumers.add(regionStreams(REGION).governance.name, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.New,
    filter_subject: `waygate.${REGION}.governance.erasure.completed.${service}`,
  });
  const consumer = await nats.js.consumers.get(regionStreams(REGION).governance.name, durable);
  return async () => {
    const message = await consumer.next({ expires: 5000 });
    assert.ok(message, `a completion from ${service}`);
    message.ack();
    return { subject: message.subject, event: ErasurePartCompleted.decode(message.data) };
  };
}

const erasureId = () => `er_${randomBytes(13).toString('hex')}`;

async function erasureConsumerIdle(service: string) {
  return waitFor(
    async () => {
      const info = await nats.jsm.consumers.info(regionStreams(REGION).governance.name, `${service}-erasure`);
      return info.num_pending === 0 && info.num_ack_pending === 0 ? info : undefined;
    },
    { what: `${service}-erasure consumed everything` },
  );
}

test('an erasure request is opened, erased, reported on the service subject, then acknowledged; idempotent on redelivery', async () => {
  const { participant, erased } = memoryParticipant('ingress', []);
  const nextCompletion = await completions('ingress');
  const running = await startCustomerDataParticipant({ nats, region: REGION, keyring, participant, logger });
  try {
    const id = erasureId();
    const { request } = await erasureRequest(id);
    await publishRequest(request, `${id}-1`);
    const { subject, event } = await nextCompletion();
    assert.equal(subject, `waygate.${REGION}.governance.erasure.completed.ingress`);
    assert.equal(event.erasureId, id);
    assert.equal(event.tenantId, TENANT);
    assert.equal(event.service, 'ingress');
    assert.deepEqual(event.counts, { messages: '3', media: '1' });
    assert.deepEqual(erased, [{ subject: { tenantId: TENANT, customer: CUSTOMER, customerRef: request.customerRef }, erasureId: id }]);
    await erasureConsumerIdle('ingress');

    // The same request again (a redelivery, or the coordinator re-publishing): erased again (idempotent); its report
    // is the same message (same Nats-Msg-Id), which the stream already holds once.
    const stored = (await nats.jsm.streams.info(regionStreams(REGION).governance.name)).state.messages;
    await publishRequest(request, `${id}-2`);
    await waitFor(() => erased.length, { until: (count) => count === 2, what: 'the second erase' });
    await erasureConsumerIdle('ingress');
    assert.equal((await nats.jsm.streams.info(regionStreams(REGION).governance.name)).state.messages, stored + 1, 'only the request');
  } finally {
    await running.stop();
  }
});

test('a request whose erasure key is already destroyed is acknowledged without erasing; a foreign customer_ref is dead-lettered', async () => {
  const { participant, erased } = memoryParticipant('receipt', []);
  const running = await startCustomerDataParticipant({ nats, region: REGION, keyring, participant, logger });
  try {
    const done = await erasureRequest(erasureId());
    await keyring.destroyKey(done.scope);
    await publishRequest(done.request, `${done.request.erasureId}-done`);
    await erasureConsumerIdle('receipt');
    assert.equal(erased.length, 0, 'nothing erased for a completed erasure');

    const deadLettersBefore = (await nats.jsm.streams.info(regionStreams(REGION).deadLetters.name)).state.messages;
    const forged = await erasureRequest(erasureId(), { customerRef: 'f'.repeat(32) });
    await publishRequest(forged.request, `${forged.request.erasureId}-forged`);
    await waitFor(
      async () => (await nats.jsm.streams.info(regionStreams(REGION).deadLetters.name)).state.messages === deadLettersBefore + 1,
      {
        what: 'the forged request is dead-lettered',
      },
    );
    await erasureConsumerIdle('receipt');
    assert.equal(erased.length, 0);
  } finally {
    await running.stop();
  }
});

test('an erase() that outlasts the ack wait is kept alive, not handed out twice', async () => {
  const { participant, erased } = memoryParticipant('media-store', [], 2500);
  const nextCompletion = await completions('media-store');
  // A 1 s ack wait (30 s by default) against an erase of 2.5 s.
  const again = await startCustomerDataParticipant({ nats, region: REGION, keyring, participant, logger, ackWaitMs: 1000 });
  try {
    const { request } = await erasureRequest(erasureId());
    await publishRequest(request, `${request.erasureId}-slow`);
    assert.equal((await nextCompletion()).event.erasureId, request.erasureId);
    await erasureConsumerIdle('media-store');
    assert.equal(erased.length, 1, 'erased once although it took longer than the ack wait');
  } finally {
    await again.stop();
  }
});

test('export: pages reassemble every record of every section, a record longer than a page included', async () => {
  const long = 'x'.repeat(MAX_PAGE_TEXT_BYTES * 2 + 17) + '\u{1F600}';
  const records: CustomerDataRecord[] = [
    { section: 'messages.jsonl', record: { id: 1, text: 'hallo' } },
    { section: 'templates.jsonl', record: { id: 2, parameters: ['a'] } },
    ...Array.from({ length: 400 }, (_, index) => ({ section: 'messages.jsonl', record: { id: 3 + index, text: 'y'.repeat(1000) } })),
    { section: 'messages.jsonl', record: { id: 9999, text: long } },
  ];
  const { participant } = memoryParticipant('delivery-retry', records);
  const running = await startCustomerDataParticipant({ nats, region: REGION, keyring, participant, logger });
  try {
    const customerSealed = await sealText(keyring, { tenantId: TENANT, ephemeral: { purpose: 'export', epoch: 1 } }, CUSTOMER);
    const files = new Map<string, string>();
    let pages = 0;
    for await (const fragments of requestCustomerExport({
      nats,
      region: REGION,
      service: 'delivery-retry',
      tenantId: TENANT,
      customerSealed,
      customerRef: await keyring.customerRef(TENANT, CUSTOMER),
    })) {
      pages++;
      const size = fragments.reduce((sum, fragment) => sum + fragment.text.length, 0);
      assert.ok(size <= MAX_PAGE_TEXT_BYTES, 'a page stays within its budget');
      for (const { section, text } of fragments) files.set(section, (files.get(section) ?? '') + text);
    }
    assert.ok(pages >= 4, `paged (${pages} pages)`);
    const parse = (section: string) =>
      (files.get(section) ?? '')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { id: number; text?: string });
    const messages = parse('messages.jsonl');
    assert.equal(messages.length, 402);
    assert.equal(messages.at(-1)?.text, long, 'the long record arrives whole, its emoji intact');
    assert.deepEqual(parse('templates.jsonl'), [{ id: 2, parameters: ['a'] }]);
  } finally {
    await running.stop();
  }
});

test('export: stopping early cancels the session; a wrong customer_ref and a missing service fail clearly', async () => {
  const records = Array.from({ length: 1000 }, (_, index) => ({ section: 'inbound.jsonl', record: { id: index, text: 'z'.repeat(1000) } }));
  const { participant, returnedCount } = memoryParticipant('receipt', records);
  const running = await startCustomerDataParticipant({ nats, region: REGION, keyring, participant, logger });
  try {
    const customerSealed = await sealText(keyring, { tenantId: TENANT, ephemeral: { purpose: 'export', epoch: 2 } }, CUSTOMER);
    const base = { nats, region: REGION, tenantId: TENANT, customerSealed, customerRef: await keyring.customerRef(TENANT, CUSTOMER) };
    for await (const fragments of requestCustomerExport({ ...base, service: 'receipt' })) {
      assert.ok(fragments.length > 0);
      break;
    }
    await waitFor(() => returnedCount() === 1, { what: "the participant's iterator is closed" });

    await assert.rejects(
      async () => {
        for await (const _ of requestCustomerExport({ ...base, service: 'receipt', customerRef: '0'.repeat(32) })) void _;
      },
      (error: unknown) => error instanceof CustomerExportUnavailableError && error.reason === 'bad_request',
    );
    await assert.rejects(
      async () => {
        for await (const _ of requestCustomerExport({ ...base, service: 'ingress', pageTimeoutMs: 2000 })) void _;
      },
      (error: unknown) => error instanceof CustomerExportUnavailableError && error.service === 'ingress',
    );
  } finally {
    await running.stop();
  }
  assert.equal(regionSubjects(REGION).customerExport.startsWith(`waygate.${REGION}.rpc.`), true, 'outside every stream');
});
