import type { LimiterState } from './limiter-state';

/** Pacing settings (configuration, with Meta's defaults). */
export interface GovernorSettings {
  /** Share of a number's throughput actually used, so clock jitter between replicas never tips it over. */
  readonly throughputSafetyFactor: number;
  /** How far ahead a replica may reserve a send slot and wait for it, rather than rescheduling. */
  readonly reservationHorizonMs: number;
  /** Meta's pair rate: one message per `pairIntervalMs` to one customer, with a burst of `pairBurst`. */
  readonly pairIntervalMs: number;
  readonly pairBurst: number;
  /** After a 130429: the number runs at half its rate (again halved on each repeat, down to a tenth) for this long. */
  readonly throttleSlowdownMs: number;
  /** Circuit breaker: consecutive upstream failures that open a number's circuit, and its first cooldown. */
  readonly breakerFailureThreshold: number;
  readonly breakerCooldownMs: number;
  readonly breakerMaxCooldownMs: number;
  /** How long one probe call may take before another replica may probe. */
  readonly probeTimeoutMs: number;
}

export const DEFAULT_GOVERNOR_SETTINGS: GovernorSettings = {
  // Meta counts over a sliding second; timer and network jitter bunch evenly spaced sends a little.
  throughputSafetyFactor: 0.9,
  reservationHorizonMs: 250,
  pairIntervalMs: 6000,
  pairBurst: 45,
  throttleSlowdownMs: 60_000,
  breakerFailureThreshold: 5,
  breakerCooldownMs: 5000,
  breakerMaxCooldownMs: 5 * 60_000,
  probeTimeoutMs: 30_000,
};

const MIN_SLOW_FACTOR = 0.1;
const PROBE_RECHECK_MS = 1000;
/** After a 130429 nothing more goes out from the number for this long. */
const THROTTLE_PAUSE_MS = 1000;
/** Meta's 131056 guidance: wait 4^X seconds, X the number of consecutive hits; capped at 4^6 s (about 68 min). */
const MAX_PAIR_BACKOFF_EXPONENT = 6;

/** A slot reservation: granted at `atMs` (now or within the horizon), or refused until `retryAtMs`. */
export type Reservation = { readonly granted: true; readonly atMs: number } | { readonly granted: false; readonly retryAtMs: number };

const EMPTY: LimiterState = { tatMs: 0 };

/**
 * GCRA (the generic cell rate algorithm): one timestamp per key gives an exact rate with a burst allowance and is
 * updated in one atomic write, which is what lets replicas share a limit through the store.
 */
export function reserveSlot(
  state: LimiterState | undefined,
  nowMs: number,
  rule: { intervalMs: number; burst: number; horizonMs: number },
): { next: LimiterState; result: Reservation } {
  const current = state ?? EMPTY;
  const tat = Math.max(current.tatMs, nowMs);
  const allowAt = tat - (rule.burst - 1) * rule.intervalMs;
  if (allowAt > nowMs + rule.horizonMs) return { next: current, result: { granted: false, retryAtMs: allowAt - rule.horizonMs } };
  return { next: { ...current, tatMs: tat + rule.intervalMs }, result: { granted: true, atMs: Math.ceil(Math.max(nowMs, allowAt)) } };
}

/** Gives back a slot that was reserved but not used (best effort: only if nothing was reserved after it). */
export function refundSlot(state: LimiterState | undefined, intervalMs: number): LimiterState {
  const current = state ?? EMPTY;
  return { ...current, tatMs: current.tatMs - intervalMs };
}

/** The spacing of a number's sends now: its limit, the safety factor, and any slowdown after a 130429. */
export function numberIntervalMs(
  state: LimiterState | undefined,
  nowMs: number,
  throughputMps: number,
  settings: GovernorSettings,
): number {
  const slowed = state?.slowUntilMs !== undefined && state.slowUntilMs > nowMs ? (state.slowFactor ?? 1) : 1;
  return 1000 / (throughputMps * settings.throughputSafetyFactor * slowed);
}

/**
 * Meta said 130429: halve the number's rate for a while and pause it for a second. Sends reserved before the last
 * halving (up to the reservation horizon ago) may still bounce; those extend the slowdown but do not halve again,
 * or one burst of in-flight answers would slow the number to a crawl.
 */
export function onThroughputExceeded(state: LimiterState | undefined, nowMs: number, settings: GovernorSettings): LimiterState {
  const current = state ?? EMPTY;
  const active = current.slowUntilMs !== undefined && current.slowUntilMs > nowMs;
  const factor = active ? (current.slowFactor ?? 1) : 1;
  const recentlyHalved =
    active && current.slowedAtMs !== undefined && nowMs - current.slowedAtMs < settings.reservationHorizonMs + THROTTLE_PAUSE_MS;
  return {
    ...current,
    slowFactor: recentlyHalved ? factor : Math.max(MIN_SLOW_FACTOR, factor / 2),
    slowedAtMs: recentlyHalved ? current.slowedAtMs : nowMs,
    slowUntilMs: nowMs + settings.throttleSlowdownMs,
    tatMs: Math.max(current.tatMs, nowMs + THROTTLE_PAUSE_MS),
  };
}

/** Meta said 131056 for this pair: back off 4^X seconds (X counts consecutive hits); returns when it may try again. */
export function onPairRateExceeded(
  state: LimiterState | undefined,
  nowMs: number,
  settings: GovernorSettings,
): { next: LimiterState; retryAtMs: number } {
  const current = state ?? EMPTY;
  const exponent = Math.min((current.pairBackoffExponent ?? 0) + 1, MAX_PAIR_BACKOFF_EXPONENT);
  const retryAtMs = nowMs + 4 ** exponent * 1000;
  // With the burst used up at `retryAtMs`, the next message goes out then and later ones at the pair interval.
  const tatMs = Math.max(current.tatMs, retryAtMs + (settings.pairBurst - 1) * settings.pairIntervalMs);
  return { next: { ...current, tatMs, pairBackoffExponent: exponent }, retryAtMs };
}

export function onPairSent(state: LimiterState | undefined): LimiterState {
  const current = state ?? EMPTY;
  return current.pairBackoffExponent ? { ...current, pairBackoffExponent: 0 } : current;
}

/** The circuit as a replica sees it before calling Meta for the number. */
export type CircuitView =
  { readonly kind: 'closed' } | { readonly kind: 'open'; readonly untilMs: number } | { readonly kind: 'half-open' };

export function circuitView(state: LimiterState | undefined, nowMs: number): CircuitView {
  const openUntil = state?.openUntilMs ?? 0;
  if (openUntil === 0) return { kind: 'closed' };
  if (openUntil > nowMs) return { kind: 'open', untilMs: openUntil };
  return { kind: 'half-open' };
}

/** Claims the single probe of a half-open circuit; refused (with when to look again) if another is in flight. */
export function claimProbe(
  state: LimiterState | undefined,
  nowMs: number,
  settings: GovernorSettings,
): { next: LimiterState; result: { granted: boolean; retryAtMs: number } } {
  const current = state ?? EMPTY;
  const view = circuitView(current, nowMs);
  if (view.kind === 'closed') return { next: current, result: { granted: true, retryAtMs: nowMs } };
  if (view.kind === 'open') return { next: current, result: { granted: false, retryAtMs: view.untilMs } };
  // Another replica is probing: look again shortly (the probe usually answers well before its timeout).
  if ((current.probeUntilMs ?? 0) > nowMs)
    return { next: current, result: { granted: false, retryAtMs: nowMs + Math.min(settings.probeTimeoutMs, PROBE_RECHECK_MS) } };
  return { next: { ...current, probeUntilMs: nowMs + settings.probeTimeoutMs }, result: { granted: true, retryAtMs: nowMs } };
}

/** An upstream failure (5xx, no answer, Meta's 1/2/131016): count it; open (or re-open, longer) the circuit. */
export function onUpstreamFailure(state: LimiterState | undefined, nowMs: number, settings: GovernorSettings): LimiterState {
  const current = state ?? EMPTY;
  const failures = (current.failures ?? 0) + 1;
  const view = circuitView(current, nowMs);
  if (view.kind === 'half-open') {
    // The probe failed: stay open, twice as long.
    const cooldownMs = Math.min(settings.breakerMaxCooldownMs, Math.max(settings.breakerCooldownMs, (current.cooldownMs ?? 0) * 2));
    return { ...current, failures, cooldownMs, openUntilMs: nowMs + cooldownMs, probeUntilMs: 0 };
  }
  if (view.kind === 'closed' && failures >= settings.breakerFailureThreshold) {
    return {
      ...current,
      failures,
      cooldownMs: settings.breakerCooldownMs,
      openUntilMs: nowMs + settings.breakerCooldownMs,
      probeUntilMs: 0,
    };
  }
  return { ...current, failures };
}

/** The number's token or registration is broken: open its circuit for the longest cooldown until an operator acts. */
export function onNeedsConfiguration(state: LimiterState | undefined, nowMs: number, settings: GovernorSettings): LimiterState {
  const current = state ?? EMPTY;
  return {
    ...current,
    failures: (current.failures ?? 0) + 1,
    cooldownMs: settings.breakerMaxCooldownMs,
    openUntilMs: nowMs + settings.breakerMaxCooldownMs,
    probeUntilMs: 0,
  };
}

/** Meta answered (anything but an upstream failure): the number is reachable, close its circuit. */
export function onUpstreamAnswered(state: LimiterState | undefined): LimiterState {
  const current = state ?? EMPTY;
  if (!current.failures && !current.openUntilMs) return current;
  return { ...current, failures: 0, openUntilMs: 0, cooldownMs: 0, probeUntilMs: 0 };
}
