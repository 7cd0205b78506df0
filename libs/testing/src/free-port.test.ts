import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { freePort } from './nats-server';

test('freePort hands out distinct, bindable ports below the ephemeral range, so port-0 listeners never take them', async () => {
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
  assert.equal(new Set(ports).size, ports.length, 'each call a different port');
  for (const port of ports) assert.ok(port < (low ?? 32_768), `${port} is below the ephemeral range`);
  // Ports the OS picks itself (listen on 0) come from the ephemeral range, never one of ours.
  const servers = await Promise.all(
    Array.from(
      { length: 20 },
      () =>
        new Promise<net.Server>((resolve) => {
          const server = net.createServer();
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  try {
    for (const server of servers) assert.ok(!ports.includes((server.address() as net.AddressInfo).port));
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
});
