import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createOtelWebhookMetrics } from './otel-webhook-metrics';

test('webhook lag renders as the histogram the lag alert reads, in seconds, with buckets around its one-minute threshold', async () => {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  const metrics = createOtelWebhookMetrics({ meter: provider.getMeter('test') });
  metrics.processed(0.02);
  metrics.processed(42);
  metrics.processed(-0.5); // another replica's clock a little behind: counted as no lag, not a negative one
  const { resourceMetrics, errors } = await exporter.collect();
  assert.deepEqual(errors, []);
  const lines = new PrometheusSerializer().serialize(resourceMetrics).split('\n');
  const sample = (series: string) =>
    lines
      .find((line) => line.startsWith(`${series}{`) || line.startsWith(`${series} `))
      ?.split(' ')
      .at(-1);
  assert.ok(lines.includes('# TYPE waygate_receipt_webhook_lag histogram'), lines.join('\n'));
  assert.equal(sample('waygate_receipt_webhook_lag_count'), '3');
  assert.equal(sample('waygate_receipt_webhook_lag_sum'), '42.02');
  const buckets = new Map(
    lines
      .map((line) => /^waygate_receipt_webhook_lag_bucket\{.*le="([^"]+)"\} (\d+)$/.exec(line))
      .flatMap((match) => (match ? [[match[1], Number(match[2])] as const] : [])),
  );
  assert.deepEqual([buckets.get('0.01'), buckets.get('0.025'), buckets.get('30'), buckets.get('60'), buckets.get('+Inf')], [1, 2, 2, 3, 3]);
  await provider.shutdown();
});
