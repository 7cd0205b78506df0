import {
  FailedPreconditionError,
  IdempotencyConflictError,
  InvalidArgumentError,
  NotFoundError,
  newId,
  decideStatus,
  orderStatusEvents,
  validateMessageId,
  type Clock,
  type FieldViolation,
  type MessageContent,
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
import type { ParameterSealer } from './parameter-sealer';
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

/** Meta's longest send TTL for authentication templates (message_send_ttl_seconds 30-900). */
export const MAX_AUTHENTICATION_VALIDITY_SECONDS = 900;

/** A request may not pass off its own text as sealed text: only ingress seals, and delivery-retry opens only that. */
function rejectSealedParameters(content: MessageContent, sealer: ParameterSealer): void {
  if (content.kind !== 'template') return;
  const violations: FieldViolation[] = [];
  content.components.forEach((component, c) =>
    component.parameters.forEach((parameter, p) => {
      if (parameter.value.type === 'text' && sealer.isSealed(parameter.value.text))
        violations.push({
          field: `template.components[${c}].parameters[${p}].text`,
          reason: 'RESERVED_PREFIX',
          description: 'a parameter may not start with the sealed-value prefix Waygate reserves',
        });
    }),
  );
  if (violations.length > 0) throw new InvalidArgumentError(violations);
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
  /**
   * Seals the code of authentication templates before the message is stored or published (see parameter-sealer.ts).
   * Without it (unit tests of other behaviour) authentication parameters stay as sent.
   */
  sealer?: ParameterSealer;
}): MessagingService {
  const { store, publisher, canceller, clock, events } = deps;
  const metrics = deps.metrics ?? NO_MESSAGING_METRICS;
  const policies = deps.policies ?? [];
  const sealer = deps.sealer;

  /** Whether a stored request hash belongs to this request (authentication messages keep a keyed hash). */
  function sameRequest(storedHash: string, requestHash: string): boolean {
    return storedHash === requestHash || (sealer !== undefined && storedHash === sealer.keyedRequestHash(requestHash));
  }

  async function getOwned(tenant: Tenant, messageId: string): Promise<OutboundMessage> {
    validateMessageId('message_id', messageId);
    // Scoped by tenant: another tenant's message id is indistinguishable from an unknown one.
    const message = await store.get(tenant.id, messageId);
    if (!message) throw new NotFoundError('message', messageId);
    return { ...message, timeline: orderStatusEvents(message.timeline) };
  }

  /** Messages published whose mark is not yet committed: a retry meanwhile must not publish them again. */
  const marking = new Set<string>();

  /**
   * Hands the message to delivery; if that fails the outbox relay retries, so acceptance still stands. The answer
   * does not wait for the published mark to be durable (issue 15: one commit less per send on the answer's path):
   * what must be durable before SendMessage answers is the message (insertIfAbsent) and its MessageAccepted in
   * JetStream (the PubAck). A mark lost in a crash only makes the outbox relay publish the message again, under the
   * same Nats-Msg-Id: JetStream drops it within its duplicate window, and delivery-retry's insert is idempotent by
   * message id after it.
   */
  async function handOff(message: DeliverableMessage): Promise<void> {
    try {
      await publisher.publishAccepted(message);
    } catch (error) {
      events.publishDeferred(message, error);
      return;
    }
    const key = `${message.tenantId}/${message.messageId}`;
    marking.add(key);
    store.markPublished(message.tenantId, message.messageId).then(
      () => marking.delete(key),
      (error: unknown) => {
        marking.delete(key);
        events.publishDeferred(message, error);
      },
    );
  }

  /** Whether the message still needs its hand-off (not published, nor being marked published, and deliverable). */
  function needsHandOff(message: OutboundMessage): message is DeliverableMessage {
    return !message.published && !marking.has(`${message.tenantId}/${message.messageId}`) && isDeliverable(message);
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
      // The status state only: the content is not needed (nor opened) to apply a report.
      const message = await store.getStatusState(report.tenantId, report.messageId);
      if (!message) return 'unknown-message';
      if (message.eventIds.has(report.eventId)) return 'duplicate';
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
      if (sealer) rejectSealedParameters(valid.content, sealer);
      // A retry is answered from the store before any policy runs: it must not be refused because the window has
      // closed since, nor count against the rate limit again.
      const earlier = await store.findByIdempotencyKey(tenant.id, valid.idempotencyKey);
      if (earlier) {
        if (!sameRequest(earlier.requestHash, valid.requestHash)) throw new IdempotencyConflictError(valid.idempotencyKey);
        if (needsHandOff(earlier)) await handOff(earlier);
        return earlier;
      }
      const now = clock.now();
      const facts = await runSendPolicies(policies, { tenant, request: valid, now });
      const validitySeconds = valid.validityExplicit ? valid.validitySeconds : (facts.defaultValiditySeconds ?? valid.validitySeconds);
      const validUntil = now.getTime() + validitySeconds * 1000;
      // An authentication code is sealed under a key destroyed soon after (parameter-sealer.ts): its message is never
      // kept for delivery longer than Meta's longest authentication TTL, 15 minutes.
      const sealing = sealer !== undefined && facts.templateCategory === 'AUTHENTICATION' && valid.content.kind === 'template';
      const notAfterMs = Math.min(
        facts.notAfter?.getTime() ?? Infinity,
        sealing ? now.getTime() + MAX_AUTHENTICATION_VALIDITY_SECONDS * 1000 : Infinity,
      );
      const expiresAt = new Date(Math.min(validUntil, notAfterMs));
      const messageId = newId('msg', now);
      // A reaction is stored (and delivered) naming the wamid it reacts to, as the reply-target policy resolved it.
      const content =
        valid.content.kind === 'reaction' && facts.reactionWaMessageId
          ? { ...valid.content, messageId: facts.reactionWaMessageId }
          : sealing && sealer && valid.content.kind === 'template'
            ? await sealer.seal(tenant.id, valid.content)
            : valid.content;
      const requestHash = sealing && sealer ? sealer.keyedRequestHash(valid.requestHash) : valid.requestHash;
      const candidate: OutboundMessage = {
        tenantId: tenant.id,
        messageId,
        idempotencyKey: valid.idempotencyKey,
        requestHash,
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
      if (!inserted && !sameRequest(message.requestHash, valid.requestHash)) throw new IdempotencyConflictError(valid.idempotencyKey);
      if (inserted) {
        metrics.accepted(tenant.id);
        metrics.statusChanged(tenant.id, 'ACCEPTED');
      }
      // A replay after the content was deleted (e.g. cancelled before the hand-off) has nothing left to hand off.
      if (needsHandOff(message)) await handOff(message);
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
