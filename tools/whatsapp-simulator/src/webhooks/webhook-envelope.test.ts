import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildInboundMessage } from './inbound-payloads';
import { buildStatusObject, failedStatusError } from './status-payloads';
import { buildWebhookPayload, type WebhookBusinessNumber } from './webhook-envelope';

const NUMBER_A: WebhookBusinessNumber = { wabaId: 'waba-1', phoneNumberId: 'pn-a', displayPhoneNumber: '+1 555-010-1234' };
const NUMBER_B: WebhookBusinessNumber = { wabaId: 'waba-1', phoneNumberId: 'pn-b', displayPhoneNumber: '+1 (555) 010-5678' };
const NUMBER_C: WebhookBusinessNumber = { wabaId: 'waba-2', phoneNumberId: 'pn-c', displayPhoneNumber: '15550109999' };

const status = (wamid: string) => buildStatusObject({ status: 'read', wamid, recipientId: '4915112345678', timestampSec: 1795431600 });
const inbound = buildInboundMessage(
  { type: 'text', from: '4915112345678', profileName: 'Lena', text: 'Hi' },
  { messageId: 'wamid.IN', timestampSec: 1 },
);

describe('buildWebhookPayload', () => {
  test("wraps one status in Meta's envelope, display number as digits", () => {
    assert.deepEqual(buildWebhookPayload([{ number: NUMBER_A, items: { statuses: [status('wamid.1')] } }]), {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'waba-1',
          changes: [
            {
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550101234', phone_number_id: 'pn-a' },
                statuses: [status('wamid.1')],
              },
              field: 'messages',
            },
          ],
        },
      ],
    });
  });

  test('inbound items: contacts before messages; empty arrays left out', () => {
    const payload = buildWebhookPayload([
      { number: NUMBER_A, items: { statuses: [], contacts: [inbound.contact], messages: [inbound.message], errors: [] } },
    ]);
    const value = payload.entry[0]?.changes[0]?.value;
    assert.deepEqual(Object.keys(value ?? {}), ['messaging_product', 'metadata', 'contacts', 'messages']);
  });

  test('one entry per WABA and one change per phone number, in first-seen order', () => {
    const payload = buildWebhookPayload([
      { number: NUMBER_B, items: { statuses: [status('wamid.b1')] } },
      { number: NUMBER_C, items: { statuses: [status('wamid.c1')] } },
      { number: NUMBER_A, items: { statuses: [status('wamid.a1')] } },
      { number: NUMBER_B, items: { statuses: [status('wamid.b2')] } },
    ]);
    assert.deepEqual(
      payload.entry.map((entry) => ({
        id: entry.id,
        changes: entry.changes.map(({ value }) => [value.metadata.phone_number_id, ...(value.statuses ?? []).map((s) => s.id)]),
      })),
      [
        {
          id: 'waba-1',
          changes: [
            ['pn-b', 'wamid.b1', 'wamid.b2'],
            ['pn-a', 'wamid.a1'],
          ],
        },
        { id: 'waba-2', changes: [['pn-c', 'wamid.c1']] },
      ],
    );
  });

  test('items of different kinds for one number share a change, in Meta key order', () => {
    const payload = buildWebhookPayload([
      { number: NUMBER_A, items: { statuses: [status('wamid.1')] } },
      { number: NUMBER_A, items: { contacts: [inbound.contact], messages: [inbound.message] } },
      { number: NUMBER_A, items: { errors: [{ ...failedStatusError(130429, 'Rate limit hit', 'Too many messages') }] } },
    ]);
    assert.equal(payload.entry[0]?.changes.length, 1);
    assert.deepEqual(Object.keys(payload.entry[0]?.changes[0]?.value ?? {}), [
      'messaging_product',
      'metadata',
      'contacts',
      'messages',
      'statuses',
      'errors',
    ]);
  });

  test('batches with nothing in them are skipped; a payload with nothing at all is refused', () => {
    const payload = buildWebhookPayload([
      { number: NUMBER_C, items: {} },
      { number: NUMBER_A, items: { statuses: [status('wamid.1')] } },
    ]);
    assert.deepEqual(
      payload.entry.map((entry) => entry.id),
      ['waba-1'],
    );
    assert.throws(() => buildWebhookPayload([{ number: NUMBER_A, items: { statuses: [] } }]), /nothing to send/);
    assert.throws(() => buildWebhookPayload([]), /nothing to send/);
  });

  test('does not share arrays with its input', () => {
    const statuses = [status('wamid.1')];
    const payload = buildWebhookPayload([{ number: NUMBER_A, items: { statuses } }]);
    statuses.push(status('wamid.2'));
    assert.equal(payload.entry[0]?.changes[0]?.value.statuses?.length, 1);
  });
});
