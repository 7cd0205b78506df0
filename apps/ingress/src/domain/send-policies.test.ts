import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { FailedPreconditionError, ResourceExhaustedError, type MessageContent, type TemplateCategory } from '@waygate/domain';
import { parseTenants, type Tenant } from '@waygate/tenancy';
import { createTempDir, tenantsYaml } from '@waygate/testing';
import { SqliteCustomerView } from '../adapters/sqlite-customer-view';
import { SqliteOptOutList } from '../adapters/sqlite-opt-out-list';
import { SqliteSendQuotaStore } from '../adapters/sqlite-send-quota-store';
import { customerKeyOfWaId } from './customer-view';
import { createOptOutPolicy } from './opt-out-policy';
import { createTenantQuotaPolicy } from './send-quota';
import type { SendFacts, SendPolicy } from './send-policy';
import type { ValidSendRequest } from './send-request';
import { createServiceWindowPolicy } from './service-window-policy';

// The three policies on their own, against real SQLite stores (the adapters' contracts have their own suites).

const tenants = parseTenants(
  tenantsYaml([
    { id: 'acme', homeRegion: 'eu', apiKey: 'k', phoneNumberIds: ['200', '201'] },
    { id: 'limited', homeRegion: 'eu', apiKey: 'l', phoneNumberIds: ['300'], sendLimits: { sendsPerSecond: 2, burst: 2, dailyQuota: 3 } },
  ]),
);
const acme = tenants.get('acme') as Tenant;
const limited = tenants.get('limited') as Tenant;
const T0 = Date.UTC(2025, 0, 1, 12);
const HOUR_MS = 3_600_000;
const TEXT: MessageContent = { kind: 'text', body: 'hi', previewUrl: false };
const TEMPLATE: MessageContent = { kind: 'template', name: 'offer', language: 'en_US', components: [] };

function request(overrides: Partial<ValidSendRequest> = {}): ValidSendRequest {
  return {
    to: '+4915112345678',
    content: TEXT,
    idempotencyKey: 'k',
    validitySeconds: 30 * 86_400,
    validityExplicit: false,
    phoneNumberId: '200',
    replyTo: '',
    requestHash: 'h',
    ...overrides,
  };
}

async function check(policy: SendPolicy, options: { tenant?: Tenant; request?: ValidSendRequest; nowMs?: number; facts?: SendFacts } = {}) {
  return policy.check({
    tenant: options.tenant ?? acme,
    request: options.request ?? request(),
    now: new Date(options.nowMs ?? T0),
    facts: options.facts ?? {},
  });
}

function refusedWith(type: string) {
  return (error: unknown) => {
    assert.ok(error instanceof FailedPreconditionError);
    assert.deepEqual(
      error.violations.map((v) => v.type),
      [type],
    );
    return true;
  };
}

let dir: ReturnType<typeof createTempDir>;
let view: SqliteCustomerView;
let optOuts: SqliteOptOutList;
let quotas: SqliteSendQuotaStore;

beforeEach(() => {
  dir = createTempDir();
  view = new SqliteCustomerView(path.join(dir.path, 'customers.sqlite'));
  optOuts = new SqliteOptOutList(path.join(dir.path, 'opt-outs.sqlite'));
  quotas = new SqliteSendQuotaStore(path.join(dir.path, 'quotas.sqlite'));
});

afterEach(async () => {
  await Promise.all([view.close(), optOuts.close(), quotas.close()]);
  dir.remove();
});

const writes = (waId: string, atMs: number, phoneNumberId = '200') =>
  view.recordInbound({
    tenantId: 'acme',
    phoneNumberId,
    waMessageId: `wamid.${waId}.${atMs}`,
    customer: `+${waId}`,
    customerKey: customerKeyOfWaId(waId),
    occurredAt: new Date(atMs),
    windowClosesAt: new Date(atMs + 24 * HOUR_MS),
  });

test('service window: free-form content needs an open window of the sending number; an open one caps the validity at its close', async () => {
  const policy = createServiceWindowPolicy(view);
  await assert.rejects(check(policy), refusedWith('SERVICE_WINDOW_CLOSED'));
  await writes('4915112345678', T0 - 2 * HOUR_MS);
  assert.deepEqual(await check(policy), { notAfter: new Date(T0 + 22 * HOUR_MS) });
  await assert.rejects(check(policy, { request: request({ phoneNumberId: '201' }) }), refusedWith('SERVICE_WINDOW_CLOSED'));
  // Every free-form kind, reactions included.
  for (const content of [
    { kind: 'reaction', messageId: 'wamid.x', emoji: '👍' },
    { kind: 'location', latitude: 1, longitude: 2, name: '', address: '' },
  ] as MessageContent[]) {
    await assert.rejects(check(policy, { request: request({ content, phoneNumberId: '201' }) }), refusedWith('SERVICE_WINDOW_CLOSED'));
  }
});

test('service window: a closed window is refused saying when it closed; templates pass without one', async () => {
  const policy = createServiceWindowPolicy(view);
  await writes('4915112345678', T0 - 30 * HOUR_MS);
  await assert.rejects(check(policy), (error: unknown) => {
    assert.ok(error instanceof FailedPreconditionError);
    assert.match(error.violations[0]?.description ?? '', new RegExp(new Date(T0 - 6 * HOUR_MS).toISOString().replace(/\./g, '\\.')));
    return true;
  });
  assert.equal(await check(policy, { request: request({ content: TEMPLATE, to: '+4915199999999' }) }), undefined);
});

test('service window: the wa_id Meta answered for `to` wins over the number-based guesses', async () => {
  const policy = createServiceWindowPolicy(view);
  await writes('5215512345678', T0 - HOUR_MS);
  assert.ok(await check(policy, { request: request({ to: '+525512345678' }) }), 'the Mexican +52 1 variant is found');
  await view.recordWaId('acme', '+525512345678', '525512345670', new Date(T0));
  await assert.rejects(check(policy, { request: request({ to: '+525512345678' }) }), refusedWith('SERVICE_WINDOW_CLOSED'));
  await writes('525512345670', T0 - HOUR_MS);
  assert.ok(await check(policy, { request: request({ to: '+525512345678' }) }));
});

test('opt-out: only a MARKETING template to a customer on the list (under any of their numbers) is refused', async () => {
  const policy = createOptOutPolicy({ optOuts, view });
  await optOuts.add({ tenantId: 'acme', customer: '+551187654321', source: 'user-preferences', createdAt: new Date(T0) });
  const brazil = (content: MessageContent, templateCategory?: TemplateCategory) =>
    check(policy, { request: request({ to: '+5511987654321', content }), facts: templateCategory ? { templateCategory } : {} });
  await assert.rejects(brazil(TEMPLATE, 'MARKETING'), (error: unknown) => {
    assert.ok(refusedWith('OPTED_OUT')(error));
    assert.match((error as FailedPreconditionError).violations[0]?.description ?? '', /user-preferences/);
    return true;
  });
  assert.equal(await brazil(TEMPLATE, 'UTILITY'), undefined);
  assert.equal(await brazil(TEMPLATE, 'AUTHENTICATION'), undefined);
  assert.equal(await brazil(TEXT), undefined);
  assert.equal(await check(policy, { request: request({ content: TEMPLATE }), facts: { templateCategory: 'MARKETING' } }), undefined);
});

test('tenant quota: over the rate RESOURCE_EXHAUSTED with the wait; over the daily quota until midnight UTC; neither charged by the other', async () => {
  const policy = createTenantQuotaPolicy({ store: quotas });
  const send = (nowMs: number) => check(policy, { tenant: limited, nowMs });
  const exhausted = (retryAfterMs: number) => (error: unknown) => {
    assert.ok(error instanceof ResourceExhaustedError);
    assert.equal(error.retryAfterMs, retryAfterMs);
    return true;
  };
  await send(T0);
  await send(T0);
  await assert.rejects(send(T0 + 100), exhausted(400), 'burst of 2 used; the next token in 400 ms');
  assert.equal(await quotas.used('limited', '2025-01-01'), 2, 'the refused send was not counted');
  await send(T0 + 500);
  await assert.rejects(send(T0 + 5_000), exhausted(12 * HOUR_MS - 5_000), 'quota of 3 used; it renews at midnight UTC');
  await send(T0 + 12 * HOUR_MS);
  assert.equal(await check(policy, { tenant: acme, nowMs: T0 }), undefined, 'no limits configured: no limit');
});
