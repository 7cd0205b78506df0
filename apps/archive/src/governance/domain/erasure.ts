/**
 * The erasure record (issue 14, GovernanceService.EraseCustomer): who asked, when, why, which customer (by salted
 * hash only), and how far every part has come. Kept for as long as the archive keeps anything: it is the proof that an
 * erasure was asked for and done, and it holds no content.
 */

/** The parts of an erasure: every service that holds customer data, and the keyring (the customer's key destroyed). */
export const ERASURE_PARTS = ['ingress', 'delivery-retry', 'receipt', 'media-store', 'archive', 'keyring'] as const;
export type ErasurePartName = (typeof ERASURE_PARTS)[number];

/** Whether `service` names a part of an erasure. */
export function isErasurePart(service: string): service is ErasurePartName {
  return (ERASURE_PARTS as readonly string[]).includes(service);
}

/** One part's progress. */
export interface ErasurePartRecord {
  readonly service: ErasurePartName;
  /** Unset while the part is under way. */
  readonly completedAt?: Date;
  /** What it erased or pseudonymised, by kind (counts only). */
  readonly counts: Readonly<Record<string, number>>;
}

export interface ErasureRecord {
  /** `er_` + 26 hex characters (12 of time, 14 random). */
  readonly erasureId: string;
  readonly tenantId: string;
  /**
   * The customer as HMAC-SHA256 (hex) under a secret derived from the tenant's keyring key: "was +49… erased?" is
   * answered by recomputing it, and the record never holds the number.
   */
  readonly customerHash: string;
  /** The keyring's customer reference (the pseudonym the services' rows keep); names the destroyed data key. */
  readonly customerRef: string;
  /** The number sealed under the erasure's ephemeral keyring key (unreadable once the erasure completes). */
  readonly customerSealed: string;
  /** The epoch of that ephemeral key (purpose `erasure`): one key per erasure. */
  readonly keyEpoch: number;
  /** The API key id that asked. */
  readonly requestedBy: string;
  readonly reason: string;
  readonly requestedAt: Date;
  /** When ErasureRequested was stored on the GOVERNANCE stream; unset until then (published again at start). */
  readonly publishedAt?: Date;
  /** Set once every part completed and the receipt is signed: the erasure is COMPLETE. */
  readonly completedAt?: Date;
  /** The signed erasure receipt (a C2SP signed note), once complete. */
  readonly receipt?: string;
  /** One entry per {@link ERASURE_PARTS}, in that order. */
  readonly parts: readonly ErasurePartRecord[];
}

/** Where erasure records live (SQLite `archive-erasures.sqlite` or the archive's MongoDB database). */
export interface ErasureStore {
  /**
   * Records a new erasure, unless the tenant already has one for this customer hash that has not completed: then
   * returns that one (`created: false`), unchanged. Concurrent calls for one customer make one record. A completed
   * erasure does not block a new one (a customer who came back, whose new data a new request erases).
   */
  create(record: ErasureRecord): Promise<{ record: ErasureRecord; created: boolean }>;
  byId(tenantId: string, erasureId: string): Promise<ErasureRecord | undefined>;
  /** The customer's newest erasure (running or complete), or undefined. */
  byCustomer(tenantId: string, customerHash: string): Promise<ErasureRecord | undefined>;
  /** Notes that ErasureRequested is stored (first time only). */
  markPublished(tenantId: string, erasureId: string, at: Date): Promise<void>;
  /**
   * Marks one part complete with its counts (first report wins: a redelivered report changes nothing). Returns the
   * record after the update, undefined for an unknown erasure.
   */
  completePart(
    tenantId: string,
    erasureId: string,
    service: ErasurePartName,
    completedAt: Date,
    counts: Readonly<Record<string, number>>,
  ): Promise<ErasureRecord | undefined>;
  /** Marks the erasure COMPLETE with its receipt (first time only); returns the record as stored. */
  complete(tenantId: string, erasureId: string, completedAt: Date, receipt: string): Promise<ErasureRecord | undefined>;
  /** Erasures not complete yet, oldest first, at most `limit` (re-driven at start). */
  inProgress(limit: number): Promise<ErasureRecord[]>;
  close(): Promise<void>;
}

/** A new erasure id: `er_` + 12 hex of the time in ms + 14 random hex. */
export function erasureIdOf(now: Date, random: string): string {
  return `er_${now.getTime().toString(16).padStart(12, '0')}${random.slice(0, 14)}`;
}

/** Whether `id` has the shape of an erasure id. */
export function isErasureId(id: string): boolean {
  return /^er_[0-9a-f]{26}$/.test(id);
}
