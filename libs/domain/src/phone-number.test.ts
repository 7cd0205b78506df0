import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isE164, maskPhoneNumber, toWaId } from './phone-number';

test('E.164 validation', () => {
  for (const ok of ['+4915112345678', '+16505551234', '+12345678']) assert.ok(isE164(ok), ok);
  for (const bad of ['4915112345678', '+0123456789', '+1234567', '+1234567890123456', '+49 151 1234', '']) {
    assert.ok(!isE164(bad), bad);
  }
});

test('wa_id and masking', () => {
  assert.equal(toWaId('+4915112345678'), '4915112345678');
  assert.equal(maskPhoneNumber('+4915112345678'), '*********5678');
  assert.equal(maskPhoneNumber('123'), '****');
});
