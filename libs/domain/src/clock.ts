/** Source of the current time, injected so that long durations are testable. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * A clock that runs `scale` times faster than real time, agreeing with it at `epochMs`. For tests and demos that
 * must see days pass in seconds. Every process given the same epoch and scale reads the same time, also after a
 * restart, and so does the WhatsApp simulator started at the epoch with `startTimeMs: epochMs` and that time scale.
 */
export function scaledClock(scale: number, epochMs: number): Clock {
  return { now: () => new Date(epochMs + (Date.now() - epochMs) * scale) };
}
