import { META_ERROR_CODES, MIN_RETRY_DELAY_MS, classifyMetaError, type OutcomeClass, type RetryReason } from '@waygate/domain';
import type { CloudApiSendOutcome } from './whatsapp-client';

/** Classifies one Cloud API call's outcome: HTTP-level rules first, then the error code. */
export function classifyOutcome(outcome: CloudApiSendOutcome): OutcomeClass {
  if (outcome.kind === 'accepted') return { kind: 'sent' };
  if (outcome.kind === 'no-answer') return { kind: 'retry', reason: 'upstream' };
  // A specific Meta code says more than the HTTP status; without one, the status decides.
  if (outcome.code !== 0 && META_ERROR_CODES.has(outcome.code)) return classifyMetaError(outcome.code);
  if (outcome.httpStatus === 429) return { kind: 'retry', reason: 'throughput' };
  if (outcome.httpStatus >= 500 || outcome.httpStatus === 0) return { kind: 'retry', reason: 'upstream' };
  if (outcome.httpStatus === 401 || outcome.httpStatus === 403) return { kind: 'needs-configuration' };
  if (outcome.code === 0) return { kind: 'retry', reason: 'transient' };
  return classifyMetaError(outcome.code);
}

/**
 * Delay before the next attempt after `attempts` attempts: exponential from `baseMs`, capped at `maxMs`, with full
 * jitter so that many messages failing together do not retry together. `random` is injectable for tests.
 */
export function retryDelayMs(attempts: number, options: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  return Math.max(options.baseMs, Math.round(ceiling * random()));
}

/**
 * When to try again after a retryable outcome: the backoff for `attempts`, at least the reason's minimum (131049: 24
 * hours) and at least `earliestMs`, but never past the message's deadline (it expires then instead).
 */
export function retryAt(options: {
  readonly nowMs: number;
  readonly expiresAt: Date;
  readonly attempts: number;
  readonly reason: RetryReason;
  readonly retry: { readonly baseMs: number; readonly maxMs: number };
  readonly random: () => number;
  readonly earliestMs?: number;
}): Date {
  const backoff = retryDelayMs(options.attempts, options.retry, options.random);
  const at = Math.max(options.nowMs + Math.max(backoff, MIN_RETRY_DELAY_MS[options.reason] ?? 0), options.earliestMs ?? 0);
  return new Date(Math.min(at, options.expiresAt.getTime()));
}
