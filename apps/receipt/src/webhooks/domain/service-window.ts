import type { ServiceWindowState } from './inbound-store';

/** WhatsApp's customer-service window: free-form messages are allowed for 24 hours after the customer's latest message. */
export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** When a window closes: 24 hours after the latest inbound message's Meta timestamp. */
export function serviceWindowClosesAt(state: ServiceWindowState): Date {
  return new Date(state.lastInboundAt.getTime() + SERVICE_WINDOW_MS);
}

/** Whether a message type opens a window: everything a customer sends does; `system` notices are not theirs. */
export function opensServiceWindow(type: string): boolean {
  return type !== 'system';
}

/** The customer as Waygate names them: E.164 for a WhatsApp number (`wa_id` digits), else Meta's id as given. */
export function customerOf(from: string): string {
  return /^[1-9]\d{5,14}$/.test(from) ? `+${from}` : from;
}
