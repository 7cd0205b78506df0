import { ACCEPTED_STATE, type Clock, type ContentKind } from '@waygate/domain';
import type { TenantDirectory } from '@waygate/tenancy';
import { applyStatusReport, type StatusReport } from './feed-rules';
import type { TenantFeedStore } from './feed-store';
import { inboundEventId, statusEventId, type InboundMessage, type NewTenantEvent, type TenantEvent } from './tenant-event';

/** An inbound message as receipt announces it. */
export interface InboundReport {
  readonly tenantId: string;
  readonly occurredAt: Date;
  readonly message: InboundMessage;
}

/** A message ingress accepted (MessageAccepted): what it carries. */
export interface AcceptedReport {
  readonly tenantId: string;
  readonly messageId: string;
  readonly contentType: ContentKind;
  readonly contentSummary: string;
}

/** What recording one report did, for logs and the consumer's ack. */
export type RecordOutcome =
  | { readonly kind: 'appended'; readonly events: TenantEvent[] }
  | { readonly kind: 'no-news' }
  | { readonly kind: 'not-ours'; readonly reason: 'unknown tenant' | 'tenant homed in another region' };

export interface FeedBuilder {
  /** Applies a status report; idempotent (a redelivered or duplicated report appends nothing new). */
  recordStatus(report: StatusReport): Promise<RecordOutcome>;
  /** Appends an inbound message; idempotent by its wamid. */
  recordInbound(report: InboundReport): Promise<RecordOutcome>;
  /** Remembers what an accepted message carries, so its status events show it; appends nothing. Idempotent. */
  recordAccepted(report: AcceptedReport): Promise<RecordOutcome>;
}

/**
 * Builds the tenants' event logs from status reports and inbound messages. `onAppended` is told after the store
 * committed, so whoever it wakes finds the events.
 */
export function createFeedBuilder(deps: {
  store: TenantFeedStore;
  tenants: TenantDirectory;
  region: string;
  clock: Clock;
  onAppended: (tenantId: string) => void;
}): FeedBuilder {
  const { store, tenants, region, clock, onAppended } = deps;

  function ownership(tenantId: string): RecordOutcome | undefined {
    const tenant = tenants.get(tenantId);
    if (!tenant) return { kind: 'not-ours', reason: 'unknown tenant' };
    if (tenant.homeRegion !== region) return { kind: 'not-ours', reason: 'tenant homed in another region' };
    return undefined;
  }

  function appended(tenantId: string, events: TenantEvent[]): RecordOutcome {
    if (events.length === 0) return { kind: 'no-news' };
    onAppended(tenantId);
    return { kind: 'appended', events };
  }

  return {
    async recordStatus(report) {
      const notOurs = ownership(report.tenantId);
      if (notOurs) return notOurs;
      if (report.status === 'ACCEPTED') return { kind: 'no-news' };
      const recordedAt = clock.now();
      const events = await store.applyToMessage(report.tenantId, report.messageId, recordedAt, (state) => {
        const applied = applyStatusReport(state, report);
        if (!applied) return undefined;
        const { waMessageId, recipient, contentType, contentSummary } = applied.state;
        return {
          state: applied.state,
          events: applied.changes.map((change): NewTenantEvent => ({
            type: 'status',
            tenantId: report.tenantId,
            eventId: statusEventId(report.messageId, change.status),
            occurredAt: report.occurredAt,
            recordedAt,
            status: {
              messageId: report.messageId,
              ...(waMessageId ? { waMessageId } : {}),
              ...(recipient ? { recipient } : {}),
              ...(contentType ? { contentType } : {}),
              ...(contentSummary ? { contentSummary } : {}),
              ...change,
            },
          })),
        };
      });
      return appended(report.tenantId, events);
    },

    async recordAccepted(report) {
      const notOurs = ownership(report.tenantId);
      if (notOurs) return notOurs;
      await store.applyToMessage(report.tenantId, report.messageId, clock.now(), (state) =>
        state?.contentType === report.contentType && state.contentSummary === report.contentSummary
          ? undefined
          : {
              // A message the feed has not heard of yet is ACCEPTED; a status that came first is kept.
              state: { ...(state ?? ACCEPTED_STATE), contentType: report.contentType, contentSummary: report.contentSummary },
              events: [],
            },
      );
      return { kind: 'no-news' };
    },

    async recordInbound(report) {
      const notOurs = ownership(report.tenantId);
      if (notOurs) return notOurs;
      const event = await store.appendEvent({
        type: 'inbound',
        tenantId: report.tenantId,
        eventId: inboundEventId(report.message.waMessageId),
        occurredAt: report.occurredAt,
        recordedAt: clock.now(),
        inbound: report.message,
      });
      return appended(report.tenantId, event ? [event] : []);
    },
  };
}
