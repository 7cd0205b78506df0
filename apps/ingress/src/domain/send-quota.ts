import { ResourceExhaustedError } from '@waygate/domain';
import type { SendLimits } from '@waygate/tenancy';
import type { SendPolicy } from './send-policy';

/** The policy's name in logs and metrics. */
export const TENANT_QUOTA_POLICY = 'tenant-quota';

/** Durable daily send counts per tenant (so a restart does not reset a tenant's quota). */
export interface SendQuotaStore {
  /**
   * Counts one send against the tenant's `day` (UTC, YYYY-MM-DD) if fewer than `limit` were counted; atomic across
   * replicas. Answers whether it was counted.
   */
  consume(tenantId: string, day: string, limit: number): Promise<boolean>;
  /** Sends counted for the day. */
  used(tenantId: string, day: string): Promise<number>;
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;

/** The UTC day of `at`, as YYYY-MM-DD. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * A token bucket per tenant, in memory: `sendsPerSecond` on average, up to `burst` at once. Per ingress replica, so N
 * replicas accept up to N times the rate (see docs/customer-window.md, "Send rate and daily quota").
 */
export class SendRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  /** How long until a send is allowed (0: now), without taking a token. */
  waitMs(tenantId: string, limits: { sendsPerSecond: number; burst?: number }, nowMs: number): number {
    const bucket = this.refill(tenantId, limits, nowMs);
    return bucket.tokens >= 1 ? 0 : Math.ceil(((1 - bucket.tokens) / limits.sendsPerSecond) * 1000);
  }

  take(tenantId: string, limits: { sendsPerSecond: number; burst?: number }, nowMs: number): void {
    this.refill(tenantId, limits, nowMs).tokens -= 1;
  }

  private refill(tenantId: string, limits: { sendsPerSecond: number; burst?: number }, nowMs: number): { tokens: number; atMs: number } {
    const capacity = limits.burst ?? Math.max(1, Math.ceil(limits.sendsPerSecond));
    let bucket = this.buckets.get(tenantId);
    if (!bucket) {
      bucket = { tokens: capacity, atMs: nowMs };
      this.buckets.set(tenantId, bucket);
    }
    const elapsedMs = Math.max(0, nowMs - bucket.atMs);
    bucket.tokens = Math.min(capacity, bucket.tokens + (elapsedMs / 1000) * limits.sendsPerSecond);
    bucket.atMs = Math.max(bucket.atMs, nowMs);
    return bucket;
  }
}

/**
 * The tenant's send rate and daily quota (tenants file `sendLimits`). Over either, RESOURCE_EXHAUSTED with RetryInfo:
 * the rate says when the next token is due, the quota when the UTC day ends. Runs last, so only a send that passed
 * every other policy counts; neither is charged for a send the other refuses.
 */
export function createTenantQuotaPolicy(deps: { store: SendQuotaStore; limiter?: SendRateLimiter }): SendPolicy {
  const limiter = deps.limiter ?? new SendRateLimiter();
  return {
    name: TENANT_QUOTA_POLICY,
    async check({ tenant, now }) {
      const limits: SendLimits | undefined = tenant.sendLimits;
      if (!limits) return undefined;
      const nowMs = now.getTime();
      const rate = limits.sendsPerSecond ? { sendsPerSecond: limits.sendsPerSecond, burst: limits.burst } : undefined;
      if (rate) {
        const waitMs = limiter.waitMs(tenant.id, rate, nowMs);
        if (waitMs > 0) {
          throw new ResourceExhaustedError(`send rate limit of ${rate.sendsPerSecond} per second exceeded; retry in ${waitMs} ms`, waitMs);
        }
      }
      if (limits.dailyQuota && !(await deps.store.consume(tenant.id, utcDay(now), limits.dailyQuota))) {
        const untilTomorrowMs = DAY_MS - (nowMs % DAY_MS);
        throw new ResourceExhaustedError(
          `daily send quota of ${limits.dailyQuota} used up for ${utcDay(now)} (UTC); it renews at midnight UTC`,
          untilTomorrowMs,
        );
      }
      if (rate) limiter.take(tenant.id, rate, nowMs);
      return undefined;
    },
  };
}
