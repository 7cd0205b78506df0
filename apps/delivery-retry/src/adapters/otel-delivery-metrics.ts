import { metrics, type Meter } from '@opentelemetry/api';
import type { DeliveryMetrics } from '../domain/delivery-engine';
import type { DeliveryBacklog } from '../domain/delivery-store';

/**
 * delivery-retry's metrics through the OpenTelemetry API (scraped on /metrics, also pushed with
 * OTEL_METRICS_EXPORTER=otlp). Names follow `waygate.delivery.*` (Prometheus: `waygate_delivery_*`).
 */
export function createOtelDeliveryMetrics(options: {
  backlog: () => Promise<DeliveryBacklog>;
  now: () => Date;
  meter?: Meter;
}): DeliveryMetrics {
  const meter = options.meter ?? metrics.getMeter('@waygate/delivery-retry');
  const attempts = meter.createCounter('waygate.delivery.attempts', { description: 'Cloud API calls, by outcome and Meta error code' });
  const retries = meter.createCounter('waygate.delivery.retries', { description: 'attempts that will be retried, by reason' });
  const expiries = meter.createCounter('waygate.delivery.expired', { description: 'messages whose validity ran out undelivered' });
  const throttled = meter.createCounter('waygate.delivery.throttled', {
    description: 'sends postponed by pacing, by business number and limiter (number, pair, circuit)',
  });
  const interrupted = meter.createCounter('waygate.delivery.interrupted_calls', {
    description: 'deliveries found with a Cloud API call interrupted by a crash (held for reconciliation before a resend)',
  });
  const depth = meter.createObservableGauge('waygate.delivery.queue.depth', { description: 'PENDING deliveries' });
  const oldest = meter.createObservableGauge('waygate.delivery.oldest_pending.age', {
    description: 'age of the oldest PENDING delivery',
    unit: 's',
  });
  const unannounced = meter.createObservableGauge('waygate.delivery.outbox.depth', { description: 'deliveries with unpublished events' });
  meter.addBatchObservableCallback(
    async (observer) => {
      const backlog = await options.backlog();
      observer.observe(depth, backlog.pending);
      observer.observe(unannounced, backlog.unannounced);
      const age = backlog.oldestPendingAcceptedAt ? (options.now().getTime() - backlog.oldestPendingAcceptedAt.getTime()) / 1000 : 0;
      observer.observe(oldest, Math.max(0, age));
    },
    [depth, oldest, unannounced],
  );
  return {
    attempt: (outcome, errorCode) => attempts.add(1, { outcome, ...(errorCode !== undefined ? { 'meta.error_code': errorCode } : {}) }),
    retry: (reason) => retries.add(1, { reason }),
    expired: () => expiries.add(1),
    throttled: (phoneNumberId, by) => throttled.add(1, { 'waygate.phone_number_id': phoneNumberId, by }),
    interruptedCall: () => interrupted.add(1),
  };
}
