import type { AttemptRecord, Delivery } from './delivery';

/** delivery-retry's storage port. Every method is scoped by tenant. */
export interface DeliveryStore {
  /** Stores a new PENDING delivery unless one exists for the message; returns the stored one either way. */
  insertIfAbsent(delivery: Delivery): Promise<Delivery>;
  get(tenantId: string, messageId: string): Promise<Delivery | undefined>;
  /** Records an attempt's outcome; durable when the promise resolves. */
  recordAttempt(tenantId: string, messageId: string, attempt: AttemptRecord): Promise<void>;
  close(): Promise<void>;
}
