import { ACCEPTED_STATE, decideStatus, type ContentKind, type MessageStatus, type StatusSource } from '@waygate/domain';

/** What the feed remembers about one message, to decide which reports are news for the tenant. */
export interface MessageFeedState {
  readonly status: MessageStatus;
  readonly waMessageId?: string;
  readonly recipient?: string;
  /** A FAILED after delivery was already surfaced (at most one is). */
  readonly failureSurfaced: boolean;
  /** What the message carries, from its MessageAccepted (once the feed has seen it). */
  readonly contentType?: ContentKind;
  /** ingress's content summary, from its MessageAccepted. */
  readonly contentSummary?: string;
}

/** A status report about a message, from delivery-retry (Cloud API answers) or receipt (WhatsApp webhooks). */
export interface StatusReport {
  readonly tenantId: string;
  readonly messageId: string;
  readonly status: MessageStatus;
  /** delivery-retry's reports are its final word; a webhook's failure may be one delivery-retry sends again. */
  readonly source: StatusSource;
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

/**
 * Applies a status report to what the feed knows about the message. The decision is the shared state machine's
 * (`decideStatus` in libs/domain, docs/message-status.md); the feed turns its transitions into tenant events:
 * - an event is emitted per transition, with `status` (what happened) and `messageStatus` (the status after it);
 * - READ before DELIVERED emits an implied DELIVERED, then READ; a late DELIVERED after READ emits nothing;
 * - FAILED after DELIVERED/READ is surfaced once, with its error, while the message stays DELIVERED/READ;
 * - FAILED, EXPIRED and CANCELED end the message: nothing after them is emitted;
 * - ACCEPTED reports (delivery-retry's attempt reports) and failures delivery-retry sends again are not news.
 * Returns `undefined` when neither the state nor the log changes.
 */
export function applyStatusReport(
  state: MessageFeedState | undefined,
  report: StatusReport,
): { state: MessageFeedState; changes: StatusChangeDraft[] } | undefined {
  // A message the feed has not heard of yet is ACCEPTED (ingress stored it; nothing else is known).
  const current: MessageFeedState = state ?? ACCEPTED_STATE;
  // What a report teaches about the message (its wamid, its recipient) is kept even when it is not news.
  const learned: MessageFeedState = {
    ...current,
    ...(current.waMessageId === undefined && report.waMessageId ? { waMessageId: report.waMessageId } : {}),
    ...(current.recipient === undefined && report.recipient ? { recipient: report.recipient } : {}),
  };
  const decision = decideStatus(current, report);
  if (decision.transitions.length === 0) {
    return learned.waMessageId === current.waMessageId && learned.recipient === current.recipient
      ? undefined
      : { state: learned, changes: [] };
  }
  const changes = decision.transitions.map((transition): StatusChangeDraft => ({
    status: transition.status,
    messageStatus: transition.messageStatus,
    ...(transition.implied ? { implied: true } : {}),
    ...(transition.status === 'FAILED' && !transition.implied ? errorOf(report) : {}),
  }));
  return { state: { ...learned, ...decision.state }, changes };
}

function errorOf(report: StatusReport): { errorCode?: number; errorTitle?: string } {
  return {
    ...(report.errorCode ? { errorCode: report.errorCode } : {}),
    ...(report.errorTitle ? { errorTitle: report.errorTitle } : {}),
  };
}
