/**
 * Shared pacing state of one business number (`number:<id>`) or one number-recipient pair (`pair:<id>:<to>`),
 * kept in the delivery store so that every delivery-retry replica paces against the same state. All times are
 * epoch milliseconds. Every field but `tatMs` is optional so that a fresh key needs no initialisation.
 */
export interface LimiterState {
  /** GCRA theoretical arrival time: the earliest time the next message may go out with no burst left. */
  readonly tatMs: number;
  /** number: the rate factor (0 < f <= 1) Meta's 130429 imposed, until `slowUntilMs`. */
  readonly slowFactor?: number;
  readonly slowUntilMs?: number;
  /** number: when the rate was last halved (answers to sends reserved before that do not halve it again). */
  readonly slowedAtMs?: number;
  /** number: consecutive upstream failures (circuit breaker). */
  readonly failures?: number;
  /** number: the circuit is open (no calls) until then; once passed, one probe call decides. */
  readonly openUntilMs?: number;
  /** number: the cooldown the circuit last opened for, doubled when a probe fails. */
  readonly cooldownMs?: number;
  /** number: a probe call is in flight until then (another replica must not probe meanwhile). */
  readonly probeUntilMs?: number;
  /** pair: X of Meta's 4^X-seconds backoff after consecutive 131056 answers. */
  readonly pairBackoffExponent?: number;
}

/** One atomic read-modify-write of a limiter: `next` is stored, `result` returned to the caller. */
export type LimiterChange<R> = (current: LimiterState | undefined) => { readonly next: LimiterState; readonly result: R };

export const numberLimiterKey = (phoneNumberId: string): string => `number:${phoneNumberId}`;
export const pairLimiterKey = (phoneNumberId: string, to: string): string => `pair:${phoneNumberId}:${to}`;
