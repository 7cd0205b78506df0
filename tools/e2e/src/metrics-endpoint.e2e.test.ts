/**
 * Prometheus metrics of real service processes: `GET /metrics` answers in the text format with the service's own
 * metrics, on the port WAYGATE_METRICS_PORT names; a taken or invalid port is a failed start naming it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { defaultMetricsPort } from '@waygate/config';
import { DEFAULT_PORTS, SERVICES } from '@waygate/local-run';
import {
  createTempDir,
  freePort,
  launchProcess,
  ProcessLaunchError,
  startNatsServer,
  startServiceProcess,
  tenantsYaml,
  tsxEntryCommand,
  type NatsServerHandle,
} from '@waygate/testing';

const dir = createTempDir();
const tenantsFile = path.join(dir.path, 'tenants.yaml');
let nats: NatsServerHandle;

before(async () => {
  writeFileSync(tenantsFile, tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'key-acme' }]));
  nats = await startNatsServer();
});
after(async () => {
  await nats.stop();
  dir.remove();
});

async function scrape(port: number, pathname = '/metrics'): Promise<{ status: number; type: string; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${pathname}`);
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
}

test('the documented default metrics ports are distinct, and npm start passes exactly those', () => {
  const defaults = { ingress: 50051, receipt: 50052, 'media-store': 50053, archive: 50054, 'delivery-retry': 50055 } as const;
  const ports = SERVICES.map((service) => defaultMetricsPort(defaults[service]));
  assert.equal(new Set(ports).size, SERVICES.length);
  assert.deepEqual(
    SERVICES.map((service) => DEFAULT_PORTS.metrics?.[service]),
    ports,
  );
  assert.deepEqual(ports, [9461, 9465, 9462, 9463, 9464]);
});

test("delivery-retry and media-store serve their metrics on /metrics in Prometheus' text format", async () => {
  const [deliveryPort, mediaPort] = [await freePort(), await freePort()];
  const delivery = await startServiceProcess('delivery-retry', {
    WAYGATE_REGION: 'eu',
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: dir.path,
    WAYGATE_GRPC_PORT: '0',
    WAYGATE_METRICS_PORT: String(deliveryPort),
    WAYGATE_INTERNAL_SERVICE_TOKEN: 'metrics-test-internal-token-0123456789abcdef',
  });
  const media = await startServiceProcess('media-store', {
    WAYGATE_REGION: 'eu',
    // The regional keyring lives in JetStream (docs/decisions/0007-regional-keyring.md).
    WAYGATE_NATS_URL: nats.url,
    WAYGATE_TENANTS_FILE: tenantsFile,
    WAYGATE_DATA_DIR: dir.path,
    WAYGATE_GRPC_PORT: '0',
    WAYGATE_METRICS_PORT: String(mediaPort),
  });
  try {
    const deliveryMetrics = await scrape(deliveryPort);
    assert.equal(deliveryMetrics.status, 200);
    assert.match(deliveryMetrics.type, /^text\/plain/);
    // delivery-retry's own gauge (waygate.delivery.queue.depth), in Prometheus naming.
    assert.match(deliveryMetrics.text, /^# TYPE waygate_delivery_queue_depth gauge$/m);
    assert.match(deliveryMetrics.text, /^waygate_delivery_queue_depth(\{[^}]*\})? 0/m);
    assert.match(deliveryMetrics.text, /^target_info\{[^}]*service_name="delivery-retry"/m);

    const mediaMetrics = await scrape(mediaPort);
    assert.equal(mediaMetrics.status, 200);
    assert.match(mediaMetrics.text, /^target_info\{[^}]*service_name="media-store"/m);
    assert.equal((await scrape(mediaPort, '/')).status, 404);
    // The log names the bound port, so an operator can find it.
    assert.match(media.outputTail(), new RegExp(`"port":${mediaPort}[^\\n]*metrics endpoint listening`));
  } finally {
    await Promise.all([delivery.stop('SIGTERM'), media.stop('SIGTERM')]);
  }
});

for (const [name, portValue, expected] of [
  ['not a port', 'ninety', /WAYGATE_METRICS_PORT/],
  ['a port in use', 'taken', /metrics endpoint 127\.0\.0\.1:\d+: listen EADDRINUSE/],
] as const) {
  test(`media-store refuses to start when WAYGATE_METRICS_PORT is ${name}, naming it`, async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const takenPort = (blocker.address() as { port: number }).port;
    const lines: string[] = [];
    const launched = launchProcess({
      name: 'media-store',
      ...tsxEntryCommand('apps/media-store/src/main.ts'),
      env: {
        PATH: process.env.PATH,
        WAYGATE_REGION: 'eu',
        WAYGATE_TENANTS_FILE: tenantsFile,
        WAYGATE_DATA_DIR: dir.path,
        WAYGATE_GRPC_PORT: '0',
        WAYGATE_METRICS_PORT: portValue === 'taken' ? String(takenPort) : portValue,
      },
      ready: { line: 'media-store listening' },
      readyTimeoutMs: 20_000,
      output: { onLine: (line) => lines.push(line) },
    });
    try {
      await assert.rejects(launched.ready, (error) => error instanceof ProcessLaunchError && error.reason === 'exited');
      assert.deepEqual(await launched.exited, { code: 1, signal: null });
      const fatal = lines.map((line) => JSON.parse(line) as { level: string; msg: string }).find((line) => line.level === 'fatal');
      assert.ok(fatal, lines.join('\n'));
      assert.match(fatal.msg, expected);
    } finally {
      blocker.close();
    }
  });
}
