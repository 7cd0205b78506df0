import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { parseTenants } from '@waygate/tenancy';
import { createTempDir, tenantsYaml } from '@waygate/testing';
import { SqliteReceiptStore } from '../adapters/sqlite-receipt-store';
import { statusWebhookJson, type RawStatus } from '../testing/status-webhook';
import { createReceiptService, type ReceiptService, type ResolvedStatus } from './receipt-service';
import { parseWebhookPayload } from './webhook-payload';
import { findSigningSecret } from './webhook-signature';

const tenants = parseTenants(
  tenantsYaml([
    { id: 'acme', homeRegion: 'eu', apiKey: 'a', wabaId: '900', appSecret: 's1', phoneNumberIds: ['200'] },
    { id: 'globex', homeRegion: 'us', apiKey: 'g', wabaId: '901', appSecret: 's2', phoneNumberIds: ['201'] },
  ]),
);

/** A webhook body in Meta's shape, as bytes. */
function webhook(phoneNumberId: string, statuses: RawStatus[]): Uint8Array {
  return Buffer.from(statusWebhookJson(phoneNumberId, statuses));
}

let dir: ReturnType<typeof createTempDir>;
let store: SqliteReceiptStore;
let published: ResolvedStatus[];
let service: ReceiptService;

beforeEach(() => {
  dir = createTempDir();
  store = new SqliteReceiptStore(path.join(dir.path, 'receipt.sqlite'));
  published = [];
  service = createReceiptService({ store, publisher: { publish: async (status) => void published.push(status) }, tenants, region: 'eu' });
});
afterEach(async () => {
  await store.close();
  dir.remove();
});

test('parses Meta status payloads, including failed with errors[], and skips what it does not know', () => {
  const parsed = parseWebhookPayload(
    JSON.parse(
      Buffer.from(
        webhook('200', [
          { id: 'wamid.1', status: 'delivered', timestamp: '1700000001' },
          { id: 'wamid.2', status: 'failed', timestamp: '1700000002', errors: [{ code: 131026, title: 'Message undeliverable' }] },
          { id: 'wamid.3', status: 'deleted', timestamp: '1700000003' },
        ]),
      ).toString(),
    ),
  );
  assert.deepEqual(parsed.statuses, [
    {
      phoneNumberId: '200',
      waMessageId: 'wamid.1',
      recipientId: '4915112345678',
      status: 'DELIVERED',
      occurredAt: new Date(1_700_000_001_000),
    },
    {
      phoneNumberId: '200',
      waMessageId: 'wamid.2',
      recipientId: '4915112345678',
      status: 'FAILED',
      occurredAt: new Date(1_700_000_002_000),
      errorCode: 131026,
      errorTitle: 'Message undeliverable',
      errors: [{ code: 131026, title: 'Message undeliverable' }],
    },
  ]);
  assert.equal(parsed.skipped.length, 1);
  assert.deepEqual(parseWebhookPayload({ object: 'page' }).statuses, []);
  assert.deepEqual(parseWebhookPayload(null).skipped, ['not a whatsapp_business_account payload']);
});

test('finds the signing secret with a timing-safe comparison', () => {
  const body = Buffer.from('{"a":1}');
  const signature = `sha256=${createHmac('sha256', 's2').update(body).digest('hex')}`;
  assert.equal(findSigningSecret(body, signature, ['s1', 's2']), 1);
  assert.equal(findSigningSecret(Buffer.from('{"a":2}'), signature, ['s1', 's2']), -1, 'tampered body');
  assert.equal(findSigningSecret(body, undefined, ['s1']), -1);
  assert.equal(findSigningSecret(body, 'sha256=abc', ['s1']), -1);
});

test('statuses for known wamids are published with a stable event id; repeats have the same id', async () => {
  await service.recordSentMessage({ tenantId: 'acme', waMessageId: 'wamid.1', messageId: 'msg_1' });
  const body = webhook('200', [{ id: 'wamid.1', status: 'delivered', timestamp: '1700000001' }]);
  await service.processWebhook(body);
  await service.processWebhook(body);
  assert.deepEqual(
    published.map((p) => [p.eventId, p.messageId, p.status.status]),
    [
      ['wa:wamid.1:delivered', 'msg_1', 'DELIVERED'],
      ['wa:wamid.1:delivered', 'msg_1', 'DELIVERED'],
    ],
  );
});

test('a status that raced ahead of its send is held, then released when the wamid arrives', async () => {
  const outcome = await service.processWebhook(webhook('200', [{ id: 'wamid.9', status: 'read', timestamp: '1700000009' }]));
  assert.deepEqual([outcome.published, outcome.held], [0, 1]);
  assert.equal(published.length, 0);
  assert.equal(await service.recordSentMessage({ tenantId: 'acme', waMessageId: 'wamid.9', messageId: 'msg_9' }), 1);
  assert.deepEqual(
    published.map((p) => [p.messageId, p.status.status, p.status.occurredAt.getTime()]),
    [['msg_9', 'READ', 1_700_000_009_000]],
  );
  assert.equal(await service.recordSentMessage({ tenantId: 'acme', waMessageId: 'wamid.9', messageId: 'msg_9' }), 0, 'released once');
});

test('statuses for numbers homed in another region, or unknown, are ignored and not stored', async () => {
  const outcome = await service.processWebhook(webhook('201', [{ id: 'wamid.us', status: 'delivered', timestamp: '1700000001' }]));
  assert.deepEqual([outcome.ignored, outcome.held], [1, 0]);
  assert.deepEqual(await store.listHeldStatuses('globex', 'wamid.us'), []);
  assert.equal((await service.processWebhook(webhook('999', [{ id: 'wamid.x', status: 'sent', timestamp: '1' }]))).ignored, 1);
});
