import {
  InvalidArgumentError,
  isE164,
  MAX_WHATSAPP_ID_LENGTH,
  orderStatusEvents,
  validateId,
  type Clock,
  type FieldViolation,
} from '@waygate/domain';
import type { ArchiveStore } from './archive-store';
import type { ArchivedEvent, IncomingEvent } from './archived-event';

/**
 * What became of an event:
 * - 'recorded' / 'duplicate': stored now / stored before (same tenant and event id);
 * - 'homed-elsewhere' / 'unknown-tenant': not stored, because this region may only keep data of tenants homed here.
 */
export type RecordOutcome = 'recorded' | 'duplicate' | 'homed-elsewhere' | 'unknown-tenant';

export interface ArchiveService {
  /** Validates and records one event; throws InvalidArgumentError for an event that can never be recorded. */
  record(event: IncomingEvent): Promise<RecordOutcome>;
  /**
   * The tenant's events about one message (by Waygate's message id, or an inbound message's wamid), oldest first;
   * empty for an unknown message or another tenant's.
   */
  listMessageEvents(tenantId: string, messageId: string): Promise<ArchivedEvent[]>;
}

export interface ArchiveServiceDeps {
  readonly store: ArchiveStore;
  /** The home region of a tenant, or undefined if the platform does not know it. */
  readonly homeRegionOf: (tenantId: string) => string | undefined;
  /** The region this process serves. */
  readonly region: string;
  readonly clock: Clock;
}

function required(field: string, value: string): FieldViolation[] {
  return value ? [] : [{ field, reason: 'REQUIRED', description: 'is required' }];
}

/** Every reason `event` cannot be archived. Descriptions never echo values: they end up in logs. */
function validateEvent(event: IncomingEvent): FieldViolation[] {
  const violations = [
    ...required('event_id', event.eventId),
    ...required('tenant_id', event.tenantId),
    ...required('message_id', event.messageId),
  ];
  if (Number.isNaN(event.occurredAt.getTime()))
    violations.push({ field: 'occurred_at', reason: 'INVALID_FORMAT', description: 'must be a valid time' });
  if (event.kind === 'accepted') {
    if (!isE164(event.recipient)) violations.push({ field: 'to', reason: 'INVALID_FORMAT', description: 'must be an E.164 phone number' });
    violations.push(...required('phone_number_id', event.phoneNumberId));
  }
  if (event.kind === 'inbound') {
    if (!isE164(event.from)) violations.push({ field: 'from', reason: 'INVALID_FORMAT', description: 'must be an E.164 phone number' });
    violations.push(...required('phone_number_id', event.phoneNumberId));
  }
  return violations;
}

export function createArchiveService(deps: ArchiveServiceDeps): ArchiveService {
  const { store, homeRegionOf, region, clock } = deps;
  return {
    async record(event) {
      const violations = validateEvent(event);
      if (violations.length > 0) throw new InvalidArgumentError(violations);
      // Checked before anything is written: another region's tenant data must not land in this region's store.
      const homeRegion = homeRegionOf(event.tenantId);
      if (homeRegion === undefined) return 'unknown-tenant';
      if (homeRegion !== region) return 'homed-elsewhere';
      return store.record({ ...event, recordedAt: clock.now() });
    },

    async listMessageEvents(tenantId, messageId) {
      // Waygate's message ids or, for inbound messages, WhatsApp's: bounded like every id, at WhatsApp's length.
      validateId('message_id', messageId, MAX_WHATSAPP_ID_LENGTH);
      const events = await store.listByMessage(tenantId, messageId);
      // A wamid is never a Waygate message id, so an id names either one inbound message or one outbound message.
      const inbound = events.filter((event) => event.kind === 'inbound');
      const outbound = events.filter((event) => event.kind !== 'inbound');
      // Stored oldest first by raw time; shown in the order people expect despite WhatsApp's whole-second stamps.
      return [...inbound, ...orderStatusEvents(outbound)];
    },
  };
}
