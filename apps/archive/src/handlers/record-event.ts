import { InvalidArgumentError } from '@waygate/domain';
import { ACK, type HandlerOutcome } from '@waygate/nats';
import { tenantLogRef } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { ArchiveService, RecordOutcome } from '../domain/archive-service';
import type { IncomingEvent } from '../domain/archived-event';

/**
 * Records a decoded event and turns the result into a consumer outcome: ack once the store committed (or the event
 * is not ours to keep), reject an event that can never be recorded. A store failure propagates, so the consumer
 * retries it. Logs ids, kind and status only: never text bodies, contents or phone numbers.
 */
export async function recordEvent(service: ArchiveService, logger: Logger, event: IncomingEvent): Promise<HandlerOutcome> {
  let outcome: RecordOutcome;
  try {
    outcome = await service.record(event);
  } catch (error) {
    // The violation descriptions never echo field values, so the reason is safe to log.
    if (error instanceof InvalidArgumentError) return { kind: 'reject', reason: error.message };
    throw error;
  }
  const ids = { tenant_id: event.tenantId, message_id: event.messageId };
  if (outcome === 'homed-elsewhere' || outcome === 'unknown-tenant') {
    // Not this region's tenant: named by a hash only, so its id stays out of this region's files (docs/residency.md).
    logger.warn(
      { tenant: tenantLogRef(event.tenantId), message_id: event.messageId },
      outcome === 'unknown-tenant'
        ? 'event for an unknown tenant; not archived'
        : 'event for a tenant homed in another region; not archived',
    );
  } else {
    logger.info({ ...ids, kind: event.kind, ...(event.kind === 'inbound' ? {} : { status: event.status }), outcome }, 'event archived');
  }
  return ACK;
}
