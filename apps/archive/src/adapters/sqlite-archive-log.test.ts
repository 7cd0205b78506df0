import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createTempDir } from '@waygate/testing';
import { leafHash, verifyInclusion } from '@waygate/tlog';
import { canonicalRecordBytes, parseArchiveLogEntry, saltedRecordHash } from '../domain/archive-log';
import { SqliteArchiveStore } from './sqlite-archive-store';

const T0 = 1_700_000_000_000;

async function seed(store: SqliteArchiveStore, count: number): Promise<void> {
  for (let n = 0; n < count; n++)
    await store.record({
      eventId: `wa:in:wamid.${n}`,
      tenantId: n % 3 === 0 ? 'umbrella' : 'acme',
      messageId: `wamid.${n}`,
      kind: 'inbound',
      occurredAt: new Date(T0 + n * 1000),
      recordedAt: new Date(T0 + n * 1000 + 1),
      phoneNumberId: '200',
      from: '+4915112345678',
      messageType: 'text',
      text: `customer text ${n}`,
    });
}

/** Whether the record's entry still matches the record as stored (what an export's verifier checks). */
async function matches(store: SqliteArchiveStore, recordId: string, messageId: string): Promise<boolean> {
  const leaf = await store.logLeaf('acme', recordId);
  const [record] = await store.listByMessage('acme', messageId);
  return parseArchiveLogEntry(leaf!.entry)!.recordHash.equals(saltedRecordHash(leaf!.salt!, canonicalRecordBytes(record!)));
}

test('a flipped byte in an archived record no longer matches its entry, and the proof of the entry still holds', async () => {
  const dir = createTempDir();
  const file = path.join(dir.path, 'archive.sqlite');
  const store = new SqliteArchiveStore(file);
  try {
    await seed(store, 6);
    assert.equal(await matches(store, 'wa:in:wamid.4', 'wamid.4'), true);
    const raw = new Database(file);
    raw.prepare("UPDATE archived_events SET text_body = 'customer text 5' WHERE event_id = 'wa:in:wamid.4'").run();
    raw.close();
    assert.equal(await matches(store, 'wa:in:wamid.4', 'wamid.4'), false, 'the change is detected');
    assert.equal(await matches(store, 'wa:in:wamid.2', 'wamid.2'), true, 'other records still match');
    const leaf = await store.logLeaf('acme', 'wa:in:wamid.4');
    const size = await store.logSize('acme');
    verifyInclusion(
      leaf!.leafIndex,
      size,
      leafHash(leaf!.entry),
      await store.logInclusionProof('acme', leaf!.leafIndex, size),
      await store.logRoot('acme', size),
    );
  } finally {
    await store.close();
    dir.remove();
  }
});

test('an archive written before the log gets its entries once, in stored order, when it is opened', async () => {
  const dir = createTempDir();
  const file = path.join(dir.path, 'archive.sqlite');
  try {
    const first = new SqliteArchiveStore(file);
    await seed(first, 9);
    const rootBefore = await first.logRoot('acme', 6);
    await first.close();
    // As a file of the previous version: its records and no log.
    const raw = new Database(file);
    for (const table of ['archive_log_leaves', 'archive_log_salts', 'archive_log_nodes', 'archive_log_heads'])
      raw.prepare(`DELETE FROM ${table}`).run();
    raw.close();
    const reopened = new SqliteArchiveStore(file);
    try {
      assert.equal(await reopened.logSize('acme'), 6);
      assert.equal(await reopened.logSize('umbrella'), 3);
      assert.equal((await reopened.logLeaf('acme', 'wa:in:wamid.1'))?.leafIndex, 0);
      assert.equal((await reopened.logLeaf('acme', 'wa:in:wamid.8'))?.leafIndex, 5);
      assert.equal(await matches(reopened, 'wa:in:wamid.7', 'wamid.7'), true);
      assert.notDeepEqual(await reopened.logRoot('acme', 6), rootBefore, 'fresh salts: a new log over the same records');
    } finally {
      await reopened.close();
    }
    const again = new SqliteArchiveStore(file);
    assert.equal(await again.logSize('acme'), 6, 'the backfill runs once');
    await again.close();
  } finally {
    dir.remove();
  }
});
