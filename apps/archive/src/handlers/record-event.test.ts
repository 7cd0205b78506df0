import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Writable } from 'node:stream';
import { systemClock } from '@waygate/domain';
import { tenantLogRef } from '@waygate/tenancy';
import { createLogger } from '@waygate/telemetry-sdk';
import { createTempDir } from '@waygate/testing';
import { SqliteArchiveStore } from '../adapters/sqlite-archive-store';
import { createArchiveService } from '../domain/archive-service';
import { recordEvent } from './record-event';

test('an event of a tenant homed in another region is acked, not stored, and logged naming the tenant by a hash only', async () => {
  const dir = createTempDir();
  const store = new SqliteArchiveStore(path.join(dir.path, 'archive.sqlite'));
  const lines: string[] = [];
  const logger = createLogger({
    service: 'archive-test',
    level: 'debug',
    destination: new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }),
  });
  try {
    const homes: Record<string, string> = { acme: 'eu', 'initech-us': 'us' };
    const service = createArchiveService({ store, homeRegionOf: (id) => homes[id], region: 'eu', clock: systemClock });
    for (const tenantId of ['initech-us', 'nobody-known']) {
      const outcome = await recordEvent(service, logger, {
        eventId: `evt-${tenantId}`,
        tenantId,
        messageId: 'msg_1',
        kind: 'status',
        status: 'SENT',
        occurredAt: new Date(),
        source: 'delivery',
        waMessageId: 'wamid.1',
      });
      assert.equal(outcome.kind, 'ack');
      assert.deepEqual(await store.listByMessage(tenantId, 'msg_1'), []);
    }
    assert.equal(lines.length, 2);
    assert.ok(lines[0]?.includes(tenantLogRef('initech-us')), lines[0]);
    assert.ok(!lines.join('').includes('initech-us') && !lines.join('').includes('nobody-known'), lines.join(''));
  } finally {
    await store.close();
    dir.remove();
  }
});
