import assert from 'node:assert/strict';
import { contractBackends } from '@waygate/storage';
import { describeContract } from '@waygate/testing';
import { ERASED_CONTENT, type InboundMessageRecord, type InboundStore, type ServiceWindowKey } from '../domain/inbound-store';
import { MongoInboundStore } from './mongo-inbound-store';
import { SqliteInboundStore } from './sqlite-inbound-store';

const backends = contractBackends<InboundStore>({
  sqlite: (file) => new SqliteInboundStore(file),
  mongodb: (mongo) => MongoInboundStore.open(mongo),
  close: (store) => store.close(),
});

const text: InboundMessageRecord = {
  tenantId: 'acme',
  phoneNumberId: '200',
  customer: '+4915112345678',
  waMessageId: 'wamid.IN1',
  occurredAt: new Date(1_795_432_000_000),
  type: 'text',
  content: { kind: 'text', body: 'Hallo!' },
  profileName: 'Lena Vogel',
  receivedAt: new Date(1_795_432_001_234),
};
const image: InboundMessageRecord = {
  ...text,
  waMessageId: 'wamid.IN2',
  type: 'image',
  content: { kind: 'image', mediaId: '1482937561029384', mimeType: 'image/jpeg', caption: 'Damaged box', sha256: 'zORe5w==' },
  contextWaMessageId: 'wamid.OUT1',
  media: { mediaId: 'med_abc', mimeType: 'image/jpeg', sha256: 'a'.repeat(64), sizeBytes: 1234 },
};
const expiredDocument: InboundMessageRecord = {
  ...text,
  waMessageId: 'wamid.IN3',
  type: 'document',
  content: { kind: 'document', mediaId: '1', mimeType: 'application/pdf', filename: 'invoice.pdf' },
  mediaUnavailable: 'media not found or expired',
};
const unknownType: InboundMessageRecord = {
  ...text,
  waMessageId: 'wamid.IN4',
  type: 'poll_vote',
  // Meta's raw object is kept whole, whatever its keys (even ones MongoDB would treat as operators).
  content: { kind: 'unknown', rawType: 'poll_vote', raw: { type: 'poll_vote', poll_vote: { $option: [2], 'a.b': true } } },
};

for (const backend of backends) {
  describeContract(backend, 'InboundStore contract', (test) => {
    async function withStore(run: (store: InboundStore) => Promise<void>): Promise<void> {
      const { store, close } = await backend.open();
      try {
        await run(store);
      } finally {
        await close();
      }
    }

    test('records every field of every kind of message, and reads them back whole', () =>
      withStore(async (store) => {
        for (const record of [text, image, expiredDocument, unknownType]) {
          assert.deepEqual(await store.recordInboundMessage(record), record);
          assert.deepEqual(await store.findInboundMessage('acme', record.waMessageId), record);
        }
      }));

    test('a wamid is recorded once per tenant: recording it again keeps and returns the first record', () =>
      withStore(async (store) => {
        await store.recordInboundMessage(image);
        const again = await store.recordInboundMessage({ ...image, media: undefined, mediaUnavailable: 'other', receivedAt: new Date() });
        assert.deepEqual(again, image);
        assert.deepEqual(await store.findInboundMessage('acme', image.waMessageId), image);
        assert.equal(await store.findInboundMessage('globex', image.waMessageId), undefined, "another tenant's lookup finds nothing");
        await store.recordInboundMessage({ ...image, tenantId: 'globex' });
        assert.equal((await store.findInboundMessage('globex', image.waMessageId))?.tenantId, 'globex');
        assert.deepEqual(await store.findInboundMessage('acme', image.waMessageId), image, 'tenants are separate');
      }));

    test('a service window opens, extends to the latest message and is never shortened by an older one', () =>
      withStore(async (store) => {
        const key: ServiceWindowKey = { tenantId: 'acme', phoneNumberId: '200', customer: '+4915112345678' };
        assert.equal(await store.findServiceWindow(key), undefined);
        const first = new Date(1_795_432_000_000);
        const later = new Date(1_795_435_600_000);
        assert.deepEqual(await store.extendServiceWindow(key, first), { lastInboundAt: first });
        assert.deepEqual(await store.extendServiceWindow(key, later), { lastInboundAt: later });
        assert.deepEqual(await store.extendServiceWindow(key, first), { lastInboundAt: later }, 'an older message does not shorten it');
        assert.deepEqual(await store.extendServiceWindow(key, later), { lastInboundAt: later }, 'idempotent');
        assert.deepEqual(await store.findServiceWindow(key), { lastInboundAt: later });
        for (const other of [
          { ...key, tenantId: 'globex' },
          { ...key, phoneNumberId: '201' },
          { ...key, customer: '+15550107788' },
        ]) {
          assert.equal(await store.findServiceWindow(other), undefined, JSON.stringify(other));
        }
      }));

    test("pages a customer's messages for export, and erases them: content gone, pseudonymised, windows deleted, idempotent", () =>
      withStore(async (store) => {
        const REF = '0123456789abcdef0123456789abcdef';
        const other = { ...text, waMessageId: 'wamid.OTHER', customer: '+15550107788' };
        for (const record of [image, text, expiredDocument, other]) await store.recordInboundMessage(record);
        const ordered = [text, image, expiredDocument].map((record) => record.waMessageId).sort();
        const first = await store.customerMessages('acme', text.customer, { limit: 2 });
        const last = first.at(-1);
        assert.ok(last);
        const rest = await store.customerMessages('acme', text.customer, {
          after: { occurredAt: last.occurredAt, waMessageId: last.waMessageId },
          limit: 2,
        });
        assert.deepEqual(
          [...first, ...rest].map((record) => record.waMessageId),
          ordered,
        );
        assert.deepEqual(await store.customerMessages('globex', text.customer, { limit: 10 }), []);
        await store.extendServiceWindow({ tenantId: 'acme', phoneNumberId: '200', customer: text.customer }, text.occurredAt);
        await store.extendServiceWindow({ tenantId: 'acme', phoneNumberId: '200', customer: other.customer }, text.occurredAt);

        assert.deepEqual(await store.eraseCustomer('acme', text.customer, REF), { messages: 3, windows: 1 });
        const erased = await store.findInboundMessage('acme', image.waMessageId);
        assert.deepEqual(
          [erased?.customer, erased?.content, erased?.profileName, erased?.media, erased?.type, erased?.contextWaMessageId],
          [REF, ERASED_CONTENT, undefined, undefined, 'image', 'wamid.OUT1'],
        );
        assert.deepEqual(await store.customerMessages('acme', text.customer, { limit: 10 }), []);
        assert.equal(await store.findServiceWindow({ tenantId: 'acme', phoneNumberId: '200', customer: text.customer }), undefined);
        assert.deepEqual(
          (await store.findInboundMessage('acme', other.waMessageId))?.content,
          text.content,
          'another customer keeps theirs',
        );
        assert.ok(await store.findServiceWindow({ tenantId: 'acme', phoneNumberId: '200', customer: other.customer }));
        assert.deepEqual(await store.eraseCustomer('acme', text.customer, REF), { messages: 0, windows: 0 });
        // A redelivered webhook finds the pseudonymised record and records nothing again.
        assert.equal((await store.recordInboundMessage(text)).customer, REF);
      }));
  });
}
