import type { InboundMessageIndex, InboundMessageRef } from './inbound-message-index';

/**
 * Who a customer is, as the view keys them: Meta's `wa_id` (digits only) when the customer is known by phone number,
 * else `bsuid:<id>` for a business-scoped user id that arrived without one (Meta's usernames). One customer-service
 * window exists per business number and customer key.
 */
export type CustomerKey = string;

/** The key of a customer known by wa_id. */
export function customerKeyOfWaId(waId: string): CustomerKey {
  return waId.replace(/\D/g, '');
}

/** The key of a customer known only by a business-scoped user id. */
export function customerKeyOfBsuid(bsuid: string): CustomerKey {
  return `bsuid:${bsuid}`;
}

/** One customer-service window: free-form messages from `phoneNumberId` to the customer are allowed until `closesAt`. */
export interface CustomerWindow {
  readonly tenantId: string;
  readonly phoneNumberId: string;
  readonly customerKey: CustomerKey;
  /** The latest inbound message that opened or extended the window. */
  readonly lastInboundAt: Date;
  readonly closesAt: Date;
}

/** An inbound message as the view records it (from receipt's InboundMessageReceived). */
export interface InboundMessageEntry {
  readonly tenantId: string;
  readonly phoneNumberId: string;
  readonly waMessageId: string;
  /** E.164; empty for a customer known only by a business-scoped user id. */
  readonly customer: string;
  readonly customerKey: CustomerKey;
  readonly occurredAt: Date;
  /** When the window this message opened or extended closes; undefined for messages that open none (system notices). */
  readonly windowClosesAt?: Date;
}

/**
 * ingress's local, durable view of its tenants' customers, kept from receipt's events: the customer-service windows,
 * the inbound messages (for replies and reactions), and the `to` -> `wa_id` mapping Meta's send answers teach. It
 * answers a send's questions without a network hop. Every method is scoped by tenant.
 */
export interface CustomerView extends InboundMessageIndex {
  /**
   * Records an inbound message and extends its window (never shortens it: events may arrive out of order).
   * Idempotent by (tenant, wamid).
   */
  recordInbound(entry: InboundMessageEntry): Promise<void>;
  /** The window of one business number and customer, if the customer ever wrote to it. */
  findWindow(tenantId: string, phoneNumberId: string, customerKey: CustomerKey): Promise<CustomerWindow | undefined>;
  /** Learns that messages to `to` (E.164) reach the customer `waId` (Meta's send answer: contacts[].input -> wa_id). */
  recordWaId(tenantId: string, to: string, waId: string, learnedAt: Date): Promise<void>;
  /** The wa_id Meta answered for `to`, if a send to it was ever accepted. */
  findWaId(tenantId: string, to: string): Promise<string | undefined>;
  /**
   * Erasure: deletes the customer's windows and inbound-message index entries (by number or any of `customerKeys`)
   * and the wa_id learned for the number; returns how many rows. Idempotent.
   */
  eraseCustomer(tenantId: string, customer: string, customerKeys: readonly CustomerKey[]): Promise<number>;
  /** Export: the customer's windows (one per business number) and the wa_id learned for the number. */
  customerWindows(tenantId: string, customerKeys: readonly CustomerKey[]): Promise<CustomerWindow[]>;
  /** Export: a page of the customer's inbound-message index entries, by wamid, after `afterWaMessageId`. */
  listInboundOf(
    tenantId: string,
    customer: string,
    customerKeys: readonly CustomerKey[],
    page: { readonly afterWaMessageId?: string; readonly limit: number },
  ): Promise<InboundMessageRef[]>;
  /** Makes deletions reach the files (SQLite: WAL checkpoint with TRUNCATE). */
  flushDeleted(): Promise<void>;
  close(): Promise<void>;
}
