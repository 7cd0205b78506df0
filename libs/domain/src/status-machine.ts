import { isFailureRetriedByDelivery } from './meta-error-codes';
import { isTerminalStatus, nextStatus, type MessageStatus } from './message-status';

/**
 * Who reported a status: ingress (acceptance, cancellation it recorded itself), delivery-retry (Cloud API answers,
 * attempts, expiry, cancellation) or WhatsApp's webhooks (via receipt).
 */
export type StatusSource = 'ingress' | 'delivery' | 'webhook';

/** What every service remembers about one message's status to apply the next report. */
export interface MessageStatusState {
  readonly status: MessageStatus;
  /** A FAILED reported after the message was delivered or read has already been surfaced (at most one is). */
  readonly failureSurfaced: boolean;
}

/** The facts of one status report the state machine decides on. */
export interface StatusReportFacts {
  readonly status: MessageStatus;
  readonly source: StatusSource;
  /** Meta's error code, for FAILED reports and for attempts that will be retried. */
  readonly errorCode?: number;
}

/** One status change a report produced, in the order a tenant sees them. */
export interface StatusTransition {
  /** What happened: the reported status, or DELIVERED implied by a READ that came first. */
  readonly status: MessageStatus;
  /** The message's status after this transition. */
  readonly messageStatus: MessageStatus;
  /** True for a DELIVERED nobody reported, implied by READ. */
  readonly implied: boolean;
}

/**
 * How a report affected the message:
 * - `advanced`: the status moved forward (or into a terminal status);
 * - `failure-surfaced`: the first FAILED after DELIVERED/READ: surfaced once, the status stays (one of several devices
 *   failed, another has the message);
 * - `retried-failure`: a webhook FAILED with a code delivery-retry sends the message again for (131049, 131000, …):
 *   not terminal, only the outcome of the next send is news;
 * - `attempt`: an ACCEPTED report (a delivery attempt that will be retried, or ingress's acceptance);
 * - `late`: not newer than the current status (a late `delivered` after `read`, a second failure after delivery,
 *   EXPIRED or CANCELED after delivery);
 * - `after-terminal`: the message had already ended (FAILED, EXPIRED, CANCELED).
 * Every service records every report in its own history (timeline, archive); the effect says what it changes.
 */
export type StatusEffect = 'advanced' | 'failure-surfaced' | 'retried-failure' | 'attempt' | 'late' | 'after-terminal';

/** The state machine's answer: the state after the report, the transitions it produced, and why. */
export interface StatusDecision {
  readonly state: MessageStatusState;
  readonly transitions: readonly StatusTransition[];
  readonly effect: StatusEffect;
}

/** A message nothing has been reported about yet, beyond its acceptance. */
export const ACCEPTED_STATE: MessageStatusState = { status: 'ACCEPTED', failureSurfaced: false };

/**
 * The one message state machine every service applies (ingress's status, the tenant feed's events, delivery-retry's
 * webhook reconciliation); see docs/message-status.md. Pure and total: any state and any report give a decision.
 *
 * - Statuses only move forward: ACCEPTED < SENT < DELIVERED < READ; FAILED, EXPIRED and CANCELED are terminal.
 * - READ before DELIVERED yields an implied DELIVERED transition, then READ.
 * - FAILED after DELIVERED/READ is surfaced once (`failure-surfaced`), the status stays; EXPIRED or CANCELED after
 *   delivery change nothing (delivery-retry never reports them for a delivered message).
 * - A FAILED *webhook* whose code delivery-retry retries is `retried-failure`: delivery-retry decides, and its own
 *   reports are final, so a FAILED from delivery-retry ends the message whatever its code.
 */
export function decideStatus(state: MessageStatusState, report: StatusReportFacts): StatusDecision {
  const unchanged = (effect: StatusEffect): StatusDecision => ({ state, transitions: [], effect });
  if (isTerminalStatus(state.status)) return unchanged('after-terminal');
  if (report.status === 'ACCEPTED') return unchanged('attempt');
  if (report.status === 'FAILED' && report.source === 'webhook' && isFailureRetriedByDelivery(report.errorCode)) {
    return unchanged('retried-failure');
  }
  const next = nextStatus(state.status, report.status);
  if (next !== state.status) {
    const transitions: StatusTransition[] = [];
    // Not terminal here (checked above), so below DELIVERED means ACCEPTED or SENT.
    if (report.status === 'READ' && (state.status === 'ACCEPTED' || state.status === 'SENT')) {
      transitions.push({ status: 'DELIVERED', messageStatus: 'DELIVERED', implied: true });
    }
    transitions.push({ status: report.status, messageStatus: next, implied: false });
    return { state: { ...state, status: next }, transitions, effect: 'advanced' };
  }
  // nextStatus keeps DELIVERED/READ on a terminal report: a FAILED is surfaced once, the rest is late.
  if (report.status === 'FAILED' && !state.failureSurfaced) {
    return {
      state: { ...state, failureSurfaced: true },
      transitions: [{ status: 'FAILED', messageStatus: state.status, implied: false }],
      effect: 'failure-surfaced',
    };
  }
  return unchanged('late');
}
