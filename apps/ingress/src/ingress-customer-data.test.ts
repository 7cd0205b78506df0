import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CustomerDataRecord, CustomerDataSubject } from '@waygate/domain';
import { createCustomerSealer, createInMemoryKeyring } from '@waygate/keyring';
import { createTempDir } from '@waygate/testing';
import { SqliteCustomerView } from './adapters/sqlite-customer-view';
import { SqliteMessageStore } from './adapters/sqlite-message-store';
import { SqliteOptOutList } from './adapters/sqlite-opt-out-list';
import { SqliteVerificationStore } from './adapters/sqlite-verification-store';
import { createIngressCustomerData } from './domain/ingress-customer-data';
import type { OutboundMessage } from './domain/outbound-message';

const ERASED = '+4915100000111';
const KEPT = '+4915100000222';
const ERASED_MARKER = 'marker-erased-7c1d9e';
const KEPT_MARKER = 'marker-kept-2b8f4a';

function message(to: string, messageId: string, body: string): OutboundMessage {
  const accepted = new Date(1_700_000_000_000 + Number(messageId.replace(/\D/g, '')) * 1000);
  return {
    tenantId: 'acme',
    messageId,
    idempotencyKey: `k-${messageId}`,
    requestHash: 'a'.repeat(64),
    to,
    phoneNumberId: '200',
    content: { kind: 'text', body, previewUrl: false },
    contentType: 'text',
    contentSummary: `text "${body}"`,
    status: 'ACCEPTED',
    acceptedAt: accepted,
    expiresAt: new Date(accepted.getTime() + 86_400_000),
    published: true,
    version: 1,
    timeline: [{ eventId: `${messageId}:accepted`, status: 'ACCEPTED', occurredAt: accepted, source: 'ingress' }],
  };
}

/** Every file under `dir` (databases, -wal, -shm) that contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => readFileSync(file).includes(needle));
}

async function collect(records: AsyncIterable<CustomerDataRecord>): Promise<CustomerDataRecord[]> {
  const all: CustomerDataRecord[] = [];
  for await (const record of records) all.push(record);
  return all;
}

test('ingress erasure: after the key is destroyed and erase ran, no file holds the customer; another customer is intact; idempotent', async () => {
  const dir = createTempDir();
  const keyring = createInMemoryKeyring();
  const sealer = createCustomerSealer(keyring);
  const messages = new SqliteMessageStore(path.join(dir.path, 'ingress.sqlite'), sealer);
  const customers = new SqliteCustomerView(path.join(dir.path, 'ingress-customers.sqlite'));
  const optOuts = new SqliteOptOutList(path.join(dir.path, 'ingress-opt-outs.sqlite'));
  const verifications = new SqliteVerificationStore(path.join(dir.path, 'ingress-verifications.sqlite'));
  try {
    const participant = createIngressCustomerData({ messages, customers, optOuts, verifications });
    for (const [to, marker, base] of [
      [ERASED, ERASED_MARKER, 0],
      [KEPT, KEPT_MARKER, 500],
    ] as const) {
      // More than one export page of messages for the erased customer.
      const count = to === ERASED ? 230 : 3;
      for (let i = 0; i < count; i++) await messages.insertIfAbsent(message(to, `msg_${base + i}`, `${marker} #${i}`));
      const digits = to.slice(1);
      await customers.recordInbound({
        tenantId: 'acme',
        phoneNumberId: '200',
        waMessageId: `wamid.${digits}`,
        customer: to,
        customerKey: digits,
        occurredAt: new Date(1_700_000_000_000),
        windowClosesAt: new Date(1_700_086_400_000),
      });
      await customers.recordWaId('acme', to, digits, new Date(1_700_000_000_000));
      await verifications.reserve(
        {
          tenantId: 'acme',
          verificationId: `ver_${digits}`,
          to,
          phoneNumberId: '200',
          templateName: 'login_code',
          templateLanguage: 'en_US',
          codeHash: 'f'.repeat(64),
          status: 'PENDING',
          checks: 0,
          createdAt: new Date(1_700_000_000_000),
          expiresAt: new Date(1_700_000_600_000),
          version: 1,
        },
        { resendWindowStart: new Date(0), limitWindowStart: new Date(0), sendsPerNumber: 10, sendsPerTenant: 10 },
      );
    }
    await optOuts.add({ tenantId: 'acme', customer: ERASED, source: 'stop-keyword', createdAt: new Date(1_700_000_000_000) });

    const customerRef = await sealer.customerRef('acme', ERASED);
    const subject: CustomerDataSubject = { tenantId: 'acme', customer: ERASED, customerRef };
    const exported = await collect(participant.exportCustomer(subject));
    const bySection = (section: string) => exported.filter((item) => item.section === section);
    assert.equal(bySection('messages.jsonl').length, 230, 'every message, across export pages');
    assert.equal(bySection('verifications.jsonl').length, 1);
    assert.equal(JSON.stringify(bySection('verifications.jsonl')).includes('f'.repeat(64)), false, 'never the code hash');
    assert.equal(bySection('customer-view.jsonl').length, 3, 'wa_id, window, inbound entry');
    assert.equal(bySection('opt-outs.jsonl').length, 1);
    assert.ok(JSON.stringify(bySection('messages.jsonl')).includes(ERASED_MARKER), 'the export opens the content');
    assert.equal(JSON.stringify(exported).includes(KEPT), false, 'nothing of another customer');

    // The number is on disk in clear before erasure (recipient, index, windows): the search below can fail.
    await Promise.all([messages.flushDeleted(), customers.flushDeleted(), verifications.flushDeleted()]);
    assert.ok(filesContaining(dir.path, ERASED.slice(1)).length >= 3);
    assert.deepEqual(filesContaining(dir.path, ERASED_MARKER), [], 'content is sealed at rest');

    // The coordinator destroys the key first, then every participant erases.
    await keyring.destroyKey({ tenantId: 'acme', customerRef });
    const counts = await participant.erase(subject, 'er_1');
    assert.deepEqual(counts, { messages: 230, verifications: 1, customer_view_rows: 3 });

    // Only the opt-out list keeps the number (a legal record; see createIngressCustomerData).
    for (const file of filesContaining(dir.path, ERASED.slice(1))) assert.match(path.basename(file), /^ingress-opt-outs\.sqlite(-wal)?$/);
    assert.deepEqual(filesContaining(dir.path, ERASED_MARKER), []);
    assert.ok((await optOuts.findAny('acme', [ERASED]))?.source === 'stop-keyword', 'a STOP keeps working after erasure');

    const erased = await messages.get('acme', 'msg_0');
    assert.equal(erased?.content, undefined);
    assert.equal(erased?.contentSummary, 'text (erased)');
    assert.equal(erased?.to, customerRef);
    assert.equal(await customers.findWaId('acme', ERASED), undefined);
    assert.equal(await customers.findWindow('acme', '200', ERASED.slice(1)), undefined, 'the service window is gone');
    assert.equal(await customers.findInbound('acme', `wamid.${ERASED.slice(1)}`), undefined);
    assert.equal(await verifications.latestFor('acme', ERASED), undefined);

    // Another customer: intact and still served.
    assert.equal((await messages.get('acme', 'msg_500'))?.content?.kind, 'text');
    assert.deepEqual((await messages.get('acme', 'msg_502'))?.content, { kind: 'text', body: `${KEPT_MARKER} #2`, previewUrl: false });
    assert.ok(await customers.findWindow('acme', '200', KEPT.slice(1)));
    assert.equal(await customers.findWaId('acme', KEPT), KEPT.slice(1));
    assert.ok(await verifications.latestFor('acme', KEPT));

    assert.deepEqual(await participant.erase(subject, 'er_1'), { messages: 0, verifications: 0, customer_view_rows: 0 }, 'idempotent');

    // What is left to export: the pseudonymised messages (content erased) and the opt-out.
    const after = await collect(participant.exportCustomer(subject));
    assert.equal(after.filter((item) => item.section === 'messages.jsonl').length, 230);
    assert.equal(JSON.stringify(after).includes(ERASED_MARKER), false);
    assert.deepEqual([...new Set(after.map((item) => item.section))].sort(), ['messages.jsonl', 'opt-outs.jsonl']);
  } finally {
    await Promise.all([messages.close(), customers.close(), optOuts.close(), verifications.close()]);
    dir.remove();
  }
});
