import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ERROR_CODES_HREF,
  MESSAGE_UNDELIVERABLE_ERROR,
  buildStatusObject,
  failedStatusError,
  type MessagePricing,
} from './status-payloads';

const WAMID = 'wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEkU4OUYyNDNBRUVCNjQyMDhCQwA=';
const BASE = { wamid: WAMID, recipientId: '4915112345678', timestampSec: 1795431600 };
const MARKETING: MessagePricing = { category: 'marketing', type: 'regular', billable: true };
const FREE_SERVICE: MessagePricing = { category: 'service', type: 'free_customer_service', billable: false };

describe('buildStatusObject', () => {
  test('sent carries pricing (PMP) and, for a free entry point message, the conversation with its expiry', () => {
    const status = buildStatusObject({
      ...BASE,
      status: 'sent',
      conversation: { id: 'd3e2724d961e0a11368fc1cbc67b3b65', originType: 'referral_conversion', expiresAtSec: 1795690800 },
      pricing: { category: 'referral_conversion', type: 'free_entry_point', billable: false },
    });
    assert.deepEqual(status, {
      id: WAMID,
      status: 'sent',
      timestamp: '1795431600',
      recipient_id: '4915112345678',
      conversation: { id: 'd3e2724d961e0a11368fc1cbc67b3b65', expiration_timestamp: '1795690800', origin: { type: 'referral_conversion' } },
      pricing: { billable: false, pricing_model: 'PMP', type: 'free_entry_point', category: 'referral_conversion' },
    });
  });

  test('sent without a conversation is the v24.0+ shape: pricing only', () => {
    const status = buildStatusObject({ ...BASE, status: 'sent', pricing: MARKETING });
    assert.deepEqual(Object.keys(status), ['id', 'status', 'timestamp', 'recipient_id', 'pricing']);
    assert.deepEqual(status.pricing, { billable: true, pricing_model: 'PMP', type: 'regular', category: 'marketing' });
  });

  test('delivered never carries expiration_timestamp, even when handed one', () => {
    const conversation = { id: 'c1', originType: 'service' as const, expiresAtSec: 1795690800 };
    const status = buildStatusObject({ ...BASE, status: 'delivered', conversation, pricing: FREE_SERVICE });
    assert.deepEqual(status.conversation, { id: 'c1', origin: { type: 'service' } });
    assert.deepEqual(status.pricing, { billable: false, pricing_model: 'PMP', type: 'free_customer_service', category: 'service' });
  });

  test('read carries pricing only when given (no delivered webhook went out before it)', () => {
    assert.deepEqual(buildStatusObject({ ...BASE, status: 'read' }), {
      id: WAMID,
      status: 'read',
      timestamp: '1795431600',
      recipient_id: '4915112345678',
    });
    assert.equal(buildStatusObject({ ...BASE, status: 'read', pricing: MARKETING }).pricing?.type, 'regular');
  });

  test('failed carries a copy of the errors and neither conversation nor pricing', () => {
    const errors = [failedStatusError(131049, 'This message was not delivered to maintain healthy ecosystem engagement.', 'Healthy.')];
    const status = buildStatusObject({ ...BASE, status: 'failed', errors });
    assert.deepEqual(status.errors, errors);
    assert.notEqual(status.errors?.[0], errors[0]);
    assert.equal(status.conversation, undefined);
    assert.equal(status.pricing, undefined);
  });

  test('echoes biz_opaque_callback_data when the send request had it', () => {
    const status = buildStatusObject({ ...BASE, status: 'delivered', pricing: MARKETING, bizOpaqueCallbackData: 'order-42' });
    assert.equal(status.biz_opaque_callback_data, 'order-42');
    assert.equal('biz_opaque_callback_data' in buildStatusObject({ ...BASE, status: 'delivered', pricing: MARKETING }), false);
  });

  test('timestamps are strings of Unix seconds, as Meta sends them', () => {
    assert.equal(buildStatusObject({ ...BASE, timestampSec: 0, status: 'read' }).timestamp, '0');
  });
});

describe('failedStatusError', () => {
  test("repeats the title as message and links Meta's error codes", () => {
    assert.deepEqual(failedStatusError(131026, 'Message undeliverable', 'Message Undeliverable.'), {
      code: 131026,
      title: 'Message undeliverable',
      message: 'Message undeliverable',
      error_data: { details: 'Message Undeliverable.' },
      href: ERROR_CODES_HREF,
    });
  });

  test('MESSAGE_UNDELIVERABLE_ERROR is the 131026 entry', () => {
    assert.deepEqual(MESSAGE_UNDELIVERABLE_ERROR, failedStatusError(131026, 'Message undeliverable', 'Message Undeliverable.'));
  });
});
