import type { SimulatedClock } from './simulated-clock';

/** Work to run at a simulated time; an async task is awaited when time is advanced explicitly. */
export type ScheduledTask = () => void | Promise<void>;

/** Cancels one scheduled task; a no-op once it ran. */
export type CancelTask = () => void;

interface Entry {
  dueMs: number;
  seq: number;
  task: ScheduledTask;
}

// setTimeout's ceiling; longer real waits are re-armed.
const MAX_REAL_DELAY_MS = 2 ** 31 - 1;

/**
 * Runs tasks at simulated times. Time moves by itself at the clock's scale (one real timer for the earliest task)
 * and jumps on {@link advance}, which runs every task falling due on the way in order, each at its own due time, and
 * awaits async ones, so a task that schedules a follow-up (a webhook retry) sees it run within the same advance.
 */
export class Scheduler {
  private readonly entries: Entry[] = [];
  private nextSeq = 0;
  private realTimer: NodeJS.Timeout | undefined;
  private advancing = false;
  private stopped = false;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly clock: SimulatedClock) {}

  /** Runs `task` after `delayMs` of simulated time. */
  schedule(task: ScheduledTask, delayMs: number): CancelTask {
    return this.at(this.clock.nowMs() + Math.max(0, delayMs), task);
  }

  /** Runs `task` at simulated time `dueMs` (at once if already past). */
  at(dueMs: number, task: ScheduledTask): CancelTask {
    if (this.stopped) return () => undefined;
    const entry: Entry = { dueMs, seq: this.nextSeq++, task };
    const index = this.entries.findIndex((other) => other.dueMs > dueMs);
    this.entries.splice(index === -1 ? this.entries.length : index, 0, entry);
    this.arm();
    return () => {
      const position = this.entries.indexOf(entry);
      if (position !== -1) this.entries.splice(position, 1);
      this.arm();
    };
  }

  /** Number of tasks not yet run. */
  get pendingCount(): number {
    return this.entries.length;
  }

  /**
   * Moves simulated time forward by `ms`, running every task that falls due on the way. Resolves when time has
   * reached the target and those tasks (and the follow-ups they scheduled within it) have finished.
   */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('advance needs a non-negative number of ms');
    while (this.advancing) await new Promise((resolve) => setImmediate(resolve));
    this.advancing = true;
    this.disarm();
    try {
      const targetMs = this.clock.nowMs() + ms;
      for (;;) {
        const next = this.entries[0];
        if (next === undefined || next.dueMs > targetMs || this.stopped) break;
        this.entries.shift();
        this.clock.jumpTo(next.dueMs);
        await runSafely(next.task);
      }
      this.clock.jumpTo(targetMs);
    } finally {
      this.advancing = false;
      this.arm();
    }
  }

  /** Re-arms the real timer; call after the clock's scale changed. */
  rescheduled(): void {
    this.arm();
  }

  /** Drops every pending task; the scheduler stays usable. */
  clear(): void {
    this.entries.length = 0;
    this.disarm();
  }

  /** Drops every pending task and waits for tasks still running. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.entries.length = 0;
    this.disarm();
    await Promise.allSettled([...this.running]);
  }

  private arm(): void {
    this.disarm();
    const next = this.entries[0];
    if (next === undefined || this.advancing || this.stopped || this.clock.scale === 0) return;
    const realDelayMs = Math.min(Math.max(0, (next.dueMs - this.clock.nowMs()) / this.clock.scale), MAX_REAL_DELAY_MS);
    this.realTimer = setTimeout(() => this.runDue(), Math.ceil(realDelayMs));
  }

  private disarm(): void {
    if (this.realTimer !== undefined) clearTimeout(this.realTimer);
    this.realTimer = undefined;
  }

  /** Real-time path: runs what is due without waiting for async tasks, so one slow task delays nothing else. */
  private runDue(): void {
    this.realTimer = undefined;
    const nowMs = this.clock.nowMs();
    while (this.entries[0] !== undefined && this.entries[0].dueMs <= nowMs && !this.advancing) {
      const entry = this.entries.shift() as Entry;
      const run = runSafely(entry.task);
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    }
    this.arm();
  }
}

async function runSafely(task: ScheduledTask): Promise<void> {
  try {
    await task();
  } catch {
    // A task's failure is its own business; time keeps moving for everything else.
  }
}
