import { z } from 'zod';
import { ConfigError, envSchemas, parseEnv } from '@waygate/config';

const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;

/** The tenant feed's environment variables with their defaults; spread into receipt's env shape. */
export const feedEnvShape = {
  /** How long events stay in the tenants' logs (WatchEvents from 0 starts at the oldest retained). */
  WAYGATE_FEED_RETENTION_MS: envSchemas.durationMs(30 * DAY),
  /**
   * How long the feed consumer may hold an input before JetStream redelivers it (also how long inputs a stopped
   * replica had fetched but not processed wait before another replica gets them).
   */
  WAYGATE_FEED_ACK_WAIT_MS: envSchemas.durationMs(30 * SECOND),
  /** Longest idle wait of a stream or callback lane before it looks again (covers a lost cross-replica wake-up). */
  WAYGATE_FEED_RECHECK_MS: envSchemas.durationMs(2 * SECOND),
  /** A callback without an answer within this is a failure. */
  WAYGATE_FEED_CALLBACK_TIMEOUT_MS: envSchemas.durationMs(5 * SECOND),
  WAYGATE_FEED_CALLBACK_BACKOFF_BASE_MS: envSchemas.durationMs(SECOND),
  WAYGATE_FEED_CALLBACK_BACKOFF_CAP_MS: envSchemas.durationMs(HOUR),
  /** How long a callback is retried before it becomes a dead letter. */
  WAYGATE_FEED_CALLBACK_RETRY_FOR_MS: envSchemas.durationMs(3 * DAY),
  WAYGATE_FEED_CALLBACK_BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  WAYGATE_FEED_CALLBACK_BREAKER_COOLDOWN_MS: envSchemas.durationMs(60 * SECOND),
  /** Deliveries in flight at once per endpoint and replica. */
  WAYGATE_FEED_CALLBACK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** How long a replica holds a claimed delivery; must exceed the timeout. */
  WAYGATE_FEED_CALLBACK_LEASE_MS: envSchemas.durationMs(30 * SECOND),
} as const;

/** Parsed values of `feedEnvShape` (a parse of a larger shape that includes it will do). */
export type FeedEnv = Readonly<z.infer<z.ZodObject<typeof feedEnvShape>>>;

export interface FeedConfig {
  readonly retentionMs: number;
  readonly ackWaitMs: number;
  readonly recheckMs: number;
  readonly callbacks: {
    readonly timeoutMs: number;
    readonly backoffBaseMs: number;
    readonly backoffCapMs: number;
    readonly retryForMs: number;
    readonly breakerFailures: number;
    readonly breakerCooldownMs: number;
    readonly concurrency: number;
    readonly leaseMs: number;
  };
}

/** Builds the feed's configuration; names every inconsistent variable. */
export function toFeedConfig(parsed: FeedEnv): FeedConfig {
  const problems: string[] = [];
  if (parsed.WAYGATE_FEED_CALLBACK_LEASE_MS <= parsed.WAYGATE_FEED_CALLBACK_TIMEOUT_MS) {
    problems.push('WAYGATE_FEED_CALLBACK_LEASE_MS: must be longer than WAYGATE_FEED_CALLBACK_TIMEOUT_MS');
  }
  if (parsed.WAYGATE_FEED_CALLBACK_BACKOFF_CAP_MS < parsed.WAYGATE_FEED_CALLBACK_BACKOFF_BASE_MS) {
    problems.push('WAYGATE_FEED_CALLBACK_BACKOFF_CAP_MS: must not be below WAYGATE_FEED_CALLBACK_BACKOFF_BASE_MS');
  }
  if (parsed.WAYGATE_FEED_RETENTION_MS <= parsed.WAYGATE_FEED_CALLBACK_RETRY_FOR_MS) {
    problems.push('WAYGATE_FEED_RETENTION_MS: must be longer than WAYGATE_FEED_CALLBACK_RETRY_FOR_MS');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    retentionMs: parsed.WAYGATE_FEED_RETENTION_MS,
    ackWaitMs: parsed.WAYGATE_FEED_ACK_WAIT_MS,
    recheckMs: parsed.WAYGATE_FEED_RECHECK_MS,
    callbacks: {
      timeoutMs: parsed.WAYGATE_FEED_CALLBACK_TIMEOUT_MS,
      backoffBaseMs: parsed.WAYGATE_FEED_CALLBACK_BACKOFF_BASE_MS,
      backoffCapMs: parsed.WAYGATE_FEED_CALLBACK_BACKOFF_CAP_MS,
      retryForMs: parsed.WAYGATE_FEED_CALLBACK_RETRY_FOR_MS,
      breakerFailures: parsed.WAYGATE_FEED_CALLBACK_BREAKER_FAILURES,
      breakerCooldownMs: parsed.WAYGATE_FEED_CALLBACK_BREAKER_COOLDOWN_MS,
      concurrency: parsed.WAYGATE_FEED_CALLBACK_CONCURRENCY,
      leaseMs: parsed.WAYGATE_FEED_CALLBACK_LEASE_MS,
    },
  };
}

/** Reads the feed's variables alone (tests, tools); receipt's config.ts merges `feedEnvShape` instead. */
export function loadFeedConfig(env: NodeJS.ProcessEnv = process.env): FeedConfig {
  return toFeedConfig(parseEnv(feedEnvShape, env));
}
