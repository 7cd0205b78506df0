import type { DeliverableMessage } from './outbound-message';

/** Hands an accepted message to delivery. Resolves once the hand-off is durable; safe to repeat. */
export interface MessagePublisher {
  publishAccepted(message: DeliverableMessage): Promise<void>;
}
