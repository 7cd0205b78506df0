import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectJetStream, type JetStreamConnection } from '@waygate/nats';
import { startNatsServer, waitFor, type NatsServerHandle } from '@waygate/testing';
import { FeedWakeups } from '../domain/feed-wakeups';
import { silentLogger } from '../testing/feed-harness';
import { startNatsFeedWakeups } from './nats-feed-wakeups';

let nats: NatsServerHandle;
let replicaA: JetStreamConnection;
let replicaB: JetStreamConnection;

before(async () => {
  nats = await startNatsServer();
  replicaA = await connectJetStream(nats.url, 'wakeups-a');
  replicaB = await connectJetStream(nats.url, 'wakeups-b');
});

after(async () => {
  await replicaA.nc.close();
  await replicaB.nc.close();
  await nats.stop();
});

test("an append announced by one replica wakes the other replica's waiters for that tenant only", async () => {
  const wakeupsA = new FeedWakeups();
  const wakeupsB = new FeedWakeups();
  const a = startNatsFeedWakeups(replicaA.nc, 'eu', wakeupsA, silentLogger());
  const b = startNatsFeedWakeups(replicaB.nc, 'eu', wakeupsB, silentLogger());
  const otherRegionWakeups = new FeedWakeups();
  const otherRegion = startNatsFeedWakeups(replicaB.nc, 'us', otherRegionWakeups, silentLogger());
  await replicaA.nc.flush();
  await replicaB.nc.flush();
  const never = new AbortController();
  // Waiters with a timeout far beyond the test's: only a wake-up resolves them, and waitFor bounds the wait.
  const acmeWoken = wakeupsB.waitBeyond('acme', wakeupsB.version('acme'), 600_000, never.signal).then(() => 'woken');
  const globexSeen = wakeupsB.version('globex');

  a.announce('acme');
  assert.equal(await waitFor(acmeWoken, { what: "replica B's acme waiter to be woken by replica A's announce" }), 'woken');
  assert.equal(wakeupsB.version('acme'), 1, 'one announce, one wake-up');
  assert.equal(wakeupsB.version('globex'), globexSeen, 'other tenants are not woken');
  // A flush round trip on B's connection returns only after everything the server sent B before it, so had the
  // announce also matched the other region's subscription (same connection), that delivery would be in by now.
  await replicaB.nc.flush();
  assert.equal(otherRegionWakeups.version('acme'), 0, 'other regions are not woken');

  await a.stop();
  await b.stop();
  await otherRegion.stop();
});

test('waitBeyond returns at once when the version already moved, and on abort', async () => {
  const wakeups = new FeedWakeups();
  const seen = wakeups.version('acme');
  wakeups.notify('acme');
  // The waiters' own timeout (600 s) is far beyond the test's: only the moved version or the abort can end them.
  await waitFor(wakeups.waitBeyond('acme', seen, 600_000, new AbortController().signal), {
    timeoutMs: 1_000,
    what: 'waitBeyond to return for a version that already moved',
  });
  const stop = new AbortController();
  let returned = false;
  const waiting = wakeups.waitBeyond('acme', wakeups.version('acme'), 600_000, stop.signal).then(() => (returned = true));
  await Promise.resolve();
  assert.equal(returned, false, 'waits while the version stays and nothing aborts');
  stop.abort();
  assert.equal(await waitFor(waiting, { timeoutMs: 1_000, what: 'waitBeyond to return on abort' }), true);
  assert.equal(wakeups.version('acme'), seen + 1, 'an abort is not a wake-up');
});
