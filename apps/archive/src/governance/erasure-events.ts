import { ACK, erasureRequestedSubject, publishEvent, type HandlerOutcome, type JetStreamConnection } from '@waygate/nats';
import { ErasurePartCompleted, ErasureRequested } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { ErasureRecord } from './domain/erasure';
import type { ErasureCoordinator } from './erasure-coordinator';

/** Durable consumer of the services' ErasurePartCompleted reports. */
export const ERASURE_COMPLETIONS_DURABLE = 'archive-erasure-completions';

/** Publishes an erasure's ErasureRequested on the GOVERNANCE stream (Nats-Msg-Id: the erasure id). */
export function erasureRequestPublisher(nats: Pick<JetStreamConnection, 'js'>, region: string): (record: ErasureRecord) => Promise<void> {
  return async (record) => {
    const event: ErasureRequested = {
      erasureId: record.erasureId,
      tenantId: record.tenantId,
      customerSealed: record.customerSealed,
      customerRef: record.customerRef,
      requestedAt: record.requestedAt,
    };
    await publishEvent(
      nats.js,
      erasureRequestedSubject(region, record.tenantId),
      ErasureRequested.encode(event).finish(),
      record.erasureId,
    );
  };
}

/** The consumer handler of ErasurePartCompleted: each report updates its erasure (idempotent), then is acknowledged. */
export function createErasureCompletionsHandler(coordinator: ErasureCoordinator, logger: Logger) {
  return async (data: Uint8Array): Promise<HandlerOutcome> => {
    let event: ErasurePartCompleted;
    try {
      event = ErasurePartCompleted.decode(data);
    } catch {
      return { kind: 'reject', reason: 'ErasurePartCompleted does not decode' };
    }
    const counts: Record<string, number> = {};
    for (const [kind, count] of Object.entries(event.counts).slice(0, 50)) {
      const value = Number(count);
      if (/^[a-z0-9_]{1,40}$/.test(kind) && Number.isSafeInteger(value) && value >= 0) counts[kind] = value;
    }
    if (!event.completedAt) return { kind: 'reject', reason: 'ErasurePartCompleted has no completed_at' };
    await coordinator.partCompleted({
      erasureId: event.erasureId,
      tenantId: event.tenantId,
      service: event.service,
      completedAt: event.completedAt,
      counts,
    });
    logger.debug({ erasure_id: event.erasureId, service: event.service }, 'erasure part recorded');
    return ACK;
  };
}
