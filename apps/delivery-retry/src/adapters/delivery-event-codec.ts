import type { DeliveryEvent } from '../domain/delivery';

/** Outbox events as stored: dates as epoch milliseconds, so both backends keep them as plain JSON. */
export interface StoredDeliveryEvent extends Omit<DeliveryEvent, 'occurredAt' | 'nextAttemptAt'> {
  readonly occurredAtMs: number;
  readonly nextAttemptAtMs?: number;
}

export function toStoredEvent(event: DeliveryEvent): StoredDeliveryEvent {
  const { occurredAt, nextAttemptAt, ...rest } = event;
  return { ...rest, occurredAtMs: occurredAt.getTime(), ...(nextAttemptAt ? { nextAttemptAtMs: nextAttemptAt.getTime() } : {}) };
}

export function fromStoredEvent(stored: StoredDeliveryEvent): DeliveryEvent {
  const { occurredAtMs, nextAttemptAtMs, ...rest } = stored;
  return {
    ...rest,
    occurredAt: new Date(occurredAtMs),
    ...(nextAttemptAtMs !== undefined ? { nextAttemptAt: new Date(nextAttemptAtMs) } : {}),
  };
}
