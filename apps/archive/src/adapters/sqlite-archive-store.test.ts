import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openSqliteDatabase } from '@waygate/storage';
import { createTempDir } from '@waygate/testing';
import { systemClock } from '@waygate/domain';
import { createArchiveService } from '../domain/archive-service';
import type { IncomingEvent } from '../domain/archived-event';
import { conversationIdOf } from '../domain/transcript';
import { withSearchIndexing } from '../search/archive-search-feed';
import { SqliteSearchIndex } from '../search/sqlite-search-index';
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

test('records queued at once commit together, each with its log entry, and the search feed ends on the latest status', async () => {
  const dir = createTempDir();
  const file = path.join(dir.path, 'archive.sqlite');
  const store = new SqliteArchiveStore(file);
  const index = new SqliteSearchIndex(store.connection, false, (work) => store.write(work));
  const service = withSearchIndexing(createArchiveService({ store, homeRegionOf: () => 'eu', region: 'eu', clock: systemClock }), {
    index,
    store,
    latestStatusOf: (tenantId, messageId) => store.latestStatus(tenantId, messageId),
  });
  try {
    const at = Date.UTC(2026, 5, 1);
    const accepted = (n: number): IncomingEvent => ({
      eventId: `accepted:msg_${n}`,
      tenantId: 'acme',
      messageId: `msg_${n}`,
      kind: 'accepted',
      status: 'ACCEPTED',
      occurredAt: new Date(at + n * 1000),
      recipient: '+4915112345678',
      phoneNumberId: '200',
      text: `parcel ${n}`,
      mediaIds: [],
    });
    const status = (n: number, value: 'SENT' | 'DELIVERED' | 'READ', second: number): IncomingEvent => ({
      eventId: `${value}:msg_${n}`,
      tenantId: 'acme',
      messageId: `msg_${n}`,
      kind: 'status',
      status: value,
      occurredAt: new Date(at + n * 1000 + second * 1000 + 500),
      source: 'webhook',
    });
    // As a consumer at concurrency > 1 calls it: every event of ten messages at once, statuses in reverse order.
    const events = Array.from({ length: 10 }, (_, n) => [
      status(n, 'READ', 3),
      status(n, 'DELIVERED', 2),
      accepted(n),
      status(n, 'SENT', 1),
    ]);
    const outcomes = await Promise.all(events.flat().map((event) => service.record(event)));
    assert.deepEqual(new Set(outcomes), new Set(['recorded']));
    // One log entry per record, at distinct indexes; the tree's nodes agree with a proof for every leaf.
    assert.equal(await store.logSize('acme'), 40);
    const leaves = await Promise.all(events.flat().map((event) => store.logLeaf('acme', event.eventId)));
    assert.deepEqual(new Set(leaves.map((leaf) => leaf?.leafIndex)).size, 40);
    assert.equal((await store.logInclusionProof('acme', 39, 40)).length > 0, true);
    const statuses = store.connection
      .prepare(`SELECT status FROM search_statuses WHERE tenant_id = 'acme' ORDER BY message_id`)
      .pluck()
      .all();
    assert.deepEqual(
      statuses,
      Array.from({ length: 10 }, () => 'READ'),
    );
    const rows = store.connection.prepare(`SELECT status FROM archive_messages WHERE tenant_id = 'acme'`).pluck().all();
    assert.deepEqual(
      rows,
      Array.from({ length: 10 }, () => 'READ'),
    );
    // A duplicate queued with new events changes nothing and appends nothing.
    assert.deepEqual(await Promise.all([service.record(accepted(3)), service.record(status(3, 'READ', 3))]), ['duplicate', 'duplicate']);
    assert.equal(await store.logSize('acme'), 40);
  } finally {
    await store.close();
    dir.remove();
  }
});
