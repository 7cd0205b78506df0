import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import {
  FailedPreconditionError,
  InvalidArgumentError,
  systemClock,
  UnavailableError,
  type CustomerDataParticipant,
  type CustomerDataSubject,
} from '@waygate/domain';
import { CUSTOMER_DATA_SERVICES, startCustomerDataParticipant, type RunningCustomerDataParticipant } from '@waygate/governance';
import { createKeyring, JetStreamWrappedKeyStore, sealText, toKeyEncryptionKey, type Keyring } from '@waygate/keyring';
import { connectJetStream, ensureRegionStreams, regionStreams, type JetStreamConnection } from '@waygate/nats';
import { createLogger } from '@waygate/telemetry-sdk';
import { TenantDirectory } from '@waygate/tenancy';
import { startNatsServer, waitFor, type NatsServerHandle } from '@waygate/testing';
import { SqliteErasureStore } from '../adapters/sqlite-erasure-store';
import { ERASURE_PARTS, erasureIdOf } from './domain/erasure';
import { receiptText } from './erasure-coordinator';
import { startErasurePart, type RunningErasurePart } from './erasure-part';

const logger = createLogger({ service: 'test', level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) });
const TENANT = 'acme';
const ALICE = '+4915112345678';
const BOB = '+4915187654321';

let server: NatsServerHandle;
let nats: JetStreamConnection;
let dir: string;
before(async () => {
  server = await startNatsServer();
  nats = await connectJetStream(server.url, 'erasure-part-test');
  dir = mkdtempSync(path.join(os.tmpdir(), 'waygate-erasure-'));
});
after(async () => {
  await nats.nc.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of running.splice(0).reverse()) await item.stop();
});

/** A participant per service over an in-memory map of customers' records (the port; the stores are stores-a/b's). */
function memoryParticipant(service: string, data: Map<string, Record<string, unknown>[]>): CustomerDataParticipant {
  return {
    service,
    async erase(subject: CustomerDataSubject) {
      const erased = data.get(subject.customer)?.length ?? 0;
      data.delete(subject.customer);
      return { records: erased };
    },
    async *exportCustomer(subject: CustomerDataSubject) {
      for (const record of data.get(subject.customer) ?? []) yield { section: 'records.jsonl', record };
    },
  };
}

let regions = 0;
interface Setup {
  region: string;
  keyring: Keyring;
  part: RunningErasurePart;
  holds: Map<string, { holdId: string; matter: string }[]>;
  data: Map<string, Map<string, Record<string, unknown>[]>>;
  participants: RunningCustomerDataParticipant[];
}

/** One region per test: the archive's erasure part plus a participant for every service (`services` to leave some out). */
async function setup(services: readonly string[] = CUSTOMER_DATA_SERVICES): Promise<Setup> {
  const region = `r${++regions}`;
  await ensureRegionStreams(nats.jsm, region);
  const keyring = createKeyring({
    store: await JetStreamWrappedKeyStore.open(nats.js, region),
    keks: { active: toKeyEncryptionKey(randomBytes(32)), retired: [] },
    clock: systemClock,
  });
  const holds = new Map<string, { holdId: string; matter: string }[]>();
  const part = await startErasurePart({
    nats,
    region,
    keyring,
    storage: { kind: 'sqlite', file: path.join(dir, region, 'archive.sqlite') },
    holds: { activeHoldsCovering: async (_tenant, customer) => holds.get(customer) ?? [], pseudonymiseReleased: async () => 0 },
    signReceipt: (text) => `${text}\n— test-signer ${createHash('sha256').update(text).digest('hex')}\n`,
    tenants: new TenantDirectory([]),
    clock: systemClock,
    logger,
  });
  running.push(part);
  const data = new Map<string, Map<string, Record<string, unknown>[]>>();
  const participants: RunningCustomerDataParticipant[] = [];
  for (const service of services) {
    const serviceData = new Map([
      [
        ALICE,
        [
          { service, text: `alice-${service}-1` },
          { service, text: `alice-${service}-2` },
        ],
      ],
      [BOB, [{ service, text: `bob-${service}` }]],
    ]);
    data.set(service, serviceData);
    const participant = await startCustomerDataParticipant({
      nats,
      region,
      keyring,
      participant: memoryParticipant(service, serviceData),
      logger,
    });
    participants.push(participant);
    running.push(participant);
  }
  return { region, keyring, part, holds, data, participants };
}

test('EraseCustomer: a bad number and a too long reason are named; a hold refuses, naming the hold and its matter', async () => {
  const { part, holds } = await setup([]);
  await assert.rejects(
    part.coordinator.erase(TENANT, { customer: '4915112345678', reason: 'x'.repeat(201) }, 'key_a'),
    (error: unknown) =>
      error instanceof InvalidArgumentError && error.violations.map((violation) => violation.field).join() === 'customer,reason',
  );
  holds.set(ALICE, [{ holdId: 'lh_00000000000000000000000001', matter: 'Smith v. Acme' }]);
  await assert.rejects(part.coordinator.erase(TENANT, { customer: ALICE, reason: '' }, 'key_a'), (error: unknown) => {
    assert.ok(error instanceof FailedPreconditionError);
    assert.deepEqual(error.violations, [
      { type: 'LEGAL_HOLD', subject: 'legalHolds/lh_00000000000000000000000001', description: 'matter: Smith v. Acme' },
    ]);
    return true;
  });
});

test('EraseCustomer destroys the customer key first, every service erases, the erasure completes with a receipt; idempotent', async () => {
  const { part, keyring, data, region } = await setup();
  const aliceRef = await keyring.customerRef(TENANT, ALICE);
  const aliceKey = await keyring.dataKeyFor({ tenantId: TENANT, customerRef: aliceRef });
  const bobKey = await keyring.dataKeyFor({ tenantId: TENANT, customerRef: await keyring.customerRef(TENANT, BOB) });

  const started = await part.coordinator.erase(TENANT, { customer: ALICE, reason: 'customer asked' }, 'key_a');
  assert.match(started.erasureId, /^er_[0-9a-f]{26}$/);
  await assert.rejects(keyring.dataKeyById(aliceKey.keyId), /not available/, "Alice's data key is destroyed at once");
  assert.ok(await keyring.dataKeyById(bobKey.keyId), "Bob's key stays");

  const done = await waitFor(() => part.coordinator.status(TENANT, started.erasureId), {
    until: (record) => record.completedAt !== undefined,
    what: 'the erasure to complete',
  });
  assert.deepEqual(
    done.parts.map((p) => [p.service, p.completedAt !== undefined, p.counts]),
    [
      ['ingress', true, { records: 2 }],
      ['delivery-retry', true, { records: 2 }],
      ['receipt', true, { records: 2 }],
      ['media-store', true, { records: 2 }],
      ['archive', true, { records: 2 }],
      ['keyring', true, { data_keys: 1 }],
    ],
  );
  for (const service of CUSTOMER_DATA_SERVICES) {
    assert.equal(data.get(service)?.has(ALICE), false, `${service} forgot Alice`);
    assert.equal(data.get(service)?.has(BOB), true, `${service} kept Bob`);
  }
  assert.equal(done.customerHash, await part.coordinator.customerHash(TENANT, ALICE), 'recomputable from the number');
  assert.equal(JSON.stringify(done).includes(ALICE), false, 'the record never holds the number');
  assert.ok(done.receipt?.startsWith(receiptText(done, done.completedAt as Date)), 'the receipt signs the record');
  assert.match(done.receipt ?? '', new RegExp(`customer-hash ${done.customerHash}`));
  // The erasure's own key is gone: the sealed number in the stream and the record no longer opens.
  await assert.rejects(keyring.dataKeyById(done.customerSealed.split(':')[2] as string), /not available/);

  // Once complete, asking again is a new erasure (a customer who came back): requested again, and it completes too.
  const stored = (await nats.jsm.streams.info(regionStreams(region).governance.name)).state.messages;
  const again = await part.coordinator.erase(TENANT, { customer: ALICE, reason: 'again' }, 'key_b');
  assert.notEqual(again.erasureId, started.erasureId);
  assert.equal(again.requestedBy, 'key_b');
  assert.ok((await nats.jsm.streams.info(regionStreams(region).governance.name)).state.messages > stored, 'requested again');
  const againDone = await waitFor(() => part.coordinator.status(TENANT, again.erasureId), {
    until: (record) => record.completedAt !== undefined,
    what: 'the second erasure to complete',
  });
  assert.ok(againDone.receipt);
  assert.equal((await part.coordinator.status(TENANT, started.erasureId)).receipt, done.receipt, 'the first erasure stays');
});

test('an erasure waits for a service that is down, and completes once it is back (the request waits on the stream)', async () => {
  const services = CUSTOMER_DATA_SERVICES.filter((service) => service !== 'media-store');
  const { part, region, keyring } = await setup(services);
  const started = await part.coordinator.erase(TENANT, { customer: ALICE, reason: '' }, 'key_a');
  const partial = await waitFor(() => part.coordinator.status(TENANT, started.erasureId), {
    until: (record) => record.parts.filter((p) => p.completedAt).length === 5,
    what: 'every part but media-store',
  });
  assert.equal(partial.completedAt, undefined);
  assert.equal(partial.parts.find((p) => p.service === 'media-store')?.completedAt, undefined);
  const same = await part.coordinator.erase(TENANT, { customer: ALICE, reason: 'asked twice' }, 'key_b');
  assert.equal(same.erasureId, started.erasureId, 'asking again while it runs returns the running erasure');

  const mediaData = new Map([[ALICE, [{ blob: 'alice-photo' }]]]);
  running.push(
    await startCustomerDataParticipant({ nats, region, keyring, participant: memoryParticipant('media-store', mediaData), logger }),
  );
  const done = await waitFor(() => part.coordinator.status(TENANT, started.erasureId), {
    until: (record) => record.completedAt !== undefined,
    what: 'the erasure to complete once media-store is back',
  });
  assert.deepEqual(done.parts.find((p) => p.service === 'media-store')?.counts, { records: 1 });
  assert.equal(mediaData.has(ALICE), false);
});

test('ExportCustomerData: a folder per service, jsonl per section, a manifest whose hashes, sizes and counts match', async () => {
  const { part, keyring } = await setup();
  const files = new Map<string, Buffer>();
  let current: Buffer[] = [];
  for await (const chunk of part.exportBundle(TENANT, BOB)) {
    assert.ok(chunk.data.length <= 64 * 1024, 'chunks of at most 64 KiB');
    current.push(chunk.data);
    if (chunk.lastChunk) {
      assert.equal(files.has(chunk.path), false, 'each file once, whole');
      files.set(chunk.path, Buffer.concat(current));
      current = [];
    }
  }
  assert.deepEqual([...files.keys()], [...CUSTOMER_DATA_SERVICES.map((service) => `${service}/records.jsonl`), 'manifest.json']);
  const manifest = JSON.parse((files.get('manifest.json') as Buffer).toString('utf8')) as {
    customer: string;
    files: { path: string; sha256: string; bytes: number; records: number }[];
  };
  assert.equal(manifest.customer, BOB);
  for (const file of manifest.files) {
    const bytes = files.get(file.path) as Buffer;
    assert.equal(file.sha256, createHash('sha256').update(bytes).digest('hex'), file.path);
    assert.equal(file.bytes, bytes.length);
    assert.equal(file.records, 1);
    assert.equal(bytes.toString('utf8').includes('alice'), false, "only Bob's records");
  }
  assert.equal(manifest.files.length, CUSTOMER_DATA_SERVICES.length);
  // The export's sealing key is destroyed once the bundle ended: no leftover keys of purpose `export`.
  const names = await (await JetStreamWrappedKeyStore.open(nats.js, `r${regions}`)).names();
  assert.deepEqual(
    names.filter((name) => name.includes('.export.')),
    [],
  );
  void keyring;
});

test('ExportCustomerData fails as unavailable, naming the service, when a service does not answer', async () => {
  const { part } = await setup(CUSTOMER_DATA_SERVICES.filter((service) => service !== 'receipt'));
  await assert.rejects(
    async () => {
      for await (const _ of part.exportBundle(TENANT, BOB)) void _;
    },
    (error: unknown) => error instanceof UnavailableError && /receipt/.test(error.message),
  );
});

test('an erasure left half-way by a crash (recorded, not yet published) is driven on when the archive starts again', async () => {
  const { part, region, keyring, data } = await setup();
  // What a crash right after recording leaves: the record, with its sealed number, and nothing else done.
  const store = new SqliteErasureStore(path.join(dir, region, 'archive-erasures.sqlite'));
  const keyEpoch = 424242;
  const erasureId = erasureIdOf(new Date(), 'ab'.repeat(7));
  await store.create({
    erasureId,
    tenantId: TENANT,
    customerHash: await part.coordinator.customerHash(TENANT, ALICE),
    customerRef: await keyring.customerRef(TENANT, ALICE),
    customerSealed: await sealText(keyring, { tenantId: TENANT, ephemeral: { purpose: 'erasure', epoch: keyEpoch } }, ALICE),
    keyEpoch,
    requestedBy: 'key_a',
    reason: '',
    requestedAt: new Date(),
    parts: ERASURE_PARTS.map((service) => ({ service, counts: {} })),
  });
  await store.close();

  // The archive restarts: the new part resumes what is in progress.
  await part.stop();
  running.splice(running.indexOf(part), 1);
  const restarted = await startErasurePart({
    nats,
    region,
    keyring,
    storage: { kind: 'sqlite', file: path.join(dir, region, 'archive.sqlite') },
    holds: { activeHoldsCovering: async () => [], pseudonymiseReleased: async () => 0 },
    signReceipt: (text) => `${text}\n— test-signer x\n`,
    tenants: new TenantDirectory([]),
    clock: systemClock,
    logger,
  });
  running.push(restarted);
  const done = await waitFor(() => restarted.coordinator.status(TENANT, erasureId), {
    until: (record) => record.completedAt !== undefined,
    what: 'the resumed erasure to complete',
  });
  assert.ok(done.publishedAt, 'published on resume');
  assert.deepEqual(done.parts.find((p) => p.service === 'keyring')?.counts, { data_keys: 0 });
  for (const service of CUSTOMER_DATA_SERVICES) assert.equal(data.get(service)?.has(ALICE), false, `${service} forgot Alice`);
});
