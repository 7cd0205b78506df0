/**
 * Why an attempt will be retried; each reason has its own pacing:
 * - `throughput`: the number's messages-per-second limit (130429): that number slows down.
 * - `pair-rate`: too many messages to one customer (131056): that recipient backs off 4^X seconds.
 * - `upstream`: Meta (or the way to it) is failing: counts towards the number's circuit breaker.
 * - `ecosystem`: Meta held a marketing message back (131049): not before 24 hours.
 * - `transient`: anything else worth another try, with exponential backoff.
 */
export type RetryReason = 'throughput' | 'pair-rate' | 'upstream' | 'ecosystem' | 'transient';

/** What to do after one Cloud API outcome (sync answer or a `failed` webhook). */
export type OutcomeClass =
  | { readonly kind: 'sent' }
  | { readonly kind: 'permanent' }
  /** An operator must fix the number or token; the number's circuit opens for the longest interval meanwhile. */
  | { readonly kind: 'needs-configuration' }
  | { readonly kind: 'retry'; readonly reason: RetryReason };

const HOUR_MS = 60 * 60 * 1000;

/** The least a `retry` waits for its reason, whatever the backoff says. */
export const MIN_RETRY_DELAY_MS: Readonly<Partial<Record<RetryReason, number>>> = { ecosystem: 24 * HOUR_MS };

/**
 * Meta error codes and what they mean for delivery. Sources: Meta's Cloud API error-code reference and its
 * throughput / pair-rate guidance. Documented, with the HTTP-level rules below, in docs/delivery-outcomes.md;
 * change both together. Codes not listed are retried as `transient` until the message's validity runs out.
 */
export const META_ERROR_CODES: ReadonlyMap<number, { readonly outcome: OutcomeClass; readonly meaning: string }> = new Map([
  // Permanent: the request or the recipient is the problem; retrying cannot help.
  [100, { outcome: { kind: 'permanent' }, meaning: 'invalid parameter' }],
  [131008, { outcome: { kind: 'permanent' }, meaning: 'required parameter missing' }],
  [131009, { outcome: { kind: 'permanent' }, meaning: 'parameter value not valid' }],
  [131021, { outcome: { kind: 'permanent' }, meaning: 'recipient cannot be the sender' }],
  [131026, { outcome: { kind: 'permanent' }, meaning: 'message undeliverable (not on WhatsApp, old app, blocked)' }],
  [131047, { outcome: { kind: 'permanent' }, meaning: 're-engagement: more than 24 hours since the customer wrote' }],
  [131050, { outcome: { kind: 'permanent' }, meaning: 'customer stopped marketing messages' }],
  [131051, { outcome: { kind: 'permanent' }, meaning: 'unsupported message type' }],
  [131052, { outcome: { kind: 'permanent' }, meaning: 'media download error' }],
  [131053, { outcome: { kind: 'permanent' }, meaning: 'media upload error' }],
  [130403, { outcome: { kind: 'permanent' }, meaning: 'recipient cannot be messaged' }],
  [130472, { outcome: { kind: 'permanent' }, meaning: "customer's number is part of an experiment" }],
  [130497, { outcome: { kind: 'permanent' }, meaning: 'business cannot message customers in this country' }],
  [132000, { outcome: { kind: 'permanent' }, meaning: 'template parameter count mismatch' }],
  [132001, { outcome: { kind: 'permanent' }, meaning: 'template does not exist' }],
  [132005, { outcome: { kind: 'permanent' }, meaning: 'template hydrated text too long' }],
  [132007, { outcome: { kind: 'permanent' }, meaning: 'template format character policy violated' }],
  [132012, { outcome: { kind: 'permanent' }, meaning: 'template parameter format mismatch' }],
  [132015, { outcome: { kind: 'permanent' }, meaning: 'template paused' }],
  [132016, { outcome: { kind: 'permanent' }, meaning: 'template disabled' }],
  // Needs configuration: the business number, token or account must be fixed by an operator.
  [0, { outcome: { kind: 'needs-configuration' }, meaning: 'AuthException' }],
  [3, { outcome: { kind: 'needs-configuration' }, meaning: 'capability or permission missing' }],
  [10, { outcome: { kind: 'needs-configuration' }, meaning: 'permission denied' }],
  [190, { outcome: { kind: 'needs-configuration' }, meaning: 'access token expired or invalid' }],
  [200, { outcome: { kind: 'needs-configuration' }, meaning: 'permission missing' }],
  [368, { outcome: { kind: 'needs-configuration' }, meaning: 'temporarily blocked for policy violations' }],
  [131031, { outcome: { kind: 'needs-configuration' }, meaning: 'business account locked' }],
  [131042, { outcome: { kind: 'needs-configuration' }, meaning: 'payment problem on the business account' }],
  [133010, { outcome: { kind: 'needs-configuration' }, meaning: 'phone number not registered' }],
  // Retry, each with its pacing.
  [130429, { outcome: { kind: 'retry', reason: 'throughput' }, meaning: 'throughput limit of the business number' }],
  [4, { outcome: { kind: 'retry', reason: 'throughput' }, meaning: 'too many calls by the app' }],
  [80007, { outcome: { kind: 'retry', reason: 'throughput' }, meaning: 'WABA rate limit' }],
  [131048, { outcome: { kind: 'retry', reason: 'throughput' }, meaning: 'spam rate limit of the number' }],
  [131056, { outcome: { kind: 'retry', reason: 'pair-rate' }, meaning: 'too many messages to this customer too fast' }],
  [131049, { outcome: { kind: 'retry', reason: 'ecosystem' }, meaning: 'held back to keep engagement healthy (retry after 24 h)' }],
  [1, { outcome: { kind: 'retry', reason: 'upstream' }, meaning: 'API unknown error' }],
  [2, { outcome: { kind: 'retry', reason: 'upstream' }, meaning: 'API service temporarily unavailable' }],
  [131016, { outcome: { kind: 'retry', reason: 'upstream' }, meaning: 'service unavailable' }],
  [131000, { outcome: { kind: 'retry', reason: 'transient' }, meaning: 'something went wrong' }],
]);

const UNKNOWN: OutcomeClass = { kind: 'retry', reason: 'transient' };

/** Classifies a Meta error code (from a sync answer or a `failed` webhook). */
export function classifyMetaError(code: number): OutcomeClass {
  return META_ERROR_CODES.get(code)?.outcome ?? UNKNOWN;
}

/**
 * Whether a `failed` status webhook with this code is not the end of the message: delivery-retry sends the message
 * again later (e.g. 131049 after 24 hours), so status views record the failure without making it terminal.
 */
export function isFailureRetriedByDelivery(errorCode: number | undefined): boolean {
  return errorCode !== undefined && classifyMetaError(errorCode).kind === 'retry';
}
