import type { MessageStatus } from '@waygate/domain';

/**
 * What ingress counts about messages, by tenant id (never a phone number). Ingress is the one place that sees every
 * message's every status once: it accepts each message, and applies every status report through the state machine
 * with one effect per event id, so a status reported twice (delivery-retry's SENT and the `sent` webhook) counts once.
 */
export interface MessagingMetrics {
  /** A new message was accepted and stored; an idempotent replay answered from the store is not counted. */
  accepted(tenantId: string): void;
  /**
   * A message's status changed: ACCEPTED when it is accepted, then each status it moves into (a DELIVERED implied by a
   * READ that came first included). Late, repeated and retried-failure reports change nothing and are not counted.
   */
  statusChanged(tenantId: string, status: MessageStatus): void;
}

/** Counts nothing: for unit tests and tools that build the service without telemetry. */
export const NO_MESSAGING_METRICS: MessagingMetrics = {
  accepted: () => undefined,
  statusChanged: () => undefined,
};
