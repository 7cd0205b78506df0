import type { CustomerDataParticipant, CustomerDataRecord, CustomerDataSubject } from '@waygate/domain';
import type { FeedCustomerData } from './feed/start-tenant-feed';
import type { IntakeCustomerData } from './webhooks/start-webhook-intake';

/** How many rows an export reads per query: memory stays bounded whatever the customer's history. */
const EXPORT_PAGE = 200;

/** What receipt's participant works on. */
export interface ReceiptCustomerDataDeps {
  readonly intake: IntakeCustomerData;
  readonly feed: FeedCustomerData;
  /**
   * Resolves once every webhook body queued before `before` is unreadable (the streams part's crypto-shredding of the
   * WEBHOOKS stream: `intake.waitUntilWebhookBodiesShredded`). Named call point: absent until that part is merged,
   * and then erase() does not wait for it.
   */
  readonly waitUntilWebhookBodiesShredded?: (before: Date) => Promise<void>;
  readonly clock: { now(): Date };
}

/**
 * receipt's part in erasure and export (GDPR articles 17 and 15): the customer's inbound messages lose their content
 * (kept pseudonymised for the tenant's history), their service windows go, the tenant feed's events about them are
 * rewritten without content under the pseudonym and their callback deliveries deleted. It then waits until the webhook
 * bodies queued before it (Meta's raw bodies, several customers to a body) are shredded, erases again what those may
 * have recorded meanwhile, and checkpoints both files' WALs. Export: the customer's inbound messages and feed events, read in pages.
 */
export function createReceiptCustomerDataParticipant(deps: ReceiptCustomerDataDeps): CustomerDataParticipant {
  return {
    service: 'receipt',
    async erase({ tenantId, customer, customerRef }: CustomerDataSubject) {
      const startedAt = deps.clock.now();
      const eraseOnce = async () => {
        const inbound = await deps.intake.inboundStore.eraseCustomer(tenantId, customer, customerRef);
        const feed = await deps.feed.store.eraseCustomer(tenantId, customer, customerRef);
        const sent = await deps.intake.receiptStore.eraseCustomer(tenantId, customer, customerRef);
        return [inbound.messages, inbound.windows, feed.events, feed.deliveries, sent.sentMessages, sent.heldStatuses] as const;
      };
      const first = await eraseOnce();
      let second: readonly number[] = [0, 0, 0, 0, 0, 0];
      if (deps.waitUntilWebhookBodiesShredded) {
        // A webhook queued before the erasure and processed since may have recorded the customer again: once every
        // such body is unreadable nothing more can come, and a second pass erases what did.
        await deps.waitUntilWebhookBodiesShredded(startedAt);
        second = await eraseOnce();
      }
      await deps.intake.flush();
      await deps.feed.flush();
      const [messages, windows, events, deliveries, sentMessages, heldStatuses] = first.map((count, index) => count + (second[index] ?? 0));
      return {
        inbound_messages: messages ?? 0,
        service_windows: windows ?? 0,
        feed_events: events ?? 0,
        callback_deliveries: deliveries ?? 0,
        sent_message_recipients: sentMessages ?? 0,
        held_statuses: heldStatuses ?? 0,
      };
    },
    exportCustomer: (subject) => exportCustomer(deps, subject),
  };
}

async function* exportCustomer(
  deps: ReceiptCustomerDataDeps,
  { tenantId, customer }: CustomerDataSubject,
): AsyncIterable<CustomerDataRecord> {
  let after: { occurredAt: Date; waMessageId: string } | undefined;
  for (;;) {
    const page = await deps.intake.inboundStore.customerMessages(tenantId, customer, { ...(after ? { after } : {}), limit: EXPORT_PAGE });
    for (const message of page) yield { section: 'inbound.jsonl', record: { ...message } };
    const last = page.at(-1);
    if (!last || page.length < EXPORT_PAGE) break;
    after = { occurredAt: last.occurredAt, waMessageId: last.waMessageId };
  }
  let sequence = 0;
  for (;;) {
    const events = await deps.feed.store.readEvents(tenantId, { after: sequence, limit: EXPORT_PAGE, filter: { customers: [customer] } });
    for (const event of events) yield { section: 'feed-events.jsonl', record: { ...event } };
    const last = events.at(-1);
    if (!last || events.length < EXPORT_PAGE) break;
    sequence = last.sequence;
  }
}
