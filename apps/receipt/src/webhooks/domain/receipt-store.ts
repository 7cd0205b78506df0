import type { WebhookStatus } from './webhook-payload';

/** Which Waygate message a `wamid` belongs to (learned from delivery-retry's SENT events). */
export interface SentMessageRecord {
  readonly tenantId: string;
  readonly waMessageId: string;
  readonly messageId: string;
  /** The recipient in E.164 form (delivery-retry's SENT event carries it), for the statuses announced later. */
  readonly recipient?: string;
  /** W3C traceparent of the message's trace, so webhook statuses join it. */
  readonly traceContext?: string;
}

/** receipt's storage port. Every method is scoped by tenant. */
export interface ReceiptStore {
  /** Records the wamid -> message mapping (idempotent). */
  recordSentMessage(record: SentMessageRecord): Promise<void>;
  findSentMessage(tenantId: string, waMessageId: string): Promise<SentMessageRecord | undefined>;
  /** Keeps a status whose wamid is not known yet (the webhook raced the send's response). Idempotent. */
  holdStatus(tenantId: string, status: WebhookStatus): Promise<void>;
  listHeldStatuses(tenantId: string, waMessageId: string): Promise<WebhookStatus[]>;
  /** Deletes held statuses once they were published. */
  releaseHeldStatuses(tenantId: string, waMessageId: string): Promise<void>;
  /**
   * Erasure (issue 14): the wamid mappings of messages to `customer` (E.164, or WhatsApp's digits) name `customerRef`
   * instead, and held statuses naming the customer are deleted (their events would be sealed under the customer's
   * destroyed key). Idempotent; counts what changed.
   */
  eraseCustomer(tenantId: string, customer: string, customerRef: string): Promise<{ sentMessages: number; heldStatuses: number }>;
  close(): Promise<void>;
}
