import {
  IdempotencyConflictError,
  NotFoundError,
  newId,
  nextStatus,
  orderStatusEvents,
  type Clock,
  type MessageStatus,
} from '@waygate/domain';
import type { Tenant } from '@waygate/tenancy';
import type { MessagePublisher } from './message-publisher';
import type { MessageStore } from './message-store';
import type { OutboundMessage, StatusSource } from './outbound-message';
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
  applyStatusReport(report: StatusReport): Promise<StatusReportOutcome>;
  /** Publishes messages whose hand-off failed earlier (the outbox relay); returns how many it published. */
  publishPending(olderThanMs: number): Promise<number>;
}

export function createMessagingService(deps: {
  store: MessageStore;
  publisher: MessagePublisher;
  clock: Clock;
  events: MessagingEvents;
}): MessagingService {
  const { store, publisher, clock, events } = deps;

  /** Hands the message to delivery; if that fails the outbox relay retries, so acceptance still stands. */
  async function handOff(message: OutboundMessage): Promise<void> {
    try {
      await publisher.publishAccepted(message);
      await store.markPublished(message.tenantId, message.messageId);
    } catch (error) {
      events.publishDeferred(message, error);
    }
  }

  return {
    async send(tenant, request) {
      const valid = validateSendRequest(request, tenant);
      const now = clock.now();
      const messageId = newId('msg', now);
      const candidate: OutboundMessage = {
        tenantId: tenant.id,
        messageId,
        idempotencyKey: valid.idempotencyKey,
        requestHash: valid.requestHash,
        to: valid.to,
        phoneNumberId: valid.phoneNumberId,
        content: valid.content,
        status: 'ACCEPTED',
        acceptedAt: now,
        expiresAt: new Date(now.getTime() + valid.validitySeconds * 1000),
        published: false,
        version: 1,
        timeline: [{ eventId: `${messageId}:accepted`, status: 'ACCEPTED', occurredAt: now, source: 'ingress' }],
      };
      const { inserted, message } = await store.insertIfAbsent(candidate);
      if (!inserted && message.requestHash !== valid.requestHash) throw new IdempotencyConflictError(valid.idempotencyKey);
      if (!message.published) await handOff(message);
      return message;
    },

    async get(tenant, messageId) {
      const message = messageId ? await store.get(tenant.id, messageId) : undefined;
      if (!message) throw new NotFoundError('message', messageId);
      return { ...message, timeline: orderStatusEvents(message.timeline) };
    },

    async applyStatusReport(report) {
      for (let attempt = 0; attempt < MAX_STATUS_WRITE_ATTEMPTS; attempt++) {
        const message = await store.get(report.tenantId, report.messageId);
        if (!message) return 'unknown-message';
        if (message.timeline.some((entry) => entry.eventId === report.eventId)) return 'duplicate';
        const recorded = await store.recordStatusChange({
          tenantId: report.tenantId,
          messageId: report.messageId,
          expectedVersion: message.version,
          status: nextStatus(message.status, report.status),
          waMessageId: message.waMessageId ?? report.waMessageId,
          entry: {
            eventId: report.eventId,
            status: report.status,
            occurredAt: report.occurredAt,
            source: report.source,
            errorCode: report.errorCode,
            errorTitle: report.errorTitle,
          },
        });
        if (recorded) return 'applied';
      }
      throw new Error(`message ${report.messageId} kept changing; status report left for redelivery`);
    },

    async publishPending(olderThanMs) {
      const pending = await store.listUnpublished(new Date(clock.now().getTime() - olderThanMs), 100);
      let published = 0;
      for (const message of pending) {
        await publisher.publishAccepted(message);
        await store.markPublished(message.tenantId, message.messageId);
        published++;
      }
      return published;
    },
  };
}
