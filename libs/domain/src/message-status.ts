/**
 * The message state machine shared by every service. Statuses only move forward:
 * ACCEPTED < SENT < DELIVERED < READ; FAILED, EXPIRED and CANCELED are terminal.
 * Kept free of generated proto types so domain code stays transport-free; the names match the proto enum.
 */
export type MessageStatus = 'ACCEPTED' | 'SENT' | 'DELIVERED' | 'READ' | 'FAILED' | 'EXPIRED' | 'CANCELED';

export const MESSAGE_STATUSES: readonly MessageStatus[] = ['ACCEPTED', 'SENT', 'DELIVERED', 'READ', 'FAILED', 'EXPIRED', 'CANCELED'];

const PROGRESS_RANK: Readonly<Record<MessageStatus, number>> = {
  ACCEPTED: 1,
  SENT: 2,
  DELIVERED: 3,
  READ: 4,
  // Terminal statuses outrank progress so that nothing moves a message out of them.
  FAILED: 10,
  EXPIRED: 10,
  CANCELED: 10,
};

/** Whether no further status may replace this one. */
export function isTerminalStatus(status: MessageStatus): boolean {
  return status === 'FAILED' || status === 'EXPIRED' || status === 'CANCELED';
}

/**
 * The status a message has after `incoming` is reported while it is `current`.
 * A late report (e.g. `delivered` after `read`) leaves the status unchanged; callers still record it in the
 * timeline. A failure after the message was delivered keeps the delivered/read status (multi-device: one device
 * failed, another got it) — the failure is visible in the timeline.
 */
export function nextStatus(current: MessageStatus, incoming: MessageStatus): MessageStatus {
  if (isTerminalStatus(current)) return current;
  if (isTerminalStatus(incoming)) {
    return current === 'DELIVERED' || current === 'READ' ? current : incoming;
  }
  return PROGRESS_RANK[incoming] > PROGRESS_RANK[current] ? incoming : current;
}
