import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { codeMatches, decideCheck, effectiveStatus, generateCode, hashCode, MAX_CHECKS, type Verification } from './verification';
import { codeComponents, codeLifetimeSeconds } from './verification-service';
import type { CatalogTemplate } from './template-catalog';

const secret = randomBytes(32);
const T0 = new Date(Date.UTC(2026, 0, 1));

function pending(overrides: Partial<Verification> = {}): Verification {
  const base = {
    tenantId: 'acme',
    verificationId: 'ver_1',
    to: '+4915112345678',
    phoneNumberId: 'pn',
    templateName: 'login_code',
    templateLanguage: 'en_US',
    codeHash: '',
    status: 'PENDING' as const,
    checks: 0,
    createdAt: T0,
    expiresAt: new Date(T0.getTime() + 300_000),
    version: 1,
    ...overrides,
  };
  return { ...base, codeHash: overrides.codeHash ?? hashCode(secret, base, '123456') };
}

test('codes: decimal digits of the asked length from the CSPRNG; stored as an HMAC bound to tenant and verification', () => {
  for (const length of [4, 6, 10]) assert.match(generateCode(length), new RegExp(`^\\d{${length}}$`));
  assert.equal(new Set(Array.from({ length: 50 }, () => generateCode(10))).size, 50);
  const v = pending();
  assert.match(v.codeHash, /^[0-9a-f]{64}$/);
  assert.ok(!v.codeHash.includes('123456'));
  assert.ok(codeMatches(secret, v, '123456'));
  assert.ok(!codeMatches(secret, v, '123457'));
  assert.ok(!codeMatches(randomBytes(32), v, '123456'), 'another region secret');
  assert.ok(!codeMatches(secret, { ...v, verificationId: 'ver_2' }, '123456'), 'a hash moved to another verification');
  assert.ok(!codeMatches(secret, { ...v, codeHash: 'abcd' }, '123456'), 'a malformed hash never matches');
});

test('decideCheck: right code approves (once), wrong codes count down to FAILED, expiry and final statuses win', () => {
  const at = new Date(T0.getTime() + 1000);
  const right = decideCheck(pending(), () => true, at);
  assert.equal(right.kind === 'update' && right.next.status, 'APPROVED');
  assert.equal(right.kind === 'update' && right.next.approvedAt?.getTime(), at.getTime());
  const approved = right.kind === 'update' ? right.next : pending();
  assert.deepEqual(
    decideCheck(approved, () => false, at),
    { kind: 'unchanged', verification: approved },
  );
  let current = pending();
  for (let i = 1; i <= MAX_CHECKS; i++) {
    const decision = decideCheck(current, () => false, at);
    assert.equal(decision.kind, 'update');
    if (decision.kind === 'update') current = decision.next;
    assert.equal(current.status, i < MAX_CHECKS ? 'PENDING' : 'FAILED');
    assert.equal(current.checks, i);
  }
  assert.equal(decideCheck(current, () => true, at).kind, 'unchanged', 'FAILED stays FAILED, even for the right code');
  const late = new Date(T0.getTime() + 300_000);
  assert.equal(effectiveStatus(pending(), late), 'EXPIRED');
  let compared = false;
  const expired = decideCheck(
    pending(),
    () => {
      compared = true;
      return true;
    },
    late,
  );
  assert.equal(expired.kind === 'update' && expired.next.status, 'EXPIRED');
  assert.equal(compared, false, 'an expired code is never compared');
  for (const status of ['CANCELED', 'UNDELIVERABLE', 'EXPIRED'] as const)
    assert.equal(decideCheck(pending({ status }), () => true, at).kind, 'unchanged');
});

const template = (overrides: Partial<CatalogTemplate>): CatalogTemplate => ({
  tenantId: 'acme',
  wabaId: 'w',
  templateId: '1',
  name: 'login_code',
  language: 'en_US',
  rawStatus: 'APPROVED',
  rawCategory: 'AUTHENTICATION',
  parameterFormat: 'POSITIONAL',
  components: [
    { type: 'BODY', headerFormat: '', parameterNames: [], parameterCount: 1, buttonType: '', buttonSubType: '', index: 0 },
    { type: 'FOOTER', headerFormat: '', parameterNames: [], parameterCount: 0, buttonType: '', buttonSubType: '', index: 0 },
    { type: 'BUTTON', headerFormat: '', parameterNames: [], parameterCount: 1, buttonType: 'OTP', buttonSubType: 'url', index: 0 },
  ],
  qualityScore: '',
  otpType: 'COPY_CODE',
  codeExpirationMinutes: 10,
  messageSendTtlSeconds: 300,
  syncedAt: T0,
  ...overrides,
});

test('a code lives min(code_expiration_minutes, send TTL or 10 minutes); it goes in the body and on the OTP button', () => {
  assert.equal(codeLifetimeSeconds(template({})), 300);
  assert.equal(codeLifetimeSeconds(template({ codeExpirationMinutes: 5, messageSendTtlSeconds: 0 })), 300);
  assert.equal(codeLifetimeSeconds(template({ codeExpirationMinutes: 0, messageSendTtlSeconds: 0 })), 600);
  assert.equal(codeLifetimeSeconds(template({ codeExpirationMinutes: 30, messageSendTtlSeconds: 0 })), 600);
  assert.equal(codeLifetimeSeconds(template({ codeExpirationMinutes: 2, messageSendTtlSeconds: 900 })), 120);
  assert.deepEqual(codeComponents(template({}), '424242'), [
    { type: 'body', subType: '', index: 0, parameters: [{ parameterName: '', value: { type: 'text', text: '424242' } }] },
    { type: 'button', subType: 'url', index: 0, parameters: [{ parameterName: '', value: { type: 'text', text: '424242' } }] },
  ]);
});
