/** Source of the current time, injected so that long durations are testable. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * A clock that runs `scale` times faster than real time from `startMs` (default: now). For tests and local runs
 * that must see days pass in seconds, matched by the WhatsApp simulator's own time scale.
 */
export function scaledClock(scale: number, startMs: number = Date.now()): Clock & { readonly scale: number } {
  const realStart = Date.now();
  return { scale, now: () => new Date(startMs + (Date.now() - realStart) * scale) };
}
