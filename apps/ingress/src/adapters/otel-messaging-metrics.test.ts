import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createOtelMessagingMetrics } from './otel-messaging-metrics';

/** The samples OTel's Prometheus exporter renders (as /metrics serves them, with the meter's scope as a label). */
async function scrape(exporter: PrometheusExporter): Promise<string[]> {
  const { resourceMetrics, errors } = await exporter.collect();
  assert.deepEqual(errors, []);
  return new PrometheusSerializer()
    .serialize(resourceMetrics)
    .split('\n')
    .filter((line) => line.startsWith('waygate_'));
}

test('ingress metrics render as the series the dashboard reads: accepted and status changes by tenant id', async () => {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  const metrics = createOtelMessagingMetrics({ meter: provider.getMeter('test') });
  metrics.accepted('acme');
  metrics.accepted('acme');
  metrics.accepted('globex');
  metrics.statusChanged('acme', 'ACCEPTED');
  metrics.statusChanged('acme', 'FAILED');
  metrics.statusChanged('globex', 'READ');
  assert.deepEqual((await scrape(exporter)).sort(), [
    'waygate_ingress_messages_accepted_total{tenant="acme",otel_scope_name="test"} 2',
    'waygate_ingress_messages_accepted_total{tenant="globex",otel_scope_name="test"} 1',
    'waygate_messages_status_changes_total{tenant="acme",status="ACCEPTED",otel_scope_name="test"} 1',
    'waygate_messages_status_changes_total{tenant="acme",status="FAILED",otel_scope_name="test"} 1',
    'waygate_messages_status_changes_total{tenant="globex",status="READ",otel_scope_name="test"} 1',
  ]);
  await provider.shutdown();
});
