/**
 * Tracks every timer the simulator starts so `stop()` can cancel them all at once; nothing keeps the
 * event loop alive after a stop.
 */
export class TimerRegistry {
  private readonly pending = new Map<NodeJS.Timeout, () => void>();
  private cancelled = false;

  /** Runs `callback` after `delayMs` unless cancelled first. */
  schedule(callback: () => void, delayMs: number): void {
    if (this.cancelled) return;
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      callback();
    }, delayMs);
    this.pending.set(timer, () => undefined);
  }

  /** Resolves true after `delayMs`, or false as soon as the registry is cancelled. */
  wait(delayMs: number): Promise<boolean> {
    if (this.cancelled) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve(true);
      }, delayMs);
      this.pending.set(timer, () => resolve(false));
    });
  }

  /** Cancels everything pending and refuses new timers. */
  cancelAll(): void {
    this.cancelled = true;
    for (const [timer, onCancel] of this.pending) {
      clearTimeout(timer);
      onCancel();
    }
    this.pending.clear();
  }
}
