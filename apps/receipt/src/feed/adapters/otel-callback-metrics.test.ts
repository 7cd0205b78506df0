import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createOtelCallbackMetrics } from './otel-callback-metrics';

test('callback dead letters render as the counter the dashboard and alert read, by tenant id', async () => {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  const metrics = createOtelCallbackMetrics({ meter: provider.getMeter('test') });
  metrics.deadLettered('acme', 1);
  metrics.deadLettered('acme', 3);
  metrics.deadLettered('globex', 1);
  const { resourceMetrics, errors } = await exporter.collect();
  assert.deepEqual(errors, []);
  const samples = new PrometheusSerializer()
    .serialize(resourceMetrics)
    .split('\n')
    .filter((line) => line.startsWith('waygate_'));
  assert.deepEqual(samples.sort(), [
    'waygate_feed_callback_dead_letters_total{tenant="acme",otel_scope_name="test"} 4',
    'waygate_feed_callback_dead_letters_total{tenant="globex",otel_scope_name="test"} 1',
  ]);
  await provider.shutdown();
});
