import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TEXT_BODY_LENGTH, validateSendMessageRequest } from './message-validation';

const base = { messaging_product: 'whatsapp', to: '+1 (555) 010-2030', type: 'text', text: { body: 'hi' } };

function errorOf(payload: unknown): { code: number; details?: string } {
  const result = validateSendMessageRequest(payload);
  assert.equal(result.ok, false, 'expected a validation error');
  return result.ok ? assert.fail() : result.error;
}

describe('validateSendMessageRequest', () => {
  it('accepts a text message and normalises to wa_id', () => {
    const result = validateSendMessageRequest(base);
    assert.deepEqual(result, { ok: true, request: { to: base.to, waId: '15550102030', type: 'text', body: base } });
  });

  it('counts characters, not UTF-16 units, against the 4096 limit', () => {
    const emoji = '😀'.repeat(MAX_TEXT_BODY_LENGTH);
    assert.equal(validateSendMessageRequest({ ...base, text: { body: emoji } }).ok, true);
    assert.equal(errorOf({ ...base, text: { body: `${emoji}x` } }).code, 100);
  });

  it('rejects an empty body as missing', () => {
    assert.deepEqual(errorOf({ ...base, text: { body: '' } }).details, "The parameter text['body'] is required.");
  });

  it('rejects wrongly typed fields', () => {
    assert.match(errorOf({ ...base, text: { body: 1 } }).details ?? '', /must be a string/);
    assert.match(errorOf({ ...base, text: { body: 'hi', preview_url: 'yes' } }).details ?? '', /preview_url/);
    assert.match(errorOf({ ...base, text: 'hi' }).details ?? '', /text must be a JSON object/);
    assert.match(errorOf({ ...base, type: 5 }).details ?? '', /type must be a string/);
    assert.match(errorOf({ ...base, to: 4915112345678 }).details ?? '', /\bto\b/);
  });

  it('only allows recipient_type individual', () => {
    assert.equal(validateSendMessageRequest({ ...base, recipient_type: 'individual' }).ok, true);
    assert.equal(errorOf({ ...base, recipient_type: 'group' }).code, 131009);
  });

  it('checks the envelope before the type payload, like Meta', () => {
    assert.match(errorOf({ type: 'image' }).details ?? '', /messaging_product/);
  });
});
