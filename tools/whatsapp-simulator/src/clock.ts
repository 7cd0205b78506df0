/** Source of "now" for status timestamps; a seam so a controllable clock can replace real time later. */
export interface SimulatorClock {
  nowMs(): number;
}

/** Wall-clock time. */
export const systemClock: SimulatorClock = { nowMs: () => Date.now() };

/** Unix seconds, the unit Meta uses in webhook timestamps. */
export function toUnixSeconds(epochMs: number): number {
  return Math.floor(epochMs / 1000);
}
