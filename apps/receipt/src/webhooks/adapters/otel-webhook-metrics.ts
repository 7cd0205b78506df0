import { metrics, type Meter } from '@opentelemetry/api';
import type { WebhookMetrics } from '../domain/webhook-metrics';

/**
 * Bucket bounds in seconds: normally well under a second; the alert (deploy/'s PrometheusRule) fires on a p99 over a
 * minute, and a body held back while media-store or the Cloud API is down waits minutes to hours.
 */
const LAG_BUCKETS_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * Webhook intake's metrics through the OpenTelemetry API. On /metrics (OTel's Prometheus exporter) the lag is
 * `waygate_receipt_webhook_lag_bucket/_sum/_count`, the series deploy/'s dashboard and alerts read.
 */
export function createOtelWebhookMetrics(options: { meter?: Meter } = {}): WebhookMetrics {
  const meter = options.meter ?? metrics.getMeter('@waygate/receipt');
  const lag = meter.createHistogram('waygate.receipt.webhook_lag', {
    description: "time from a webhook's receipt at the endpoint to its processing (statuses and inbound messages applied)",
    unit: 's',
    advice: { explicitBucketBoundaries: LAG_BUCKETS_SECONDS },
  });
  return { processed: (lagSeconds) => lag.record(Math.max(0, lagSeconds)) };
}
