import type { Verification } from './verification';

/** The limits a new verification must fit, as of its creation time. */
export interface ReserveRules {
  /** A PENDING verification to the same number created at or after this is returned instead (nothing is sent). */
  readonly resendWindowStart: Date;
  /** The hourly window: verifications created at or after this count against the limits. */
  readonly limitWindowStart: Date;
  readonly sendsPerNumber: number;
  readonly sendsPerTenant: number;
}

/** What `reserve` did. */
export type ReserveOutcome =
  | { readonly kind: 'reserved' }
  /** A recent PENDING verification to the same number: the caller returns it and sends nothing. */
  | { readonly kind: 'pending'; readonly verification: Verification }
  /** Over a limit; `oldestInWindow` is when the oldest counted send happened (the window frees up an hour later). */
  | { readonly kind: 'limited'; readonly scope: 'number' | 'tenant'; readonly oldestInWindow: Date };

/**
 * Verifications (ingress's store; both adapters pass verification-store.contract.test.ts). Every query takes the
 * tenant id. Codes are never stored, only their keyed hashes.
 */
export interface VerificationStore {
  /**
   * Inserts `candidate` unless a recent PENDING verification to the same number exists or a limit is reached, as one
   * step (SQLite: one transaction; MongoDB: checked, then inserted: concurrent starts across replicas may exceed a
   * limit by the number of calls racing, and are never answered with each other's verification).
   */
  reserve(candidate: Verification, rules: ReserveRules): Promise<ReserveOutcome>;
  get(tenantId: string, verificationId: string): Promise<Verification | undefined>;
  /** The newest verification sent to `to`. */
  latestFor(tenantId: string, to: string): Promise<Verification | undefined>;
  /** Replaces the verification if it is still at `next.version - 1`; false if it changed meanwhile. */
  update(next: Verification): Promise<boolean>;
  /** Removes a reservation whose message was refused (so it neither answers later starts nor counts). */
  remove(tenantId: string, verificationId: string): Promise<void>;
  /** Deletes verifications created before `before` (retention); returns how many. */
  purgeCreatedBefore(before: Date): Promise<number>;
  /** Erasure: deletes every verification of the tenant sent to `to`; returns how many. Idempotent. */
  eraseCustomer(tenantId: string, to: string): Promise<number>;
  /** Export: a page of the verifications sent to `to`, by id, after `afterVerificationId`. */
  listFor(tenantId: string, to: string, page: { readonly afterVerificationId?: string; readonly limit: number }): Promise<Verification[]>;
  /** Makes deletions reach the files (SQLite: WAL checkpoint with TRUNCATE). */
  flushDeleted(): Promise<void>;
  close(): Promise<void>;
}
