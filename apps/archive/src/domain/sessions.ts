import type { Direction } from './transcript';

/** WhatsApp's customer-service window: it closes 24 hours after the customer's last message. */
export const CUSTOMER_SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** What the session rule looks at of a message. */
export interface SessionMessage {
  readonly direction: Direction;
  /** WhatsApp's type; only `template` matters (a business-initiated template opens a session). */
  readonly type: string;
  readonly occurredAt: Date;
}

/**
 * Whether a message is the customer's own: every inbound message but a `system` notice (a number change, say), which
 * WhatsApp sends and which opens no customer-service window.
 */
export function isCustomerMessage(message: Pick<SessionMessage, 'direction' | 'type'>): boolean {
  return message.direction === 'inbound' && message.type !== 'system';
}

/** Where a walk over a conversation stands after some messages (undefined: before the first message). */
export interface SessionState {
  /** 0-based index of the current session. */
  readonly sessionIndex: number;
  /** The customer's last message so far, if any. */
  readonly lastInboundAt?: Date;
}

/** The customer-service window is open at `at`: the customer wrote less than 24 hours before. */
export function isWindowOpen(state: SessionState | undefined, at: Date): boolean {
  return state?.lastInboundAt !== undefined && at.getTime() - state.lastInboundAt.getTime() < CUSTOMER_SERVICE_WINDOW_MS;
}

/**
 * Whether `message` starts a new session (Waygate's unit of analysis, not Meta's billing): the first message of a
 * conversation does; so does a customer message (see isCustomerMessage) while the customer-service window is closed (24 hours after the
 * customer's last message, or before the customer ever wrote), and a business TEMPLATE sent while it is closed
 * (business-initiated). Any other business message continues the session, even with the window closed. So a
 * business-initiated template is a session of its own until the customer answers, and the answer opens the next one.
 */
export function startsSession(state: SessionState | undefined, message: SessionMessage): boolean {
  if (state === undefined) return true;
  if (isWindowOpen(state, message.occurredAt)) return false;
  return isCustomerMessage(message) || (message.direction === 'outbound' && message.type === 'template');
}

/** The state after `message` (see {@link startsSession}). */
export function nextSessionState(state: SessionState | undefined, message: SessionMessage): SessionState {
  const sessionIndex = state === undefined ? 0 : state.sessionIndex + (startsSession(state, message) ? 1 : 0);
  const lastInboundAt = isCustomerMessage(message) ? message.occurredAt : state?.lastInboundAt;
  return lastInboundAt === undefined ? { sessionIndex } : { sessionIndex, lastInboundAt };
}

/**
 * Walks a conversation's messages, given in time order (the archive's order: occurredAt, then record id), and gives
 * each its 0-based session index. Lazy: it holds one state, never the messages, so it can walk a million of them.
 */
export function* withSessionIndex<T extends SessionMessage>(
  messages: Iterable<T>,
  start?: SessionState,
): Generator<{ readonly message: T; readonly sessionIndex: number; readonly startsSession: boolean }> {
  let state = start;
  for (const message of messages) {
    const starts = startsSession(state, message);
    state = nextSessionState(state, message);
    yield { message, sessionIndex: state.sessionIndex, startsSession: starts };
  }
}

/** Splits a conversation's messages (in time order) into sessions, oldest first. */
export function splitSessions<T extends SessionMessage>(messages: Iterable<T>): T[][] {
  const sessions: T[][] = [];
  for (const { message, sessionIndex } of withSessionIndex(messages)) (sessions[sessionIndex] ??= []).push(message);
  return sessions;
}
