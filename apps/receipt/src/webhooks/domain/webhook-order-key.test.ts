import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { webhookOrderKey } from './webhook-intake';

const change = (phoneNumberId: string, value: Record<string, unknown>) => ({
  field: 'messages',
  value: { messaging_product: 'whatsapp', metadata: { phone_number_id: phoneNumberId }, ...value },
});
const entry = (...changes: unknown[]) => ({ id: 'waba-1', changes });
const hashed = (wamid: string) => `wamid:${createHash('sha256').update(wamid).digest('hex').slice(0, 32)}`;

test("a body about one message is keyed by its wamid, hashed (the header is not sealed; a wamid encodes the customer's number)", () => {
  const wamid = 'wamid.HBgLNDkxNTExMjM0NTY3OBUCABEYEjA=';
  const key = webhookOrderKey([entry(change('pn-1', { statuses: [{ id: wamid, status: 'delivered' }] }))]);
  assert.equal(key, hashed(wamid));
  assert.ok(!key?.includes('HBgL'), 'no part of the wamid in clear');
  // Several statuses of the same message (delivered and read batched together) keep the same key.
  assert.equal(
    webhookOrderKey([
      entry(
        change('pn-1', {
          statuses: [
            { id: wamid, status: 'delivered' },
            { id: wamid, status: 'read' },
          ],
        }),
      ),
    ]),
    hashed(wamid),
  );
  // An inbound message likewise.
  assert.equal(webhookOrderKey([entry(change('pn-1', { messages: [{ id: 'wamid.in-1', type: 'text' }] }))]), hashed('wamid.in-1'));
});

test('a batch about several messages of one number is keyed by the number; anything else has no key', () => {
  const batch = change('pn-1', { statuses: [{ id: 'wamid.a' }, { id: 'wamid.b' }] });
  assert.equal(webhookOrderKey([entry(batch)]), 'number:pn-1');
  assert.equal(
    webhookOrderKey([entry(change('pn-1', { statuses: [{ id: 'wamid.a' }] }), change('pn-2', { statuses: [{ id: 'wamid.b' }] }))]),
    undefined,
    'two numbers',
  );
  assert.equal(
    webhookOrderKey([{ id: 'waba-1', changes: [{ field: 'message_template_status_update', value: { event: 'APPROVED' } }] }]),
    undefined,
  );
  assert.equal(webhookOrderKey([]), undefined);
  assert.equal(
    webhookOrderKey([null, 'x', { changes: 'nope' }, { changes: [null, { value: [] }] }]),
    undefined,
    'malformed parts are skipped',
  );
});
