import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { createOtelDeliveryMetrics } from './otel-delivery-metrics';

test('delivery metrics: counters by outcome, reason and limiter; backlog gauges from the store', async () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const now = new Date(1_700_000_100_000);
  const metrics = createOtelDeliveryMetrics({
    meter: provider.getMeter('test'),
    now: () => now,
    backlog: async () => ({ pending: 7, unannounced: 2, oldestPendingAcceptedAt: new Date(1_700_000_000_000) }),
  });
  metrics.attempt('sent', undefined);
  metrics.attempt('retry', 131000);
  metrics.attempt('retry', 131000);
  metrics.retry('transient');
  metrics.expired();
  metrics.throttled('1000001', 'pair');
  await reader.forceFlush();
  const points = new Map<string, { attributes: Record<string, unknown>; value: unknown }[]>();
  for (const scope of exporter.getMetrics().at(-1)?.scopeMetrics ?? []) {
    for (const metric of scope.metrics)
      points.set(
        metric.descriptor.name,
        metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })),
      );
  }
  assert.deepEqual(points.get('waygate.delivery.attempts'), [
    { attributes: { outcome: 'sent' }, value: 1 },
    { attributes: { outcome: 'retry', 'meta.error_code': 131000 }, value: 2 },
  ]);
  assert.deepEqual(points.get('waygate.delivery.retries'), [{ attributes: { reason: 'transient' }, value: 1 }]);
  assert.deepEqual(points.get('waygate.delivery.expired'), [{ attributes: {}, value: 1 }]);
  assert.deepEqual(points.get('waygate.delivery.throttled'), [
    { attributes: { 'waygate.phone_number_id': '1000001', by: 'pair' }, value: 1 },
  ]);
  assert.deepEqual(points.get('waygate.delivery.queue.depth'), [{ attributes: {}, value: 7 }]);
  assert.deepEqual(points.get('waygate.delivery.outbox.depth'), [{ attributes: {}, value: 2 }]);
  assert.deepEqual(points.get('waygate.delivery.oldest_pending.age'), [{ attributes: {}, value: 100 }]);
  await provider.shutdown();
});
