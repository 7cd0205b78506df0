import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTempDir, isPortOpen, waitFor } from '@waygate/testing';
import { startLocalStack, freeStackPorts } from './stack';

test('a start aborted half-way (Ctrl-C while starting) stops what already runs, then rejects', { timeout: 120_000 }, async () => {
  const dir = createTempDir('waygate-local-run-');
  const ports = await freeStackPorts();
  const starting = new AbortController();
  const seen = new Set<string>();
  try {
    const start = startLocalStack({
      dataDir: dir.path,
      ports,
      signal: starting.signal,
      onLine: (name) => {
        seen.add(name);
        // nats-server is up and the simulator is starting: abort in the middle of the start.
        if (name === 'whatsapp-simulator') starting.abort();
      },
    });
    await assert.rejects(start, /start aborted/);
    assert.ok(seen.has('nats-server'), 'nats-server had started');
    await waitFor(async () => !(await isPortOpen(ports.nats)) && !(await isPortOpen(ports.simulator)), {
      what: 'nats-server and the simulator to be stopped',
    });
    assert.equal(await isPortOpen(ports.grpc.ingress), false, 'no service was left running');
  } finally {
    dir.remove();
  }
});
