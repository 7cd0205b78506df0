import { metrics, type Meter } from '@opentelemetry/api';
import type { MessagingMetrics } from '../domain/messaging-metrics';

/**
 * ingress's message counters through the OpenTelemetry API, labelled by tenant id. On /metrics (OTel's Prometheus
 * exporter) they are `waygate_ingress_messages_accepted_total{tenant}` and
 * `waygate_messages_status_changes_total{tenant,status}`, the names deploy/'s dashboard and alerts read.
 */
export function createOtelMessagingMetrics(options: { meter?: Meter } = {}): MessagingMetrics {
  const meter = options.meter ?? metrics.getMeter('@waygate/ingress');
  const accepted = meter.createCounter('waygate.ingress.messages_accepted', {
    description: 'messages newly accepted by SendMessage (idempotent replays not counted), by tenant',
  });
  const statusChanges = meter.createCounter('waygate.messages.status_changes', {
    description: 'message status changes applied by ingress (each status of a message once, ACCEPTED included), by tenant and status',
  });
  return {
    accepted: (tenantId) => accepted.add(1, { tenant: tenantId }),
    statusChanged: (tenantId, status) => statusChanges.add(1, { tenant: tenantId, status }),
  };
}
