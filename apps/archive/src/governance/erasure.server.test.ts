import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { credentials, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { systemClock, type CustomerDataParticipant, type CustomerDataSubject } from '@waygate/domain';
import { CUSTOMER_DATA_SERVICES, startCustomerDataParticipant, type RunningCustomerDataParticipant } from '@waygate/governance';
import { badRequestViolations, preconditionViolations } from '@waygate/grpc';
import { createKeyring, JetStreamWrappedKeyStore, resolveKekSource, scopeName, type Keyring } from '@waygate/keyring';
import {
  ArchiveLogServiceClient,
  ErasureState,
  GovernanceServiceClient,
  type EraseCustomerResponse,
  type ExportCustomerDataResponse,
  type GetErasureStatusResponse,
  type GetLogPublicKeyResponse,
  type PlaceLegalHoldResponse,
} from '@waygate/proto';
import { hashApiKey } from '@waygate/tenancy';
import { bearerMetadata, callUnary, waitFor } from '@waygate/testing';
import { parseVerifierKey, verifyNote } from '@waygate/tlog';
import { startArchiveHarness, type ArchiveHarness } from '../testing/archive-harness';

// EraseCustomer, GetErasureStatus and ExportCustomerData over real gRPC, on the archive as main.ts starts it. The
// archive takes part itself (its own participant on its real store, empty here); the four other services' parts are
// in-process stand-ins on the same NATS (their stores are the services' own tests).
const KEYS = { acme: 'key-acme-erasure', umbrella: 'key-umbrella-erasure' };
const TENANTS = [
  { id: 'acme', homeRegion: 'eu', apiKey: KEYS.acme, phoneNumberIds: ['200'] },
  { id: 'umbrella', homeRegion: 'eu', apiKey: KEYS.umbrella, phoneNumberIds: ['202'] },
] as const;
const ALICE = '+4915112345678';
const BOB = '+4915187654321';
const ACME_KEY_ID = `key_${hashApiKey(KEYS.acme).slice(0, 12)}`;
/** The services whose parts are stand-ins here (the archive's is real). */
const STAND_INS = CUSTOMER_DATA_SERVICES.filter((service) => service !== 'archive');

let harness: ArchiveHarness;
let governance: GovernanceServiceClient;
let archiveLog: ArchiveLogServiceClient;
let keyring: Keyring;
const participants: RunningCustomerDataParticipant[] = [];
/** Each service's records by customer. */
const held = new Map<string, Map<string, Record<string, unknown>[]>>();

before(async () => {
  harness = await startArchiveHarness({ tenants: TENANTS, analyzeText: async () => ({ language: 'en', score: 0, label: 'neutral' }) });
  governance = new GovernanceServiceClient(`127.0.0.1:${harness.archive.grpcPort}`, credentials.createInsecure());
  archiveLog = new ArchiveLogServiceClient(`127.0.0.1:${harness.archive.grpcPort}`, credentials.createInsecure());
  // The region keyring as the archive opens it (same bucket, same local KEK file).
  keyring = createKeyring({
    store: await JetStreamWrappedKeyStore.open(harness.events.js, 'eu'),
    keks: resolveKekSource(harness.config.kek).keys,
    clock: systemClock,
  });
});

after(async () => {
  for (const participant of participants) await participant.stop();
  governance?.close();
  archiveLog?.close();
  await harness?.stop();
});

function memoryParticipant(service: string): CustomerDataParticipant {
  const data = new Map([
    [ALICE, [{ service, text: `alice-${service}` }]],
    [
      BOB,
      [
        { service, text: `bob-${service}-1` },
        { service, text: `bob-${service}-2` },
      ],
    ],
  ]);
  held.set(service, data);
  return {
    service,
    async erase(subject: CustomerDataSubject) {
      const count = data.get(subject.customer)?.length ?? 0;
      data.delete(subject.customer);
      return { messages: count };
    },
    async *exportCustomer(subject: CustomerDataSubject) {
      for (const record of data.get(subject.customer) ?? []) yield { section: 'messages.jsonl', record };
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  assert.fail('the call succeeded');
}

const erase = (customer: string, reason = '', apiKey = KEYS.acme) =>
  callUnary<GovernanceServiceClient, EraseCustomerResponse>(governance, 'eraseCustomer', { customer, reason }, bearerMetadata(apiKey));
const statusOf = (erasureId: string, apiKey = KEYS.acme) =>
  callUnary<GovernanceServiceClient, GetErasureStatusResponse>(governance, 'getErasureStatus', { erasureId }, bearerMetadata(apiKey));

test('EraseCustomer is refused while a hold covers the customer, naming it; bad fields are named', async () => {
  const { hold } = await callUnary<GovernanceServiceClient, PlaceLegalHoldResponse>(
    governance,
    'placeLegalHold',
    { matter: 'Smith v. Acme', customer: '' },
    bearerMetadata(KEYS.acme),
  );
  const refused = await rejection(erase(ALICE));
  assert.equal(refused.code, grpcStatus.FAILED_PRECONDITION);
  assert.deepEqual(preconditionViolations(refused), [
    { type: 'LEGAL_HOLD', subject: `legalHolds/${hold!.holdId}`, description: 'matter: Smith v. Acme' },
  ]);
  await callUnary(governance, 'releaseLegalHold', { holdId: hold!.holdId }, bearerMetadata(KEYS.acme));

  const invalid = await rejection(erase('0151 1234', 'x'.repeat(201)));
  assert.equal(invalid.code, grpcStatus.INVALID_ARGUMENT);
  assert.deepEqual(
    badRequestViolations(invalid).map((violation) => violation.field),
    ['customer', 'reason'],
  );
  assert.ok(!invalid.details.includes('0151'), 'the bad number is not echoed');
  const malformed = await rejection(statusOf('er_nope'));
  assert.deepEqual(
    badRequestViolations(malformed).map((violation) => violation.field),
    ['erasure_id'],
  );
  assert.equal((await rejection(statusOf(`er_${'0'.repeat(26)}`))).code, grpcStatus.NOT_FOUND);
});

test('an erasure waits for the services, completes with a receipt signed by the region key; asked again while it runs it is the same, asked after it completed it is a new one', async () => {
  // Alice has a data key (her content would be sealed under it); Bob too.
  const aliceKey = scopeName({ tenantId: 'acme', customerRef: await keyring.customerRef('acme', ALICE) });
  const bobKey = scopeName({ tenantId: 'acme', customerRef: await keyring.customerRef('acme', BOB) });
  await keyring.dataKeyFor({ tenantId: 'acme', customerRef: await keyring.customerRef('acme', ALICE) });
  await keyring.dataKeyFor({ tenantId: 'acme', customerRef: await keyring.customerRef('acme', BOB) });
  const keys = await JetStreamWrappedKeyStore.open(harness.events.js, 'eu');

  const started = await erase(ALICE, 'customer asked');
  assert.equal(await keys.get(aliceKey), undefined, "Alice's data key is destroyed before EraseCustomer answers");
  assert.ok(await keys.get(bobKey), "Bob's key stays");
  assert.equal(started.state, ErasureState.ERASURE_STATE_IN_PROGRESS, 'no service has taken part yet');
  const waiting = await statusOf(started.erasureId);
  assert.equal(waiting.requestedBy, ACME_KEY_ID);
  const completedFirst = waiting.parts.filter((part) => part.state === ErasureState.ERASURE_STATE_COMPLETE).map((part) => part.service);
  assert.ok(completedFirst.includes('keyring'), "the customer's key is destroyed first");
  assert.deepEqual(
    completedFirst.filter((service) => (STAND_INS as readonly string[]).includes(service)),
    [],
    'no stand-in service has taken part yet',
  );
  assert.equal((await rejection(statusOf(started.erasureId, KEYS.umbrella))).code, grpcStatus.NOT_FOUND, "another tenant's erasure");
  assert.deepEqual(await erase(ALICE, 'asked twice'), started, 'asking again while it runs returns it');

  for (const service of STAND_INS)
    participants.push(
      await startCustomerDataParticipant({
        nats: harness.events,
        region: 'eu',
        keyring,
        participant: memoryParticipant(service),
        logger: harness.logger,
      }),
    );
  const done = await waitFor(() => statusOf(started.erasureId), {
    until: (status) => status.state === ErasureState.ERASURE_STATE_COMPLETE,
    timeoutMs: 15_000,
    what: 'the erasure to complete',
  });
  assert.deepEqual(
    JSON.parse(
      JSON.stringify(done.parts.filter((part) => part.service !== 'archive').map((part) => [part.service, part.state, part.counts])),
    ),
    [
      ...STAND_INS.map((service) => [service, ErasureState.ERASURE_STATE_COMPLETE, { messages: '1' }]),
      ['keyring', ErasureState.ERASURE_STATE_COMPLETE, { data_keys: '1' }],
    ],
  );
  assert.equal(done.parts.find((part) => part.service === 'archive')?.state, ErasureState.ERASURE_STATE_COMPLETE);
  for (const service of STAND_INS) assert.equal(held.get(service)?.has(ALICE), false);

  const key = await callUnary<ArchiveLogServiceClient, GetLogPublicKeyResponse>(
    archiveLog,
    'getLogPublicKey',
    {},
    bearerMetadata(KEYS.acme),
  );
  const { text } = verifyNote(done.receipt, [parseVerifierKey(key.verifierKey)]);
  assert.match(text, new RegExp(`^erasure ${done.erasureId}$`, 'm'));
  assert.match(text, new RegExp(`^customer-hash ${done.customerHash}$`, 'm'));
  assert.match(text, new RegExp(`^requested-by ${ACME_KEY_ID}$`, 'm'));

  // Asked after it completed: a new erasure (a customer who came back), which completes in turn.
  const again = await erase(ALICE, 'again');
  assert.notEqual(again.erasureId, started.erasureId);
  await waitFor(() => statusOf(again.erasureId), {
    until: (status) => status.state === ErasureState.ERASURE_STATE_COMPLETE,
    timeoutMs: 15_000,
    what: 'the second erasure to complete',
  });
  assert.ok(!harness.logLines.join('').includes(ALICE.slice(1)), 'no log line holds the number');
  // The erasure's own key (the sealed number) is gone too: no key of purpose `erasure` is left.
  assert.deepEqual(
    (await keys.names()).filter((name) => name.includes('.erasure.')),
    [],
  );
});

test('ExportCustomerData streams a folder per service and a manifest that matches, over gRPC', async () => {
  const files = new Map<string, Buffer[]>();
  const order: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const stream = governance.exportCustomerData({ customer: BOB }, bearerMetadata(KEYS.acme));
    stream.on('data', (chunk: ExportCustomerDataResponse) => {
      if (!files.has(chunk.path)) order.push(chunk.path);
      files.set(chunk.path, [...(files.get(chunk.path) ?? []), Buffer.from(chunk.data)]);
    });
    stream.on('error', reject);
    stream.on('end', resolve);
  });
  // The archive's own part holds nothing of Bob here (its store is empty); the stand-ins' parts are a file each.
  assert.deepEqual(
    order.filter((file) => !file.startsWith('archive/')),
    [...STAND_INS.map((service) => `${service}/messages.jsonl`), 'manifest.json'],
  );
  const manifest = JSON.parse(Buffer.concat(files.get('manifest.json') ?? []).toString('utf8')) as {
    files: { path: string; sha256: string; bytes: number; records: number }[];
  };
  for (const file of manifest.files.filter((entry) => !entry.path.startsWith('archive/'))) {
    const bytes = Buffer.concat(files.get(file.path) ?? []);
    assert.deepEqual(
      [file.sha256, file.bytes, file.records],
      [createHash('sha256').update(bytes).digest('hex'), bytes.length, 2],
      file.path,
    );
  }
  const invalid = await new Promise<ServiceError>((resolve) => {
    const stream = governance.exportCustomerData({ customer: 'bob' }, bearerMetadata(KEYS.acme));
    stream.on('data', () => undefined);
    stream.on('error', resolve);
  });
  assert.deepEqual(
    badRequestViolations(invalid).map((violation) => violation.field),
    ['customer'],
  );
});
