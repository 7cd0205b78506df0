import { isFailureRetriedByDelivery, isTerminalStatus, nextStatus, type MessageStatus } from '@waygate/domain';

/** What the feed remembers about one message, to decide which reports are news for the tenant. */
export interface MessageFeedState {
  readonly status: MessageStatus;
  readonly waMessageId?: string;
  readonly recipient?: string;
  /** A FAILED after delivery was already surfaced (at most one is). */
  readonly failureSurfaced: boolean;
}

/** A status report about a message, from delivery-retry (Cloud API answers) or receipt (WhatsApp webhooks). */
export interface StatusReport {
  readonly tenantId: string;
  readonly messageId: string;
  readonly status: MessageStatus;
  /** WhatsApp's timestamp for webhook statuses. */
  readonly occurredAt: Date;
  readonly waMessageId?: string;
  readonly recipient?: string;
  readonly errorCode?: number;
  readonly errorTitle?: string;
}

/** One status event to emit. */
export interface StatusChangeDraft {
  readonly status: MessageStatus;
  readonly messageStatus: MessageStatus;
  readonly implied?: boolean;
  readonly errorCode?: number;
  readonly errorTitle?: string;
}

const PROGRESS_RANK: Partial<Record<MessageStatus, number>> = { ACCEPTED: 1, SENT: 2, DELIVERED: 3, READ: 4 };

/** A message the feed has not heard of yet is ACCEPTED (ingress stored it; nothing else is known). */
const UNKNOWN_MESSAGE: MessageFeedState = { status: 'ACCEPTED', failureSurfaced: false };

/**
 * Applies a status report to what the feed knows about the message (the feed's rules, see README "Events for
 * tenants"):
 * - statuses only move forward (the shared `nextStatus`); an event is emitted when the message's status changes,
 *   with `status` (what happened) and `messageStatus` (the status after it);
 * - READ before DELIVERED emits an implied DELIVERED, then READ; a late DELIVERED after READ emits nothing;
 * - FAILED after DELIVERED/READ (one of several devices failed) is surfaced once, with its error, while the message
 *   stays DELIVERED/READ;
 * - FAILED, EXPIRED and CANCELED end the message: nothing after them is emitted;
 * - ACCEPTED reports (delivery-retry's attempt reports) are not tenant events.
 * Returns `undefined` when neither the state nor the log changes.
 */
export function applyStatusReport(
  state: MessageFeedState | undefined,
  report: StatusReport,
): { state: MessageFeedState; changes: StatusChangeDraft[] } | undefined {
  const current = state ?? UNKNOWN_MESSAGE;
  // What a report teaches about the message (its wamid, its recipient) is kept even when it is not news.
  const learned: MessageFeedState = {
    ...current,
    ...(current.waMessageId === undefined && report.waMessageId ? { waMessageId: report.waMessageId } : {}),
    ...(current.recipient === undefined && report.recipient ? { recipient: report.recipient } : {}),
  };
  const unchanged = () =>
    learned.waMessageId === current.waMessageId && learned.recipient === current.recipient ? undefined : { state: learned, changes: [] };

  if (report.status === 'ACCEPTED' || isTerminalStatus(current.status)) return unchanged();
  // delivery-retry sends the message again for such a failure (e.g. 131049 after 24 h); only its outcome is news.
  // delivery-retry itself only ever reports final failures, so this can only be a webhook's.
  if (report.status === 'FAILED' && isFailureRetriedByDelivery(report.errorCode)) return unchanged();
  const error = report.status === 'FAILED' ? errorOf(report) : {};
  const next = nextStatus(current.status, report.status);
  if (next !== current.status) {
    const changes: StatusChangeDraft[] = [];
    if (report.status === 'READ' && (PROGRESS_RANK[current.status] ?? 0) < (PROGRESS_RANK.DELIVERED ?? 0)) {
      changes.push({ status: 'DELIVERED', messageStatus: 'DELIVERED', implied: true });
    }
    changes.push({ status: report.status, messageStatus: next, ...error });
    return { state: { ...learned, status: next }, changes };
  }
  // nextStatus keeps DELIVERED/READ on a failure: surface it once, the message's status stays.
  if (report.status === 'FAILED' && !current.failureSurfaced) {
    return { state: { ...learned, failureSurfaced: true }, changes: [{ status: 'FAILED', messageStatus: current.status, ...error }] };
  }
  return unchanged();
}

function errorOf(report: StatusReport): { errorCode?: number; errorTitle?: string } {
  return {
    ...(report.errorCode ? { errorCode: report.errorCode } : {}),
    ...(report.errorTitle ? { errorTitle: report.errorTitle } : {}),
  };
}
