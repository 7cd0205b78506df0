/**
 * Asks delivery (delivery-retry's CancelDelivery) to stop a message WhatsApp has not accepted yet. Delivery is the
 * one that knows whether a send is under way, so it decides; ingress records the outcome.
 */
export interface DeliveryCanceller {
  /**
   * Resolves once delivery has durably recorded the tenant's message as cancelled (it publishes the CANCELED status
   * event `<messageId>:delivery:canceled`). Ingress calls it only for a message it stored and accepted: delivery keeps
   * a cancel tombstone for a message it has not seen yet on that word alone. Throws FailedPreconditionError when the
   * delivery is already settled (sent, failed or expired), AbortedError while a send is in flight, NotFoundError, or
   * UnavailableError.
   */
  cancel(tenantId: string, messageId: string): Promise<void>;
}

/** The id of the CANCELED status event delivery publishes for a message; ingress records the same id so it is one effect. */
export function deliveryCanceledEventId(messageId: string): string {
  return `${messageId}:delivery:canceled`;
}
