import { META_ERROR_CODES, classifyMetaError, type OutcomeClass } from '@waygate/domain';
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
