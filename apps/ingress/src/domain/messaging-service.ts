import {
  FailedPreconditionError,
  IdempotencyConflictError,
  NotFoundError,
  newId,
  decideStatus,
  orderStatusEvents,
  validateMessageId,
  type Clock,
  type MessageStatus,
  type StatusDecision,
} from '@waygate/domain';
import type { Tenant } from '@waygate/tenancy';
import { summarizeContent } from './content-summary';
import { deliveryCanceledEventId, type DeliveryCanceller } from './delivery-canceller';
import { listMessages, type ListMessagesRequest, type MessagePage } from './list-messages';
import type { MessagePublisher } from './message-publisher';
import { NO_MESSAGING_METRICS, type MessagingMetrics } from './messaging-metrics';
import type { MessageStore } from './message-store';
import { isDeliverable, type DeliverableMessage, type OutboundMessage, type StatusSource } from './outbound-message';
import { runSendPolicies, type SendPolicy } from './send-policy';
import { validateSendRequest, type SendRequest } from './send-request';

/** A status observed by delivery-retry or receipt, as ingress applies it. */
export interface StatusReport {
  readonly eventId: string;
  readonly tenantId: string;
  readonly messageId: string;
  readonly status: MessageStatus;
  readonly waMessageId?: string;
  readonly occurredAt: Date;
  readonly source: StatusSource;
  readonly errorCode?: number;
  readonly errorTitle?: string;
  /** Delivery reports: which call to the Cloud API this was (1 for the first). */
  readonly attempt?: number;
  /** For an attempt that will be retried (reported with status ACCEPTED): when the next one is due. */
  readonly nextAttemptAt?: Date;
}

export type StatusReportOutcome = 'applied' | 'duplicate' | 'unknown-message';

/** Logging hooks, so the domain reports what happened without depending on a logger. */
export interface MessagingEvents {
  publishDeferred(message: OutboundMessage, error: unknown): void;
}

/** Optimistic-concurrency retries before a status report is handed back to the queue. */
const MAX_STATUS_WRITE_ATTEMPTS = 5;

export interface MessagingService {
  send(tenant: Tenant, request: SendRequest): Promise<OutboundMessage>;
  get(tenant: Tenant, messageId: string): Promise<OutboundMessage>;
  /**
   * Cancels a message WhatsApp has not accepted yet (see docs/message-status.md): delivery is asked to stop it, then
   * CANCELED is recorded and the content deleted. Only a message this tenant sent and ingress stored reaches delivery.
   */
  cancel(tenant: Tenant, messageId: string): Promise<OutboundMessage>;
  /** One page of the tenant's messages, newest first (see list-messages.ts); timelines ordered as `get` orders them. */
  list(tenant: Tenant, request: ListMessagesRequest): Promise<MessagePage>;
  applyStatusReport(report: StatusReport): Promise<StatusReportOutcome>;
  /** Publishes messages whose hand-off failed earlier (the outbox relay); returns how many it published. */
  publishPending(olderThanMs: number): Promise<number>;
}

/** Statuses from which a message can no longer be cancelled, and why, for the caller. */
const NOT_CANCELABLE: Partial<Readonly<Record<MessageStatus, string>>> = {
  SENT: 'WhatsApp has already accepted it',
  DELIVERED: 'it has already been delivered',
  READ: 'it has already been read',
  FAILED: 'it has already failed',
  EXPIRED: 'it has already expired',
};

function notCancelable(messageId: string, status: MessageStatus, reason: string): FailedPreconditionError {
  return new FailedPreconditionError(`message ${messageId} is ${status} and can no longer be canceled: ${reason}`, [
    {
      type: 'MESSAGE_STATUS',
      subject: `messages/${messageId}`,
      description: `status is ${status}; only an ACCEPTED message can be canceled`,
    },
  ]);
}

export function createMessagingService(deps: {
  store: MessageStore;
  publisher: MessagePublisher;
  canceller: DeliveryCanceller;
  clock: Clock;
  events: MessagingEvents;
  /** Checked in order before a new message is stored (see send-policy.ts). */
  policies?: readonly SendPolicy[];
  /** Accepted messages and status changes, by tenant; none counted if omitted. */
  metrics?: MessagingMetrics;
}): MessagingService {
  const { store, publisher, canceller, clock, events } = deps;
  const metrics = deps.metrics ?? NO_MESSAGING_METRICS;
  const policies = deps.policies ?? [];

  async function getOwned(tenant: Tenant, messageId: string): Promise<OutboundMessage> {
    validateMessageId('message_id', messageId);
    // Scoped by tenant: another tenant's message id is indistinguishable from an unknown one.
    const message = await store.get(tenant.id, messageId);
    if (!message) throw new NotFoundError('message', messageId);
    return { ...message, timeline: orderStatusEvents(message.timeline) };
  }

  /** Hands the message to delivery; if that fails the outbox relay retries, so acceptance still stands. */
  async function handOff(message: DeliverableMessage): Promise<void> {
    try {
      await publisher.publishAccepted(message);
      await store.markPublished(message.tenantId, message.messageId);
    } catch (error) {
      events.publishDeferred(message, error);
    }
  }

  /**
   * The decision on a report, by the one state machine (`decideStatus`, docs/message-status.md): e.g. a `failed`
   * webhook whose code delivery-retry retries (131049: not before 24 h) is history, not the end. Ingress records every
   * report in the timeline and publishes no transitions of its own (it only counts those that advance the status), so
   * whether a failure after delivery was already surfaced does not change the status it keeps.
   */
  function decide(current: MessageStatus, report: StatusReport): StatusDecision {
    return decideStatus({ status: current, failureSurfaced: false }, report);
  }

  /** Records a report in the timeline and moves the status as the state machine allows; one effect per event id. */
  async function applyStatusReport(report: StatusReport): Promise<StatusReportOutcome> {
    for (let round = 0; round < MAX_STATUS_WRITE_ATTEMPTS; round++) {
      const message = await store.get(report.tenantId, report.messageId);
      if (!message) return 'unknown-message';
      if (message.timeline.some((entry) => entry.eventId === report.eventId)) return 'duplicate';
      const decision = decide(message.status, report);
      const recorded = await store.recordStatusChange({
        tenantId: report.tenantId,
        messageId: report.messageId,
        expectedVersion: message.version,
        status: decision.state.status,
        // A message sent again (after a failure Meta reported later) has a new wamid; delivery's SENT names it.
        waMessageId:
          report.source === 'delivery' && report.status === 'SENT' && report.waMessageId
            ? report.waMessageId
            : (message.waMessageId ?? report.waMessageId),
        entry: {
          eventId: report.eventId,
          status: report.status,
          occurredAt: report.occurredAt,
          source: report.source,
          errorCode: report.errorCode,
          errorTitle: report.errorTitle,
          attempt: report.attempt,
          nextAttemptAt: report.nextAttemptAt,
        },
      });
      if (recorded) {
        // Counted once the write won: a lost optimistic race is retried and counted by the round that records it.
        if (decision.effect === 'advanced')
          for (const change of decision.transitions) metrics.statusChanged(report.tenantId, change.status);
        return 'applied';
      }
    }
    throw new Error(`message ${report.messageId} kept changing; status report left for redelivery`);
  }

  return {
    async send(tenant, request) {
      const valid = validateSendRequest(request, tenant);
      // A retry is answered from the store before any policy runs: it must not be refused because the window has
      // closed since, nor count against the rate limit again.
      const earlier = await store.findByIdempotencyKey(tenant.id, valid.idempotencyKey);
      if (earlier) {
        if (earlier.requestHash !== valid.requestHash) throw new IdempotencyConflictError(valid.idempotencyKey);
        if (!earlier.published && isDeliverable(earlier)) await handOff(earlier);
        return earlier;
      }
      const now = clock.now();
      const facts = await runSendPolicies(policies, { tenant, request: valid, now });
      const validitySeconds = valid.validityExplicit ? valid.validitySeconds : (facts.defaultValiditySeconds ?? valid.validitySeconds);
      const validUntil = now.getTime() + validitySeconds * 1000;
      const expiresAt = new Date(facts.notAfter ? Math.min(validUntil, facts.notAfter.getTime()) : validUntil);
      const messageId = newId('msg', now);
      // A reaction is stored (and delivered) naming the wamid it reacts to, as the reply-target policy resolved it.
      const content =
        valid.content.kind === 'reaction' && facts.reactionWaMessageId
          ? { ...valid.content, messageId: facts.reactionWaMessageId }
          : valid.content;
      const candidate: OutboundMessage = {
        tenantId: tenant.id,
        messageId,
        idempotencyKey: valid.idempotencyKey,
        requestHash: valid.requestHash,
        to: valid.to,
        phoneNumberId: valid.phoneNumberId,
        content,
        contentType: content.kind,
        contentSummary: summarizeContent(content),
        ...(facts.replyToWaMessageId ? { replyToWaMessageId: facts.replyToWaMessageId } : {}),
        ...(facts.templateCategory ? { templateCategory: facts.templateCategory } : {}),
        status: 'ACCEPTED',
        acceptedAt: now,
        expiresAt,
        published: false,
        version: 1,
        timeline: [{ eventId: `${messageId}:accepted`, status: 'ACCEPTED', occurredAt: now, source: 'ingress' }],
      };
      const { inserted, message } = await store.insertIfAbsent(candidate);
      if (!inserted && message.requestHash !== valid.requestHash) throw new IdempotencyConflictError(valid.idempotencyKey);
      if (inserted) {
        metrics.accepted(tenant.id);
        metrics.statusChanged(tenant.id, 'ACCEPTED');
      }
      // A replay after the content was deleted (e.g. cancelled before the hand-off) has nothing left to hand off.
      if (!message.published && isDeliverable(message)) await handOff(message);
      return message;
    },

    get: getOwned,

    async list(tenant, request) {
      const page = await listMessages(store, tenant.id, request);
      return { ...page, messages: page.messages.map((message) => ({ ...message, timeline: orderStatusEvents(message.timeline) })) };
    },

    async cancel(tenant, messageId) {
      // Only a message this tenant sent and ingress stored goes further: delivery trusts ingress's word and may keep a
      // cancel tombstone for a message it has not seen yet (its MessageAccepted still queued, or not yet published).
      const message = await getOwned(tenant, messageId);
      if (message.status === 'CANCELED') return message;
      const reason = NOT_CANCELABLE[message.status];
      if (reason) throw notCancelable(messageId, message.status, reason);
      // ACCEPTED: only delivery knows whether a send is under way, so it decides (and refuses if it already sent).
      await canceller.cancel(tenant.id, messageId);
      // Same event id as delivery's CANCELED event, so that event is a duplicate when it arrives.
      await applyStatusReport({
        eventId: deliveryCanceledEventId(messageId),
        tenantId: tenant.id,
        messageId,
        status: 'CANCELED',
        occurredAt: clock.now(),
        source: 'delivery',
      });
      return getOwned(tenant, messageId);
    },

    applyStatusReport,

    async publishPending(olderThanMs) {
      const pending = await store.listUnpublished(new Date(clock.now().getTime() - olderThanMs), 100);
      let published = 0;
      for (const message of pending) {
        // The store does not list them; this guard keeps a deleted message from ever reaching delivery regardless.
        if (!isDeliverable(message)) continue;
        await publisher.publishAccepted(message);
        await store.markPublished(message.tenantId, message.messageId);
        published++;
      }
      return published;
    },
  };
}
