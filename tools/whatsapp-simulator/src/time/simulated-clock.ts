/** Source of "now" for everything time-dependent in the simulator. */
export interface SimulatorClock {
  nowMs(): number;
}

/** Unix seconds, the unit Meta uses in webhook timestamps. */
export function toUnixSeconds(epochMs: number): number {
  return Math.floor(epochMs / 1000);
}

/** Options for {@link SimulatedClock}. */
export interface SimulatedClockOptions {
  /** Simulated epoch ms at start; default the real time. */
  startMs?: number;
  /** Simulated ms per real ms: 1 real time, 3600 one hour per second, 0 frozen (only explicit jumps move it). */
  scale?: number;
  /** Real time source; injectable so the clock itself can be tested. */
  realNowMs?: () => number;
}

/**
 * Simulated time: runs at `scale` times real time from an anchor and can jump forward. It never moves backwards,
 * so Meta timestamps stay monotonic however tests drive it.
 */
export class SimulatedClock implements SimulatorClock {
  private readonly realNowMs: () => number;
  private anchorRealMs: number;
  private anchorSimMs: number;
  private currentScale: number;

  constructor(options: SimulatedClockOptions = {}) {
    this.realNowMs = options.realNowMs ?? Date.now;
    this.anchorRealMs = this.realNowMs();
    this.anchorSimMs = options.startMs ?? this.anchorRealMs;
    this.currentScale = checkScale(options.scale ?? 1);
  }

  nowMs(): number {
    return Math.floor(this.anchorSimMs + (this.realNowMs() - this.anchorRealMs) * this.currentScale);
  }

  get scale(): number {
    return this.currentScale;
  }

  /** Changes the speed from now on; time already passed is kept. */
  setScale(scale: number): void {
    this.rebase(this.nowMs());
    this.currentScale = checkScale(scale);
  }

  /** Moves time forward to `simMs`; earlier targets are ignored. */
  jumpTo(simMs: number): void {
    this.rebase(Math.max(this.nowMs(), Math.floor(simMs)));
  }

  private rebase(simMs: number): void {
    this.anchorRealMs = this.realNowMs();
    this.anchorSimMs = simMs;
  }
}

/** Largest accepted time scale: a simulated 30 days in under 3 real seconds. */
export const MAX_TIME_SCALE = 1_000_000;

function checkScale(scale: number): number {
  if (!Number.isFinite(scale) || scale < 0 || scale > MAX_TIME_SCALE) {
    throw new RangeError(`time scale must be between 0 and ${MAX_TIME_SCALE}`);
  }
  return scale;
}
