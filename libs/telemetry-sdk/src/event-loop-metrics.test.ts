/** The event-loop delay gauges as Prometheus scrapes them: a real exporter behind a real HTTP server on loopback. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { startEventLoopMetrics } from './event-loop-metrics';

test('a blocked event loop shows in the nodejs_eventloop_delay_p99 and _max gauges on /metrics', async () => {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  metrics.setGlobalMeterProvider(provider);
  const stop = startEventLoopMetrics();
  const server = createServer((request, response) => exporter.getMetricsRequestHandler(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await sleep(50); // the delay monitor's first timer is armed
    // Block the loop for 200 ms, then let the delay monitor's timer fire late and record it.
    const until = Date.now() + 200;
    while (Date.now() < until) {
      // busy: synchronous work on the event loop
    }
    await sleep(50);
    const { port } = server.address() as AddressInfo;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (family: string) => Number(new RegExp(`^${family}(?:_seconds)?(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1]);
    assert.ok(value('nodejs_eventloop_delay_max') >= 0.15, text);
    assert.ok(value('nodejs_eventloop_delay_p99') >= 0.15, text);
  } finally {
    stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await provider.shutdown();
    metrics.disable();
  }
});
