import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseTenants } from '@waygate/tenancy';
import { createTempDir, tenantsYaml } from '@waygate/testing';
import { SqliteFeedStore } from '../adapters/sqlite-feed-store';
import { createFeedBuilder } from './feed-builder';

const tenants = parseTenants(
  tenantsYaml([
    { id: 'acme', homeRegion: 'eu', apiKey: 'a' },
    { id: 'globex', homeRegion: 'us', apiKey: 'g' },
  ]),
);
const occurredAt = new Date(1_700_000_000_000);

async function withBuilder(run: (builder: ReturnType<typeof createFeedBuilder>, store: SqliteFeedStore, woken: string[]) => Promise<void>) {
  const dir = createTempDir();
  const store = new SqliteFeedStore(path.join(dir.path, 'feed.sqlite'));
  const woken: string[] = [];
  const builder = createFeedBuilder({
    store,
    tenants,
    region: 'eu',
    clock: { now: () => new Date(1_700_000_009_000) },
    onAppended: (t) => woken.push(t),
  });
  try {
    await run(builder, store, woken);
  } finally {
    await store.close();
    dir.remove();
  }
}

test('reports for unknown tenants or tenants homed in another region are not recorded', () =>
  withBuilder(async (builder, store, woken) => {
    assert.deepEqual(await builder.recordStatus({ tenantId: 'nobody', messageId: 'm1', status: 'SENT', source: 'delivery', occurredAt }), {
      kind: 'not-ours',
      reason: 'unknown tenant',
    });
    assert.deepEqual(await builder.recordStatus({ tenantId: 'globex', messageId: 'm1', status: 'SENT', source: 'delivery', occurredAt }), {
      kind: 'not-ours',
      reason: 'tenant homed in another region',
    });
    const inbound = { waMessageId: 'wamid.in', phoneNumberId: '1', from: '+4915112345678', type: 'text' };
    assert.equal((await builder.recordInbound({ tenantId: 'globex', occurredAt, message: inbound })).kind, 'not-ours');
    assert.equal(await store.lastSequence('globex'), 0);
    assert.equal(await store.lastSequence('nobody'), 0);
    assert.deepEqual(woken, []);
  }));

test('appends wake waiters; repeated reports and inbound messages are no news and wake nobody', () =>
  withBuilder(async (builder, store, woken) => {
    const sent = await builder.recordStatus({
      tenantId: 'acme',
      messageId: 'm1',
      status: 'SENT',
      source: 'delivery',
      occurredAt,
      recipient: '+4915112345678',
    });
    assert.equal(sent.kind, 'appended');
    assert.deepEqual(sent.kind === 'appended' && sent.events.map((e) => [e.sequence, e.eventId, e.recordedAt.getTime()]), [
      [1, 'status.m1.sent', 1_700_000_009_000],
    ]);
    assert.deepEqual(await builder.recordStatus({ tenantId: 'acme', messageId: 'm1', status: 'SENT', source: 'delivery', occurredAt }), {
      kind: 'no-news',
    });
    assert.deepEqual(
      await builder.recordStatus({ tenantId: 'acme', messageId: 'm2', status: 'ACCEPTED', source: 'delivery', occurredAt }),
      {
        kind: 'no-news',
      },
    );
    const inbound = {
      tenantId: 'acme',
      occurredAt,
      message: { waMessageId: 'wamid.in', phoneNumberId: '1', from: '+4915112345678', type: 'text' },
    };
    assert.equal((await builder.recordInbound(inbound)).kind, 'appended');
    assert.deepEqual(await builder.recordInbound(inbound), { kind: 'no-news' });
    assert.deepEqual(woken, ['acme', 'acme']);
    assert.equal(await store.lastSequence('acme'), 2);
  }));

test("an accepted message's type and summary show on its status events, whichever arrived first; acceptance appends nothing", () =>
  withBuilder(async (builder, store, woken) => {
    const accepted = { tenantId: 'acme', contentType: 'image' as const, contentSummary: 'image "A cat"' };
    assert.deepEqual(await builder.recordAccepted({ ...accepted, messageId: 'm1' }), { kind: 'no-news' });
    assert.deepEqual(await builder.recordAccepted({ ...accepted, messageId: 'm1' }), { kind: 'no-news' }, 'idempotent');
    assert.equal(await store.lastSequence('acme'), 0, 'acceptance itself is not an event');
    const sent = await builder.recordStatus({ tenantId: 'acme', messageId: 'm1', status: 'SENT', source: 'delivery', occurredAt });
    assert.ok(sent.kind === 'appended' && sent.events[0]?.type === 'status');
    assert.deepEqual([sent.events[0].status.contentType, sent.events[0].status.contentSummary], ['image', 'image "A cat"']);

    // A status that came before the acceptance is kept; the events after it show the content.
    await builder.recordStatus({ tenantId: 'acme', messageId: 'm2', status: 'SENT', source: 'delivery', occurredAt });
    await builder.recordAccepted({ ...accepted, messageId: 'm2' });
    const delivered = await builder.recordStatus({ tenantId: 'acme', messageId: 'm2', status: 'DELIVERED', source: 'webhook', occurredAt });
    assert.ok(delivered.kind === 'appended' && delivered.events[0]?.type === 'status');
    assert.deepEqual(
      [delivered.events[0].status.status, delivered.events[0].status.contentType, delivered.events[0].status.contentSummary],
      ['DELIVERED', 'image', 'image "A cat"'],
    );
    assert.deepEqual(await builder.recordAccepted({ ...accepted, tenantId: 'globex', messageId: 'm3' }), {
      kind: 'not-ours',
      reason: 'tenant homed in another region',
    });
    assert.deepEqual(woken, ['acme', 'acme', 'acme']);
  }));
