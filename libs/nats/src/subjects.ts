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
    /** every status and inbound event */
    allEvents: `waygate.${region}.events.>`,
    /** receipt HTTP -> receipt processor: WebhookReceived */
    whatsappWebhooks: `waygate.${region}.webhooks.whatsapp`,
  } as const;
}

export interface StreamSpec {
  readonly name: string;
  readonly subjects: string[];
  readonly maxAgeMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Waygate's streams for a region. Retention outlives the 30-day maximum validity of a message by a day; webhooks
 * are processed within seconds, so a week (Meta's own retry horizon) is plenty.
 */
export function regionStreams(region: string): { outbound: StreamSpec; events: StreamSpec; webhooks: StreamSpec } {
  const prefix = `WAYGATE_${region.toUpperCase()}`;
  return {
    outbound: { name: `${prefix}_OUTBOUND`, subjects: [`waygate.${region}.outbound.>`], maxAgeMs: 31 * DAY_MS },
    events: { name: `${prefix}_EVENTS`, subjects: [`waygate.${region}.events.>`], maxAgeMs: 31 * DAY_MS },
    webhooks: { name: `${prefix}_WEBHOOKS`, subjects: [`waygate.${region}.webhooks.>`], maxAgeMs: 7 * DAY_MS },
  };
}
