import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

/** Where a verification stands (waygate.verify.v1.VerificationStatus). */
export type VerificationStatus = 'PENDING' | 'APPROVED' | 'FAILED' | 'EXPIRED' | 'CANCELED' | 'UNDELIVERABLE';

/** Checks a verification allows; the fifth wrong code makes it FAILED. */
export const MAX_CHECKS = 5;
/** A StartVerification for the same number within this long returns the pending verification and sends nothing. */
export const RESEND_WINDOW_MS = 30_000;
/** The window of the hourly send limits. */
export const SEND_LIMIT_WINDOW_MS = 3_600_000;
/** Default hourly limits when the tenants file sets none (`verification.sendsPerNumberPerHour` / `...PerTenantPerHour`). */
export const DEFAULT_SENDS_PER_NUMBER_PER_HOUR = 5;
export const DEFAULT_SENDS_PER_TENANT_PER_HOUR = 1_000;
/** Code length bounds and default. */
export const MIN_CODE_LENGTH = 4;
export const MAX_CODE_LENGTH = 10;
export const DEFAULT_CODE_LENGTH = 6;
/** The send TTL of an authentication template that sets none (Meta's default: 10 minutes). */
export const DEFAULT_AUTHENTICATION_TTL_SECONDS = 600;
/** Every message a verification sends has this idempotency-key prefix (`verify:<verification id>`). */
export const VERIFICATION_IDEMPOTENCY_PREFIX = 'verify:';

/** One verification: a code sent to a number, stored only as its keyed hash. */
export interface Verification {
  readonly tenantId: string;
  readonly verificationId: string;
  /** E.164. */
  readonly to: string;
  readonly phoneNumberId: string;
  readonly templateName: string;
  readonly templateLanguage: string;
  /** HMAC-SHA256 (hex) of the code under the region's verification secret; never the code. */
  readonly codeHash: string;
  readonly status: VerificationStatus;
  /** Checks made so far (right or wrong). */
  readonly checks: number;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly approvedAt?: Date;
  /** UNDELIVERABLE: Meta's error. */
  readonly errorCode?: number;
  readonly errorTitle?: string;
  /** Optimistic-concurrency version, bumped by every update. */
  readonly version: number;
}

/** A code of `length` decimal digits from the CSPRNG (leading zeros kept). */
export function generateCode(length: number): string {
  let code = '';
  for (let i = 0; i < length; i++) code += String(randomInt(0, 10));
  return code;
}

/**
 * The keyed hash a code is stored as: HMAC-SHA256 under the region's secret, bound to the tenant and verification,
 * so a hash copied to another verification never matches and the store alone cannot be brute-forced.
 */
export function hashCode(secret: Buffer, verification: Pick<Verification, 'tenantId' | 'verificationId'>, code: string): string {
  return createHmac('sha256', secret)
    .update(JSON.stringify(['waygate.verify.code.v1', verification.tenantId, verification.verificationId, code]))
    .digest('hex');
}

/** Whether `code` is the verification's code, compared in constant time. */
export function codeMatches(secret: Buffer, verification: Verification, code: string): boolean {
  const expected = Buffer.from(verification.codeHash, 'hex');
  const actual = Buffer.from(hashCode(secret, verification, code), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The verification as of `now`: a PENDING one past its expiry is EXPIRED. Pure. */
export function effectiveStatus(verification: Verification, now: Date): VerificationStatus {
  return verification.status === 'PENDING' && now.getTime() >= verification.expiresAt.getTime() ? 'EXPIRED' : verification.status;
}

/** Checks left before a PENDING verification fails; 0 once it is final. */
export function attemptsLeft(verification: Verification): number {
  return verification.status === 'PENDING' ? Math.max(0, MAX_CHECKS - verification.checks) : 0;
}

/** What one check does to a verification: the pure decision, applied by the service with its store. */
export type CheckDecision =
  /** Nothing to write: a final status (APPROVED again, FAILED, ...) answered as it is. */
  { readonly kind: 'unchanged'; readonly verification: Verification } | { readonly kind: 'update'; readonly next: Verification };

/**
 * Decides a check: a final verification answers as it is (APPROVED stays APPROVED, recorded once); a PENDING one past
 * its expiry becomes EXPIRED without comparing; otherwise the check counts, the right code approves, and the fifth
 * wrong one fails it.
 */
export function decideCheck(verification: Verification, matches: () => boolean, now: Date): CheckDecision {
  if (verification.status !== 'PENDING') return { kind: 'unchanged', verification };
  const base = { ...verification, version: verification.version + 1 };
  if (effectiveStatus(verification, now) === 'EXPIRED') return { kind: 'update', next: { ...base, status: 'EXPIRED' } };
  const checks = verification.checks + 1;
  if (matches()) return { kind: 'update', next: { ...base, checks, status: 'APPROVED', approvedAt: now } };
  return { kind: 'update', next: { ...base, checks, status: checks >= MAX_CHECKS ? 'FAILED' : 'PENDING' } };
}
