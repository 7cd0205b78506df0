import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectJetStream, ensureRegionStreams, publishEvent, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import { AccountEvent } from '@waygate/proto';
import { createLogger } from '@waygate/telemetry-sdk';
import { startNatsServer, waitFor, type NatsServerHandle } from '@waygate/testing';
import { startThroughputUpgrades } from './nats-throughput-upgrades';

let nats: NatsServerHandle;
let connection: JetStreamConnection;
before(async () => {
  nats = await startNatsServer();
  connection = await connectJetStream(nats.url, 'throughput-upgrades-test');
  await ensureRegionStreams(connection.jsm, 'eu');
});
after(async () => {
  await connection.nc.close();
  await nats.stop();
});

const upgrade = (eventId: string, phoneNumberId: string, throughputMps: number) =>
  publishEvent(
    connection.js,
    regionSubjects('eu').accountEvents,
    AccountEvent.encode(
      AccountEvent.fromPartial({
        eventId,
        tenantId: 'acme',
        wabaId: 'w1',
        change: { $case: 'phoneNumberQuality', value: { phoneNumberId, event: 'THROUGHPUT_UPGRADE', throughputMps } },
      }),
    ).finish(),
    eventId,
  );

test("receipt's THROUGHPUT_UPGRADE events raise the learned rate, also those published before delivery-retry started", async () => {
  await upgrade('e1', 'pn-1', 1000);
  await publishEvent(
    connection.js,
    regionSubjects('eu').accountEvents,
    AccountEvent.encode(
      AccountEvent.fromPartial({ eventId: 'e2', tenantId: 'acme', change: { $case: 'businessCapability', value: {} } }),
    ).finish(),
    'e2',
  );
  const upgrades = await startThroughputUpgrades({
    js: connection.js,
    region: 'eu',
    logger: createLogger({ service: 'test', level: 'silent' }),
  });
  try {
    await waitFor(() => upgrades.throughputOf('acme', 'pn-1'), { what: 'the earlier upgrade', until: (mps) => mps === 1000 });
    assert.equal(upgrades.throughputOf('acme', 'pn-2'), undefined);
    assert.equal(upgrades.throughputOf('globex', 'pn-1'), undefined, 'per tenant');
    await upgrade('e3', 'pn-2', 1000);
    await waitFor(() => upgrades.throughputOf('acme', 'pn-2'), { what: 'a live upgrade', until: (mps) => mps === 1000 });
  } finally {
    await upgrades.stop();
  }
});
