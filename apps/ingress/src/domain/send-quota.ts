import { ResourceExhaustedError } from '@waygate/domain';
import type { SendLimits } from '@waygate/tenancy';
import type { SendPolicy } from './send-policy';

/** The policy's name in logs and metrics. */
export const TENANT_QUOTA_POLICY = 'tenant-quota';

/** A tenant's send rate as the store applies it: one send per `intervalMs` on average, `burst` at once. */
export interface SendRate {
  readonly intervalMs: number;
  readonly burst: number;
}

/**
 * Durable send counters per tenant, shared by every ingress replica on the same store: daily counts (so a restart does
 * not reset a tenant's quota) and the send rate's state.
 */
export interface SendQuotaStore {
  /**
   * Counts one send against the tenant's `day` (UTC, YYYY-MM-DD) if fewer than `limit` were counted; atomic across
   * replicas. Answers whether it was counted.
   */
  consume(tenantId: string, day: string, limit: number): Promise<boolean>;
  /** Sends counted for the day. */
  used(tenantId: string, day: string): Promise<number>;
  /**
   * Takes one send from the tenant's rate at `nowMs`, atomically across replicas (the generic cell rate algorithm:
   * one "theoretical arrival time" per tenant; a send is allowed while it is at most `(burst - 1) * intervalMs`
   * ahead of now, and moves it on by `intervalMs`). Answers 0 when taken, else how many ms until a send is allowed.
   */
  takeRate(tenantId: string, nowMs: number, rate: SendRate): Promise<number>;
  /** Gives back a send taken by {@link takeRate} that was refused for another reason (the daily quota). */
  returnRate(tenantId: string, rate: SendRate): Promise<void>;
  close(): Promise<void>;
}

/** How far ahead of now a tenant's rate state may run before a send is refused (GCRA's burst tolerance). */
export function rateToleranceMs(rate: SendRate): number {
  return (rate.burst - 1) * rate.intervalMs;
}

/** The wait before a send is allowed, given the stored theoretical arrival time (at least 1 ms when refused). */
export function rateWaitMs(tatMs: number, nowMs: number, rate: SendRate): number {
  return Math.max(1, Math.ceil(tatMs - nowMs - rateToleranceMs(rate)));
}

const DAY_MS = 86_400_000;

/** The UTC day of `at`, as YYYY-MM-DD. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * The tenant's send rate and daily quota (tenants file `sendLimits`). Over either, RESOURCE_EXHAUSTED with RetryInfo:
 * the rate says when the next token is due, the quota when the UTC day ends. Runs last, so only a send that passed
 * every other policy counts; neither is charged for a send the other refuses.
 */
export function createTenantQuotaPolicy(deps: { store: SendQuotaStore }): SendPolicy {
  return {
    name: TENANT_QUOTA_POLICY,
    async check({ tenant, now }) {
      const limits: SendLimits | undefined = tenant.sendLimits;
      if (!limits) return undefined;
      const nowMs = now.getTime();
      const rate: SendRate | undefined = limits.sendsPerSecond
        ? { intervalMs: 1000 / limits.sendsPerSecond, burst: limits.burst ?? Math.max(1, Math.ceil(limits.sendsPerSecond)) }
        : undefined;
      if (rate) {
        const waitMs = await deps.store.takeRate(tenant.id, nowMs, rate);
        if (waitMs > 0) {
          throw new ResourceExhaustedError(
            `send rate limit of ${limits.sendsPerSecond} per second exceeded; retry in ${waitMs} ms`,
            waitMs,
          );
        }
      }
      if (limits.dailyQuota && !(await deps.store.consume(tenant.id, utcDay(now), limits.dailyQuota))) {
        // Refused by the quota: the rate is not charged for it.
        if (rate) await deps.store.returnRate(tenant.id, rate);
        const untilTomorrowMs = DAY_MS - (nowMs % DAY_MS);
        throw new ResourceExhaustedError(
          `daily send quota of ${limits.dailyQuota} used up for ${utcDay(now)} (UTC); it renews at midnight UTC`,
          untilTomorrowMs,
        );
      }
      return undefined;
    },
  };
}
