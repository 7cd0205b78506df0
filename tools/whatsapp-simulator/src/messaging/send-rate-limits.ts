import { pairRateLimitError, throughputLimitError, type MetaApiError } from '../cloud-api/meta-errors';

/** Meta's default throughput of a business phone number. */
export const DEFAULT_THROUGHPUT_MPS = 80;
/** Highest throughput Meta grants a number. */
export const MAX_THROUGHPUT_MPS = 1_000;

/** Meta's pair rate: about one message every 6 seconds to the same user, with a burst allowance. */
export interface PairRateLimit {
  /** Messages that may go out back to back before the limit bites. */
  burst: number;
  /** Simulated ms after which one more message is allowed. */
  intervalMs: number;
}

/** Meta documents bursts of up to 45 messages in 6 seconds, then one message per 6 seconds. */
export const DEFAULT_PAIR_RATE_LIMIT: Readonly<PairRateLimit> = { burst: 45, intervalMs: 6_000 };

const THROUGHPUT_WINDOW_MS = 1_000;

interface PairBucket {
  tokens: number;
  updatedMs: number;
}

/**
 * The two send limits Meta enforces synchronously: messages per second per business number (130429) and the
 * (business number, user) pair rate (131056). A rejected send consumes nothing.
 */
export class SendRateLimits {
  private readonly recentSendsByNumber = new Map<string, number[]>();
  private readonly pairBuckets = new Map<string, PairBucket>();

  constructor(private readonly pairRate: PairRateLimit | false) {}

  /** Records the send and returns undefined, or returns the error Meta would answer with. */
  admit(phoneNumberId: string, throughputMps: number, waId: string, nowMs: number): MetaApiError | undefined {
    const recent = this.pruneRecent(phoneNumberId, nowMs);
    if (recent.length >= throughputMps) return throughputLimitError(throughputMps);
    const bucket = this.refillPair(`${phoneNumberId}:${waId}`, nowMs);
    if (bucket !== undefined && bucket.tokens < 1) return pairRateLimitError();
    recent.push(nowMs);
    if (bucket !== undefined) bucket.tokens -= 1;
    return undefined;
  }

  clear(): void {
    this.recentSendsByNumber.clear();
    this.pairBuckets.clear();
  }

  private pruneRecent(phoneNumberId: string, nowMs: number): number[] {
    const recent = this.recentSendsByNumber.get(phoneNumberId) ?? [];
    const firstInWindow = recent.findIndex((atMs) => nowMs - atMs < THROUGHPUT_WINDOW_MS);
    const kept = firstInWindow === -1 ? [] : recent.slice(firstInWindow);
    this.recentSendsByNumber.set(phoneNumberId, kept);
    return kept;
  }

  private refillPair(key: string, nowMs: number): PairBucket | undefined {
    if (this.pairRate === false) return undefined;
    const { burst, intervalMs } = this.pairRate;
    const bucket = this.pairBuckets.get(key) ?? { tokens: burst, updatedMs: nowMs };
    bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, nowMs - bucket.updatedMs) / intervalMs);
    bucket.updatedMs = nowMs;
    this.pairBuckets.set(key, bucket);
    return bucket;
  }
}
