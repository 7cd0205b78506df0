import type { Clock } from '@waygate/domain';
import type { Delivery } from './delivery';
import type { DeliveryRecorder } from './delivery-recorder';
import type { DeliveryStore } from './delivery-store';

/** How a cancel request ended: canceled (now or before), too late (sent or otherwise settled), or a send in flight. */
export type CancelOutcome =
  | { readonly kind: 'canceled'; readonly delivery: Delivery }
  | { readonly kind: 'settled'; readonly delivery: Delivery }
  | { readonly kind: 'in-flight'; readonly delivery: Delivery };

/**
 * Cancels a delivery not yet sent: PENDING -> CANCELED (announced, content deleted). A delivery leased for an attempt
 * is `in-flight` (the caller asks again); a message not seen yet gets a CANCELED tombstone, so its later intake is a
 * no-op, announced when that intake comes.
 */
export function cancelDelivery(
  deps: { readonly store: DeliveryStore; readonly recorder: DeliveryRecorder; readonly clock: Clock },
  tenantId: string,
  messageId: string,
): Promise<CancelOutcome> {
  const { store, recorder, clock } = deps;
  return recorder.withLatest(tenantId, messageId, async (stored): Promise<CancelOutcome | 'conflict'> => {
    const now = clock.now();
    if (!stored) {
      // Not seen yet (MessageAccepted still queued, or not yet published by ingress's outbox): a tombstone makes the
      // later intake a no-op. It is not announced now: only when ingress's MessageAccepted meets it at intake (proof
      // that ingress accepted and forwarded that message) does CANCELED go to the tenant's feed, callbacks and
      // archive (DeliveryScheduler.intake). So a cancel for an id ingress never forwarded (an operator's typo with the
      // internal token) leaves an unannounced placeholder and tells no tenant anything.
      const tombstone: Delivery = {
        tenantId,
        messageId,
        phoneNumberId: '',
        to: '',
        laneSeq: 0,
        state: 'CANCELED',
        attempts: 0,
        acceptedAt: now,
        expiresAt: now,
        updatedAt: now,
      };
      const { inserted, stored: after } = await store.insertIfAbsent(tombstone);
      if (!inserted) return 'conflict';
      return { kind: 'canceled', delivery: after.delivery };
    }
    const { delivery } = stored;
    if (delivery.state === 'CANCELED') return { kind: 'canceled', delivery };
    if (delivery.state !== 'PENDING') return { kind: 'settled', delivery };
    if (stored.leaseUntil && stored.leaseUntil > now) return { kind: 'in-flight', delivery };
    const committed = await recorder.commit(stored, {
      state: 'CANCELED',
      attempts: delivery.attempts,
      lastErrorCode: delivery.lastErrorCode,
      lastErrorTitle: delivery.lastErrorTitle,
      updatedAt: now,
    });
    return committed ? { kind: 'canceled', delivery: committed } : 'conflict';
  });
}
