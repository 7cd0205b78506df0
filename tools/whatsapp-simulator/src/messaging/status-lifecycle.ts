import type { MediaReference } from '../cloud-api/send-request-validation';
import type { Scheduler } from '../time/scheduler';
import { toUnixSeconds, type SimulatorClock } from '../time/simulated-clock';
import type { SimulatorPhoneNumber, TemplateCategory } from '../types';
import type { WebhookFaultInjector } from '../webhooks/webhook-faults';
import { failedStatusError, type MessagePricing, type StatusUpdate } from '../webhooks/status-payloads';
import type { CustomerServiceWindows } from './customer-service-windows';
import type { RecipientDirectory } from './recipient-directory';

/** Default simulated pause between status changes of one message. */
export const DEFAULT_STATUS_DELAY_MS = 50;

/** Meta stops trying to deliver to an unreachable device after 30 days; the message is then never delivered. */
export const DEVICE_DELIVERY_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

/** A message the simulator just accepted. */
export interface AcceptedMessage {
  wamid: string;
  phone: SimulatorPhoneNumber;
  waId: string;
  /** Category of the template sent; undefined for free-form messages. */
  templateCategory?: TemplateCategory;
  /** Media Meta must fetch before it can send (by id or link). */
  media?: MediaReference;
  /** The send request's `biz_opaque_callback_data`, echoed in every status of the message. */
  bizOpaqueCallbackData?: string;
  /** A reaction: Meta reports only `sent` for it, never `delivered` or `read`. */
  sentOnly?: boolean;
}

/** Fetches an outgoing message's media as Meta does; an error becomes a `failed` status (131053). */
export type MediaResolver = (
  phoneNumberId: string,
  media: MediaReference,
) => Promise<{ ok: true } | { ok: false; error: { code: number; title: string; details: string } }>;

/** Collaborators of {@link StatusLifecycle}. */
export interface StatusLifecycleOptions {
  clock: SimulatorClock;
  scheduler: Scheduler;
  recipients: RecipientDirectory;
  windows: CustomerServiceWindows;
  faults: WebhookFaultInjector;
  resolveMedia: MediaResolver;
  enforceCustomerServiceWindow: boolean;
  statusDelayMs: number;
  publish(phone: SimulatorPhoneNumber, update: StatusUpdate): void;
}

/** The `biz_opaque_callback_data` echo of a message, when it had one. */
function opaque(message: { bizOpaqueCallbackData?: string }): { bizOpaqueCallbackData?: string } {
  return message.bizOpaqueCallbackData === undefined ? {} : { bizOpaqueCallbackData: message.bizOpaqueCallbackData };
}

interface TrackedMessage {
  wamid: string;
  phone: SimulatorPhoneNumber;
  waId: string;
  sentAtMs: number;
  pricing: MessagePricing;
  /** Whether a `delivered` went out; if not, `read` carries the pricing (Meta sends it on exactly one of them). */
  deliveredSent: boolean;
  next: 'delivered' | 'read';
  /** Keeps timestamps non-decreasing per message. */
  lastTimestampSec: number;
  bizOpaqueCallbackData?: string;
}

/**
 * Drives each accepted message the way Meta does: failed at once (not on WhatsApp 131026, outside the customer
 * service window 131047, media unusable 131053) or `sent`, then `delivered` and `read` as the recipient's behaviour
 * allows at the moment each step is due. A recipient who is away holds the next step until they come back online;
 * after 30 days a message is never delivered. Injected faults reorder, skip or contradict statuses.
 */
export class StatusLifecycle {
  private readonly held = new Map<string, TrackedMessage[]>();

  constructor(private readonly options: StatusLifecycleOptions) {}

  /** Starts the lifecycle of a just-accepted message (after the HTTP answer, as Meta answers before delivering). */
  async begin(message: AcceptedMessage): Promise<void> {
    const { recipients, windows, enforceCustomerServiceWindow, clock } = this.options;
    if (recipients.get(message.waId).mode === 'not_on_whatsapp') {
      return this.fail(message, 131026, 'Message undeliverable', 'Message Undeliverable.');
    }
    const freeForm = message.templateCategory === undefined;
    if (freeForm && enforceCustomerServiceWindow && !windows.isOpen(message.phone.id, message.waId, clock.nowMs())) {
      return this.fail(
        message,
        131047,
        'Re-engagement message',
        'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
      );
    }
    if (message.media !== undefined) {
      const media = await this.options.resolveMedia(message.phone.id, message.media);
      if (!media.ok) return this.fail(message, media.error.code, media.error.title, media.error.details);
    }
    this.publishSent(message, freeForm);
  }

  /** Releases steps held while the recipient was away; call when they come online. */
  resumeHeld(waId: string): void {
    const held = this.held.get(waId);
    if (held === undefined) return;
    this.held.delete(waId);
    for (const message of held) this.advance(message);
  }

  /** Forgets held messages (the scheduler's pending steps are dropped by its owner). */
  clear(): void {
    this.held.clear();
  }

  private publishSent(message: AcceptedMessage, freeForm: boolean): void {
    const nowMs = this.options.clock.nowMs();
    const category = freeForm ? 'service' : toPricingCategory(message.templateCategory as TemplateCategory);
    // Per-message pricing (since July 2025): service messages, and utility templates sent while the customer-service
    // window is open, are free; every other template is billable.
    const free = freeForm || (message.templateCategory === 'UTILITY' && this.options.windows.isOpen(message.phone.id, message.waId, nowMs));
    const pricing: MessagePricing = free
      ? { category, type: 'free_customer_service', billable: false }
      : { category, type: 'regular', billable: true };
    const tracked: TrackedMessage = {
      wamid: message.wamid,
      phone: message.phone,
      waId: message.waId,
      sentAtMs: nowMs,
      pricing,
      deliveredSent: false,
      next: 'delivered',
      lastTimestampSec: toUnixSeconds(nowMs),
      ...opaque(message),
    };
    this.options.publish(message.phone, {
      status: 'sent',
      wamid: message.wamid,
      recipientId: message.waId,
      ...opaque(message),
      timestampSec: tracked.lastTimestampSec,
      // Since v24.0 Meta omits `conversation` except for free entry point messages, which the simulator does not model.
      pricing,
    });
    if (!message.sentOnly) this.scheduleNext(tracked);
  }

  private fail(message: AcceptedMessage, code: number, title: string, details: string): void {
    this.options.publish(message.phone, {
      status: 'failed',
      wamid: message.wamid,
      recipientId: message.waId,
      ...opaque(message),
      timestampSec: toUnixSeconds(this.options.clock.nowMs()),
      errors: [failedStatusError(code, title, details)],
    });
  }

  private scheduleNext(message: TrackedMessage): void {
    const recipient = this.options.recipients.get(message.waId);
    const delayMs =
      message.next === 'delivered'
        ? (recipient.deliveryDelayMs ?? this.options.statusDelayMs)
        : (recipient.readDelayMs ?? this.options.statusDelayMs);
    this.options.scheduler.schedule(() => this.advance(message), delayMs);
  }

  private advance(message: TrackedMessage): void {
    const recipient = this.options.recipients.get(message.waId);
    if (recipient.mode !== 'online') {
      this.hold(message);
      return;
    }
    if (message.next === 'read') {
      // Read receipts may have been switched off since delivery; then the user reads silently.
      if (recipient.readReceipts) this.publishPlain(message, 'read');
      return;
    }
    if (this.options.clock.nowMs() - message.sentAtMs > DEVICE_DELIVERY_WINDOW_MS) return;
    this.deliver(message, recipient.readReceipts);
  }

  private deliver(message: TrackedMessage, readReceipts: boolean): void {
    const { faults } = this.options;
    if (faults.take('delivered_after_failed', message.waId) !== undefined) {
      this.fail(
        { wamid: message.wamid, phone: message.phone, waId: message.waId },
        131000,
        'Something went wrong',
        'Message failed to send because of an unknown error.',
      );
      this.publishPlain(message, 'delivered');
      return;
    }
    if (faults.take('skip_delivered', message.waId) !== undefined) {
      // Meta omits `delivered` when the message is read at once (the chat was open); `read` implies delivery.
      if (readReceipts) this.publishPlain(message, 'read');
      return;
    }
    if (readReceipts && faults.take('read_before_delivered', message.waId) !== undefined) {
      // Pricing rides on `delivered` as Meta still sends one; `read` comes first.
      message.deliveredSent = true;
      this.publishPlain(message, 'read');
      this.publishPlain(message, 'delivered');
      return;
    }
    this.publishPlain(message, 'delivered');
    if (readReceipts) {
      message.next = 'read';
      this.scheduleNext(message);
    }
  }

  private publishPlain(message: TrackedMessage, status: 'delivered' | 'read'): void {
    message.lastTimestampSec = Math.max(message.lastTimestampSec, toUnixSeconds(this.options.clock.nowMs()));
    const base = { wamid: message.wamid, recipientId: message.waId, timestampSec: message.lastTimestampSec, ...opaque(message) };
    if (status === 'delivered') {
      message.deliveredSent = true;
      this.options.publish(message.phone, { ...base, status, pricing: message.pricing });
    } else {
      this.options.publish(message.phone, { ...base, status, ...(message.deliveredSent ? {} : { pricing: message.pricing }) });
    }
  }

  private hold(message: TrackedMessage): void {
    const held = this.held.get(message.waId) ?? [];
    held.push(message);
    this.held.set(message.waId, held);
  }
}

function toPricingCategory(category: TemplateCategory): MessagePricing['category'] {
  return category.toLowerCase() as MessagePricing['category'];
}
