/** How callbacks are retried and when an endpoint's circuit breaker opens (see README "Events for tenants"). */
export interface CallbackPolicy {
  /** First retry delay; each further failure doubles it ... */
  readonly backoffBaseMs: number;
  /** ... up to this. */
  readonly backoffCapMs: number;
  /** A delivery is retried for this long after it was queued, then parked as a dead letter. */
  readonly retryForMs: number;
  /** Consecutive failures of an endpoint that open its breaker. */
  readonly breakerFailures: number;
  /** How long an open breaker stays shut before one probe is let through. */
  readonly breakerCooldownMs: number;
}

/**
 * The delay before retry number `attempts` (1 after the first failure): exponential, capped, with jitter in its
 * upper half so that deliveries failing together do not come back together. `random` is in [0, 1).
 */
export function retryDelayMs(policy: CallbackPolicy, attempts: number, random: number): number {
  const exponential = policy.backoffBaseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40);
  const capped = Math.min(policy.backoffCapMs, exponential);
  return Math.round(capped / 2 + (random * capped) / 2);
}

/**
 * After a failed attempt at `now`: retry (never later than the end of the retry period, so the last attempt falls
 * on it) or, once the period is over, give up.
 */
export function afterFailure(
  policy: CallbackPolicy,
  delivery: { readonly queuedAt: Date; readonly attempts: number },
  now: Date,
  random: number,
): { kind: 'retry'; nextAttemptAt: Date } | { kind: 'dead' } {
  const giveUpAt = delivery.queuedAt.getTime() + policy.retryForMs;
  if (now.getTime() >= giveUpAt) return { kind: 'dead' };
  const next = now.getTime() + retryDelayMs(policy, delivery.attempts + 1, random);
  return { kind: 'retry', nextAttemptAt: new Date(Math.min(next, giveUpAt)) };
}

/** What an endpoint's breaker allows right now. */
export type BreakerVerdict = { kind: 'closed' } | { kind: 'open'; until: Date } | { kind: 'probe' };

export function breakerVerdict(state: { readonly openUntil?: Date }, now: Date): BreakerVerdict {
  if (!state.openUntil) return { kind: 'closed' };
  return now < state.openUntil ? { kind: 'open', until: state.openUntil } : { kind: 'probe' };
}
