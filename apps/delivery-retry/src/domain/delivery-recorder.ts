import { applyUpdate, eventFor, type Delivery, type DeliveryEvent, type DeliveryUpdate } from './delivery';
import type { StatusPublisher } from './delivery-ports';
import type { DeliveryStore, StoredDelivery } from './delivery-store';

/** Optimistic-concurrency retries for writes that race a claim or another replica. */
const MAX_WRITE_ATTEMPTS = 5;
const ANNOUNCE_BATCH = 200;
const ANNOUNCE_LEASE_MS = 30_000;

/**
 * Records delivery outcomes together with the events announcing them (the outbox): an event is written in the same
 * store write as the state it announces, then published; whatever a failure or crash leaves unpublished is published
 * by the outbox sweep (`flushOutbox`). Every outcome the scheduler, an attempt, a webhook or a cancel records goes
 * through here, so none is announced without being recorded or recorded without being announced.
 */
export class DeliveryRecorder {
  constructor(
    private readonly store: DeliveryStore,
    private readonly publisher: StatusPublisher,
  ) {}

  /**
   * Writes `update` with `event` (if any) in one conditional write, then announces the event (best effort: the outbox
   * keeps it if publishing fails). Undefined, and nothing written, if the delivery moved past `stored.version`.
   */
  async write(stored: StoredDelivery, update: DeliveryUpdate, event: DeliveryEvent | undefined): Promise<Delivery | undefined> {
    const next = applyUpdate(stored.delivery, update);
    const written = await this.store.update(next.tenantId, next.messageId, stored.version, update, event);
    if (!written) return undefined;
    if (event) await this.announce(next.tenantId, next.messageId, [event]).catch(() => undefined);
    return next;
  }

  /** Writes `update` with the event announcing the resulting state (none for DELIVERED: receipt announced that). */
  commit(stored: StoredDelivery, update: DeliveryUpdate): Promise<Delivery | undefined> {
    return this.write(stored, update, eventFor(applyUpdate(stored.delivery, update)));
  }

  /** Ends a delivery whose deadline has passed (EXPIRED, announced); false if another writer got there first. */
  async expire(stored: StoredDelivery, now: Date): Promise<boolean> {
    const { delivery } = stored;
    const committed = await this.commit(stored, {
      state: 'EXPIRED',
      attempts: delivery.attempts,
      lastErrorCode: delivery.lastErrorCode,
      lastErrorTitle: delivery.lastErrorTitle,
      updatedAt: now,
    });
    return committed !== undefined;
  }

  /** Publishes a delivery's pending events and clears them from its outbox. */
  async announce(tenantId: string, messageId: string, events: readonly DeliveryEvent[]): Promise<number> {
    const published: string[] = [];
    for (const event of events) {
      await this.publisher.publish(event);
      published.push(event.eventId);
    }
    if (published.length > 0) await this.store.markAnnounced(tenantId, messageId, published);
    return published.length;
  }

  /** The outbox sweep: publishes events that were recorded but not published (a crash, NATS briefly down). */
  async flushOutbox(now: Date): Promise<number> {
    let announced = 0;
    for (const pending of await this.store.claimAnnouncements({ now, limit: ANNOUNCE_BATCH, leaseMs: ANNOUNCE_LEASE_MS })) {
      announced += await this.announce(pending.tenantId, pending.messageId, pending.events);
    }
    return announced;
  }

  /** Runs a write that must see the latest version, again with a fresh read when another writer got in between. */
  async withLatest<T>(
    tenantId: string,
    messageId: string,
    write: (stored: StoredDelivery | undefined) => Promise<T | 'conflict'>,
  ): Promise<T> {
    for (let i = 0; i < MAX_WRITE_ATTEMPTS; i++) {
      const result = await write(await this.store.get(tenantId, messageId));
      if (result !== 'conflict') return result;
    }
    throw new Error(`delivery ${messageId} kept changing; try again`);
  }
}
