import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectJetStream, type JetStreamConnection } from '@waygate/nats';
import { startNatsServer, type NatsServerHandle } from '@waygate/testing';
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
  const otherRegion = startNatsFeedWakeups(replicaB.nc, 'us', new FeedWakeups(), silentLogger());
  await replicaA.nc.flush();
  await replicaB.nc.flush();
  const never = new AbortController();
  // Waiters with a timeout far beyond the test's: only a wake-up resolves them.
  const acmeWoken = wakeupsB.waitBeyond('acme', wakeupsB.version('acme'), 600_000, never.signal).then(() => 'woken');
  const globexSeen = wakeupsB.version('globex');

  a.announce('acme');
  assert.equal(await acmeWoken, 'woken');
  assert.equal(wakeupsB.version('globex'), globexSeen, 'other tenants are not woken');

  await a.stop();
  await b.stop();
  await otherRegion.stop();
});

test('waitBeyond returns at once when the version already moved, and on abort', async () => {
  const wakeups = new FeedWakeups();
  const seen = wakeups.version('acme');
  wakeups.notify('acme');
  await wakeups.waitBeyond('acme', seen, 600_000, new AbortController().signal);
  const stop = new AbortController();
  const waiting = wakeups.waitBeyond('acme', wakeups.version('acme'), 600_000, stop.signal);
  stop.abort();
  await waiting;
});
