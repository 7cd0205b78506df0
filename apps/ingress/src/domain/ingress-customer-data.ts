import type { CustomerDataParticipant, CustomerDataRecord, CustomerDataSubject } from '@waygate/domain';
import { customerKeyOfWaId, type CustomerKey, type CustomerView } from './customer-view';
import type { MessageCursor, MessageStore } from './message-store';
import type { OptOutList } from './opt-out-list';
import { customerNumbersOf } from './opt-out-policy';
import type { OutboundMessage } from './outbound-message';
import type { VerificationStore } from './verification-store';
import { waIdCandidates } from './wa-id';

/** How many rows an export reads at a time (it never holds a customer's whole history in memory). */
export const EXPORT_PAGE_SIZE = 200;

/** Every key the customer view may know the customer by: the wa_id Meta answered for the number, and its variants. */
function customerKeysOf(customer: string, learnedWaId: string | undefined): CustomerKey[] {
  return [...new Set([...(learnedWaId ? [customerKeyOfWaId(learnedWaId)] : []), ...waIdCandidates(customer)])];
}

function messageRecord(message: OutboundMessage): Record<string, unknown> {
  return {
    message_id: message.messageId,
    idempotency_key: message.idempotencyKey,
    to: message.to,
    phone_number_id: message.phoneNumberId,
    status: message.status,
    content_type: message.contentType,
    content_summary: message.contentSummary,
    // Undefined once deleted (terminal status) or erased.
    content: message.content ?? null,
    ...(message.templateCategory ? { template_category: message.templateCategory } : {}),
    ...(message.waMessageId ? { wa_message_id: message.waMessageId } : {}),
    ...(message.replyToWaMessageId ? { reply_to_wa_message_id: message.replyToWaMessageId } : {}),
    accepted_at: message.acceptedAt.toISOString(),
    expires_at: message.expiresAt.toISOString(),
    timeline: message.timeline.map((entry) => ({
      status: entry.status,
      occurred_at: entry.occurredAt.toISOString(),
      source: entry.source,
      ...(entry.errorCode !== undefined ? { error_code: entry.errorCode } : {}),
      ...(entry.errorTitle !== undefined ? { error_title: entry.errorTitle } : {}),
      ...(entry.attempt !== undefined ? { attempt: entry.attempt } : {}),
    })),
  };
}

/**
 * ingress's part in erasure and export (issue 14). Erasure:
 * - messages to the customer: content and summary deleted, recipient replaced by the customer reference, request hash
 *   dropped; ids, status, timeline, times, content type and wamids stay (billing, audit, delivery reports);
 * - verifications sent to the number: deleted (code hashes included);
 * - the customer view: the customer's service windows, inbound-message index entries and learned wa_id deleted (a
 *   free-form send is refused until the customer writes again: the window is the customer's data);
 * - the opt-out list is NOT erased: an objection to marketing is a legal record the tenant must keep honouring
 *   (GDPR art. 17(3)(b) and 21(3)); it holds only the number, its source and time, and a STOP keeps working.
 * Then the WAL of every SQLite file changed is checkpointed and truncated. Idempotent.
 */
export function createIngressCustomerData(deps: {
  readonly messages: MessageStore;
  readonly customers: CustomerView;
  readonly optOuts: OptOutList;
  readonly verifications: VerificationStore;
}): CustomerDataParticipant {
  return {
    service: 'ingress',
    async erase(subject: CustomerDataSubject): Promise<Record<string, number>> {
      const learned = await deps.customers.findWaId(subject.tenantId, subject.customer);
      const keys = customerKeysOf(subject.customer, learned);
      const messages = await deps.messages.eraseCustomer(subject);
      const verifications = await deps.verifications.eraseCustomer(subject.tenantId, subject.customer);
      const customerView = await deps.customers.eraseCustomer(subject.tenantId, subject.customer, keys);
      await Promise.all([deps.messages.flushDeleted(), deps.verifications.flushDeleted(), deps.customers.flushDeleted()]);
      return { messages, verifications, customer_view_rows: customerView };
    },
    async *exportCustomer(subject: CustomerDataSubject): AsyncIterable<CustomerDataRecord> {
      const { tenantId, customer } = subject;
      // By number, then the rows an earlier erasure pseudonymised (they name the customer reference).
      for (const to of [customer, subject.customerRef]) {
        let after: MessageCursor | undefined;
        for (;;) {
          const page = await deps.messages.listMessages({ tenantId, to, limit: EXPORT_PAGE_SIZE, ...(after ? { after } : {}) });
          for (const message of page) yield { section: 'messages.jsonl', record: messageRecord(message) };
          const last = page.at(-1);
          if (page.length < EXPORT_PAGE_SIZE || !last) break;
          after = { acceptedAt: last.acceptedAt, messageId: last.messageId };
        }
      }
      let afterVerificationId: string | undefined;
      for (;;) {
        const page = await deps.verifications.listFor(tenantId, customer, {
          limit: EXPORT_PAGE_SIZE,
          ...(afterVerificationId ? { afterVerificationId } : {}),
        });
        for (const verification of page) {
          // Never the code's hash.
          yield {
            section: 'verifications.jsonl',
            record: {
              verification_id: verification.verificationId,
              to: verification.to,
              phone_number_id: verification.phoneNumberId,
              template: `${verification.templateName} (${verification.templateLanguage})`,
              status: verification.status,
              checks: verification.checks,
              created_at: verification.createdAt.toISOString(),
              expires_at: verification.expiresAt.toISOString(),
              ...(verification.errorCode !== undefined ? { error_code: verification.errorCode } : {}),
            },
          };
        }
        afterVerificationId = page.at(-1)?.verificationId;
        if (page.length < EXPORT_PAGE_SIZE || !afterVerificationId) break;
      }
      const learned = await deps.customers.findWaId(tenantId, customer);
      if (learned) yield { section: 'customer-view.jsonl', record: { kind: 'wa_id', to: customer, wa_id: learned } };
      const keys = customerKeysOf(customer, learned);
      for (const window of await deps.customers.customerWindows(tenantId, keys)) {
        yield {
          section: 'customer-view.jsonl',
          record: {
            kind: 'service_window',
            phone_number_id: window.phoneNumberId,
            customer_key: window.customerKey,
            last_inbound_at: window.lastInboundAt.toISOString(),
            closes_at: window.closesAt.toISOString(),
          },
        };
      }
      let afterWaMessageId: string | undefined;
      for (;;) {
        const page = await deps.customers.listInboundOf(tenantId, customer, keys, {
          limit: EXPORT_PAGE_SIZE,
          ...(afterWaMessageId ? { afterWaMessageId } : {}),
        });
        for (const inbound of page) {
          yield {
            section: 'customer-view.jsonl',
            record: {
              kind: 'inbound_message',
              wa_message_id: inbound.waMessageId,
              phone_number_id: inbound.phoneNumberId,
              occurred_at: inbound.occurredAt.toISOString(),
            },
          };
        }
        afterWaMessageId = page.at(-1)?.waMessageId;
        if (page.length < EXPORT_PAGE_SIZE || !afterWaMessageId) break;
      }
      const optOut = await deps.optOuts.findAny(tenantId, await customerNumbersOf(deps.customers, tenantId, customer));
      if (optOut) {
        yield {
          section: 'opt-outs.jsonl',
          record: { customer: optOut.customer, source: optOut.source, created_at: optOut.createdAt.toISOString() },
        };
      }
    },
  };
}
