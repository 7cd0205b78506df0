import { metrics, type Meter } from '@opentelemetry/api';
import type { CallbackMetrics } from '../domain/callback-dispatcher';

/**
 * The tenant feed's callback metrics through the OpenTelemetry API, labelled by tenant id. On /metrics (OTel's
 * Prometheus exporter) the dead letters are `waygate_feed_callback_dead_letters_total{tenant}`, the series deploy/'s
 * dashboard and its WaygateCallbackDeadLetters alert read.
 */
export function createOtelCallbackMetrics(options: { meter?: Meter } = {}): CallbackMetrics {
  const meter = options.meter ?? metrics.getMeter('@waygate/receipt');
  const deadLetters = meter.createCounter('waygate.feed.callback_dead_letters', {
    description: 'signed callback deliveries given up on (retry period over, or parked while the circuit was open), by tenant',
  });
  return { deadLettered: (tenantId, count) => deadLetters.add(count, { tenant: tenantId }) };
}
