import type { TenantDirectory } from '@waygate/tenancy';
import type { ReceiptStore, SentMessageRecord } from './receipt-store';
import { parseWebhookPayload, type WebhookStatus } from './webhook-payload';

/** A webhook status resolved to a Waygate message, ready to announce. */
export interface ResolvedStatus {
  /** `wa:<wamid>:<status>`: Meta may deliver the same status many times; this de-duplicates them downstream. */
  readonly eventId: string;
  readonly tenantId: string;
  readonly messageId: string;
  readonly status: WebhookStatus;
}

export interface ResolvedStatusPublisher {
  /** Durable when it resolves; `traceContext` is the message's trace, which the announcement joins. */
  publish(status: ResolvedStatus, traceContext: string | undefined): Promise<void>;
}

/** What processing one webhook did, for logs. */
export interface WebhookOutcome {
  published: number;
  held: number;
  ignored: number;
  inboundMessages: number;
  skipped: string[];
}

export interface ReceiptService {
  /** Applies a verified webhook body. Idempotent: processing it again publishes the same event ids. */
  processWebhook(body: Uint8Array): Promise<WebhookOutcome>;
  /** Learns a wamid from delivery-retry and releases statuses that arrived before it. */
  recordSentMessage(record: SentMessageRecord): Promise<number>;
}

function resolved(record: SentMessageRecord, status: WebhookStatus): ResolvedStatus {
  return {
    eventId: `wa:${status.waMessageId}:${status.status.toLowerCase()}`,
    tenantId: record.tenantId,
    messageId: record.messageId,
    status,
  };
}

export function createReceiptService(deps: {
  store: ReceiptStore;
  publisher: ResolvedStatusPublisher;
  tenants: TenantDirectory;
  region: string;
}): ReceiptService {
  const { store, publisher, tenants, region } = deps;

  /** Publishes held statuses for a known wamid, then forgets them (publishing is idempotent, so a crash is harmless). */
  async function releaseHeld(record: SentMessageRecord): Promise<number> {
    const held = await store.listHeldStatuses(record.tenantId, record.waMessageId);
    for (const status of held) await publisher.publish(resolved(record, status), record.traceContext);
    if (held.length > 0) await store.releaseHeldStatuses(record.tenantId, record.waMessageId);
    return held.length;
  }

  return {
    async processWebhook(body) {
      const parsed = parseWebhookPayload(JSON.parse(Buffer.from(body).toString('utf8')));
      const outcome: WebhookOutcome = {
        published: 0,
        held: 0,
        ignored: 0,
        inboundMessages: parsed.inboundMessageCount,
        skipped: parsed.skipped,
      };
      for (const status of parsed.statuses) {
        const owner = tenants.findPhoneNumber(status.phoneNumberId)?.tenant;
        // Another region's (or an unknown) number: nothing about it may be stored here.
        if (!owner || owner.homeRegion !== region) {
          outcome.ignored++;
          continue;
        }
        const record = await store.findSentMessage(owner.id, status.waMessageId);
        if (record) {
          await publisher.publish(resolved(record, status), record.traceContext);
          outcome.published++;
          continue;
        }
        await store.holdStatus(owner.id, status);
        outcome.held++;
        // The wamid may have been recorded between the lookup and the hold; checking again closes that race.
        const late = await store.findSentMessage(owner.id, status.waMessageId);
        if (late) outcome.published += await releaseHeld(late);
      }
      return outcome;
    },

    async recordSentMessage(record) {
      await store.recordSentMessage(record);
      return releaseHeld(record);
    },
  };
}
