/**
 * Legal holds (issue 14): a hold suspends retention and erasure for its scope, one customer of a tenant or the whole
 * tenant, until it is released. Holds are kept forever (released ones too): they are the record of what was held.
 */

/** One legal hold. */
export interface LegalHold {
  /** `lh_` + 26 characters (12 hex of the placing time in ms, 14 random hex): ids sort by placing time. */
  readonly holdId: string;
  readonly tenantId: string;
  /** The matter (case) it serves, 1-200 characters. */
  readonly matter: string;
  /** The customer it covers (E.164 with `+`), or `''` for the whole tenant. */
  readonly customer: string;
  readonly placedAt: Date;
  /** The API key id that placed it. */
  readonly placedBy: string;
  /** Unset while active. */
  readonly releasedAt?: Date;
  readonly releasedBy?: string;
}

/** Where a listing continues: after this hold, in the order active first, then newest first. */
export interface LegalHoldCursor {
  readonly released: boolean;
  readonly holdId: string;
}

/** A listing's filter and page. */
export interface LegalHoldQuery {
  /** Only holds covering this customer: its own and the tenant-wide ones. */
  readonly customer?: string;
  readonly includeReleased: boolean;
  readonly after?: LegalHoldCursor;
  readonly limit: number;
}

/** The storage port of legal holds (SQLite and MongoDB adapters, one contract suite). */
export interface LegalHoldStore {
  /**
   * Stores `hold`, unless an active hold of the same tenant, matter and customer exists: then that one is returned
   * (`created: false`) and nothing is written. Safe under concurrent calls (a unique index on active holds).
   */
  place(hold: LegalHold): Promise<{ readonly hold: LegalHold; readonly created: boolean }>;
  /**
   * Marks the hold released (first release wins: releasing again changes nothing) and returns it; undefined when the
   * tenant has no such hold.
   */
  release(tenantId: string, holdId: string, releasedAt: Date, releasedBy: string): Promise<LegalHold | undefined>;
  get(tenantId: string, holdId: string): Promise<LegalHold | undefined>;
  /** One page of the tenant's holds, active ones first, newest first within each. */
  list(tenantId: string, query: LegalHoldQuery): Promise<LegalHold[]>;
  /** The tenant's active holds covering `customer`: its own and the tenant-wide ones ('' → tenant-wide ones only). */
  activeCovering(tenantId: string, customer: string): Promise<LegalHold[]>;
  /** Every active hold of every tenant (few: the sweeper and the hold mirror read them at each pass). */
  allActive(): Promise<LegalHold[]>;
  /**
   * Erasure: the tenant's RELEASED holds placed on `customer` name `customerRef` instead (the hold's record stays: which
   * matter held whom when is audit data, the number is not). Active holds are left alone (erasure refuses while one
   * covers the customer). The deletion reaches the files (SQLite: secure_delete, then the WAL truncated). Returns
   * how many holds changed; a second call changes none.
   */
  pseudonymiseCustomer(tenantId: string, customer: string, customerRef: string): Promise<number>;
  close(): Promise<void>;
}
