import { classifyMetaError, decideStatus, type MessageStatus, type RetryReason } from '@waygate/domain';
import { applyUpdate, eventFor, sentWrite, type Delivery, type DeliveryEvent, type DeliveryState, type DeliveryUpdate } from './delivery';
import type { RetrySettings, WebhookStatusReport } from './delivery-ports';
import { retryAt } from './outcome-classification';

/** The facts of a delivery the reconciliation decides on. */
export type DeliverySnapshot = Pick<Delivery, 'state' | 'attempts' | 'waMessageId' | 'expiresAt'>;

/** The facts of a webhook report the reconciliation decides on. */
export type ReconciledReport = Pick<WebhookStatusReport, 'status' | 'waMessageId' | 'errorCode' | 'errorTitle'>;

/** Meta's error from a `failed` webhook, kept as the delivery's last error. */
export interface ReportedError {
  readonly code?: number;
  readonly title?: string;
}

/**
 * Why a report changes nothing:
 * - `unknown-message`: delivery-retry has no delivery for it;
 * - `after-terminal`: the delivery already ended (FAILED, EXPIRED, CANCELED);
 * - `already-delivered`: the delivery is settled as DELIVERED (a READ, a late report, a failure of one device);
 * - `earlier-send`: the report is about an earlier send of a message that has been sent again or waits to be;
 * - `no-wamid`: a PENDING delivery can only learn of a send from a report that names it;
 * - `not-news`: the state machine says the report is not newer than what is known (a second `sent`).
 */
export type IgnoreReason = 'unknown-message' | 'after-terminal' | 'already-delivered' | 'earlier-send' | 'no-wamid' | 'not-news';

/**
 * What a webhook report does to a delivery. `revealedSend` (PENDING deliveries only) is the wamid of a send whose
 * answer was lost (a crash mid-call, a timeout): the report proves it reached Meta, so it counts as an attempt and
 * its wamid is kept.
 * - `record-sent`: PENDING -> SENT with that wamid, announced (SENT) — instead of sending the message again;
 * - `record-sent-then-delivered`: PENDING -> DELIVERED in one write, announcing the SENT it skipped (receipt announced
 *   the delivery itself);
 * - `settle-delivered`: SENT -> DELIVERED, not announced (receipt did): the content is deleted, it can no longer expire;
 * - `reschedule`: a failure Meta says to retry (131049, 131000, …) while the message is still valid: PENDING again,
 *   due `at`, announced as an attempt that will be retried (ACCEPTED);
 * - `expire`: such a failure after the validity ended: EXPIRED with Meta's error, announced by delivery-retry, because
 *   ingress and the feed treat the webhook's failure as not final and wait for delivery-retry's outcome;
 * - `settle-failed`: a final failure: FAILED, not announced again (the webhook's FAILED is final everywhere);
 * - `ignore`: nothing changes.
 */
export type WebhookReconciliation =
  | { readonly kind: 'record-sent'; readonly waMessageId: string }
  | { readonly kind: 'record-sent-then-delivered'; readonly waMessageId: string }
  | { readonly kind: 'settle-delivered' }
  | {
      readonly kind: 'reschedule';
      readonly at: Date;
      readonly reason: RetryReason;
      readonly error: ReportedError;
      readonly revealedSend?: string;
    }
  | { readonly kind: 'expire'; readonly error: ReportedError; readonly revealedSend?: string }
  | { readonly kind: 'settle-failed'; readonly error: ReportedError; readonly revealedSend?: string }
  | { readonly kind: 'ignore'; readonly reason: IgnoreReason };

/** How a reschedule picks its time: the backoff settings and the jitter source (injected, so tests are exact). */
export interface ReconciliationOptions {
  readonly retry: RetrySettings;
  readonly random: () => number;
}

const MESSAGE_STATUS: Readonly<Record<DeliveryState, MessageStatus>> = {
  PENDING: 'ACCEPTED',
  SENT: 'SENT',
  DELIVERED: 'DELIVERED',
  FAILED: 'FAILED',
  EXPIRED: 'EXPIRED',
  CANCELED: 'CANCELED',
};

/** The message status a delivery state stands for (PENDING: ingress accepted it, WhatsApp does not have it yet). */
export function messageStatusOf(state: DeliveryState): MessageStatus {
  return MESSAGE_STATUS[state];
}

/**
 * Which send of the message a report is about. Only the wamid of the latest send is kept: a SENT delivery's own
 * wamid is `current`; a PENDING delivery's kept wamid is an `earlier` send that already failed (the message waits to
 * be sent again), and any other wamid is a send whose answer was `lost`. A report without a wamid is taken as being
 * about the current send.
 */
function whichSend(delivery: DeliverySnapshot, report: ReconciledReport): 'current' | 'earlier' | 'lost' | 'unnamed' {
  if (delivery.state === 'PENDING') {
    if (!report.waMessageId) return 'unnamed';
    return report.waMessageId === delivery.waMessageId ? 'earlier' : 'lost';
  }
  return report.waMessageId && delivery.waMessageId && report.waMessageId !== delivery.waMessageId ? 'earlier' : 'current';
}

const ignore = (reason: IgnoreReason): WebhookReconciliation => ({ kind: 'ignore', reason });

/**
 * delivery-retry's decision on a status webhook (pure: no I/O, `now` and the jitter are given). The status part is the
 * one message state machine, `decideStatus` from @waygate/domain, applied to the delivery's state as a message status
 * (PENDING -> ACCEPTED); the delivery-specific parts are decided here: which send the report is about (its wamid),
 * the validity (`expiresAt`), and the retry reason and delay Meta's error code calls for (`classifyMetaError`).
 * See docs/message-status.md and apps/delivery-retry/README.md ("Webhook statuses").
 */
export function decideWebhookReconciliation(
  delivery: DeliverySnapshot | undefined,
  report: ReconciledReport,
  now: Date,
  options: ReconciliationOptions,
): WebhookReconciliation {
  if (!delivery) return ignore('unknown-message');
  const decision = decideStatus(
    { status: messageStatusOf(delivery.state), failureSurfaced: false },
    { status: report.status, source: 'webhook', errorCode: report.errorCode },
  );
  if (decision.effect === 'after-terminal') return ignore('after-terminal');
  // DELIVERED covers READ for delivery-retry; a failure of one device after delivery (surfaced, or retried) changes
  // nothing: the customer has the message, sending it again would duplicate it.
  if (delivery.state === 'DELIVERED') return ignore('already-delivered');
  if (decision.effect !== 'advanced' && decision.effect !== 'retried-failure') return ignore('not-news');
  const send = whichSend(delivery, report);
  if (send === 'earlier') return ignore('earlier-send');
  if (send === 'unnamed') return ignore('no-wamid');
  const revealedSend = send === 'lost' ? report.waMessageId : undefined;
  const error: ReportedError = { code: report.errorCode, title: report.errorTitle };

  if (decision.effect === 'retried-failure') {
    const outcome = classifyMetaError(report.errorCode ?? 0);
    if (outcome.kind !== 'retry') return { kind: 'settle-failed', error, revealedSend }; // unreachable: decideStatus said retried
    if (now >= delivery.expiresAt) return { kind: 'expire', error, revealedSend };
    const attempts = delivery.attempts + (revealedSend ? 1 : 0);
    const at = retryAt({ nowMs: now.getTime(), expiresAt: delivery.expiresAt, attempts, reason: outcome.reason, ...options });
    return { kind: 'reschedule', at, reason: outcome.reason, error, revealedSend };
  }
  switch (decision.state.status) {
    case 'SENT':
      return revealedSend ? { kind: 'record-sent', waMessageId: revealedSend } : ignore('not-news');
    case 'DELIVERED':
    case 'READ':
      return revealedSend ? { kind: 'record-sent-then-delivered', waMessageId: revealedSend } : { kind: 'settle-delivered' };
    case 'FAILED':
      return { kind: 'settle-failed', error, revealedSend };
    default:
      return ignore('not-news');
  }
}

/**
 * The store write that carries out a reconciliation: the update and the event recorded with it in the outbox (none
 * when receipt's webhook event already told everyone). Undefined for `ignore`. Pure.
 */
export function reconciliationWrite(
  delivery: Delivery,
  action: WebhookReconciliation,
  now: Date,
): { readonly update: DeliveryUpdate; readonly event?: DeliveryEvent } | undefined {
  const counted = (revealedSend: string | undefined) =>
    revealedSend ? { attempts: delivery.attempts + 1, waMessageId: revealedSend } : { attempts: delivery.attempts };
  const lastError = (error: ReportedError) => ({ lastErrorCode: error.code, lastErrorTitle: error.title });
  const announced = (update: DeliveryUpdate) => ({ update, event: eventFor(applyUpdate(delivery, update)) });
  switch (action.kind) {
    case 'ignore':
      return undefined;
    case 'record-sent':
      // A reaction's lost answer revealed by its `sent` webhook settles it: nothing more will come.
      return sentWrite(delivery, { state: 'SENT', ...counted(action.waMessageId), updatedAt: now });
    case 'record-sent-then-delivered': {
      const sent: DeliveryUpdate = { state: 'SENT', ...counted(action.waMessageId), updatedAt: now };
      return { update: { ...sent, state: 'DELIVERED' }, event: eventFor(applyUpdate(delivery, sent)) };
    }
    case 'settle-delivered':
      return { update: { state: 'DELIVERED', attempts: delivery.attempts, updatedAt: now } };
    case 'reschedule':
      return announced({
        state: 'PENDING',
        ...counted(action.revealedSend),
        ...lastError(action.error),
        nextAttemptAt: action.at,
        updatedAt: now,
      });
    case 'expire':
      return announced({ state: 'EXPIRED', ...counted(action.revealedSend), ...lastError(action.error), updatedAt: now });
    case 'settle-failed':
      return { update: { state: 'FAILED', ...counted(action.revealedSend), ...lastError(action.error), updatedAt: now } };
  }
}
