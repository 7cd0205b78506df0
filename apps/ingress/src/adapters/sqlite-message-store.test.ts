import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openSqliteDatabase } from '@waygate/storage';
import { createTempDir } from '@waygate/testing';
import { MIGRATIONS, SqliteMessageStore } from './sqlite-message-store';
import { createCustomerSealer, createInMemoryKeyring } from '@waygate/keyring';

/** Content is sealed at rest under customer keys: one in-memory keyring for the whole file. */
const sealer = createCustomerSealer(createInMemoryKeyring());

const MARKER = 'one-time code 918273';
// Long enough to spill into an overflow page (where MARKER lands), which SQLite would otherwise free without overwriting.
const BODY = `${'x'.repeat(4000)} ${MARKER}`;

test('upgrading a database from the first schema keeps live content and drops content of messages already terminal', async () => {
  const dir = createTempDir();
  try {
    const file = path.join(dir.path, 'ingress.sqlite');
    const v1 = openSqliteDatabase(file, MIGRATIONS.slice(0, 1));
    const insert = v1.prepare(
      `INSERT INTO messages (tenant_id, message_id, idempotency_key, request_hash, recipient, phone_number_id, content_json, status,
         accepted_at_ms, expires_at_ms, published, version) VALUES ('acme', ?, ?, 'hash', '+4915112345678', '200', ?, ?, 1, 2, 1, 1)`,
    );
    const content = JSON.stringify({ kind: 'text', body: BODY, previewUrl: false });
    insert.run('msg_live', 'k1', content, 'SENT');
    insert.run('msg_failed', 'k2', content, 'FAILED');
    v1.close();

    const store = new SqliteMessageStore(file, sealer);
    try {
      assert.deepEqual((await store.get('acme', 'msg_live'))?.content, { kind: 'text', body: BODY, previewUrl: false });
      assert.equal((await store.get('acme', 'msg_failed'))?.content, undefined);
      assert.equal((await store.get('acme', 'msg_failed'))?.requestHash, 'hash');
      // Every message stored before issue 11 was text; its summary stays empty.
      assert.equal((await store.get('acme', 'msg_failed'))?.contentType, 'text');
      assert.equal((await store.get('acme', 'msg_live'))?.contentSummary, '');
    } finally {
      await store.close();
    }
  } finally {
    dir.remove();
  }
});

test('deleted content is gone from the database file, not just hidden', async () => {
  const dir = createTempDir();
  try {
    const file = path.join(dir.path, 'ingress.sqlite');
    const accepted = new Date(1_700_000_000_000);
    const first = new SqliteMessageStore(file, sealer);
    await first.insertIfAbsent({
      tenantId: 'acme',
      messageId: 'msg_1',
      idempotencyKey: 'k1',
      requestHash: 'hash',
      to: '+4915112345678',
      phoneNumberId: '200',
      content: { kind: 'text', body: BODY, previewUrl: false },
      contentType: 'text',
      contentSummary: 'text',
      status: 'ACCEPTED',
      acceptedAt: accepted,
      expiresAt: new Date(accepted.getTime() + 600_000),
      published: true,
      version: 1,
      timeline: [{ eventId: 'msg_1:accepted', status: 'ACCEPTED', occurredAt: accepted, source: 'ingress' }],
    });
    await first.close(); // checkpoints the WAL into the main file and removes it
    // At rest the content is sealed under the customer's data key: the marker is never on disk in clear.
    assert.equal(readFileSync(file).includes(MARKER), false, 'the content is sealed at rest');
    const raw = openSqliteDatabase(file, MIGRATIONS);
    const sealedContent = raw.prepare('SELECT content_json FROM messages').pluck().get() as string;
    raw.close();
    assert.ok(sealedContent.startsWith('wgsealed:v1:'));
    // The tail of the ciphertext (in the overflow page, like MARKER would be in clear).
    const sealedTail = sealedContent.slice(-200);
    assert.equal(readFileSync(file).includes(sealedTail), true, 'the sealed content is on disk while the message is live');
    const store = new SqliteMessageStore(file, sealer);
    await store.recordStatusChange({
      tenantId: 'acme',
      messageId: 'msg_1',
      expectedVersion: 1,
      status: 'EXPIRED',
      entry: {
        eventId: 'msg_1:delivery:expired',
        status: 'EXPIRED',
        occurredAt: new Date(accepted.getTime() + 600_000),
        source: 'delivery',
      },
    });
    await store.close();
    assert.equal(readFileSync(file).includes(sealedTail), false, 'no copy is left in freed pages');
  } finally {
    dir.remove();
  }
});
