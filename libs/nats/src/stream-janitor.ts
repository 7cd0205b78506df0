import { metrics, type Counter } from '@opentelemetry/api';
import type { JetStreamManager } from 'nats';
import type { Logger } from '@waygate/telemetry';
import type { StreamSpec } from './subjects';

/** How often the janitor deletes what every consumer has acknowledged (content lingers at most about this long). */
export const DEFAULT_JANITOR_INTERVAL_MS = 5_000;

/** A running janitor of one stream. */
export interface StreamJanitor {
  /** One pass: deletes every message below all consumers' ack floors; resolves with how many it deleted. */
  runOnce(): Promise<number>;
  /** Stops the timer and waits for a pass under way. */
  stop(): Promise<void>;
}

/**
 * Deletes the messages of a stream that every consumer in its spec has acknowledged: everything at or below the
 * lowest ack floor of those consumers (`purge` up to that sequence, on their filter subject). This is what JetStream's
 * interest retention promises, done by Waygate because nats-server 2.9 loses messages under interest retention: after
 * a consumer's process is killed and the server restarts, messages one consumer had not acknowledged yet were deleted
 * (reproduced by delivery-retry's crash test; docs/architecture.md, "Streams"). On a limits stream nothing is deleted
 * until the janitor says so (or `max_age` ends it), so a consumer that is down keeps its messages: its ack floor does
 * not move. A consumer of the spec that does not exist (deleted by an operator) stops the janitor from deleting
 * anything, with a warning, rather than deleting what that consumer never had.
 *
 * Idempotent and safe to run from several replicas at once: a purge below a sequence deletes the same messages however
 * often it runs.
 */
export function startStreamJanitor(
  connection: { readonly jsm: JetStreamManager },
  spec: StreamSpec,
  options: { readonly logger: Logger; readonly intervalMs?: number; readonly purged?: Counter },
): StreamJanitor {
  const filters = new Set(spec.consumers.map((consumer) => consumer.filterSubject));
  if (spec.consumers.length === 0 || filters.size !== 1) {
    throw new Error(`stream ${spec.name}: the janitor needs consumers that share one filter subject`);
  }
  const [filter] = filters;
  const purged =
    options.purged ??
    metrics.getMeter('@waygate/nats').createCounter('waygate.stream.consumed_deleted', {
      description: 'messages deleted from a stream because every consumer had acknowledged them, by stream',
    });
  let deletedThrough = 0;
  let warnedMissing = false;
  let running: Promise<number> | undefined;

  async function pass(): Promise<number> {
    let floor = Number.POSITIVE_INFINITY;
    for (const consumer of spec.consumers) {
      try {
        const info = await connection.jsm.consumers.info(spec.name, consumer.durable);
        floor = Math.min(floor, info.ack_floor.stream_seq);
      } catch (error) {
        if (!(error instanceof Error && /not found/i.test(error.message))) throw error;
        if (!warnedMissing) {
          options.logger.warn(
            { stream: spec.name, durable: consumer.durable },
            'a consumer of the stream is missing; nothing is deleted until it exists again',
          );
          warnedMissing = true;
        }
        return 0;
      }
    }
    warnedMissing = false;
    if (floor <= deletedThrough) return 0;
    const { purged: count } = await connection.jsm.streams.purge(spec.name, { filter, seq: floor + 1 });
    deletedThrough = floor;
    if (count > 0) purged.add(count, { stream: spec.name });
    return count;
  }

  function runOnce(): Promise<number> {
    // One pass at a time: a slow server must not pile passes up.
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  }

  const timer = setInterval(() => {
    runOnce().catch((error: unknown) =>
      options.logger.warn({ stream: spec.name, err: error }, 'could not delete acknowledged messages; will retry'),
    );
  }, options.intervalMs ?? DEFAULT_JANITOR_INTERVAL_MS);
  timer.unref();

  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
