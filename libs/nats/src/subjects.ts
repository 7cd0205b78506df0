/**
 * Subject and stream names, all per region so that one region's data never flows through another's streams.
 * See docs/architecture.md for who publishes and consumes each.
 */
export function regionSubjects(region: string) {
  return {
    /** ingress -> delivery-retry, archive: MessageAccepted */
    outboundAccepted: `waygate.${region}.outbound.accepted`,
    /** delivery-retry -> ingress, receipt, archive: MessageStatusChanged from Cloud API answers */
    deliveryEvents: `waygate.${region}.events.delivery`,
    /** receipt -> ingress, archive: MessageStatusChanged from webhooks */
    receiptEvents: `waygate.${region}.events.receipt`,
    /** receipt -> receipt's tenant feed, archive: InboundMessageReceived */
    inboundEvents: `waygate.${region}.events.inbound`,
    /** receipt -> ingress, archive: TemplateEvent (Meta's template webhooks; no customer data) */
    templateEvents: `waygate.${region}.events.templates`,
    /** receipt -> ingress, archive: CustomerPreferenceChanged (stop keywords, opt-out quick replies, user_preferences) */
    preferenceEvents: `waygate.${region}.events.preferences`,
    /** receipt -> delivery-retry: AccountEvent (Meta's account webhooks: quality, messaging limit, restrictions; no customer data) */
    accountEvents: `waygate.${region}.events.account`,
    /** every status, inbound, template and preference event */
    allEvents: `waygate.${region}.events.>`,
    /** receipt HTTP -> receipt processor: WebhookReceived */
    whatsappWebhooks: `waygate.${region}.webhooks.whatsapp`,
    /** every consumer's dead letters (`deadLetterSubject` names one consumer's) */
    allDeadLetters: `waygate.${region}.deadletters.>`,
    /** archive -> every service: ErasureRequested, one subject per tenant (`erasureRequestedSubject`) */
    erasureRequested: `waygate.${region}.governance.erasure.requested.>`,
    /** every service -> archive: ErasurePartCompleted, one subject per service (`erasureCompletedSubject`) */
    erasureCompleted: `waygate.${region}.governance.erasure.completed.>`,
    /**
     * archive -> every service, core NATS request/reply (never stored: outside every stream): a customer's data export,
     * `<customerExport>.<service>` (libs/governance, docs/governance.md).
     */
    customerExport: `waygate.${region}.rpc.customer-export`,
  } as const;
}

/** Where a durable consumer's dead letters go: `waygate.<region>.deadletters.<durable>`. */
export function deadLetterSubject(region: string, durable: string): string {
  return `waygate.${region}.deadletters.${durable}`;
}

/** Where the archive publishes a tenant's ErasureRequested: `waygate.<region>.governance.erasure.requested.<tenant>`. */
export function erasureRequestedSubject(region: string, tenantId: string): string {
  return `waygate.${region}.governance.erasure.requested.${tenantId}`;
}

/** Where a service reports its part of an erasure: `waygate.<region>.governance.erasure.completed.<service>`. */
export function erasureCompletedSubject(region: string, service: string): string {
  return `waygate.${region}.governance.erasure.completed.${service}`;
}

export interface StreamSpec {
  readonly name: string;
  readonly subjects: string[];
  readonly maxAgeMs: number;
  /**
   * The server's retention. `interest` is not used any more: nats-server 2.9 deleted messages under it that a consumer
   * had not acknowledged yet (see `deleteOnceConsumed`); an existing stream keeps the retention it was created with.
   */
  readonly retention: 'limits' | 'interest';
  /**
   * Durable consumers created with the stream, so that a message published before a service first starts is kept
   * for it.
   */
  readonly consumers: readonly { readonly durable: string; readonly filterSubject: string }[];
  /**
   * Messages carry content that must not outlive its processing: once every consumer in `consumers` acknowledged a
   * message, the stream janitor (`startStreamJanitor`) deletes it.
   */
  readonly deleteOnceConsumed?: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Durable consumers of the outbound stream (created with it; see StreamSpec.retention). */
export const OUTBOUND_CONSUMERS = { delivery: 'delivery-retry', archive: 'archive-outbound', feed: 'receipt-feed-accepted' } as const;

/**
 * Waygate's streams for a region. Retention outlives the 30-day maximum validity of a message by a day; webhooks
 * are processed within seconds, so a week (Meta's own retry horizon) is plenty; dead letters wait a month for an
 * operator.
 */
export function regionStreams(region: string): {
  outbound: StreamSpec;
  events: StreamSpec;
  webhooks: StreamSpec;
  deadLetters: StreamSpec;
  governance: StreamSpec;
} {
  const prefix = `WAYGATE_${region.toUpperCase()}`;
  return {
    // Message content: gone from the queue once delivery-retry, archive and receipt's feed (type and summary) have it.
    outbound: {
      name: `${prefix}_OUTBOUND`,
      subjects: [`waygate.${region}.outbound.>`],
      maxAgeMs: 31 * DAY_MS,
      retention: 'limits',
      deleteOnceConsumed: true,
      consumers: [
        { durable: OUTBOUND_CONSUMERS.delivery, filterSubject: regionSubjects(region).outboundAccepted },
        { durable: OUTBOUND_CONSUMERS.archive, filterSubject: regionSubjects(region).outboundAccepted },
        { durable: OUTBOUND_CONSUMERS.feed, filterSubject: regionSubjects(region).outboundAccepted },
      ],
    },
    events: {
      name: `${prefix}_EVENTS`,
      subjects: [`waygate.${region}.events.>`],
      maxAgeMs: 31 * DAY_MS,
      retention: 'limits',
      consumers: [],
    },
    webhooks: {
      name: `${prefix}_WEBHOOKS`,
      subjects: [`waygate.${region}.webhooks.>`],
      maxAgeMs: 7 * DAY_MS,
      retention: 'limits',
      consumers: [],
    },
    // Messages consumers gave up on, with their reason, until an operator replays or discards them. They carry
    // content (message bodies, webhook bodies), so they do not outlive the longest retention of the other streams.
    deadLetters: {
      name: `${prefix}_DEAD_LETTERS`,
      subjects: [regionSubjects(region).allDeadLetters],
      maxAgeMs: 31 * DAY_MS,
      retention: 'limits',
      consumers: [],
    },
    // Erasure requests and their parts' completions (issue 14). No content: the customer's number travels sealed
    // under a key destroyed when the erasure completes. A month covers a service that is down for a while.
    governance: {
      name: `${prefix}_GOVERNANCE`,
      subjects: [`waygate.${region}.governance.>`],
      maxAgeMs: 31 * DAY_MS,
      retention: 'limits',
      consumers: [],
    },
  };
}
