import type { Clock } from '@waygate/domain';
import type { Keyring, KeyScope } from '@waygate/keyring';
import type { JetStreamConnection } from '@waygate/nats';
import type { Logger } from '@waygate/telemetry';

/** The keyring purpose of the short-lived keys that seal queued webhook bodies. */
export const WEBHOOK_KEY_PURPOSE = 'webhooks';
/**
 * The keyring "tenant" of the region-wide webhook keys. A body is sealed before it is parsed for good, and a WABA may
 * be shared by several tenants (one body, several tenants' customers), so the key is the region's, not a tenant's;
 * tenant ids (lowercase letters, digits, dashes) can never be this.
 */
export const WEBHOOK_KEY_OWNER = '_region';
/** Default WAYGATE_WEBHOOK_KEY_EPOCH_MS: a body's key lives for its epoch and until its processing. */
export const DEFAULT_WEBHOOK_KEY_EPOCH_MS = 15 * 60_000;
/**
 * How long after an epoch's end the shredder still counts on bodies sealed in it being published (a publish that
 * started just before the end, a replica whose clock is a little behind). The stream's last sequence is read after it.
 */
export const WEBHOOK_EPOCH_GRACE_MS = 30_000;

/** The epoch of `at`: floor(time / epochMs). */
export function webhookKeyEpoch(at: Date, epochMs: number): number {
  return Math.floor(at.getTime() / epochMs);
}

/** The key scope that seals a webhook body queued at `at`. */
export function webhookKeyScope(at: Date, epochMs: number): KeyScope {
  return { tenantId: WEBHOOK_KEY_OWNER, ephemeral: { purpose: WEBHOOK_KEY_PURPOSE, epoch: webhookKeyEpoch(at, epochMs) } };
}

export interface WebhookBodyShredder {
  /**
   * One pass: notes the stream's last sequence for epochs that ended, and destroys the keys of every ended epoch
   * whose bodies the webhook consumer has all acknowledged. Every receipt replica runs it; destroying is idempotent.
   */
  runOnce(): Promise<void>;
  /**
   * Resolves once every webhook body queued before `before` is unreadable: the keys of its epoch, and of all epochs
   * before it, are destroyed (after their epoch ended and the consumer acknowledged everything published in it). Takes
   * up to an epoch plus the processing of what is queued; rejects with the signal's reason if aborted.
   */
  waitUntilWebhookBodiesShredded(before: Date, options?: { signal?: AbortSignal }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the shredder of webhook body keys: a body is sealed under the key of its epoch (see `webhookKeyScope`),
 * and once an epoch has ended and `receipt-webhooks` acknowledged everything the stream held at its end (ack floor at
 * or past the stream's last sequence read after the end; or nothing pending), its key is destroyed, so the stream's
 * copies (and any dead letter of them) can never be read again.
 */
export function startWebhookBodyShredder(deps: {
  nats: JetStreamConnection;
  keyring: Pick<Keyring, 'destroyEphemeralKeys'>;
  stream: string;
  durable: string;
  epochMs: number;
  clock: Clock;
  logger: Logger;
  /** How often a pass runs (default: a twentieth of the epoch, at least 1 s, at most a minute). */
  intervalMs?: number;
  /** Overrides the grace (default {@link WEBHOOK_EPOCH_GRACE_MS}, or half the epoch when that is shorter). */
  graceMs?: number;
}): WebhookBodyShredder {
  const { nats, keyring, stream, durable, epochMs, clock, logger } = deps;
  const graceMs = deps.graceMs ?? Math.min(WEBHOOK_EPOCH_GRACE_MS, Math.floor(epochMs / 2));
  const intervalMs = deps.intervalMs ?? Math.min(60_000, Math.max(1_000, Math.floor(epochMs / 20)));
  /** Epochs below this are shredded (as far as this process knows). */
  let shreddedBelow = 0;
  /** Oldest first: epochs below `below` are done once the consumer acknowledged through stream sequence `seq`. */
  const marks: { below: number; seq: number }[] = [];
  let running: Promise<void> | undefined;
  let stopped = false;

  async function consumerCaughtUpTo(seq: number): Promise<boolean> {
    let info;
    try {
      info = await nats.jsm.consumers.info(stream, durable);
    } catch (error) {
      if (error instanceof Error && /not found/i.test(error.message)) return false;
      throw error;
    }
    // A filtered consumer's ack floor stops at its last matching message; nothing pending then means the same.
    return info.ack_floor.stream_seq >= seq || (info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= seq);
  }

  async function pass(): Promise<void> {
    const closedBelow = webhookKeyEpoch(new Date(clock.now().getTime() - graceMs), epochMs);
    const newest = marks.at(-1)?.below ?? shreddedBelow;
    if (closedBelow > newest) marks.push({ below: closedBelow, seq: (await nats.jsm.streams.info(stream)).state.last_seq });
    while (marks.length > 0 && (await consumerCaughtUpTo(marks[0]!.seq))) {
      const { below } = marks.shift()!;
      const destroyed = await keyring.destroyEphemeralKeys(WEBHOOK_KEY_PURPOSE, below);
      shreddedBelow = below;
      if (destroyed > 0) logger.info({ keys: destroyed, epochs_below: below }, 'webhook body keys destroyed: their bodies were processed');
    }
  }

  async function runOnce(): Promise<void> {
    // One pass at a time: a waiter and the timer share it.
    running ??= pass().finally(() => (running = undefined));
    await running;
  }

  const timer = setInterval(() => {
    runOnce().catch((error: unknown) => logger.warn({ err: error }, 'webhook body shredding pass failed; will retry'));
  }, intervalMs);
  timer.unref();

  return {
    runOnce,
    async waitUntilWebhookBodiesShredded(before, options = {}) {
      const needed = webhookKeyEpoch(before, epochMs) + 1;
      for (;;) {
        options.signal?.throwIfAborted();
        if (stopped) throw new Error('the webhook body shredder was stopped');
        await runOnce().catch((error: unknown) => logger.warn({ err: error }, 'webhook body shredding pass failed; will retry'));
        if (shreddedBelow >= needed) return;
        await new Promise<void>((resolve) => {
          const wake = setTimeout(resolve, Math.min(intervalMs, 5_000));
          options.signal?.addEventListener('abort', () => (clearTimeout(wake), resolve()), { once: true });
        });
      }
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
