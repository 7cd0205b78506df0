/**
 * The sync's scheduling with a source of our own that the test releases by hand: requests for a WABA while a sync
 * reads share one follow-up sync; a failing account does not stop the others; a stopped sync starts no more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '@waygate/domain';
import type { CatalogTemplate, TemplateCatalogStore, TemplateDefinition } from './template-catalog';
import { createTemplateSync, type TemplateSource } from './template-sync';

/** A catalog store that records full syncs (the contract suite covers real storage). */
function recordingStore(): TemplateCatalogStore & { replaced: string[] } {
  const replaced: string[] = [];
  return {
    replaced,
    replaceWaba: async (tenantId, wabaId) => {
      replaced.push(`${tenantId}/${wabaId}`);
    },
    applyChange: async () => true,
    find: async () => undefined as CatalogTemplate | undefined,
    list: async () => [],
    close: async () => undefined,
  };
}

/** A source whose reads wait until the test releases them. */
function gatedSource(failFor: ReadonlySet<string> = new Set()): TemplateSource & { reads: string[]; release: () => void } {
  const reads: string[] = [];
  let waiting: (() => void)[] = [];
  return {
    reads,
    release: () => {
      const released = waiting;
      waiting = [];
      released.forEach((resolve) => resolve());
    },
    listTemplates: (wabaId, accessToken) => {
      reads.push(`${wabaId}:${accessToken}`);
      return new Promise<TemplateDefinition[]>((resolve, reject) =>
        waiting.push(() => (failFor.has(accessToken) ? reject(new Error('refused')) : resolve([]))),
      );
    },
  };
}

const events = { synced: () => undefined, syncFailed: () => undefined };

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('requests while a sync reads are coalesced into one more sync after it', async () => {
  const store = recordingStore();
  const source = gatedSource();
  const sync = createTemplateSync({
    store,
    source,
    accounts: () => [{ tenantId: 'acme', wabaId: 'w1', accessToken: () => 't1' }],
    clock: systemClock,
    events,
  });
  const first = sync.syncWaba('w1');
  const second = sync.syncWaba('w1');
  const third = sync.syncWaba('w1');
  assert.equal(second, third, 'one follow-up for every request made meanwhile');
  await settle();
  assert.equal(source.reads.length, 1, 'no second read while the first runs');
  source.release();
  await first;
  await settle();
  assert.equal(source.reads.length, 2, 'the follow-up reads again, after the first');
  source.release();
  await second;
  assert.deepEqual(store.replaced, ['acme/w1', 'acme/w1']);
});

test('one account failing does not keep the others from syncing; stop() ends everything', async () => {
  const store = recordingStore();
  const source = gatedSource(new Set(['bad']));
  const failures: string[] = [];
  const sync = createTemplateSync({
    store,
    source,
    accounts: () => [
      { tenantId: 'acme', wabaId: 'w1', accessToken: () => 'bad' },
      { tenantId: 'globex', wabaId: 'w2', accessToken: () => 'good' },
    ],
    clock: systemClock,
    events: { synced: () => undefined, syncFailed: (account) => failures.push(account.tenantId) },
  });
  const all = sync.syncAll();
  await settle();
  source.release();
  await all;
  assert.deepEqual(store.replaced, ['globex/w2']);
  assert.deepEqual(failures, ['acme']);
  await sync.stop();
  await sync.syncAll();
  assert.equal(source.reads.length, 2, 'no read after stop');
});
