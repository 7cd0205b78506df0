import {
  orderKeyHeader,
  regionStreams,
  regionSubjects,
  routeBySubject,
  startConsumer,
  type JetStreamConnection,
  type RunningConsumer,
} from '@waygate/nats';
import type { Keyring } from '@waygate/keyring';
import type { Logger } from '@waygate/telemetry';
import type { MessagingService } from './domain/messaging-service';
import type { TemplateSync } from './domain/template-sync';
import type { VerificationService } from './domain/verification-service';
import {
  createInboundEventsHandler,
  createPreferenceEventsHandler,
  createStatusLearningHandler,
  inSequence,
} from './handlers/customer-events.consumer';
import { createStatusEventsHandler } from './handlers/status-events.consumer';
import { createTemplateEventsHandler } from './handlers/template-events.consumer';
import type { IngressStores } from './open-ingress-stores';

/** Events the `ingress-status` consumer applies at once (different order keys). */
export const INGRESS_CONSUMER_CONCURRENCY = 32;

/** JetStream's de-duplication id, which every Waygate publisher sets (one per event). */
const NATS_MSG_ID_HEADER = 'Nats-Msg-Id';

/**
 * Starts `ingress-status`, ingress's one consumer of the region's events stream. One consumer for every event kind
 * ingress applies, so each keeps the stream's order (see routeBySubject): delivery and receipt status changes,
 * template updates, inbound messages (the customer view) and customer preferences (the opt-out list).
 */
export function startIngressConsumers(deps: {
  nats: JetStreamConnection;
  /** Opens sealed events (inbound messages); erased ones are skipped before any handler. */
  keyring: Pick<Keyring, 'dataKeyById'>;
  region: string;
  stores: IngressStores;
  service: MessagingService;
  /** Follows the messages that carry verification codes (a FAILED one makes its verification UNDELIVERABLE). */
  verifications: VerificationService;
  templateSync: TemplateSync;
  logger: Logger;
}): Promise<RunningConsumer> {
  const { nats, region, stores, logger } = deps;
  const subjects = regionSubjects(region);
  // What status events teach the customer view (wa_ids) and the opt-out list (131050) is recorded before the status.
  const statusEvents = inSequence(
    createStatusLearningHandler({ view: stores.customers, optOuts: stores.optOuts, messages: stores.messages, logger }),
    createStatusEventsHandler(deps.service, logger, async (tenantId, messageId) => {
      const message = await stores.messages.get(tenantId, messageId);
      if (message) await deps.verifications.applyMessageStatus(message);
    }),
  );
  return startConsumer(nats, {
    region,
    stream: regionStreams(region).events.name,
    durable: 'ingress-status',
    filterSubject: subjects.allEvents,
    keyring: deps.keyring,
    logger,
    // Events of different messages (customers) are applied in parallel, so the stores' group commits share one
    // durable commit between them (issue 15); events with the same order key (a message's statuses: the status state
    // machine relies on their order) are applied one after another in stream order. An event without the key
    // header waits in one lane with every other such event: stream order, exactly as at concurrency 1.
    // Inbound messages wait for nobody (each its own lane, by its Nats-Msg-Id): what they write does not depend on
    // order (the index is de-duplicated by wamid, a window only ever grows to the latest close), so any order ends in
    // the same customer view.
    concurrency: INGRESS_CONSUMER_CONCURRENCY,
    orderKey: (message) =>
      (message.subject === subjects.inboundEvents && message.headers?.get(NATS_MSG_ID_HEADER)) || orderKeyHeader(message),
    handle: routeBySubject({
      [subjects.deliveryEvents]: statusEvents,
      [subjects.receiptEvents]: statusEvents,
      [subjects.templateEvents]: createTemplateEventsHandler(deps.templateSync, logger),
      [subjects.inboundEvents]: createInboundEventsHandler(stores.customers, logger),
      [subjects.preferenceEvents]: createPreferenceEventsHandler(stores.optOuts, logger),
    }),
  });
}
