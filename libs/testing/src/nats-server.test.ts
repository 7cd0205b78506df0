/** startNatsServer with the real nats-server binary, through the shared launcher. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { isPortOpen, startNatsServer } from './nats-server';

test('nats-server: serves its port with JetStream, restarts on the same port and store, stop removes the store', async () => {
  const nats = await startNatsServer();
  try {
    assert.equal(nats.url, `nats://127.0.0.1:${nats.port}`);
    assert.ok(await isPortOpen(nats.port));
    assert.ok(existsSync(`${nats.storeDir}/jetstream`), 'JetStream keeps its store in the folder');
    const firstPid = nats.pid;
    assert.ok(Number.isInteger(firstPid) && process.kill(firstPid, 0), 'pid is a live process');
    await nats.restart();
    assert.ok(await isPortOpen(nats.port), 'ready again on the same port');
    assert.notEqual(nats.pid, firstPid, 'pid follows the restarted server');
    assert.throws(() => process.kill(firstPid, 0), 'the first server is gone');
    assert.ok(process.kill(nats.pid, 0));
  } finally {
    await nats.stop();
  }
  assert.equal(await isPortOpen(nats.port), false);
  assert.equal(existsSync(nats.storeDir), false);
});

test('nats-server: a binary that cannot be run is a clear error with the install hint', async () => {
  const previous = process.env.NATS_SERVER_BIN;
  process.env.NATS_SERVER_BIN = '/nonexistent/nats-server';
  try {
    await assert.rejects(
      startNatsServer(),
      /^Error: cannot run nats-server \(\/nonexistent\/nats-server\): .*ENOENT.*; install it with: apt-get install -y nats-server$/,
    );
  } finally {
    if (previous === undefined) delete process.env.NATS_SERVER_BIN;
    else process.env.NATS_SERVER_BIN = previous;
  }
});
