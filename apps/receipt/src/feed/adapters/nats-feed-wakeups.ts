import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from '@waygate/telemetry';
import type { FeedWakeups } from '../domain/feed-wakeups';

/** Tenant ids are short (tenancy allows 63 characters); anything longer on the subject is not ours. */
const MAX_TENANT_ID_BYTES = 64;

/**
 * Tells the other receipt replicas that a tenant's log grew, so their WatchEvents streams and callback lanes wake
 * without polling. Core NATS (`waygate.<region>.feed.appended`, outside every stream): a lost notification only
 * delays a waiter until its periodic re-check.
 */
export function startNatsFeedWakeups(
  nc: NatsConnection,
  region: string,
  wakeups: FeedWakeups,
  logger: Logger,
): { announce(tenantId: string): void; stop(): Promise<void> } {
  const subject = `waygate.${region}.feed.appended`;
  const subscription: Subscription = nc.subscribe(subject, {
    callback: (error, message) => {
      if (error) {
        logger.warn({ err: error }, 'feed wake-up subscription error');
        return;
      }
      if (message.data.length === 0 || message.data.length > MAX_TENANT_ID_BYTES) return;
      wakeups.notify(new TextDecoder().decode(message.data));
    },
  });
  return {
    announce(tenantId) {
      try {
        nc.publish(subject, new TextEncoder().encode(tenantId));
      } catch (error) {
        logger.warn({ err: error, tenant_id: tenantId }, 'could not announce a feed append; other replicas re-check periodically');
      }
    },
    async stop() {
      subscription.unsubscribe();
    },
  };
}
