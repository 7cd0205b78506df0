import type { ArchivedEvent } from './archived-event';

/** The archive's storage port. Every method is scoped by tenant. */
export interface ArchiveStore {
  /**
   * Stores `event` unless the tenant already has an event with its id; 'duplicate' (and no change) if it has.
   * Atomic: two concurrent calls with one event id store it once. Resolves once the write is durable.
   */
  record(event: ArchivedEvent): Promise<'recorded' | 'duplicate'>;
  /** The tenant's events about one message, oldest first: by occurredAt, then recordedAt, then eventId. */
  listByMessage(tenantId: string, messageId: string): Promise<ArchivedEvent[]>;
  close(): Promise<void>;
}
