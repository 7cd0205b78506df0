import type { InboundContent } from './webhook-payload';

/** Inbound media as receipt stored it in media-store. */
export interface StoredInboundMedia {
  /** media-store's id (`med_…`). */
  readonly mediaId: string;
  readonly mimeType: string;
  /** Hex SHA-256 of the bytes. */
  readonly sha256: string;
  readonly sizeBytes: number;
}

/** A message a customer sent to one of a tenant's numbers, as receipt recorded it. */
export interface InboundMessageRecord {
  readonly tenantId: string;
  /** The business number it was sent to. */
  readonly phoneNumberId: string;
  /** The customer: E.164 (`+4915112345678`), or Meta's business-scoped user id when Meta withholds the number. */
  readonly customer: string;
  /** Its `wamid`; unique per tenant. */
  readonly waMessageId: string;
  /** Meta's timestamp. */
  readonly occurredAt: Date;
  /** Meta's `type`, as sent. */
  readonly type: string;
  /** The parsed content, without Meta's short-lived media download URL. */
  readonly content: InboundContent;
  /** The message it replies or reacts to. */
  readonly contextWaMessageId?: string;
  readonly profileName?: string;
  /** For media messages whose media was stored. */
  readonly media?: StoredInboundMedia;
  /** For media messages whose media could not be fetched or stored for good: why (no content, just a reason). */
  readonly mediaUnavailable?: string;
  /** When receipt recorded it. */
  readonly receivedAt: Date;
}

/** One customer-service window: a tenant's business number and one customer. */
export interface ServiceWindowKey {
  readonly tenantId: string;
  readonly phoneNumberId: string;
  readonly customer: string;
}

/** What is stored about a window: the latest inbound message's Meta timestamp (the window closes 24 h after it). */
export interface ServiceWindowState {
  readonly lastInboundAt: Date;
}

/** receipt's inbound-message storage port. Every method is scoped by tenant. */
export interface InboundStore {
  /**
   * Records an inbound message once per tenant and wamid. Recording a wamid again changes nothing and returns the
   * record stored first, so a redelivered webhook has one effect.
   */
  recordInboundMessage(record: InboundMessageRecord): Promise<InboundMessageRecord>;
  findInboundMessage(tenantId: string, waMessageId: string): Promise<InboundMessageRecord | undefined>;
  /**
   * Opens or extends a window with a message's timestamp, keeping the later of the stored and the given time (an
   * out-of-order older message never shortens it). Returns the window after the update. Idempotent.
   */
  extendServiceWindow(key: ServiceWindowKey, inboundAt: Date): Promise<ServiceWindowState>;
  findServiceWindow(key: ServiceWindowKey): Promise<ServiceWindowState | undefined>;
  /**
   * One page of the customer's inbound messages (every business number), oldest first (occurredAt, then wamid), after
   * `after`: what an export of the customer's data (GDPR article 15) reads.
   */
  customerMessages(
    tenantId: string,
    customer: string,
    page: { readonly after?: { readonly occurredAt: Date; readonly waMessageId: string }; readonly limit: number },
  ): Promise<InboundMessageRecord[]>;
  /**
   * Erasure of one customer (issue 14): their inbound messages lose their content, profile name and media reference
   * ({@link ERASED_CONTENT}) and keep, under `customerRef`, what audit needs (wamid, business number, type, times); their
   * service windows (operational state) are deleted. A redelivered webhook then finds the pseudonymised record and
   * never records the content again. Idempotent.
   */
  eraseCustomer(tenantId: string, customer: string, customerRef: string): Promise<{ messages: number; windows: number }>;
  close(): Promise<void>;
}

/** What an erased inbound message's content reads as. */
export const ERASED_CONTENT: InboundContent = { kind: 'unknown', rawType: 'erased', raw: {} };
