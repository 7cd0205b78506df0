/**
 * Issue 14's erasure and data-export contract between the archive (which coordinates GovernanceService.EraseCustomer
 * and ExportCustomerData) and every service that holds a customer's data. Each service implements one
 * {@link CustomerDataParticipant} over its own stores; the NATS wiring (ErasureRequested in, ErasurePartCompleted
 * out, export requests) is shared and lives at the edges.
 */

/** Who is being erased or exported: one customer of one tenant. */
export interface CustomerDataSubject {
  readonly tenantId: string;
  /** The customer's number, E.164 with `+` (how every store of the region names a customer). */
  readonly customer: string;
  /** The keyring's customer reference (Keyring.customerRef): the pseudonym rows keep after erasure. */
  readonly customerRef: string;
}

/** One item of a customer's data export: a JSON-serialisable record in a named section (a bundle file). */
export interface CustomerDataRecord {
  /** The bundle file it goes to, relative to the service's folder: `messages.jsonl`, `inbound.jsonl` ... */
  readonly section: string;
  readonly record: Record<string, unknown>;
}

/** A service's part in erasure and export (GDPR articles 17 and 15). */
export interface CustomerDataParticipant {
  /** `ingress`, `delivery-retry`, `receipt`, `media-store` or `archive`. */
  readonly service: string;
  /**
   * Erases the customer's content from this service's stores (message bodies, template parameters, inbound texts,
   * media, search rows), pseudonymises what must stay (metadata for billing or audit: the number becomes
   * `customerRef`), and makes the deletion reach the files (SQLite secure_delete, then a WAL checkpoint). Idempotent:
   * a second call erases nothing more and succeeds. Returns counts by kind.
   */
  erase(subject: CustomerDataSubject, erasureId: string): Promise<Record<string, number>>;
  /** Everything this service holds about the customer, in bounded pages (never all in memory). */
  exportCustomer(subject: CustomerDataSubject): AsyncIterable<CustomerDataRecord>;
}
