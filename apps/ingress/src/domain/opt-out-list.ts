/** How a customer came to opt out of marketing messages. */
export type OptOutSource = 'api' | 'meta-131050' | 'stop-keyword' | 'quick-reply' | 'user-preferences';

/** One opted-out customer of a tenant. */
export interface OptOut {
  readonly tenantId: string;
  /** E.164. */
  readonly customer: string;
  readonly source: OptOutSource;
  readonly createdAt: Date;
}

/** Where a page of the list continues (the last entry of the page before), newest first. */
export interface OptOutCursor {
  readonly createdAt: Date;
  readonly customer: string;
}

export interface OptOutPage {
  readonly optOuts: readonly OptOut[];
  /** Undefined on the last page. */
  readonly next?: OptOutCursor;
}

/**
 * A tenant's marketing opt-out list, owned by ingress (which enforces it). Every method is scoped by tenant; a
 * customer appears at most once per tenant.
 */
export interface OptOutList {
  /** Adds the opt-out unless the customer opted out already; answers the stored one (the earlier one if there was one). */
  add(optOut: OptOut): Promise<{ readonly added: boolean; readonly optOut: OptOut }>;
  /** False if the customer had not opted out. */
  remove(tenantId: string, customer: string): Promise<boolean>;
  /** The opt-out of any of `customers` (the same person's numbers, e.g. with and without Brazil's ninth digit). */
  findAny(tenantId: string, customers: readonly string[]): Promise<OptOut | undefined>;
  /** Newest first, `limit` at a time, after `cursor`. */
  list(tenantId: string, options: { readonly limit: number; readonly after?: OptOutCursor }): Promise<OptOutPage>;
  close(): Promise<void>;
}
