import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { credentials, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { badRequestViolations } from '@waygate/grpc';
import {
  GovernanceServiceClient,
  ListLegalHoldsRequest,
  type ListLegalHoldsResponse,
  type PlaceLegalHoldResponse,
  type ReleaseLegalHoldResponse,
} from '@waygate/proto';
import { hashApiKey } from '@waygate/tenancy';
import { bearerMetadata, callUnary, type UnaryMethodOf } from '@waygate/testing';
import { startArchiveHarness, type ArchiveHarness } from '../testing/archive-harness';

// PlaceLegalHold, ReleaseLegalHold and ListLegalHolds over real gRPC, on the archive as main.ts starts it.
const KEYS = { acme: 'key-acme-holds', umbrella: 'key-umbrella-holds' };
const TENANTS = [
  { id: 'acme', homeRegion: 'eu', apiKey: KEYS.acme, phoneNumberIds: ['200'] },
  { id: 'umbrella', homeRegion: 'eu', apiKey: KEYS.umbrella, phoneNumberIds: ['202'] },
] as const;
const ALICE = '+4915112345678';
const BOB = '+4915187654321';
const ACME_KEY_ID = `key_${hashApiKey(KEYS.acme).slice(0, 12)}`;

let harness: ArchiveHarness;
let client: GovernanceServiceClient;

before(async () => {
  harness = await startArchiveHarness({ tenants: TENANTS, analyzeText: async () => ({ language: 'en', score: 0, label: 'neutral' }) });
  client = new GovernanceServiceClient(`127.0.0.1:${harness.archive.grpcPort}`, credentials.createInsecure());
});

after(async () => {
  client?.close();
  await harness?.stop();
});

function call<Response>(method: UnaryMethodOf<GovernanceServiceClient>, request: object, apiKey = KEYS.acme): Promise<Response> {
  // Requests with every field (the generated client encodes without defaults).
  const full =
    method === 'listLegalHolds' ? ListLegalHoldsRequest.fromPartial(request) : { matter: '', customer: '', holdId: '', ...request };
  return callUnary(client, method, full, bearerMetadata(apiKey));
}

async function rejection(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  assert.fail('the call succeeded');
}

test('PlaceLegalHold places a customer hold once per matter; the key id is recorded', async () => {
  const placed = (await call<PlaceLegalHoldResponse>('placeLegalHold', { matter: 'Smith v. Acme', customer: ALICE })).hold!;
  assert.match(placed.holdId, /^lh_[0-9a-f]{26}$/);
  assert.equal(placed.matter, 'Smith v. Acme');
  assert.equal(placed.customer, ALICE);
  assert.equal(placed.placedBy, ACME_KEY_ID);
  assert.equal(placed.releasedAt, undefined);
  assert.ok(placed.placedAt && Math.abs(placed.placedAt.getTime() - Date.now()) < 60_000);
  const again = (await call<PlaceLegalHoldResponse>('placeLegalHold', { matter: 'Smith v. Acme', customer: ALICE })).hold!;
  assert.deepEqual(again, placed, 'the same matter and scope returns the active hold');
  const wide = (await call<PlaceLegalHoldResponse>('placeLegalHold', { matter: 'Smith v. Acme', customer: '' })).hold!;
  assert.notEqual(wide.holdId, placed.holdId, 'the whole tenant is another scope');
  assert.equal(wide.customer, '');
});

test('PlaceLegalHold refuses a bad matter or customer with a field violation each', async () => {
  const error = await rejection(call('placeLegalHold', { matter: '', customer: '0151-1234' }));
  assert.equal(error.code, grpcStatus.INVALID_ARGUMENT);
  assert.deepEqual(
    badRequestViolations(error).map((violation) => violation.field),
    ['matter', 'customer'],
  );
  assert.ok(!error.details.includes('0151-1234'), 'the bad number is never quoted');
  const tooLong = await rejection(call('placeLegalHold', { matter: 'x'.repeat(201), customer: ALICE }));
  assert.equal(tooLong.code, grpcStatus.INVALID_ARGUMENT);
  assert.deepEqual(
    badRequestViolations(tooLong).map((violation) => violation.reason),
    ['TOO_LONG'],
  );
  assert.equal(
    (await call<PlaceLegalHoldResponse>('placeLegalHold', { matter: 'y'.repeat(200), customer: ALICE })).hold!.matter.length,
    200,
  );
  const control = await rejection(call('placeLegalHold', { matter: 'line\nbreak', customer: ALICE }));
  assert.equal(control.code, grpcStatus.INVALID_ARGUMENT);
});

test('ReleaseLegalHold releases once (idempotent); unknown ids and other tenants’ holds are NOT_FOUND', async () => {
  const placed = (await call<PlaceLegalHoldResponse>('placeLegalHold', { matter: 'release me', customer: BOB })).hold!;
  const released = (await call<ReleaseLegalHoldResponse>('releaseLegalHold', { holdId: placed.holdId })).hold!;
  assert.equal(released.releasedBy, ACME_KEY_ID);
  assert.ok(released.releasedAt);
  assert.deepEqual(
    (await call<ReleaseLegalHoldResponse>('releaseLegalHold', { holdId: placed.holdId })).hold,
    released,
    'releasing again changes nothing',
  );
  const otherTenant = await rejection(call('releaseLegalHold', { holdId: placed.holdId }, KEYS.umbrella));
  assert.equal(otherTenant.code, grpcStatus.NOT_FOUND);
  assert.equal((await rejection(call('releaseLegalHold', { holdId: 'lh_00000000000000000000000000' }))).code, grpcStatus.NOT_FOUND);
  assert.equal((await rejection(call('releaseLegalHold', { holdId: 'nonsense' }))).code, grpcStatus.NOT_FOUND);
  assert.equal((await rejection(call('releaseLegalHold', { holdId: '' }))).code, grpcStatus.INVALID_ARGUMENT);
  // After release, the same matter and scope is a new hold.
  const renewed = (await call<PlaceLegalHoldResponse>('placeLegalHold', { matter: 'release me', customer: BOB })).hold!;
  assert.notEqual(renewed.holdId, placed.holdId);
});

test('ListLegalHolds: tenant-scoped, active first, customer filter, pages with opaque tokens', async () => {
  const tenant = KEYS.umbrella;
  const placed: string[] = [];
  for (let n = 0; n < 5; n += 1) {
    placed.push(
      (
        await call<PlaceLegalHoldResponse>(
          'placeLegalHold',
          { matter: `matter ${n}`, customer: n === 4 ? '' : n % 2 ? ALICE : BOB },
          tenant,
        )
      ).hold!.holdId,
    );
  }
  await call('releaseLegalHold', { holdId: placed[0] }, tenant);
  const active = await call<ListLegalHoldsResponse>('listLegalHolds', {}, tenant);
  assert.deepEqual(
    active.holds.map((hold) => hold.holdId),
    [placed[4], placed[3], placed[2], placed[1]],
  );
  assert.equal(active.nextPageToken, '');
  const forAlice = await call<ListLegalHoldsResponse>('listLegalHolds', { customer: ALICE }, tenant);
  assert.deepEqual(
    forAlice.holds.map((hold) => hold.holdId),
    [placed[4], placed[3], placed[1]],
    "ALICE's own and the tenant-wide hold",
  );
  // Pages of 2 with released holds: the tokens walk everything once, active first.
  const walked: string[] = [];
  let pageToken = '';
  do {
    const page = await call<ListLegalHoldsResponse>('listLegalHolds', { includeReleased: true, pageSize: 2, pageToken }, tenant);
    assert.ok(page.holds.length <= 2);
    walked.push(...page.holds.map((hold) => hold.holdId));
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  assert.deepEqual(walked, [placed[4], placed[3], placed[2], placed[1], placed[0]]);
  // acme's holds are not umbrella's.
  const acme = await call<ListLegalHoldsResponse>('listLegalHolds', { includeReleased: true, pageSize: 500 });
  assert.ok(acme.holds.every((hold) => !placed.includes(hold.holdId)));
  // A token only continues its own request; bad sizes and numbers are field violations.
  const first = await call<ListLegalHoldsResponse>('listLegalHolds', { includeReleased: true, pageSize: 2 }, tenant);
  const wrongFilters = await rejection(call('listLegalHolds', { pageSize: 2, pageToken: first.nextPageToken }, tenant));
  assert.equal(wrongFilters.code, grpcStatus.INVALID_ARGUMENT);
  assert.deepEqual(
    badRequestViolations(wrongFilters).map((violation) => violation.field),
    ['page_token'],
  );
  const bad = await rejection(call('listLegalHolds', { customer: 'alice', pageSize: 501 }, tenant));
  assert.deepEqual(
    badRequestViolations(bad)
      .map((violation) => violation.field)
      .sort(),
    ['customer', 'page_size'],
  );
  assert.equal((await rejection(call('listLegalHolds', { pageToken: 'garbage!' }, tenant))).code, grpcStatus.INVALID_ARGUMENT);
});

test('a wrong key is UNAUTHENTICATED', async () => {
  const error = await rejection(call('listLegalHolds', {}, 'not-a-key'));
  assert.equal(error.code, grpcStatus.UNAUTHENTICATED);
});

test('hold logs carry ids and the scope kind, never the matter or the number', () => {
  const lines = harness.logLines.filter((line) => line.includes('legal hold'));
  assert.ok(lines.length > 0);
  for (const line of lines) {
    assert.ok(!line.includes(ALICE.slice(1)) && !line.includes(BOB.slice(1)), line);
    assert.ok(!line.includes('Smith v. Acme'), line);
  }
});
