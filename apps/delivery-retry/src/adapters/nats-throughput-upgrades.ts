import type { JetStreamClient } from 'nats';
import { regionStreams, regionSubjects } from '@waygate/nats';
import { AccountEvent } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';

/** Throughput Meta granted numbers after the tenants file was written (THROUGHPUT_UPGRADE), learned from receipt. */
export interface ThroughputUpgrades {
  /** Messages per second Meta announced for the number, if it announced an upgrade. */
  throughputOf(tenantId: string, phoneNumberId: string): number | undefined;
  stop(): Promise<void>;
}

/**
 * Follows receipt's AccountEvents (`waygate.<region>.events.account`) from the start of the events stream with an
 * ordered (non-durable) consumer, so every replica learns every upgrade, also those announced before it started
 * (while the stream keeps them: 31 days; record a lasting change as `throughputMps` in the tenants file).
 */
export async function startThroughputUpgrades(options: {
  js: JetStreamClient;
  region: string;
  logger: Logger;
}): Promise<ThroughputUpgrades> {
  const learned = new Map<string, number>();
  const consumer = await options.js.consumers.get(regionStreams(options.region).events.name, {
    // One subject as a string: nats.js then asks for `filter_subject`, which nats-server 2.9 knows too.
    filterSubjects: regionSubjects(options.region).accountEvents,
  });
  const messages = await consumer.consume();
  const loop = (async () => {
    for await (const message of messages) {
      let event: AccountEvent;
      try {
        event = AccountEvent.decode(message.data);
      } catch {
        options.logger.warn({ seq: message.seq }, 'undecodable AccountEvent skipped');
        continue;
      }
      if (event.change?.$case !== 'phoneNumberQuality') continue;
      const { phoneNumberId, throughputMps } = event.change.value;
      if (!phoneNumberId || throughputMps <= 0) continue;
      learned.set(`${event.tenantId}/${phoneNumberId}`, throughputMps);
      options.logger.info(
        { tenant_id: event.tenantId, phone_number_id: phoneNumberId, throughput_mps: throughputMps },
        'number throughput upgraded by Meta',
      );
    }
  })();
  return {
    throughputOf: (tenantId, phoneNumberId) => learned.get(`${tenantId}/${phoneNumberId}`),
    async stop() {
      await messages.close();
      await loop;
    },
  };
}
