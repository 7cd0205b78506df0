import type { CustomerSealer } from '@waygate/keyring';
import type { Delivery, DeliveryContent } from '../domain/delivery';
import type { StoredDelivery } from '../domain/delivery-store';
import type { StoredDeliveryEvent } from './delivery-event-codec';

/** A delivery's content as stored: its JSON sealed under the recipient's data key (issue 14, at rest). */
export function sealDeliveryContent(sealer: CustomerSealer, delivery: Delivery, content: DeliveryContent): Promise<string> {
  return sealer.seal(delivery.tenantId, delivery.to, JSON.stringify(content));
}

/**
 * `stored` with its content opened from `sealed`. Content whose customer key was destroyed (an erased customer) is
 * left out, as after a terminal state: an attempt on such a delivery fails (131009, content missing) and sends
 * nothing. Content stored before sealing existed is read as it is.
 */
export async function openDeliveryContent(
  sealer: CustomerSealer,
  stored: StoredDelivery,
  sealed: string | null | undefined,
): Promise<StoredDelivery> {
  if (sealed === null || sealed === undefined) return stored;
  const json = await sealer.open(stored.delivery.tenantId, sealed);
  if (json === undefined) return stored;
  return { ...stored, delivery: { ...stored.delivery, content: JSON.parse(json) as DeliveryContent } };
}

/** Outbox events of an erased customer: the recipient becomes the customer reference, the learned wa_id goes. */
export function pseudonymiseStoredEvents(events: readonly StoredDeliveryEvent[], customerRef: string): StoredDeliveryEvent[] {
  return events.map((event) => {
    const { recipientWaId, ...rest } = event;
    void recipientWaId;
    return { ...rest, recipient: customerRef };
  });
}
