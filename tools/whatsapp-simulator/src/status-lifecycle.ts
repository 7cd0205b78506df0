import { toUnixSeconds, type SimulatorClock } from './clock';
import type { ConversationTracker } from './conversation-tracker';
import type { RecipientDirectory } from './recipient-directory';
import type { TimerRegistry } from './timer-registry';
import type { SimulatorPhoneNumber } from './types';
import { MESSAGE_UNDELIVERABLE_ERROR, type StatusUpdate } from './webhook-payloads';

/** A sent message whose later statuses are still to come. */
interface TrackedMessage {
  wamid: string;
  phone: SimulatorPhoneNumber;
  waId: string;
  conversationId: string;
  nextStatus: 'delivered' | 'read';
  /** Keeps timestamps non-decreasing per message even if the clock steps back. */
  lastTimestampSec: number;
}

/** Collaborators of {@link StatusLifecycle}. */
export interface StatusLifecycleOptions {
  clock: SimulatorClock;
  timers: TimerRegistry;
  recipients: RecipientDirectory;
  conversations: ConversationTracker;
  statusDelayMs: number;
  publish(phone: SimulatorPhoneNumber, update: StatusUpdate): void;
}

/**
 * Drives each accepted message through sent -> delivered -> read, consulting the recipient's behaviour at
 * each step: a recipient who is not online when a step is due holds it until they come back online.
 */
export class StatusLifecycle {
  private readonly heldByRecipient = new Map<string, TrackedMessage[]>();

  constructor(private readonly options: StatusLifecycleOptions) {}

  /** Starts the lifecycle of a just-accepted message. */
  begin(message: { wamid: string; phone: SimulatorPhoneNumber; waId: string }): void {
    const nowSec = this.nowSec();
    const recipient = this.options.recipients.get(message.waId);
    if (recipient.mode === 'not_on_whatsapp') {
      // Meta accepts the request, then reports the message as failed without a `sent` first.
      this.options.publish(message.phone, {
        status: 'failed',
        wamid: message.wamid,
        recipientId: message.waId,
        timestampSec: nowSec,
        errors: [MESSAGE_UNDELIVERABLE_ERROR],
      });
      return;
    }
    const conversation = this.options.conversations.forRecipient(message.phone.id, message.waId, nowSec);
    const tracked: TrackedMessage = {
      ...message,
      conversationId: conversation.id,
      nextStatus: 'delivered',
      lastTimestampSec: nowSec,
    };
    this.options.publish(message.phone, {
      status: 'sent',
      wamid: message.wamid,
      recipientId: message.waId,
      timestampSec: nowSec,
      conversationId: conversation.id,
      conversationExpiresAtSec: conversation.expiresAtSec,
    });
    this.scheduleNextStatus(tracked);
  }

  /** Releases statuses held while the recipient was away; call when they come online. */
  resumeHeld(waId: string): void {
    const held = this.heldByRecipient.get(waId);
    if (held === undefined) return;
    this.heldByRecipient.delete(waId);
    for (const message of held) this.advance(message);
  }

  private scheduleNextStatus(message: TrackedMessage): void {
    this.options.timers.schedule(() => this.advance(message), this.options.statusDelayMs);
  }

  private advance(message: TrackedMessage): void {
    const recipient = this.options.recipients.get(message.waId);
    if (recipient.mode !== 'online') {
      this.hold(message);
      return;
    }
    if (message.nextStatus === 'delivered') {
      this.publishDelivered(message);
      if (recipient.readReceipts) {
        message.nextStatus = 'read';
        this.scheduleNextStatus(message);
      }
      return;
    }
    // Read receipts may have been switched off since delivery; then the user "reads" silently.
    if (recipient.readReceipts) this.publishRead(message);
  }

  private publishDelivered(message: TrackedMessage): void {
    this.options.publish(message.phone, {
      status: 'delivered',
      wamid: message.wamid,
      recipientId: message.waId,
      timestampSec: this.nextTimestampSec(message),
      conversationId: message.conversationId,
    });
  }

  private publishRead(message: TrackedMessage): void {
    this.options.publish(message.phone, {
      status: 'read',
      wamid: message.wamid,
      recipientId: message.waId,
      timestampSec: this.nextTimestampSec(message),
    });
  }

  private hold(message: TrackedMessage): void {
    const held = this.heldByRecipient.get(message.waId) ?? [];
    held.push(message);
    this.heldByRecipient.set(message.waId, held);
  }

  private nextTimestampSec(message: TrackedMessage): number {
    message.lastTimestampSec = Math.max(message.lastTimestampSec, this.nowSec());
    return message.lastTimestampSec;
  }

  private nowSec(): number {
    return toUnixSeconds(this.options.clock.nowMs());
  }
}
