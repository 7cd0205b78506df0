/**
 * Wakes whoever waits for a tenant's log to grow (WatchEvents streams, callback lanes). A waiter reads `version`
 * before it reads the log and then waits for a later version, so an append between its read and its wait is never
 * missed. Notifications come from this process's appends and, through NATS, from other replicas'.
 */
export class FeedWakeups {
  private readonly versions = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();

  version(tenantId: string): number {
    return this.versions.get(tenantId) ?? 0;
  }

  notify(tenantId: string): void {
    this.versions.set(tenantId, this.version(tenantId) + 1);
    const waiting = this.waiters.get(tenantId);
    if (!waiting) return;
    this.waiters.delete(tenantId);
    for (const wake of waiting) wake();
  }

  /**
   * Resolves once the tenant's version moved past `seen`, after `timeoutMs` (a safety net for a lost cross-replica
   * notification), or when `signal` aborts, whichever is first.
   */
  waitBeyond(tenantId: string, seen: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.version(tenantId) !== seen || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.get(tenantId)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      let waiting = this.waiters.get(tenantId);
      if (!waiting) this.waiters.set(tenantId, (waiting = new Set()));
      waiting.add(done);
    });
  }
}
