import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openSqliteDatabase } from '@waygate/storage';
import { createTempDir } from '@waygate/testing';
import { conversationIdOf } from '../domain/transcript';
import { SqliteArchiveStore } from './sqlite-archive-store';

/** The archive's first schema, as files written before inbound messages were archived have it. */
const FIRST_SCHEMA = `CREATE TABLE archived_events (
  tenant_id TEXT NOT NULL, event_id TEXT NOT NULL, message_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('accepted', 'status')), status TEXT NOT NULL,
  occurred_at_ms INTEGER NOT NULL, recorded_at_ms INTEGER NOT NULL,
  recipient TEXT, phone_number_id TEXT, text_body TEXT, source TEXT, wa_message_id TEXT, error_code INTEGER, error_title TEXT,
  PRIMARY KEY (tenant_id, event_id));
CREATE INDEX archived_events_by_message ON archived_events (tenant_id, message_id, occurred_at_ms, recorded_at_ms, event_id);`;

test('an archive file of the first schema keeps its events and then takes inbound messages', async () => {
  const dir = createTempDir();
  const file = path.join(dir.path, 'archive.sqlite');
  const old = openSqliteDatabase(file, [FIRST_SCHEMA]);
  old
    .prepare(
      `INSERT INTO archived_events (tenant_id, event_id, message_id, kind, status, occurred_at_ms, recorded_at_ms, source, wa_message_id)
       VALUES ('acme', 'evt_sent', 'msg_1', 'status', 'SENT', 1000, 1001, 'delivery', 'wamid.1')`,
    )
    .run();
  old.close();

  const store = new SqliteArchiveStore(file);
  try {
    assert.deepEqual(await store.listByMessage('acme', 'msg_1'), [
      {
        eventId: 'evt_sent',
        tenantId: 'acme',
        messageId: 'msg_1',
        kind: 'status',
        status: 'SENT',
        occurredAt: new Date(1000),
        recordedAt: new Date(1001),
        source: 'delivery',
        waMessageId: 'wamid.1',
      },
    ]);
    const inbound = {
      eventId: 'wa:in:wamid.in',
      tenantId: 'acme',
      messageId: 'wamid.in',
      kind: 'inbound' as const,
      occurredAt: new Date(2000),
      recordedAt: new Date(2001),
      phoneNumberId: '200',
      from: '+4915112345678',
      messageType: 'text',
      text: 'hi',
    };
    assert.equal(await store.record(inbound), 'recorded');
    assert.deepEqual(await store.listByMessage('acme', 'wamid.in'), [inbound]);
  } finally {
    await store.close();
    dir.remove();
  }
});

test('an archive file written before conversations existed gets its message rows and conversations when opened', async () => {
  const dir = createTempDir();
  const file = path.join(dir.path, 'archive.sqlite');
  const old = openSqliteDatabase(file, [FIRST_SCHEMA]);
  const insert = old.prepare(
    `INSERT INTO archived_events (tenant_id, event_id, message_id, kind, status, occurred_at_ms, recorded_at_ms, recipient, phone_number_id,
       text_body, source, wa_message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  insert.run('acme', 'evt_sent', 'msg_1', 'status', 'SENT', 2000, 2001, null, null, null, 'webhook', 'wamid.1');
  insert.run('acme', 'accepted:msg_1', 'msg_1', 'accepted', 'ACCEPTED', 1000, 1001, '+4915112345678', '200', 'hello', null, null);
  old.close();

  const store = new SqliteArchiveStore(file);
  try {
    const conversationId = conversationIdOf({ tenantId: 'acme', phoneNumberId: '200', customer: '+4915112345678' });
    const summary = await store.getConversation('acme', conversationId);
    assert.deepEqual([summary?.outboundCount, summary?.inboundCount, summary?.sessionCount], [1, 0, 1]);
    const entries = [];
    for await (const entry of store.transcript('acme', conversationId)) entries.push(entry);
    assert.deepEqual(
      entries.map((entry) => [entry.messageId, entry.type, entry.text, entry.status, entry.waMessageId, entry.statuses.length]),
      [['msg_1', 'text', 'hello', 'SENT', 'wamid.1', 1]],
    );
  } finally {
    await store.close();
    dir.remove();
  }
});
