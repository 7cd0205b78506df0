import type { CustomerDataParticipant, CustomerDataRecord, CustomerDataSubject } from '@waygate/domain';
import type { CancelOutcome } from './delivery-cancellation';
import type { DeliveryStore, StoredDelivery } from './delivery-store';

/** How many deliveries an erasure or export reads at a time. */
export const CUSTOMER_PAGE_SIZE = 200;

/** A send to the erased customer is in flight: erasure is retried once its outcome is recorded (the lease is short). */
export class DeliveryInFlightError extends Error {
  override readonly name = 'DeliveryInFlightError';
  readonly retryable = true;
  constructor(readonly count: number) {
    super(`${count} send(s) to the customer are in flight; erasure is retried after they are recorded`);
  }
}

function deliveryRecord(stored: StoredDelivery): Record<string, unknown> {
  const { delivery } = stored;
  return {
    message_id: delivery.messageId,
    to: delivery.to,
    phone_number_id: delivery.phoneNumberId,
    state: delivery.state,
    attempts: delivery.attempts,
    content: delivery.content ?? null,
    ...(delivery.waMessageId ? { wa_message_id: delivery.waMessageId } : {}),
    ...(delivery.lastErrorCode !== undefined ? { last_error_code: delivery.lastErrorCode } : {}),
    ...(delivery.lastErrorTitle !== undefined ? { last_error_title: delivery.lastErrorTitle } : {}),
    ...(delivery.nextAttemptAt ? { next_attempt_at: delivery.nextAttemptAt.toISOString() } : {}),
    accepted_at: delivery.acceptedAt.toISOString(),
    expires_at: delivery.expiresAt.toISOString(),
    updated_at: delivery.updatedAt.toISOString(),
  };
}

/**
 * delivery-retry's part in erasure and export (issue 14). Erasure first stops every PENDING delivery to the customer
 * (CANCELED, announced like any cancel, never sent afterwards; a send in flight makes the erasure retry once its
 * outcome is recorded), then deletes the content of every delivery to the customer, replaces the number by the
 * customer reference in the rows and in unpublished outbox events (state, attempts, errors, wamids and times stay for
 * billing and audit), deletes the pair pacing states naming the number, and truncates the WAL. Idempotent.
 */
export function createDeliveryCustomerData(deps: {
  readonly store: DeliveryStore;
  readonly cancel: (tenantId: string, messageId: string) => Promise<CancelOutcome>;
}): CustomerDataParticipant {
  return {
    service: 'delivery-retry',
    async erase(subject: CustomerDataSubject): Promise<Record<string, number>> {
      let stopped = 0;
      let inFlight = 0;
      let afterMessageId: string | undefined;
      for (;;) {
        const page = await deps.store.listForCustomer(subject.tenantId, subject.customer, {
          limit: CUSTOMER_PAGE_SIZE,
          ...(afterMessageId ? { afterMessageId } : {}),
        });
        for (const stored of page) {
          if (stored.delivery.state !== 'PENDING') continue;
          const outcome = await deps.cancel(subject.tenantId, stored.delivery.messageId);
          if (outcome.kind === 'in-flight') inFlight++;
          else if (outcome.kind === 'canceled') stopped++;
        }
        afterMessageId = page.at(-1)?.delivery.messageId;
        if (page.length < CUSTOMER_PAGE_SIZE || !afterMessageId) break;
      }
      // Rows stay addressable by number until every send in flight is recorded: the retry finds them again.
      if (inFlight > 0) throw new DeliveryInFlightError(inFlight);
      const erased = await deps.store.eraseCustomer(subject);
      await deps.store.flushDeleted();
      return { deliveries_stopped: stopped, delivery_rows_erased: erased };
    },
    async *exportCustomer(subject: CustomerDataSubject): AsyncIterable<CustomerDataRecord> {
      // By number, then the rows an earlier erasure pseudonymised.
      for (const to of [subject.customer, subject.customerRef]) {
        let afterMessageId: string | undefined;
        for (;;) {
          const page = await deps.store.listForCustomer(subject.tenantId, to, {
            limit: CUSTOMER_PAGE_SIZE,
            ...(afterMessageId ? { afterMessageId } : {}),
          });
          for (const stored of page) yield { section: 'deliveries.jsonl', record: deliveryRecord(stored) };
          afterMessageId = page.at(-1)?.delivery.messageId;
          if (page.length < CUSTOMER_PAGE_SIZE || !afterMessageId) break;
        }
      }
    },
  };
}
