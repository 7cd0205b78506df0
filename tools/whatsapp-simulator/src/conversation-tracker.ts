/** Meta's conversations last 24 hours from the first message. */
export const CONVERSATION_WINDOW_SECONDS = 24 * 60 * 60;

/** A billing conversation between one business number and one user. */
export interface Conversation {
  id: string;
  expiresAtSec: number;
}

/** Opens one conversation per (phone number, recipient) and reuses it until it expires, like Meta. */
export class ConversationTracker {
  private readonly open = new Map<string, Conversation>();

  constructor(private readonly newConversationId: () => string) {}

  /** The open conversation for this pair at `nowSec`, opening a new one if needed. */
  forRecipient(phoneNumberId: string, waId: string, nowSec: number): Conversation {
    const key = `${phoneNumberId}:${waId}`;
    const existing = this.open.get(key);
    if (existing !== undefined && existing.expiresAtSec > nowSec) return existing;
    const conversation = { id: this.newConversationId(), expiresAtSec: nowSec + CONVERSATION_WINDOW_SECONDS };
    this.open.set(key, conversation);
    return conversation;
  }
}
